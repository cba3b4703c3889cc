"""The rules applied to provider events: soft-bounce counting, unsubscribes, opens and clicks,
and what the receiver does when something goes wrong."""

import datetime
import io
import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ContactFactory, DeliveryFactory
from tests.feedback import payloads
from tests.link_fixtures import default_site
from wagtail_preferences.feedback import events, rules
from wagtail_preferences.models import (
    CampaignLink,
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    ContactStatus,
    Engagement,
    EngagementKind,
    EngagementSource,
    PreferencePageSettings,
    ProviderEvent,
    Suppression,
    SuppressionReason,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]
DAY = datetime.timedelta(days=1)
START = payloads.DEFAULT_AT


@pytest.fixture
def rules_of(settings):
    def use(**rules):
        settings.WAGTAIL_PREFERENCES = {"BOUNCE_RULES": rules}

    return use


@pytest.mark.parametrize("provider", payloads.PROVIDERS)
def test_soft_bounces_block_the_address_when_they_reach_the_limit(
    provider, webhook, delivery, rules_of
):
    rules_of(SOFT_BOUNCES=3, SOFT_BOUNCE_WINDOW=datetime.timedelta(days=7))
    post = payloads.event
    second, third = (
        DeliveryFactory(contact=delivery.contact, address=delivery.address) for _ in range(2)
    )

    webhook(post(provider, "soft_bounce", delivery.address, delivery.pk, at=START))
    webhook(post(provider, "soft_bounce", delivery.address, second.pk, at=START + 2 * DAY))
    assert not Suppression.objects.exists()

    webhook(post(provider, "soft_bounce", delivery.address, third.pk, at=START + 5 * DAY))

    block = Suppression.objects.get()
    assert block.reason == SuppressionReason.SOFT_BOUNCES
    assert block.evidence["bounce"] == "soft"


def test_soft_bounces_outside_the_window_do_not_add_up(webhook, delivery, rules_of):
    rules_of(SOFT_BOUNCES=2, SOFT_BOUNCE_WINDOW=datetime.timedelta(days=7))

    for at in (START, START + 8 * DAY, START + 16 * DAY):
        webhook(payloads.event("postmark", "soft_bounce", delivery.address, delivery.pk, at=at))

    assert not Suppression.objects.exists()


def test_soft_bounces_arriving_out_of_order_are_counted_by_when_they_happened(
    webhook, delivery, rules_of
):
    rules_of(SOFT_BOUNCES=2, SOFT_BOUNCE_WINDOW=datetime.timedelta(days=7))

    webhook(payloads.event("mailgun", "soft_bounce", delivery.address, at=START + 3 * DAY))
    webhook(payloads.event("mailgun", "soft_bounce", delivery.address, at=START))

    assert Suppression.objects.get().reason == SuppressionReason.SOFT_BOUNCES


def test_a_deferral_counts_as_a_soft_bounce(webhook, delivery, rules_of):
    rules_of(SOFT_BOUNCES=1)

    webhook(payloads.event("mailgun", "soft_bounce", delivery.address, delivery.pk))

    assert ProviderEvent.objects.get().event_type == "deferred"
    assert Suppression.objects.get().reason == SuppressionReason.SOFT_BOUNCES


def test_a_message_deferred_again_and_again_counts_as_one_soft_bounce(webhook, delivery, rules_of):
    rules_of(SOFT_BOUNCES=2)
    for hours in (0, 1, 5):
        at = START + datetime.timedelta(hours=hours)
        webhook(payloads.event("mailgun", "soft_bounce", delivery.address, delivery.pk, at=at))
    assert not Suppression.objects.exists()

    other = DeliveryFactory(contact=delivery.contact, address=delivery.address)
    webhook(payloads.event("mailgun", "soft_bounce", delivery.address, other.pk, at=START + DAY))
    assert Suppression.objects.get().reason == SuppressionReason.SOFT_BOUNCES


def test_two_hard_bounces_needed_when_the_rule_says_so(webhook, delivery, rules_of):
    rules_of(HARD_BOUNCES=2)

    webhook(payloads.event("sendgrid", "hard_bounce", delivery.address, delivery.pk))
    assert not Suppression.objects.exists()
    webhook(payloads.event("sendgrid", "hard_bounce", delivery.address, delivery.pk))

    assert Suppression.objects.get().reason == SuppressionReason.HARD_BOUNCE


@pytest.mark.parametrize("provider", ["postmark", "sendgrid", "mailgun"])
def test_a_provider_unsubscribe_is_our_unsubscribe(provider, webhook, delivery):
    webhook(payloads.event(provider, "unsubscribe", delivery.address, delivery.pk))

    delivery.refresh_from_db()
    delivery.contact.refresh_from_db()
    assert delivery.contact.status == ContactStatus.UNSUBSCRIBED
    assert delivery.unsubscribed_at is not None
    logged = ConsentEvent.objects.get(contact=delivery.contact)
    assert (logged.subject, logged.new_value) == (ConsentSubject.STATUS, "unsubscribed")
    assert logged.path == ChangePath.UNSUBSCRIBE
    assert logged.reference.startswith(f"{provider} unsubscribed")
    assert not Suppression.objects.exists()


def test_a_provider_unsubscribe_leaves_a_blocked_contact_blocked(webhook, delivery):
    webhook(payloads.event("sendgrid", "complaint", delivery.address, delivery.pk))
    webhook(payloads.event("sendgrid", "unsubscribe", delivery.address, delivery.pk))

    delivery.contact.refresh_from_db()
    assert delivery.contact.status == ContactStatus.BLOCKED


@pytest.mark.parametrize("provider", payloads.PROVIDERS)
def test_an_open_where_tracking_is_off_keeps_nothing_about_the_contact(provider, webhook, delivery):
    webhook(payloads.event(provider, "open", delivery.address, delivery.pk))

    assert not Engagement.objects.exists()
    event = ProviderEvent.objects.get()
    assert (event.payload, event.recipient, event.description) == ({}, "", "")
    assert event.processed_at is not None


@pytest.fixture
def tracked(delivery):
    settings = PreferencePageSettings.for_site(default_site())
    settings.track_opens = settings.track_clicks = True
    settings.save()
    campaign = delivery.campaign
    campaign.track_opens = campaign.track_clicks = True
    campaign.save()
    return delivery


@pytest.mark.parametrize("provider", payloads.PROVIDERS)
def test_a_click_where_tracking_is_on_is_recorded_with_its_link(provider, webhook, tracked):
    link = CampaignLink.objects.create(campaign=tracked.campaign, number=1, url="https://e.com/")

    webhook(payloads.event(provider, "click", tracked.address, tracked.pk, url=link.url))

    click = Engagement.objects.get()
    assert (click.delivery, click.campaign, click.kind) == (tracked, tracked.campaign, "click")
    assert (click.link, click.source, click.machine) == (link, EngagementSource.PROVIDER, False)


def test_an_open_by_a_scanner_is_recorded_as_a_machines(webhook, tracked):
    webhook(payloads.event("postmark", "open", tracked.address, tracked.pk, user_agent="Barracuda"))

    assert Engagement.objects.get(kind=EngagementKind.OPEN).machine is True


def test_a_contact_who_refuses_tracking_has_no_opens_recorded(webhook, tracked):
    tracked.contact.refuses_tracking = True
    tracked.contact.save()

    webhook(payloads.event("mailgun", "open", tracked.address, tracked.pk))

    assert not Engagement.objects.exists()
    assert ProviderEvent.objects.get().recipient == ""


def test_the_receiver_makes_a_few_queries_per_event(client, delivery):
    others = [DeliveryFactory() for _ in range(9)]
    batch = payloads.sendgrid_batch(
        [payloads.event("sendgrid", "delivered", d.address, d.pk) for d in [delivery, *others]]
    )

    with CaptureQueriesContext(connection) as queries:
        response = batch.send(client)  # processing waits for a commit that never comes

    assert response.status_code == 200
    assert ProviderEvent.objects.filter(processed_at__isnull=True).count() == 10
    # Per event: the delivery's existence, a savepoint, the insert, its release.
    assert len(queries) <= 4 * 10


def test_a_receiver_that_cannot_store_still_answers_and_logs(client, delivery, monkeypatch, caplog):
    def broken(event, esp_name):
        raise RuntimeError("database gone")

    monkeypatch.setattr(events, "store", broken)
    post = payloads.event("postmark", "hard_bounce", delivery.address, delivery.pk)

    with caplog.at_level(logging.ERROR, logger="wagtail_preferences.feedback.events"):
        response = post.send(client)

    assert response.status_code == 200
    assert "Could not store a Postmark bounced event" in caplog.text


def test_an_event_that_cannot_be_applied_does_not_stop_the_others(
    webhook, delivery, monkeypatch, caplog
):
    applied = []

    def apply(event, allowed):
        if event.event_type == "bounced":
            raise RuntimeError("broken rule")
        applied.append(event.event_type)

    monkeypatch.setattr(rules, "apply", apply)
    webhook(payloads.event("postmark", "hard_bounce", delivery.address, delivery.pk))
    webhook(payloads.event("postmark", "delivered", delivery.address, delivery.pk))

    assert applied == ["delivered"]
    assert ProviderEvent.objects.filter(processed_at__isnull=True).count() == 0
    assert "Could not apply provider event" in caplog.text


def test_processing_again_changes_nothing(webhook, delivery):
    webhook(payloads.event("postmark", "complaint", delivery.address, delivery.pk))
    ProviderEvent.objects.update(processed_at=None)

    rules.process()

    assert Suppression.objects.count() == 1
    assert ConsentEvent.objects.filter(contact=delivery.contact).count() == 2


def test_a_complaint_without_a_delivery_blocks_the_contact_by_address(webhook):
    contact = ContactFactory(confirmed=True, email="richard@example.com")

    webhook(payloads.event("amazon_ses", "complaint", "richard@example.com"))

    contact.refresh_from_db()
    assert contact.status == ContactStatus.BLOCKED


def test_the_command_applies_the_events_left_unprocessed(client, delivery, monkeypatch):
    monkeypatch.setattr(events, "_enqueue", lambda pk: None)  # as if no task could be queued
    payloads.event("postmark", "hard_bounce", delivery.address, delivery.pk).send(client)
    out = io.StringIO()

    call_command("preferences_provider_events", stdout=out)

    assert out.getvalue().strip() == "Applied 1 provider events."
    assert Suppression.objects.get().address == delivery.address
    call_command("preferences_provider_events", stdout=out)
    assert out.getvalue().splitlines()[-1] == "Applied 0 provider events."


def test_a_message_the_provider_drops_for_a_dead_address_blocks_it(webhook, delivery):
    webhook(payloads.event("sendgrid", "dropped_bounced", delivery.address, delivery.pk))

    event = ProviderEvent.objects.get()
    assert (event.event_type, event.bounce) == ("rejected", "hard")
    assert Suppression.objects.get().reason == SuppressionReason.HARD_BOUNCE
    delivery.refresh_from_db()
    assert delivery.outcome == "hard_bounce"


def test_a_message_the_provider_drops_for_an_unsubscribed_address_unsubscribes(webhook, delivery):
    webhook(payloads.event("sendgrid", "dropped_unsubscribed", delivery.address, delivery.pk))

    delivery.contact.refresh_from_db()
    assert delivery.contact.status == ContactStatus.UNSUBSCRIBED
    assert not Suppression.objects.exists()
