"""Unsubscribe links, for people (a page with a button) and for mail programs (one click).

The view is exempt from CSRF: RFC 8058 one-click requests come without cookies or a
token, and the signed link is itself the proof of who may unsubscribe.
"""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from ... import services, tokens
from ...exceptions import InvalidLink, LinkExpired
from ...manage_form import ManagePreferencesForm
from ...models import Category, ChangePath, Preference, PreferencePageSettings
from ...visitor_forms import LinkRequestForm
from .confirm import invalid_link
from .manage import manage_page
from .rendering import private, visitor_page

ONE_CLICK = ("List-Unsubscribe", "One-Click")
SCOPE_MODELS = {"category": Category, "preference": Preference}


def _plain(text: str, status: int = 200):
    return private(HttpResponse(text, status=status, content_type="text/plain; charset=utf-8"))


@csrf_exempt
def unsubscribe(request, token):
    one_click = request.method == "POST" and request.POST.get(ONE_CLICK[0]) == ONE_CLICK[1]
    try:
        contact, scope = tokens.unsubscribe_from_token(token)
    except InvalidLink as error:
        if one_click:
            return _plain("This unsubscribe link is not valid.", status=400)
        if isinstance(error, LinkExpired):
            return visitor_page(
                request, "link_expired.html", {"link_form": LinkRequestForm()}, status=410
            )
        return invalid_link(request)
    interest = SCOPE_MODELS[scope.kind].objects.filter(pk=scope.pk).first() if scope.pk else None
    if interest is None:
        scope = tokens.UnsubscribeScope()
    if request.method == "POST":
        if request.POST.get("scope") == "all":
            scope, interest = tokens.UnsubscribeScope(), None
        reference = f"unsubscribe link ({interest or 'everything'})"
        services.unsubscribe(
            contact,
            scope,
            services.Origin.from_request(request, path=ChangePath.UNSUBSCRIBE, reference=reference),
        )
        if one_click:
            return _plain("You are unsubscribed.")
        return visitor_page(
            request,
            "unsubscribed.html",
            {"interest": interest, "manage_token": tokens.contact_token(contact)},
        )
    box = {"token": token, "interest": interest}
    page_settings = PreferencePageSettings.for_request(request)
    if page_settings.show_on_unsubscribe:
        form = ManagePreferencesForm(contact, page_settings.shows())
        return manage_page(request, contact, form, unsubscribe=box)
    return visitor_page(request, "unsubscribe.html", {"unsubscribe": box})
