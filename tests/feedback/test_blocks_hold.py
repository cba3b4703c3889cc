"""A block holds: no campaign, transactional message, import or form gets past it."""

import pytest
from django.core import mail

from tests.factories import CampaignFactory, ContactFactory, DeliveryFactory, MessageFactory
from tests.feedback import payloads
from tests.import_helpers import csv_text, make_run
from wagtail_preferences import services
from wagtail_preferences.messaging import campaigns
from wagtail_preferences.models import (
    ChangePath,
    ContactStatus,
    Delivery,
    DeliveryStatus,
    SubmissionStatus,
    Suppression,
)
from wagtail_preferences.transfers.imports.runner import ImportRunner

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]


@pytest.fixture
def holder(products):
    contact = ContactFactory(confirmed=True, email="jane@example.com", preferences=[products])
    return DeliveryFactory(contact=contact, address=contact.email)


@pytest.mark.parametrize("provider", ["amazon_ses", "postmark", "mailgun"])
def test_a_complaint_then_a_campaign_sends_the_contact_nothing(
    provider, webhook, holder, products, django_capture_on_commit_callbacks
):
    others = [ContactFactory(confirmed=True, preferences=[products]) for _ in range(2)]
    webhook(payloads.event(provider, "complaint", holder.address, holder.pk))

    campaign = CampaignFactory(preferences=[products])
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign)

    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in others)
    skipped = Delivery.objects.filter(campaign=campaign, contact=holder.contact)
    assert all(d.status == DeliveryStatus.SKIPPED for d in skipped)


def test_a_hard_bounce_then_a_transactional_campaign_sends_nothing(
    webhook, holder, products, django_capture_on_commit_callbacks
):
    other = ContactFactory(confirmed=True, preferences=[products])
    webhook(payloads.event("sendgrid", "hard_bounce", holder.address, holder.pk))
    campaign = CampaignFactory(preferences=[products], message=MessageFactory(transactional=True))

    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign)

    assert [m.to[0] for m in mail.outbox] == [other.email]


@pytest.fixture
def blocked(webhook, holder):
    webhook(payloads.event("postmark", "complaint", holder.address, holder.pk))
    return holder.contact


def test_an_import_row_leaves_a_blocked_address_blocked(blocked):
    run = make_run(csv_text("email,status", f"{blocked.email},confirmed"))

    ImportRunner(run).apply()

    blocked.refresh_from_db()
    assert blocked.status == ContactStatus.BLOCKED
    assert Suppression.objects.filter(address=blocked.email).exists()
    run.refresh_from_db()
    assert run.message.startswith("1 row is of a blocked address")


def test_an_import_row_leaves_a_bounced_address_suppressed(webhook, holder):
    webhook(payloads.event("mailgun", "hard_bounce", holder.address, holder.pk))
    run = make_run(
        csv_text("email,status", f"{holder.address.upper()},confirmed", "bob@example.com,")
    )

    ImportRunner(run).check()
    run.refresh_from_db()
    assert "1 row is of a blocked address" in run.message
    ImportRunner(run).apply()

    assert Suppression.objects.filter(address=holder.address).exists()
    run.refresh_from_db()
    assert (run.new_rows, run.status) == (1, "done")
    assert "1 row is of a blocked address" in run.message


def test_an_import_of_addresses_nobody_blocked_says_nothing_of_blocks(products):
    run = make_run(csv_text("email,status", "ann@example.com,confirmed"))

    ImportRunner(run).apply()

    run.refresh_from_db()
    assert run.message == ""


def test_a_form_submission_leaves_a_blocked_address_blocked(blocked, products):
    origin = services.Origin(path=ChangePath.FORM, reference="newsletter form")

    submission = services.record_submission(
        blocked.email.upper(),
        services.choices_record(preferences={products: True}),
        origin,
        double_opt_in=False,
    )

    assert submission.status == SubmissionStatus.IGNORED
    blocked.refresh_from_db()
    assert blocked.status == ContactStatus.BLOCKED
    assert Suppression.objects.filter(address=blocked.email).exists()


def test_a_bounce_that_comes_before_the_send_is_recorded_is_kept(
    webhook, products, monkeypatch, django_capture_on_commit_callbacks
):
    """The provider reports the bounce while the sender still waits to record the message as
    sent: recording it does not undo the bounce."""
    from wagtail_preferences.channels.email import EmailChannel
    from wagtail_preferences.models import DeliveryOutcome

    contact = ContactFactory(confirmed=True, email="jane@example.com", preferences=[products])
    campaign = CampaignFactory(preferences=[products])
    send = EmailChannel._send

    def send_then_bounce(channel, message, connection):
        result = send(channel, message, connection)
        delivery = Delivery.objects.get(campaign=campaign, contact=contact)
        assert delivery.status == DeliveryStatus.SENDING
        webhook(payloads.event("postmark", "hard_bounce", contact.email, delivery.pk))
        return result

    monkeypatch.setattr(EmailChannel, "_send", send_then_bounce)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign)

    delivery = Delivery.objects.get(campaign=campaign, contact=contact)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.outcome == DeliveryOutcome.HARD_BOUNCE
    assert Suppression.objects.filter(address=contact.email).exists()
