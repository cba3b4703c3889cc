"""Sending: claim, check again, send, record; retries, the sweeper, pauses and caps."""

import datetime
from contextlib import contextmanager

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import (
    CampaignFactory,
    ContactChannelFactory,
    ContactFactory,
    DeliveryFactory,
)
from wagtail_preferences.channels.base import SendResult
from wagtail_preferences.channels.email import EmailChannel
from wagtail_preferences.messaging import campaigns, dispatch, planning
from wagtail_preferences.models import (
    CampaignStatus,
    ContactStatus,
    Delivery,
    DeliveryStatus,
    FrequencyPeriod,
    SkipReason,
)

pytestmark = pytest.mark.django_db


def statuses(campaign):
    return {d.contact_id: (d.status, d.reason) for d in Delivery.objects.filter(campaign=campaign)}


def begin(campaign):
    """Plan the campaign as starting it does, without sending."""
    planning.begin(campaign)
    return campaign


@pytest.fixture
def holders(products):
    return [ContactFactory(confirmed=True, preferences=[products]) for _ in range(3)]


@pytest.fixture
def campaign(products):
    return CampaignFactory(preferences=[products])


def test_starting_sends_each_recipient_one_email_and_finishes(
    campaign, holders, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign)

    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in holders)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FINISHED
    sent = Delivery.objects.filter(campaign=campaign)
    assert {d.status for d in sent} == {DeliveryStatus.SENT}
    by_address = {m.to[0]: m for m in mail.outbox}
    for delivery in sent:
        email = by_address[delivery.address]
        assert email.extra_headers["Message-ID"] == delivery.message_id
        assert delivery.message_id == dispatch.message_id_of(delivery.pk)
        assert delivery.sent_at is not None and delivery.attempts == 1


def test_inside_a_transaction_every_chunk_goes_over_one_connection(campaign, holders, settings):
    # Threads of their own could not see the claim, which is not committed.
    settings.WAGTAIL_PREFERENCES = {"SEND_CHUNK_SIZE": 1, "SEND_CONNECTIONS": 3}
    begin(campaign)

    dispatch.run(campaign.pk)

    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in holders)
    assert {d.status for d in Delivery.objects.filter(campaign=campaign)} == {DeliveryStatus.SENT}


def test_the_message_sent_is_the_version_live_when_sending_started(campaign, holders):
    begin(campaign)
    campaign.message.subject = "Changed after the start"
    campaign.message.save_revision().publish()

    dispatch.run(campaign.pk)

    assert {m.subject for m in mail.outbox} == {"Hello " + c.first_name for c in holders}


def test_an_unsubscribe_in_the_middle_stops_that_contact(campaign, holders):
    begin(campaign)
    leaver = holders[0]
    leaver.status = ContactStatus.UNSUBSCRIBED
    leaver.save()

    dispatch.run(campaign.pk)

    assert statuses(campaign)[leaver.pk] == (DeliveryStatus.SKIPPED, SkipReason.UNSUBSCRIBED)
    assert leaver.email not in {m.to[0] for m in mail.outbox}
    assert len(mail.outbox) == 2


def test_a_paused_campaign_claims_nothing_until_resumed(campaign, holders):
    begin(campaign)
    campaigns.pause(campaign)

    dispatch.run(campaign.pk)
    assert mail.outbox == []

    campaigns.resume(campaign)
    dispatch.run(campaign.pk)
    assert len(mail.outbox) == 3


def test_cancelling_cancels_what_was_not_claimed(campaign, holders):
    begin(campaign)

    assert campaigns.cancel(campaign) == 3
    dispatch.run(campaign.pk)

    assert mail.outbox == []
    assert {s for s, _r in statuses(campaign).values()} == {DeliveryStatus.CANCELLED}


class TestFailures:
    @pytest.fixture
    def failing(self, monkeypatch):
        results = []

        @contextmanager
        def session(self):
            yield lambda messages: [results.pop(0) for _message in messages]

        monkeypatch.setattr(EmailChannel, "session", session)
        return results

    def test_a_temporary_failure_is_retried_later_with_backoff(
        self, campaign, products, failing, settings
    ):
        contact = ContactFactory(confirmed=True, preferences=[products])
        begin(campaign)
        failing += [SendResult.temporary_failure("451 try later")]
        now = timezone.now()

        with time_machine.travel(now, tick=False):
            progress = dispatch.run(campaign.pk)

        delivery = Delivery.objects.get(contact=contact)
        assert (delivery.status, delivery.reason) == (DeliveryStatus.DEFERRED, SkipReason.RETRY)
        assert delivery.not_before == now + datetime.timedelta(minutes=1)
        assert delivery.sent_at is None and delivery.error == "451 try later"
        assert progress.next_at == delivery.not_before

        failing += [SendResult.temporary_failure("451 again")]
        with time_machine.travel(now + datetime.timedelta(minutes=2), tick=False):
            dispatch.run(campaign.pk)
        delivery.refresh_from_db()
        assert delivery.not_before == now + datetime.timedelta(minutes=4)
        assert delivery.attempts == 2

    def test_after_the_last_attempt_it_fails(self, campaign, products, failing, settings):
        settings.WAGTAIL_PREFERENCES = {"SEND_MAX_ATTEMPTS": 1}
        contact = ContactFactory(confirmed=True, preferences=[products])
        begin(campaign)
        failing += [SendResult.temporary_failure("451 try later")]

        dispatch.run(campaign.pk)

        assert statuses(campaign)[contact.pk] == (DeliveryStatus.FAILED, "")
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.FINISHED

    def test_a_permanent_failure_is_not_retried(self, campaign, products, failing):
        contact = ContactFactory(confirmed=True, preferences=[products])
        begin(campaign)
        failing += [SendResult.permanent_failure("550 no such user")]

        dispatch.run(campaign.pk)

        delivery = Delivery.objects.get(contact=contact)
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.error == "550 no such user"


class TestSweeper:
    def test_claimed_but_not_handed_over_is_queued_again_and_sent_once(self, campaign, holders):
        begin(campaign)
        dispatch.claim(campaign)  # a sender that dies before sending anything
        later = timezone.now() + datetime.timedelta(minutes=6)

        with time_machine.travel(later, tick=False):
            assert dispatch.sweep() == (3, 0)
            dispatch.run(campaign.pk)

        assert len(mail.outbox) == 3
        assert {d.attempts for d in Delivery.objects.all()} == {2}

    def test_handed_over_without_a_result_becomes_unknown_and_is_not_resent(
        self, campaign, holders
    ):
        begin(campaign)
        claimed = dispatch.claim(campaign)
        Delivery.objects.filter(claimed_by=claimed.token).update(status=DeliveryStatus.SENDING)
        later = timezone.now() + datetime.timedelta(minutes=6)

        with time_machine.travel(later, tick=False):
            assert dispatch.sweep() == (0, 3)
            dispatch.run(campaign.pk)

        assert mail.outbox == []
        assert {s for s, _r in statuses(campaign).values()} == {DeliveryStatus.UNKNOWN}
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.FINISHED

    def test_a_live_lease_is_left_alone(self, campaign, holders):
        begin(campaign)
        dispatch.claim(campaign)

        assert dispatch.sweep() == (0, 0)


class TestHeld:
    def test_a_paused_contact_gets_it_the_day_after_the_pause(self, campaign, products):
        contact = ContactFactory(confirmed=True, preferences=[products])
        today = timezone.localdate()
        ContactChannelFactory(
            contact=contact, pause_from=today, pause_to=today + datetime.timedelta(days=2)
        )
        begin(campaign)

        dispatch.run(campaign.pk)

        delivery = Delivery.objects.get(contact=contact)
        assert (delivery.status, delivery.reason) == (DeliveryStatus.DEFERRED, SkipReason.PAUSED)
        assert timezone.localtime(delivery.not_before).date() == today + datetime.timedelta(3)
        assert timezone.localtime(delivery.not_before).time() == datetime.time.min
        with time_machine.travel(delivery.not_before + datetime.timedelta(seconds=1)):
            dispatch.run(campaign.pk)
        assert len(mail.outbox) == 1
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.FINISHED

    def test_a_pause_that_starts_after_planning_holds_the_message_back(self, campaign, products):
        contact = ContactFactory(confirmed=True, preferences=[products])
        begin(campaign)
        ContactChannelFactory(contact=contact, pause_from=timezone.localdate())

        dispatch.run(campaign.pk)

        assert statuses(campaign)[contact.pk] == (DeliveryStatus.DEFERRED, SkipReason.PAUSED)
        assert mail.outbox == []

    def test_at_the_cap_the_message_waits_for_the_next_free_slot(self, campaign, products):
        contact = ContactFactory(confirmed=True, preferences=[products])
        ContactChannelFactory(
            contact=contact, frequency_count=1, frequency_period=FrequencyPeriod.DAY
        )
        earlier = DeliveryFactory(contact=contact)
        begin(campaign)

        dispatch.run(campaign.pk)

        delivery = Delivery.objects.get(campaign=campaign)
        assert delivery.status == DeliveryStatus.DEFERRED
        assert delivery.not_before == earlier.sent_at + datetime.timedelta(days=1)

    def test_the_slot_taken_by_one_campaign_holds_back_another(self, products):
        contact = ContactFactory(confirmed=True, preferences=[products])
        ContactChannelFactory(
            contact=contact, frequency_count=1, frequency_period=FrequencyPeriod.DAY
        )
        first, second = (
            CampaignFactory(preferences=[products]),
            CampaignFactory(preferences=[products]),
        )
        begin(first), begin(second)

        dispatch.claim(first)  # claimed, not yet sent: the slot is taken
        dispatch.run(second.pk)

        assert statuses(second)[contact.pk] == (
            DeliveryStatus.DEFERRED,
            SkipReason.FREQUENCY_CAP,
        )

    def test_a_campaign_that_skips_held_contacts_skips_them(self, products):
        contact = ContactFactory(confirmed=True, preferences=[products])
        begin_campaign = CampaignFactory(preferences=[products], when_paused="skip")
        begin(begin_campaign)
        ContactChannelFactory(contact=contact, pause_from=timezone.localdate())

        dispatch.run(begin_campaign.pk)

        assert statuses(begin_campaign)[contact.pk] == (
            DeliveryStatus.SKIPPED,
            SkipReason.PAUSED,
        )


class TestClaim:
    def test_each_claimed_delivery_is_written_once(self, campaign, holders):
        begin(campaign)

        with CaptureQueriesContext(connection) as queries:
            claimed = dispatch.claim(campaign)

        updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
        assert len(updates) == 1
        assert len(claimed.deliveries) == claimed.leased == 3
        for delivery in claimed.deliveries:
            assert delivery.status == DeliveryStatus.CLAIMED
            assert delivery.sent_at is not None and delivery.attempts == 1

    def test_a_skipped_recipient_is_not_claimed(self, campaign, holders):
        begin(campaign)
        leaver = holders[0]
        leaver.status = ContactStatus.UNSUBSCRIBED
        leaver.save()

        claimed = dispatch.claim(campaign)

        assert leaver.pk not in {d.contact_id for d in claimed.deliveries}
        assert claimed.leased == 3
        skipped = Delivery.objects.get(campaign=campaign, contact=leaver)
        assert (skipped.status, skipped.claimed_by, skipped.attempts) == (
            DeliveryStatus.SKIPPED,
            "",
            0,
        )

    def test_the_delivery_claimed_does_not_count_against_its_own_cap(self, campaign, products):
        contact = ContactFactory(confirmed=True, preferences=[products])
        ContactChannelFactory(
            contact=contact, frequency_count=1, frequency_period=FrequencyPeriod.DAY
        )
        begin(campaign)

        claimed = dispatch.claim(campaign)

        assert [d.contact_id for d in claimed.deliveries] == [contact.pk]
