"""Many visitors sending the same new address at once, through the endpoint: one contact."""

import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from tests.factories import CategoryFactory, PreferenceFactory
from tests.visitor_helpers import SUBMIT_URL, VisitorForm, form_page, form_value
from wagtail_preferences import signals
from wagtail_preferences.models import (
    ConsentEvent,
    Contact,
    ContactStatus,
    FormSubmission,
    SubmissionStatus,
)

THREADS = 20
SPELLINGS = [
    "crowd@example.com",
    "CROWD@example.com",
    "Crowd@Example.com",
    "crowd@EXAMPLE.COM",
    "cRowd@example.com",
    "crOwd@example.Com",
    "croWd@example.com",
    "crowD@example.com",
    "CROWD@EXAMPLE.COM",
    "Crowd@example.COM",
]

pytestmark = pytest.mark.postgres


@pytest.fixture
def generous_limits(settings):
    settings.WAGTAIL_PREFERENCES = {
        "RATE_LIMITS": {"form_per_ip": "1000/hour", "form_per_email": "1000/hour"}
    }


def post_all_at_once(page, **choices) -> tuple[list[int], list[Exception]]:
    """Each thread its own browser: reads the form, waits for the others, then sends it."""
    barrier = threading.Barrier(THREADS)
    lock = threading.Lock()
    statuses, errors = [], []

    def visit(email):
        try:
            client = Client()
            form = VisitorForm.of(client, page)
            data = form.data(email=email, **choices)
            barrier.wait(timeout=30)
            response = client.post(SUBMIT_URL, data)
            with lock:
                statuses.append(response.status_code)
        except Exception as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=visit, args=(SPELLINGS[n % len(SPELLINGS)],))
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses, errors


@pytest.mark.django_db(transaction=True)
def test_the_same_new_address_sent_at_once_makes_one_pending_contact(generous_limits):
    mail.outbox = []
    preference = PreferenceFactory()
    page = form_page(form_value(preferences=[preference]))

    statuses, errors = post_all_at_once(page, preferences=[preference])

    assert errors == []
    assert statuses == [303] * THREADS
    contact = Contact.objects.get()
    assert contact.email == "crowd@example.com"
    assert contact.status == ContactStatus.PENDING
    assert not contact.preference_holdings.exists()
    submissions = FormSubmission.objects.filter(contact=contact)
    assert submissions.count() == THREADS
    assert set(submissions.values_list("status", flat=True)) == {SubmissionStatus.PENDING}
    assert submissions.filter(created_contact=True).count() == 1
    assert ConsentEvent.objects.filter(field="created").count() == 1
    assert len(mail.outbox) == THREADS


@pytest.mark.django_db(transaction=True)
def test_the_same_new_address_applied_at_once_makes_one_contact_with_the_choices(generous_limits):
    chosen, unticked = PreferenceFactory(), PreferenceFactory()
    category = CategoryFactory()
    page = form_page(
        form_value(preferences=[chosen, unticked], categories=[category], double_opt_in=False)
    )
    applied = []

    def on_submitted(submission, **kwargs):
        applied.append(submission.pk)

    signals.form_submitted.connect(on_submitted)
    try:
        statuses, errors = post_all_at_once(page, preferences=[chosen])
    finally:
        signals.form_submitted.disconnect(on_submitted)

    assert errors == []
    assert statuses == [303] * THREADS
    contact = Contact.objects.get()
    assert contact.status == ContactStatus.CONFIRMED
    assert set(contact.preference_holdings.values_list("preference_id", flat=True)) == {chosen.pk}
    assert list(contact.category_choices.values_list("category_id", "subscribed")) == [
        (category.pk, False)
    ]
    assert FormSubmission.objects.filter(status=SubmissionStatus.APPLIED).count() == THREADS
    assert len(applied) == THREADS
    assert ConsentEvent.objects.filter(contact=contact, field="held").count() == 1
    assert ConsentEvent.objects.filter(contact=contact, field="status").count() == 1
