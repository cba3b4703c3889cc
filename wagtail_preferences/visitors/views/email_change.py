"""Confirming a new email address from the link emailed to it."""

from django.shortcuts import redirect
from django.urls import reverse

from ... import services, tasks
from ...exceptions import InvalidLink, LinkExpired
from ...identity import resolvers, tokens
from ...models import ChangePath
from ..emails import base_url_of
from ..forms import LinkRequestForm
from .confirm import invalid_link
from .manage import REFERENCE
from .rendering import visitor_page


def confirm_email_change(request, token):
    """Opening the link shows a button; only the button (a POST) changes the address."""
    try:
        contact, new_email = tokens.email_change_from_token(token)
    except LinkExpired:
        return visitor_page(
            request, "link_expired.html", {"link_form": LinkRequestForm()}, status=410
        )
    except InvalidLink:
        return invalid_link(request)
    if request.method != "POST":
        return visitor_page(request, "email_change.html", {"new_email": new_email})
    old_email = contact.email
    origin = services.Origin.from_request(
        request, path=ChangePath.SELF_SERVICE, reference=REFERENCE
    )
    if not services.apply_email_change(contact, new_email, origin):
        return visitor_page(request, "email_change_failed.html", status=409)
    tasks.send_email_changed_email_on_commit(contact, old_email, base_url_of(request))
    response = redirect(
        reverse("wagtail_preferences:manage", args=[tokens.contact_token(contact)])
        + "?email=changed"
    )
    resolvers.remember(request, response, contact)
    return response
