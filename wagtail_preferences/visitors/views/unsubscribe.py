"""Unsubscribe links, for people (a page with a button) and for mail programs (one click).

The unsubscribe view is exempt from CSRF: RFC 8058 one-click requests come without cookies
or a token, and the signed link is itself the proof of who may unsubscribe. The optional
"why are you leaving?" answer comes after the unsubscribe, from a page with a CSRF token.
"""

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ... import services
from ...exceptions import InvalidLink, LinkExpired
from ...feedback.tracking import record_unsubscribe
from ...identity import tokens
from ...models import (
    Category,
    CategoryChoice,
    ChangePath,
    ContactPreference,
    ContactStatus,
    Preference,
    PreferencePageSettings,
)
from ..forms import LinkRequestForm, UnsubscribeReasonForm
from ..manage_form import ManagePreferencesForm, asks_tracking
from .confirm import invalid_link
from .manage import manage_page
from .rendering import private, visitor_page

ONE_CLICK = ("List-Unsubscribe", "One-Click")
SCOPE_MODELS = {"category": Category, "preference": Preference}
#: Statuses that receive no marketing message at all.
GONE = (ContactStatus.UNSUBSCRIBED, ContactStatus.BLOCKED)


def _plain(text: str, status: int = 200):
    return private(HttpResponse(text, status=status, content_type="text/plain; charset=utf-8"))


def _bad_link(request, error: InvalidLink):
    if isinstance(error, LinkExpired):
        return visitor_page(
            request, "link_expired.html", {"link_form": LinkRequestForm()}, status=410
        )
    return invalid_link(request)


def _scope_and_interest(scope: tokens.UnsubscribeScope):
    """The scope of a link and its interest; a link to a deleted interest means everything."""
    interest = SCOPE_MODELS[scope.kind].objects.filter(pk=scope.pk).first() if scope.pk else None
    return (scope, interest) if interest is not None else (tokens.UnsubscribeScope(), None)


def already_left(contact, scope: tokens.UnsubscribeScope) -> bool:
    """Whether ``contact`` already receives nothing of what an unsubscribe link is about."""
    if contact.status == ContactStatus.UNSUBSCRIBED:
        return True
    if scope.kind == "category":
        return (
            CategoryChoice.objects.opt_outs().filter(contact=contact, category_id=scope.pk).exists()
        )
    if scope.kind == "preference":
        return not ContactPreference.objects.filter(
            contact=contact, preference_id=scope.pk
        ).exists()
    return contact.status in GONE


def _asks_reason(request) -> bool:
    return PreferencePageSettings.for_request(request).ask_unsubscribe_reason


def _unsubscribed_page(request, contact, interest, token, reason_form=None, status=200):
    if reason_form is None and _asks_reason(request):
        reason_form = UnsubscribeReasonForm()
    return visitor_page(
        request,
        "unsubscribed.html",
        {
            "contact": contact,
            "interest": interest,
            "token": token,
            "reason_form": reason_form,
            "manage_token": tokens.contact_token(contact),
        },
        status=status,
    )


def _already_page(request, contact, interest, token):
    return visitor_page(
        request,
        "unsubscribe_already.html",
        {
            "contact": contact,
            "interest": interest,
            "gone": contact.status in GONE,
            "unsubscribe": {"token": token, "interest": None},
            "answered": request.GET.get("answered") == "1",
            "manage_token": tokens.contact_token(contact),
        },
    )


@csrf_exempt
def unsubscribe(request, token):
    one_click = request.method == "POST" and request.POST.get(ONE_CLICK[0]) == ONE_CLICK[1]
    try:
        contact, scope, delivery_id = tokens.unsubscribe_link_from_token(token)
    except InvalidLink as error:
        if one_click:
            return _plain("This unsubscribe link is not valid.", status=400)
        return _bad_link(request, error)
    scope, interest = _scope_and_interest(scope)
    if request.method == "POST":
        if request.POST.get("scope") == "all":
            scope, interest = tokens.UnsubscribeScope(), None
        reference = f"unsubscribe link ({interest or 'everything'})"
        changed = services.unsubscribe(
            contact,
            scope,
            services.Origin.from_request(request, path=ChangePath.UNSUBSCRIBE, reference=reference),
        )
        if changed and delivery_id is not None:
            record_unsubscribe(delivery_id, contact.pk)
        if one_click:
            return _plain("You are unsubscribed.")
        if not changed:
            return _already_page(request, contact, interest, token)
        return _unsubscribed_page(request, contact, interest, token)
    if already_left(contact, scope):
        return _already_page(request, contact, interest, token)
    box = {"token": token, "interest": interest}
    page_settings = PreferencePageSettings.for_request(request)
    if page_settings.show_on_unsubscribe:
        form = ManagePreferencesForm(
            contact, page_settings.shows(), asks_tracking=asks_tracking(page_settings)
        )
        return manage_page(request, contact, form, unsubscribe=box)
    return visitor_page(request, "unsubscribe.html", {"unsubscribe": box, "contact": contact})


@require_POST
def unsubscribe_reason(request, token):
    """Keeps the answer to "why are you leaving?" of a contact who has left."""
    try:
        contact, scope = tokens.unsubscribe_from_token(token)
    except InvalidLink as error:
        return _bad_link(request, error)
    if not _asks_reason(request):
        raise Http404
    scope, interest = _scope_and_interest(scope)
    if not already_left(contact, scope):
        return redirect("wagtail_preferences:unsubscribe", token)
    form = UnsubscribeReasonForm(request.POST)
    if not form.is_valid():
        return _unsubscribed_page(request, contact, interest, token, form, status=400)
    services.record_unsubscribe_reason(
        contact, form.cleaned_data["reason"], form.cleaned_data["comment"]
    )
    return redirect(reverse("wagtail_preferences:unsubscribe", args=[token]) + "?answered=1")
