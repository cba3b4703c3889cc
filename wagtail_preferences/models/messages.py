from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from wagtail.models import DraftStateMixin, LockableMixin, PreviewableMixin, RevisionMixin

from ..conf import MANAGE_PAGE_PARTS
from .fields import MessageBodyField

#: Renders a message's preview; named by path, as it renders through the message body's
#: blocks and the audience profiles, above the models.
PREVIEW = "wagtail_preferences.messaging.preview.serve_message_preview"


class Message(DraftStateMixin, LockableMixin, RevisionMixin, PreviewableMixin, models.Model):
    """What editors write to send: an email (subject, body) and optionally an SMS text.

    Campaigns send the message's live (published) version, fixed when they start.
    """

    name = models.CharField(
        _("name"), max_length=200, unique=True, help_text=_("For editors; recipients never see it.")
    )
    subject = models.CharField(_("subject"), max_length=200)
    preheader = models.CharField(
        _("preheader"),
        max_length=200,
        blank=True,
        help_text=_("The short text mail programs show after the subject."),
    )
    from_email = models.CharField(
        _("sender"),
        max_length=254,
        blank=True,
        help_text=_(
            "Such as “Bakery news <news@example.com>”. Left blank: the site's sender address."
        ),
    )
    reply_to = models.EmailField(_("reply to"), blank=True)
    body = MessageBodyField(blank=True, verbose_name=_("body"))
    sms_text = models.TextField(
        _("SMS text"),
        blank=True,
        max_length=1600,
        help_text=_(
            "Optional. With it, contacts who prefer SMS get this text instead of the email."
        ),
    )
    category = models.ForeignKey(
        "Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        help_text=_("Contacts who opted out of this category never receive the message."),
    )
    transactional = models.BooleanField(
        _("transactional"),
        default=False,
        help_text=_(
            "For messages a contact needs whatever their marketing choices (an order, a "
            "password). Sent without regard to categories, pauses or frequency limits, but "
            "never to a blocked address."
        ),
    )
    manage_sections = models.JSONField(
        _("manage page shows"),
        default=list,
        blank=True,
        help_text=_(
            "What the “Manage your preferences” link of this message shows. None ticked: "
            "what the site's preference page settings show."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="wp_message")

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def revisions(self):
        return self._revisions

    def shown_sections(self, site_shows: dict[str, bool]) -> dict[str, bool]:
        """Which parts of the manage page its links show, given the site's own choice."""
        if not self.manage_sections:
            return site_shows
        return {part: part in self.manage_sections for part in MANAGE_PAGE_PARTS}

    preview_modes = [
        ("", _("Email")),
        ("text", _("Plain text")),
        ("sms", _("SMS")),
    ]

    def serve_preview(self, request, mode_name):
        return import_string(PREVIEW)(self, request, mode_name)
