"""The double opt-in link: opening it shows a button; only the button (a POST) confirms."""

from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from ... import services, tasks
from ...exceptions import InvalidLink, LinkExpired, RateLimited
from ...identity import resolvers, tokens
from ...models import ChangePath, SubmissionStatus
from .. import ratelimit
from ..emails import base_url_of
from ..forms import LinkRequestForm
from .rendering import rate_limited, visitor_page


def invalid_link(request, status=400):
    return visitor_page(request, "link_invalid.html", {"link_form": LinkRequestForm()}, status)


def confirm(request, token):
    try:
        submission = tokens.submission_from_token(token)
    except LinkExpired:
        return _expired(request, token)
    except InvalidLink:
        return invalid_link(request)
    if request.method == "POST":
        services.confirm_submission(
            submission, services.Origin.from_request(request, path=ChangePath.FORM)
        )
        # Confirming may have marked it ignored (the contact was blocked meanwhile).
        submission.refresh_from_db()
        if submission.status == SubmissionStatus.IGNORED:
            return visitor_page(request, "confirmed.html")
        contact = submission.contact
        response = redirect(
            reverse("wagtail_preferences:manage", args=[tokens.contact_token(contact)])
            + "?welcome=confirmed"
        )
        resolvers.remember(request, response, contact)
        return response
    return visitor_page(
        request,
        "confirm.html",
        {
            "submission": submission,
            "pending": submission.status == SubmissionStatus.PENDING,
            "summary": services.choices_summary(submission),
        },
    )


def _expired(request, token):
    try:
        submission = tokens.submission_from_token(token, expired_ok=True)
    except InvalidLink:
        return invalid_link(request)
    pending = submission.status == SubmissionStatus.PENDING
    return visitor_page(
        request,
        "confirm_expired.html",
        {"token": token, "pending": pending, "link_form": LinkRequestForm()},
        status=410,
    )


@require_POST
def resend(request, token):
    """Send a new confirmation link for a pending submission, even once the old one expired."""
    try:
        submission = tokens.submission_from_token(token, expired_ok=True)
    except InvalidLink:
        return invalid_link(request)
    try:
        ratelimit.hit("link_per_ip", ratelimit.client_ip(request))
        ratelimit.hit("link_per_email", submission.contact.email)
    except RateLimited as error:
        return rate_limited(request, error)
    if submission.status == SubmissionStatus.PENDING:
        tasks.send_confirmation_on_commit(submission, base_url_of(request))
    return visitor_page(request, "link_sent.html")
