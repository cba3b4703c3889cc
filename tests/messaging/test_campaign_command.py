"""``manage.py preferences_campaign``: each subcommand, the dry run and the errors."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.factories import (
    CampaignFactory,
    ContactChannelFactory,
    ContactFactory,
    DeliveryFactory,
    MessageFactory,
)
from wagtail_preferences.messaging import campaigns
from wagtail_preferences.models import Campaign, CampaignStatus, Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("preferences_campaign", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def status_of(campaign) -> str:
    return Campaign.objects.get(pk=campaign.pk).status


@pytest.fixture
def campaign(products):
    ContactFactory.create_batch(2, confirmed=True, preferences=[products])
    ContactFactory(unsubscribed=True, preferences=[products])
    paused = ContactFactory(confirmed=True, preferences=[products])
    ContactChannelFactory(contact=paused, paused=True)
    return CampaignFactory(name="Spring news", slug="spring", preferences=[products])


class TestSend:
    def test_dry_run_counts_by_channel_and_reason_and_changes_nothing(self, campaign):
        stdout, _stderr = run("send", "spring", "--dry-run")
        assert "would go to 3 of an audience of 4 contacts (1 would not receive it)" in stdout
        assert "Email: 2 now" in stdout
        assert "  wait: Paused messages: 1" in stdout
        assert "  not sent: Unsubscribed: 1" in stdout
        assert status_of(campaign) == CampaignStatus.DRAFT
        assert not Delivery.objects.exists()

    def test_sends(self, campaign, mailoutbox, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            stdout, stderr = run("send", "spring")
        assert "4 deliveries planned" in stdout
        assert status_of(campaign) == CampaignStatus.SENDING  # one waits for the pause
        assert len(mailoutbox) == 2
        assert stderr == ""  # no bar off a terminal

    @pytest.mark.django_db(transaction=True)
    def test_a_progress_bar_follows_the_sending(self, products, mailoutbox):
        ContactFactory.create_batch(3, confirmed=True, preferences=[products])
        CampaignFactory(slug="bar", preferences=[products])
        _stdout, stderr = run("send", "bar", "--progress")
        assert "Sending [" in stderr
        assert "100% 3/3 messages" in stderr
        assert len(mailoutbox) == 3

    def test_an_unpublished_message_is_a_command_error(self, products):
        CampaignFactory(slug="draft", message=MessageFactory(publish=False), preferences=[products])
        with pytest.raises(CommandError, match="Publish the message"):
            run("send", "draft")

    def test_an_unknown_slug_is_a_command_error(self, db):
        with pytest.raises(CommandError, match="No campaign with the slug “nope”"):
            run("send", "nope")


class TestSchedule:
    def test_in_the_site_time_zone(self, campaign, settings):
        settings.TIME_ZONE = "Europe/Brussels"
        stdout, _stderr = run("schedule", "spring", "--at", "2099-12-24 09:00")
        campaign.refresh_from_db()
        assert campaign.scheduled_at == datetime.datetime(2099, 12, 24, 8, tzinfo=datetime.UTC)
        assert "will be sent on" in stdout and "CET" in stdout

    def test_iso_with_an_offset(self, campaign):
        run("schedule", "spring", "--at", "2099-12-24T09:00+02:00")
        campaign.refresh_from_db()
        assert campaign.scheduled_at == datetime.datetime(2099, 12, 24, 7, tzinfo=datetime.UTC)

    def test_unreadable_or_past_times_are_refused(self, campaign):
        with pytest.raises(CommandError, match="--at takes a date and time"):
            run("schedule", "spring", "--at", "Christmas")
        with pytest.raises(CommandError, match="Choose a time in the future"):
            run("schedule", "spring", "--at", "2001-01-01 09:00")

    def test_unschedule(self, campaign):
        run("schedule", "spring", "--at", "2099-12-24 09:00")
        stdout, _stderr = run("unschedule", "spring")
        assert "is a draft again" in stdout
        assert status_of(campaign) == CampaignStatus.DRAFT


class TestWhileSending:
    @pytest.fixture
    def sending(self, campaign):
        Campaign.objects.filter(pk=campaign.pk).update(
            status=CampaignStatus.SENDING, started_at=timezone.now()
        )
        DeliveryFactory(campaign=campaign, sent_at=timezone.now())
        DeliveryFactory(campaign=campaign, status=DeliveryStatus.QUEUED, sent_at=None)
        DeliveryFactory(campaign=campaign, status=DeliveryStatus.SKIPPED, reason="unsubscribed")
        return campaign

    def test_pause_resume_cancel(self, sending, django_capture_on_commit_callbacks):
        run("pause", "spring")
        assert status_of(sending) == CampaignStatus.PAUSED
        with django_capture_on_commit_callbacks():
            run("resume", "spring")
        assert status_of(sending) == CampaignStatus.SENDING
        stdout, _stderr = run("cancel", "spring")
        assert "1 deliveries cancelled" in stdout
        assert status_of(sending) == CampaignStatus.CANCELLED

    def test_an_illegal_transition_is_a_command_error(self, sending):
        with pytest.raises(CommandError, match="cannot become"):
            run("resume", "spring")

    def test_status(self, sending):
        stdout, _stderr = run("status", "spring")
        assert stdout.startswith("Spring news (spring): Sending\n")
        assert "Started: " in stdout
        assert "  Sent: 1\n" in stdout
        assert "  Not sent: 1\n    Unsubscribed: 1\n" in stdout
        assert "Sent in the last minute: 1 (0.0 per second)." in stdout


def test_tick_runs_the_periodic_work(monkeypatch, db):
    monkeypatch.setattr(
        campaigns,
        "tick",
        lambda: {"started": [1], "requeued": 2, "unknown": 0, "sending": [1, 4]},
    )
    stdout, _stderr = run("tick")
    assert stdout == (
        "Started 1 scheduled campaigns; 2 deliveries queued again, 0 marked unknown; "
        "2 campaigns sending.\n"
    )


def test_tick_starts_a_due_campaign(campaign, mailoutbox):
    Campaign.objects.filter(pk=campaign.pk).update(
        status=CampaignStatus.SCHEDULED, scheduled_at=timezone.now()
    )
    stdout, _stderr = run("tick")
    assert stdout.startswith("Started 1 scheduled campaigns")
    assert status_of(campaign) == CampaignStatus.SENDING
