"""The visitor's manage-preferences page, reached by a signed link or as a recognised visitor."""

from django.db import transaction
from django.shortcuts import redirect

from ... import services, tasks
from ...exceptions import InvalidLink, LinkExpired, RateLimited
from ...identity import resolvers, tokens
from ...models import ChangePath, ContactStatus, Message, PreferencePageSettings
from ...services.suppressions import blocked_channels
from .. import ratelimit
from ..emails import base_url_of
from ..forms import LinkRequestForm
from ..manage_form import ManagePreferencesForm, asks_tracking
from .confirm import invalid_link
from .rendering import rate_limited, visitor_page

REFERENCE = "manage-preferences page"


def manage(request, token=None):
    message_id = None
    if token is None:
        contact = resolvers.current_contact(request)
        if contact is None:
            return visitor_page(
                request, "link_request.html", {"link_form": LinkRequestForm(), "to_manage": True}
            )
    else:
        try:
            contact, message_id = tokens.manage_link_from_token(token)
        except LinkExpired:
            return visitor_page(
                request, "link_expired.html", {"link_form": LinkRequestForm()}, status=410
            )
        except InvalidLink:
            return invalid_link(request)
    if request.method == "POST" and "resubscribe" in request.POST:
        return _resubscribe(request, contact)
    form = ManagePreferencesForm(
        contact,
        shown_sections(request, message_id),
        data=request.POST if request.method == "POST" else None,
        asks_tracking=asks_tracking(PreferencePageSettings.for_request(request)),
    )
    if form.is_bound and form.is_valid():
        return _save(request, contact, form)
    response = manage_page(
        request, contact, form, status=400 if form.is_bound else 200, message_id=message_id
    )
    if token is not None:
        resolvers.remember(request, response, contact)
    return response


def shown_sections(request, message_id: int | None) -> dict[str, bool]:
    """The parts of the manage page to show: the site's choice, or that of the message whose
    link was followed."""
    site_shows = PreferencePageSettings.for_request(request).shows()
    message = Message.objects.filter(pk=message_id).first() if message_id else None
    return message.shown_sections(site_shows) if message else site_shows


def manage_page(request, contact, form, *, status=200, unsubscribe=None, message_id=None):
    """The manage page for ``contact``; ``unsubscribe`` puts an unsubscribe box on top.

    The form posts back with the link's message, so that it saves the parts it showed.
    """
    return visitor_page(
        request,
        "manage.html",
        {
            "contact": contact,
            "form": form,
            "manage_token": tokens.contact_token(contact, message_id=message_id),
            "unsubscribe_token": tokens.unsubscribe_token(contact),
            "unsubscribed": contact.status == ContactStatus.UNSUBSCRIBED,
            "saved": request.GET.get("saved") == "1",
            "email_sent": request.GET.get("email") == "sent",
            "email_changed": request.GET.get("email") == "changed",
            "welcome": request.GET.get("welcome") == "confirmed",
            "resubscribe_sent": request.GET.get("resubscribe") == "sent",
            "unsubscribe": unsubscribe,
            "blocked_channels": blocked_channels(contact),
        },
        status=status,
    )


def _save(request, contact, form):
    new_email = form.new_email
    if new_email:
        try:
            ratelimit.hit("link_per_ip", ratelimit.client_ip(request))
            ratelimit.hit("link_per_email", new_email)
        except RateLimited:
            return visitor_page(request, "rate_limited.html", status=429)
    form.save(
        services.Origin.from_request(request, path=ChangePath.SELF_SERVICE, reference=REFERENCE)
    )
    if not new_email:
        return redirect(f"{request.path}?saved=1")
    # The same answer whether or not the address is another contact's: the email tells.
    contact_id, base_url = contact.pk, base_url_of(request)
    transaction.on_commit(
        lambda: tasks.send_email_change_email.enqueue(contact_id, new_email, base_url)
    )
    return redirect(f"{request.path}?saved=1&email=sent")


def _resubscribe(request, contact):
    """An unsubscribed contact asks to come back: confirmed by email, like any opt-in."""
    if contact.status != ContactStatus.UNSUBSCRIBED:
        return redirect(request.path)
    try:
        ratelimit.hit("link_per_email", contact.email)
    except RateLimited as error:
        return rate_limited(request, error)
    submission = services.request_resubscription(
        contact, services.Origin.from_request(request, path=ChangePath.SELF_SERVICE)
    )
    tasks.send_confirmation_on_commit(submission, base_url_of(request))
    return redirect(f"{request.path}?resubscribe=sent")
