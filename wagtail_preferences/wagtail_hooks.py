from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.widgets import Button
from wagtail.contrib.settings.registry import register_setting

from .admin.views import preview
from .admin.viewsets import PreferenceCenterGroup
from .blocks.rendering_context import keep_for_blocks
from .identity.caching import protect_after_render
from .identity.resolvers import recognise_from_link
from .models import PreferencePageSettings

register_setting(PreferencePageSettings, icon="tasks")


@hooks.register("register_admin_viewset")
def register_preference_center():
    return PreferenceCenterGroup()


hooks.register("on_serve_page", protect_after_render)
hooks.register("on_serve_page", keep_for_blocks)
# Before the site's own hooks and view restrictions: the token leaves the URL first.
hooks.register("before_serve_page", recognise_from_link, order=-100)


@hooks.register("register_admin_urls")
def register_preview_urls():
    return [
        path(
            "preferences-preview/<int:page_id>/",
            preview.PreviewAsVisitorView.as_view(),
            name="wagtail_preferences_preview",
        ),
        path(
            "preferences-preview/<int:page_id>/render/",
            preview.render_as_visitor,
            name="wagtail_preferences_preview_render",
        ),
    ]


@hooks.register("register_page_header_buttons")
def preview_as_visitor_button(page, user, view_name, next_url=None):
    if page.id and not page.is_root() and page.permissions_for_user(user).can_edit():
        yield Button(
            _("Preview as a visitor"),
            reverse("wagtail_preferences_preview", args=[page.id]),
            icon_name="view",
            priority=62,
        )
