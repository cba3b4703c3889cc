"""Messages previewed in the admin: Wagtail's preview panel, and "Preview as…" a contact.

The panel renders for a sample contact, built in memory and never saved, who holds nothing
and receives every category; its links look real but lead nowhere.
"""

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from ..audience.profiles import Profile
from ..channels.base import OutgoingMessage
from ..models import Category, Contact, Message
from .rendering import MessageRenderer
from .sms_text import sms_segments

EMAIL, TEXT, SMS = "", "text", "sms"


def sample_contact() -> Contact:
    """A contact to preview with, never saved."""
    return Contact(
        first_name=_("Alex"),
        last_name=_("Example"),
        email="alex@example.com",
        phone="+32470000000",
    )


def sample_profile() -> Profile:
    """A recognised contact who holds no preference and receives every category."""
    return Profile(categories=dict(Category.objects.values_list("pk", "slug")))


def preview_email(message: Message, contact: Contact, profile: Profile | None) -> OutgoingMessage:
    """The email ``contact`` (with ``profile``) receives."""
    return MessageRenderer(message).render_one(
        "email", contact, profile, address=contact.email or "-"
    )


def preview_response(
    message: Message, contact: Contact, profile: Profile | None, mode_name: str
) -> HttpResponse:
    """The message as ``contact`` (with ``profile``) receives it: the email's HTML, its plain
    text (``"text"``) or the SMS (``"sms"``), as a page of its own."""
    if mode_name == SMS:
        if not message.sms_text.strip():
            return _page(
                "wagtail_preferences/admin/messages/preview_sms.html", {"message": message}
            )
        sms = MessageRenderer(message).render_one(SMS, contact, address=contact.phone or "-")
        text = sms.text
        length, segments, encoding = sms_segments(text)
        return _page(
            "wagtail_preferences/admin/messages/preview_sms.html",
            {"text": text, "length": length, "segments": segments, "encoding": encoding},
        )
    email = preview_email(message, contact, profile)
    if mode_name == TEXT:
        return _page("wagtail_preferences/admin/messages/preview_text.html", {"email": email})
    return HttpResponse(email.html)


def serve_message_preview(message: Message, request, mode_name: str) -> HttpResponse:
    """Wagtail's preview of ``message`` in ``mode_name`` (``Message.preview_modes``)."""
    return preview_response(message, sample_contact(), sample_profile(), mode_name)


def _page(template: str, context: dict) -> HttpResponse:
    return HttpResponse(render_to_string(template, context))
