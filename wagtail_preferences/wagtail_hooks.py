from wagtail import hooks

from .viewsets import PreferenceCenterGroup


@hooks.register("register_admin_viewset")
def register_preference_center():
    return PreferenceCenterGroup()
