"""The Messages section: messages as snippets, with drafts, revisions, preview and locking."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, ObjectList, TabbedInterface
from wagtail.admin.ui.tables import Column, LiveStatusTagColumn, UpdatedAtColumn
from wagtail.admin.widgets import HeaderButton
from wagtail.snippets.views.snippets import EditView, IndexView, SnippetViewSet

from ...compat import listing_menu_item
from ...models import Message
from ..forms import MessageForm
from ..permissions import can_edit_messages
from ..widgets import SMSTextarea
from .message_preview import PreviewAsView, render_html, send_test
from .mixins import WithoutGenericExport

NAME = "preference_center_messages"


def preview_as_url(message: Message) -> str:
    return reverse(f"{NAME}:preview_as", args=[message.pk])


class MessageIndexView(WithoutGenericExport, IndexView):
    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if can_edit_messages(self.request.user):
            buttons.append(
                listing_menu_item(
                    _("Preview as…"), preview_as_url(instance), icon="view", priority=15
                )
            )
        return buttons


class MessageEditView(EditView):
    @property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if can_edit_messages(self.request.user):
            buttons.append(HeaderButton(_("Preview as…"), preview_as_url(self.object), "view"))
        return buttons


class MessageViewSet(SnippetViewSet):
    model = Message
    icon = "mail"
    menu_label = _("Messages")
    base_url_path = "preference-center/messages"
    admin_url_namespace = NAME
    index_view_class = MessageIndexView
    edit_view_class = MessageEditView
    # Listed under "Preference center" (a plain ViewSetGroup), so not in the "Snippets" menu.
    menu_item_is_registered = True
    list_display = [
        "name",
        "subject",
        Column("category", label=_("Category")),
        LiveStatusTagColumn(),
        UpdatedAtColumn(),
    ]
    list_filter = ["category", "transactional"]
    search_fields = ["name", "subject"]
    search_backend_name = None
    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    FieldPanel("name"),
                    FieldPanel("subject"),
                    FieldPanel("preheader"),
                    FieldPanel("body"),
                ],
                heading=_("Content"),
            ),
            ObjectList([FieldPanel("sms_text", widget=SMSTextarea)], heading=_("SMS")),
            ObjectList(
                [
                    FieldPanel("from_email"),
                    FieldPanel("reply_to"),
                    FieldPanel("category"),
                    FieldPanel("transactional"),
                    FieldPanel("manage_sections"),
                ],
                heading=_("Settings"),
            ),
        ],
        base_form_class=MessageForm,
    )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("<int:pk>/preview-as/", PreviewAsView.as_view(), name="preview_as"),
            path("<int:pk>/preview-as/html/", render_html, name="preview_as_html"),
            path("<int:pk>/send-test/", send_test, name="send_test"),
        ]
