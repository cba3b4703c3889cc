from wagtail import hooks
from wagtail.contrib.settings.registry import register_setting

from .caching import protect_after_render
from .models import PreferencePageSettings
from .viewsets import PreferenceCenterGroup

register_setting(PreferencePageSettings, icon="tasks")


@hooks.register("register_admin_viewset")
def register_preference_center():
    return PreferenceCenterGroup()


hooks.register("on_serve_page", protect_after_render)
