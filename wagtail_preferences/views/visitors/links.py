"""Asking for a link by email, and forgetting the visitor on this browser."""

from django.db import transaction
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ... import identity, ratelimit, tasks
from ...emails import base_url_of
from ...exceptions import RateLimited
from ...visitor_forms import LinkRequestForm
from .rendering import rate_limited, visitor_page


def request_link(request):
    """ "Email me a link to manage my preferences": the same answer for every address."""
    if request.method != "POST":
        return visitor_page(request, "link_request.html", {"link_form": LinkRequestForm()})
    form = LinkRequestForm(request.POST)
    try:
        ratelimit.hit("link_per_ip", ratelimit.client_ip(request))
        if not form.is_valid():
            return visitor_page(request, "link_request.html", {"link_form": form}, status=400)
        if not form.is_spam:
            ratelimit.hit("link_per_email", form.cleaned_data["email"])
            email, base_url = form.cleaned_data["email"], base_url_of(request)
            transaction.on_commit(lambda: tasks.send_manage_link_email.enqueue(email, base_url))
    except RateLimited as error:
        return rate_limited(request, error)
    return visitor_page(request, "link_sent.html")


@require_POST
def forget(request):
    """Stop recognising this browser: the "Not you?" button."""
    response = redirect("wagtail_preferences:forgotten")
    identity.forget(request, response)
    return response


def forgotten(request):
    return visitor_page(request, "forgotten.html", {"link_form": LinkRequestForm()})
