"""The campaigns admin: list, form, review, actions and progress."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    CampaignFactory,
    ContactChannelFactory,
    ContactFactory,
    DeliveryFactory,
    MessageFactory,
    UserFactory,
)
from wagtail_preferences.messaging import planning, reports
from wagtail_preferences.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    SkipReason,
)

pytestmark = pytest.mark.django_db

CAMPAIGNS = "preference_center_campaigns"


def campaign_url(name, campaign):
    return reverse(f"{CAMPAIGNS}:{name}", args=[campaign.pk])


@pytest.fixture
def campaign(products):
    return CampaignFactory(name="Spring news", slug="spring", preferences=[products])


@pytest.fixture
def audience(products):
    """Two contacts who receive it, one unsubscribed, one who paused email, one capped."""
    receiving = ContactFactory.create_batch(2, confirmed=True, preferences=[products])
    ContactFactory(unsubscribed=True, preferences=[products])
    paused = ContactFactory(confirmed=True, preferences=[products], email="paused@example.com")
    ContactChannelFactory(contact=paused, paused=True)
    capped = ContactFactory(confirmed=True, preferences=[products], email="capped@example.com")
    ContactChannelFactory(contact=capped, weekly=True)
    DeliveryFactory(contact=capped)
    return receiving


def editor(*codenames):
    """An admin user whose group has the campaign permissions named."""
    group = Group.objects.create(name="Campaign editors")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        *Permission.objects.filter(codename__in=codenames),
    )
    user = UserFactory()
    user.groups.add(group)
    return user


@pytest.fixture
def viewer_client(client):
    client.force_login(editor("view_campaign"))
    return client


def form_data(message, **overrides):
    data = {
        "name": "Autumn news",
        "slug": "autumn",
        "message": message.pk,
        "match": "all",
        "preference_rule": "any",
        "criteria-count": "0",
        "when_paused": "wait",
        "when_capped": "skip",
    }
    data.update(overrides)
    return data


class TestIndex:
    def test_lists_campaigns_with_their_delivery_counts(self, admin_client, campaign):
        DeliveryFactory.create_batch(3, campaign=campaign, status=DeliveryStatus.SENT)
        DeliveryFactory(campaign=campaign, status=DeliveryStatus.UNKNOWN)
        response = admin_client.get(reverse(f"{CAMPAIGNS}:index"))
        content = response.content.decode()
        assert "Spring news" in content
        assert "wp-campaign-status--draft" in content
        row = content[content.index("Spring news") :]
        assert ">3<" in row.replace(" ", "").replace("\n", "")

    def test_query_count_does_not_grow_with_the_campaigns(self, admin_client, products):
        def queries():
            with CaptureQueriesContext(connection) as captured:
                assert admin_client.get(reverse(f"{CAMPAIGNS}:index")).status_code == 200
            return len(captured)

        DeliveryFactory(campaign=CampaignFactory(preferences=[products]))
        few = queries()
        for campaign in CampaignFactory.create_batch(8, preferences=[products]):
            DeliveryFactory(campaign=campaign, status=DeliveryStatus.FAILED)
        assert queries() == few

    def test_filters_by_status(self, admin_client, campaign, products):
        CampaignFactory(name="Done already", preferences=[products])
        Campaign.objects.filter(name="Done already").update(status=CampaignStatus.FINISHED)
        response = admin_client.get(reverse(f"{CAMPAIGNS}:index"), {"status": "finished"})
        assert "Done already" in response.content.decode()
        assert "Spring news" not in response.content.decode()

    def test_searches_by_name(self, admin_client, campaign, products):
        CampaignFactory(name="Winter sale", preferences=[products])
        response = admin_client.get(reverse(f"{CAMPAIGNS}:index"), {"q": "winter"})
        assert "Winter sale" in response.content.decode()
        assert "Spring news" not in response.content.decode()


class TestForm:
    def test_creates_a_campaign_and_opens_its_review(self, admin_client, products, superuser):
        message = MessageFactory()
        response = admin_client.post(
            reverse(f"{CAMPAIGNS}:add"),
            form_data(message, preferences=[products.pk], channels=["email"]),
        )
        campaign = Campaign.objects.get(slug="autumn")
        assert response.url == campaign_url("review", campaign)
        assert campaign.channels == ["email"]
        assert list(campaign.preferences.all()) == [products]
        assert campaign.created_by == superuser

    def test_a_blank_slug_is_made_from_the_name_and_kept_unique(self, admin_client, products):
        CampaignFactory(name="Autumn news", slug="autumn-news", preferences=[products])
        data = form_data(MessageFactory(), slug="", preferences=[products.pk])

        admin_client.post(reverse(f"{CAMPAIGNS}:add"), data)
        admin_client.post(reverse(f"{CAMPAIGNS}:add"), data)

        slugs = Campaign.objects.filter(name="Autumn news").values_list("slug", flat=True)
        assert sorted(slugs) == ["autumn-news", "autumn-news-2", "autumn-news-3"]

    def test_needs_an_audience(self, admin_client, products):
        response = admin_client.post(reverse(f"{CAMPAIGNS}:add"), form_data(MessageFactory()))
        assert response.status_code == 200
        assert "Choose who the campaign is for" in response.content.decode()
        assert not Campaign.objects.exists()

    def test_exclusions_alone_are_no_audience(self, admin_client, products):
        data = form_data(MessageFactory(), exclude_preferences=[products.pk])
        response = admin_client.post(reverse(f"{CAMPAIGNS}:add"), data)
        assert "Choose who the campaign is for" in response.content.decode()

    def test_a_channel_the_message_has_nothing_for_is_refused(self, admin_client, products):
        data = form_data(MessageFactory(), preferences=[products.pk], channels=["sms"])
        response = admin_client.post(reverse(f"{CAMPAIGNS}:add"), data)
        assert "nothing to send on the channels chosen" in response.content.decode()

    def test_criteria_problems_are_form_errors(self, admin_client, campaign, monkeypatch):
        monkeypatch.setattr(
            planning, "criteria_problems", lambda _campaign: ["That segment was deleted."]
        )
        data = form_data(campaign.message, slug="spring", preferences=[])
        response = admin_client.post(campaign_url("edit", campaign), data)
        assert response.status_code == 200
        assert "That segment was deleted." in response.content.decode()

    def test_a_campaign_being_sent_cannot_be_edited(self, admin_client, campaign):
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
        response = admin_client.get(campaign_url("edit", campaign))
        assert response.url == campaign_url("progress", campaign)
        response = admin_client.post(campaign_url("delete", campaign))
        assert response.url == campaign_url("progress", campaign)
        assert Campaign.objects.filter(pk=campaign.pk).exists()


class TestReview:
    def test_shows_the_breakdown_of_the_policy(self, admin_client, campaign, audience):
        breakdown = planning.breakdown(campaign)
        (email,) = breakdown.channels
        assert (breakdown.audience, email.sending) == (5, 2)
        assert email.waiting == {SkipReason.PAUSED: 1, SkipReason.FREQUENCY_CAP: 1}
        response = admin_client.get(campaign_url("review", campaign))
        assert response.context["breakdown"] == breakdown
        (row,) = response.context["channels"]
        assert row["sending"] == 2
        assert {(label, n) for label, n, _url in row["waiting"]} == {
            (SkipReason.PAUSED.label, 1),
            (SkipReason.FREQUENCY_CAP.label, 1),
        }
        assert [(label, n) for label, n, _url in row["skipped"]] == [
            (SkipReason.UNSUBSCRIBED.label, 1)
        ]
        assert "The audience is 5 contacts" in response.content.decode()

    def test_lists_the_contacts_of_a_reason_in_one_query(self, admin_client, campaign, audience):
        url = campaign_url("reason_contacts", campaign)
        response = admin_client.get(url, {"channel": "email", "reason": "paused"})
        assert [c.email for c in response.context["contacts"]] == ["paused@example.com"]
        week = timezone.localdate() + datetime.timedelta(days=7)
        assert response.context["contacts"][0].wp_pause_to == week
        capped = admin_client.get(url, {"channel": "email", "reason": "frequency_cap"})
        assert "1 per week" in capped.content.decode()
        with CaptureQueriesContext(connection) as captured:
            list(reports.contacts_for_reason(campaign, "email", "unsubscribed"))
        assert len([q for q in captured if "wagtail_preferences_contact" in q["sql"]]) == 1

    def test_an_unknown_reason_or_channel_is_not_found(self, admin_client, campaign):
        url = campaign_url("reason_contacts", campaign)
        assert admin_client.get(url, {"channel": "email", "reason": "x"}).status_code == 404
        assert admin_client.get(url, {"channel": "sms", "reason": "paused"}).status_code == 404

    def test_a_campaign_being_sent_is_reviewed_on_its_progress(self, admin_client, campaign):
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
        response = admin_client.get(campaign_url("review", campaign))
        assert response.url == campaign_url("progress", campaign)

    def test_needs_a_campaign_permission(self, client, campaign):
        client.force_login(editor())
        response = client.get(campaign_url("review", campaign))
        assert (response.status_code, response["Location"]) == (302, reverse("wagtailadmin_home"))

    def test_without_the_send_permission_no_buttons(self, viewer_client, campaign):
        response = viewer_client.get(campaign_url("review", campaign))
        assert response.status_code == 200
        assert campaign_url("send", campaign) not in response.content.decode()


class TestActions:
    def test_send_now_is_confirmed_then_sends(
        self, admin_client, campaign, audience, mailoutbox, django_capture_on_commit_callbacks
    ):
        confirmation = admin_client.get(campaign_url("send", campaign))
        assert "goes to 4 of the 5 contacts" in confirmation.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(campaign_url("send", campaign))
        assert response.url == campaign_url("progress", campaign)
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.SENDING  # two wait: a pause, a limit
        statuses = Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)
        assert sorted(statuses) == ["deferred", "deferred", "sent", "sent", "skipped"]
        assert len(mailoutbox) == 2

    def test_an_unpublished_message_is_refused_with_its_reason(self, admin_client, products):
        campaign = CampaignFactory(message=MessageFactory(publish=False), preferences=[products])
        response = admin_client.post(campaign_url("send", campaign), follow=True)
        messages = [str(m) for m in response.context["messages"]]
        assert any("Publish the message" in m and "before sending it" in m for m in messages)
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.DRAFT

    def test_schedule_in_the_site_time_zone_and_unschedule(self, admin_client, campaign, settings):
        settings.TIME_ZONE = "Europe/Brussels"
        response = admin_client.post(
            campaign_url("schedule", campaign), {"at": "2099-12-24 09:00"}, follow=True
        )
        campaign.refresh_from_db()
        assert campaign.status == CampaignStatus.SCHEDULED
        assert campaign.scheduled_at == datetime.datetime(2099, 12, 24, 8, 0, tzinfo=datetime.UTC)
        assert "CET" in str(list(response.context["messages"])[0])
        admin_client.post(campaign_url("unschedule", campaign))
        campaign.refresh_from_db()
        assert (campaign.status, campaign.scheduled_at) == (CampaignStatus.DRAFT, None)

    def test_a_time_in_the_past_is_refused(self, admin_client, campaign):
        response = admin_client.post(
            campaign_url("schedule", campaign), {"at": "2001-01-01 09:00"}, follow=True
        )
        assert "Choose a time in the future." in str(list(response.context["messages"])[0])

    def test_an_illegal_transition_shows_its_message(self, admin_client, campaign):
        response = admin_client.post(campaign_url("pause", campaign), follow=True)
        (message,) = response.context["messages"]
        assert message.level_tag == "error"
        assert "cannot become paused" in str(message)

    def test_pause_resume_and_cancel(
        self, admin_client, campaign, django_capture_on_commit_callbacks
    ):
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
        queued = DeliveryFactory(campaign=campaign, status=DeliveryStatus.QUEUED, sent_at=None)
        admin_client.post(campaign_url("pause", campaign))
        assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.PAUSED
        with django_capture_on_commit_callbacks():
            admin_client.post(campaign_url("resume", campaign))
        assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENDING
        assert "not yet sent" in admin_client.get(campaign_url("cancel", campaign)).content.decode()
        admin_client.post(campaign_url("cancel", campaign))
        assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.CANCELLED
        queued.refresh_from_db()
        assert queued.status == DeliveryStatus.CANCELLED

    @pytest.mark.parametrize(
        "action", ["send", "schedule", "unschedule", "pause", "resume", "cancel"]
    )
    def test_each_action_needs_the_send_permission(self, viewer_client, campaign, action):
        response = viewer_client.post(campaign_url(action, campaign), {"at": "2099-01-01 09:00"})
        assert response.status_code == 403
        assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT

    def test_the_send_permission_is_enough(self, client, campaign):
        client.force_login(editor("send_campaign"))
        response = client.post(campaign_url("schedule", campaign), {"at": "2099-01-01 09:00"})
        assert response.status_code == 302
        assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SCHEDULED

    def test_actions_are_posted(self, admin_client, campaign):
        assert admin_client.get(campaign_url("pause", campaign)).status_code == 405


class TestProgress:
    @pytest.fixture
    def sending(self, campaign):
        Campaign.objects.filter(pk=campaign.pk).update(
            status=CampaignStatus.SENDING, started_at=timezone.now()
        )
        DeliveryFactory.create_batch(2, campaign=campaign, status=DeliveryStatus.SENT)
        DeliveryFactory(
            campaign=campaign,
            status=DeliveryStatus.SENT,
            sent_at=timezone.now() - datetime.timedelta(minutes=5),
        )
        DeliveryFactory(
            campaign=campaign, status=DeliveryStatus.SKIPPED, reason=SkipReason.UNSUBSCRIBED
        )
        DeliveryFactory(campaign=campaign, status=DeliveryStatus.DEFERRED, reason=SkipReason.PAUSED)
        DeliveryFactory(campaign=campaign, status=DeliveryStatus.UNKNOWN, address="u@example.com")
        return campaign

    def test_json_counts_in_one_grouped_query(self, admin_client, sending):
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(campaign_url("progress_data", sending))
        data = response.json()
        assert data["status"] == "sending" and data["ended"] is False
        assert data["counts"]["sent"] == 3
        assert data["counts"]["unknown"] == 1
        assert data["skipped"]["unsubscribed"] == 1
        assert data["waiting"]["paused"] == 1
        assert data["total"] == 6
        assert data["sent_last_minute"] == 0
        assert set(data["counts"]) == set(DeliveryStatus.values)
        assert data["started_at"].endswith("UTC")
        delivery_queries = [q for q in captured if "wagtail_preferences_delivery" in q["sql"]]
        assert len(delivery_queries) == 1
        assert "GROUP BY" in delivery_queries[0]["sql"]

    def test_counts_the_rate_over_the_last_minute(self, admin_client, sending):
        DeliveryFactory(campaign=sending, sent_at=timezone.now())
        data = admin_client.get(campaign_url("progress_data", sending)).json()
        assert (data["sent_last_minute"], data["per_second"]) == (1, 0.02)

    def test_page_lists_unknown_deliveries_and_loads_its_script(self, admin_client, sending):
        content = admin_client.get(campaign_url("progress", sending)).content.decode()
        assert "u@example.com" in content
        assert "not sent again automatically" in content
        assert "campaign-progress.js" in content
        assert campaign_url("progress_data", sending) in content
        assert "<script>" not in content.split("campaign-progress.js")[0].split("<main")[-1]

    def test_an_ended_campaign_is_not_followed(self, admin_client, sending):
        Campaign.objects.filter(pk=sending.pk).update(status=CampaignStatus.FINISHED)
        content = admin_client.get(campaign_url("progress", sending)).content.decode()
        assert campaign_url("progress_data", sending) not in content

    def test_json_needs_a_campaign_permission(self, client, sending):
        client.force_login(editor())
        assert client.get(campaign_url("progress_data", sending)).status_code == 403
