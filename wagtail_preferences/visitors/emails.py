"""The emails the app sends, and the List-Unsubscribe headers for any email a site sends
(``unsubscribe_headers`` and the link builders live in ``messaging.links``).

Every email is rendered from overridable templates (``wagtail_preferences/emails/<name>``:
``_subject.txt``, ``.txt`` and ``.html``) and sent through the email channel, which uses
Django's email backend. Links are absolute: built on the ``base_url`` of the request that
asked for the email (such as ``https://www.example.com``), since a background worker has no
request of its own.
"""

import logging

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ..channels.base import OutgoingMessage
from ..channels.email import EmailChannel
from ..conf import get_setting
from ..exceptions import SendFailed
from ..identity import tokens
from ..identity.tokens import UnsubscribeScope
from ..messaging import eligibility
from ..messaging.links import manage_url, site_name, unsubscribe_headers, unsubscribe_url
from ..models import Contact, FormSubmission
from ..services import choices_summary

logger = logging.getLogger(__name__)


def base_url_of(request) -> str:
    """What emailed links are built on: ``BASE_URL``, else ``scheme://host`` of the request."""
    return get_setting("BASE_URL") or f"{request.scheme}://{request.get_host()}"


def confirmation_url(submission: FormSubmission, base_url: str) -> str:
    token = tokens.confirmation_token(submission)
    return base_url + reverse("wagtail_preferences:confirm", args=[token])


def add_unsubscribe_headers(
    message, contact: Contact, base_url: str, scope: UnsubscribeScope | None = None
):
    """Add the one-click unsubscribe headers to ``message`` (a Django ``EmailMessage``)."""
    message.extra_headers.update(unsubscribe_headers(contact, base_url, scope))
    return message


def link_life(setting: str) -> dict:
    """How long an emailed link works (``max_age``) and until when (``expires_at``)."""
    max_age = get_setting(setting)
    return {"max_age": max_age, "expires_at": timezone.now() + max_age}


def build(
    name: str, contact: Contact, base_url: str, context: dict, *, to: str | None = None
) -> OutgoingMessage:
    """The email ``name`` for ``contact``, ready to send.

    Sent to the contact's address with unsubscribe headers; or, to another address ``to``
    (one they are leaving or asked for, about that change), without them.
    """
    context = {
        "contact": contact,
        "site_name": site_name(),
        "base_url": base_url,
        "unsubscribe_url": unsubscribe_url(contact, base_url),
        **context,
    }
    prefix = f"wagtail_preferences/emails/{name}"
    return OutgoingMessage(
        contact_id=contact.pk,
        address=to or contact.email,
        subject=" ".join(render_to_string(f"{prefix}_subject.txt", context).split()),
        text=render_to_string(f"{prefix}.txt", context),
        html=render_to_string(f"{prefix}.html", context),
        headers={} if to else unsubscribe_headers(contact, base_url),
    )


def send(name: str, contact: Contact, base_url: str, context: dict, *, to=None) -> None:
    """Send the email ``name`` (see ``build``) through the email channel; raises
    ``SendFailed`` if it was not sent. Nothing is sent to a blocked address."""
    message = build(name, contact, base_url, context, to=to)
    if eligibility.blocked(EmailChannel.key, message.address):
        logger.info("Not sending the %r email: the address is blocked.", name)
        return
    [result] = EmailChannel().send_batch([message])
    if not result.is_sent:
        raise SendFailed(result)


def email_change_url(contact: Contact, new_email: str, base_url: str) -> str:
    token = tokens.email_change_token(contact, new_email)
    return base_url + reverse("wagtail_preferences:confirm_email_change", args=[token])


def send_confirmation(submission: FormSubmission, base_url: str) -> None:
    """The double opt-in email: what the visitor asked for and the link that confirms it."""
    send(
        "confirm",
        submission.contact,
        base_url,
        {
            "submission": submission,
            "confirmation_url": confirmation_url(submission, base_url),
            "summary": choices_summary(submission),
            **link_life("CONFIRMATION_LINK_MAX_AGE"),
        },
    )


def send_manage_link(contact: Contact, base_url: str) -> None:
    """The link to the contact's manage-preferences page, for a visitor who asked for it."""
    send(
        "manage_link",
        contact,
        base_url,
        {
            "manage_url": manage_url(contact, base_url),
            **link_life("MANAGE_LINK_MAX_AGE"),
        },
    )


def send_email_change(contact: Contact, new_email: str, base_url: str) -> None:
    """To the address a contact asked for: the link that makes it theirs."""
    send(
        "email_change",
        contact,
        base_url,
        {
            "confirm_url": email_change_url(contact, new_email, base_url),
            **link_life("CONFIRMATION_LINK_MAX_AGE"),
        },
        to=new_email,
    )


def send_email_taken(contact: Contact, base_url: str) -> None:
    """To a contact whose address someone asked to move another subscription to."""
    send("email_taken", contact, base_url, {"manage_url": manage_url(contact, base_url)})


def send_email_changed(contact: Contact, old_email: str, base_url: str) -> None:
    """To the address a contact left: it no longer receives their messages."""
    send("email_changed", contact, base_url, {}, to=old_email)
