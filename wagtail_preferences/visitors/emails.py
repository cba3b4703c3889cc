"""The emails the app sends, and the List-Unsubscribe headers for any email a site sends.

Every email is rendered from overridable templates (``wagtail_preferences/emails/<name>``:
``_subject.txt``, ``.txt`` and ``.html``) and sent through Django's email backend. Links are
absolute: built on the ``base_url`` of the request that asked for the email (such as
``https://www.example.com``), since a background worker has no request of its own.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from ..conf import get_setting
from ..identity import tokens
from ..identity.tokens import UnsubscribeScope
from ..models import Contact, FormSubmission
from ..services import choices_summary


def base_url_of(request) -> str:
    """What emailed links are built on: ``BASE_URL``, else ``scheme://host`` of the request."""
    return get_setting("BASE_URL") or f"{request.scheme}://{request.get_host()}"


def manage_url(contact: Contact, base_url: str) -> str:
    token = tokens.contact_token(contact)
    return base_url + reverse("wagtail_preferences:manage", args=[token])


def unsubscribe_url(contact: Contact, base_url: str, scope: UnsubscribeScope | None = None):
    token = tokens.unsubscribe_token(contact, scope)
    return base_url + reverse("wagtail_preferences:unsubscribe", args=[token])


def confirmation_url(submission: FormSubmission, base_url: str) -> str:
    token = tokens.confirmation_token(submission)
    return base_url + reverse("wagtail_preferences:confirm", args=[token])


def unsubscribe_headers(
    contact: Contact, base_url: str, scope: UnsubscribeScope | None = None
) -> dict[str, str]:
    """The ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` headers (RFC 2369, RFC 8058).

    Mail programs show an "Unsubscribe" button for them and POST
    ``List-Unsubscribe=One-Click`` to the link, which unsubscribes at once. ``scope`` limits
    the link to one category or preference (``UnsubscribeScope.of(category)``).
    """
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(contact, base_url, scope)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def add_unsubscribe_headers(
    message, contact: Contact, base_url: str, scope: UnsubscribeScope | None = None
):
    """Add the one-click unsubscribe headers to ``message`` (a Django ``EmailMessage``)."""
    message.extra_headers.update(unsubscribe_headers(contact, base_url, scope))
    return message


def site_name() -> str:
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).only("site_name").first()
    return (site and site.site_name) or getattr(settings, "WAGTAIL_SITE_NAME", "")


def link_life(setting: str) -> dict:
    """How long an emailed link works (``max_age``) and until when (``expires_at``)."""
    max_age = get_setting(setting)
    return {"max_age": max_age, "expires_at": timezone.now() + max_age}


def build(
    name: str, contact: Contact, base_url: str, context: dict, *, to: str | None = None
) -> EmailMultiAlternatives:
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
    subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{prefix}.txt", context),
        from_email=get_setting("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL,
        to=[to or contact.email],
    )
    message.attach_alternative(render_to_string(f"{prefix}.html", context), "text/html")
    return message if to else add_unsubscribe_headers(message, contact, base_url)


def email_change_url(contact: Contact, new_email: str, base_url: str) -> str:
    token = tokens.email_change_token(contact, new_email)
    return base_url + reverse("wagtail_preferences:confirm_email_change", args=[token])


def send_confirmation(submission: FormSubmission, base_url: str) -> None:
    """The double opt-in email: what the visitor asked for and the link that confirms it."""
    build(
        "confirm",
        submission.contact,
        base_url,
        {
            "submission": submission,
            "confirmation_url": confirmation_url(submission, base_url),
            "summary": choices_summary(submission),
            **link_life("CONFIRMATION_LINK_MAX_AGE"),
        },
    ).send()


def send_manage_link(contact: Contact, base_url: str) -> None:
    """The link to the contact's manage-preferences page, for a visitor who asked for it."""
    build(
        "manage_link",
        contact,
        base_url,
        {
            "manage_url": manage_url(contact, base_url),
            **link_life("MANAGE_LINK_MAX_AGE"),
        },
    ).send()


def send_email_change(contact: Contact, new_email: str, base_url: str) -> None:
    """To the address a contact asked for: the link that makes it theirs."""
    build(
        "email_change",
        contact,
        base_url,
        {
            "confirm_url": email_change_url(contact, new_email, base_url),
            **link_life("CONFIRMATION_LINK_MAX_AGE"),
        },
        to=new_email,
    ).send()


def send_email_taken(contact: Contact, base_url: str) -> None:
    """To a contact whose address someone asked to move another subscription to."""
    build("email_taken", contact, base_url, {"manage_url": manage_url(contact, base_url)}).send()


def send_email_changed(contact: Contact, old_email: str, base_url: str) -> None:
    """To the address a contact left: it no longer receives their messages."""
    build("email_changed", contact, base_url, {}, to=old_email).send()
