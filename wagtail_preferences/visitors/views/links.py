"""Asking for a link by email, and forgetting the visitor on this browser."""

from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from ... import tasks
from ...exceptions import RateLimited
from ...identity import resolvers
from .. import ratelimit
from ..emails import base_url_of
from ..forms import LinkRequestForm
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
    except RateLimited as error:
        return rate_limited(request, error)
    response = visitor_page(request, "link_sent.html")
    if not form.is_spam:
        # Whether the address is known is looked up after the answer: see decision 0009.
        tasks.enqueue_after_response(
            response, tasks.send_manage_link_email, form.cleaned_data["email"], base_url_of(request)
        )
    return response


@require_POST
def forget(request):
    """Stop recognising this browser: the "Not you?" button."""
    response = redirect("wagtail_preferences:forgotten")
    resolvers.forget(request, response)
    return response


def forgotten(request):
    return visitor_page(request, "forgotten.html", {"link_form": LinkRequestForm()})
