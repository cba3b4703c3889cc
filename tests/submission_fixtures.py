"""Shared pieces of the form-submission tests: a snapshot of everything a submission may
write, and posting a form with its on-commit work run."""

from django.test import TestCase

from wagtail_preferences.models import (
    CategoryChoice,
    ChangePath,
)
from wagtail_preferences.services import Origin

CONSENT_TEXT = "I agree to receive the emails I chose."
VISITOR_IP = "203.0.113.7"
VISITOR_AGENT = "Mozilla/5.0 (visitor tests)"


def send(form, **data):
    """Post ``form`` (a ``VisitorForm``) and run what the view left for the commit
    (the confirmation email, segment refreshes), as a real request would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return form.client.post(
            "/preferences/forms/submit/",
            form.data(**data),
            REMOTE_ADDR=VISITOR_IP,
            HTTP_USER_AGENT=VISITOR_AGENT,
        )


def form_origin(**fields) -> Origin:
    """The origin the endpoint gives a submission: path form, the consent text as wording."""
    return Origin(
        **{
            "path": ChangePath.FORM,
            "wording": CONSENT_TEXT,
            "ip_address": VISITOR_IP,
            "user_agent": VISITOR_AGENT,
            **fields,
        }
    )


def held(contact) -> set[int]:
    return set(contact.preference_holdings.values_list("preference_id", flat=True))


def category_choices(contact) -> dict[int, bool]:
    return dict(
        CategoryChoice.objects.filter(contact=contact).values_list("category_id", "subscribed")
    )
