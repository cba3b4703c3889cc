from wagtail import hooks
from wagtail.contrib.settings.registry import register_setting

from .admin.views import preview
from .admin.viewsets import PreferenceCenterGroup
from .blocks.rendering_context import keep_for_blocks
from .identity.caching import protect_after_render
from .identity.resolvers import recognise_from_link
from .models import PreferencePageSettings

register_setting(PreferencePageSettings, icon="tasks")

hooks.register("register_admin_viewset", PreferenceCenterGroup)
hooks.register("register_admin_urls", preview.admin_urls)
hooks.register("register_page_header_buttons", preview.header_buttons)
hooks.register("on_serve_page", protect_after_render)
hooks.register("on_serve_page", keep_for_blocks)
# Before the site's own hooks and view restrictions: the token leaves the URL first.
hooks.register("before_serve_page", recognise_from_link, order=-100)
