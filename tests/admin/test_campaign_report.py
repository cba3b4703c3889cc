"""A campaign's report: its figures, rates and thresholds, links, chart and CSV; the
Overview's last campaigns and audience."""

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.admin.test_campaigns import editor
from tests.factories import (
    CampaignFactory,
    CampaignLinkFactory,
    ContactFactory,
    DeliveryFactory,
    EngagementFactory,
)
from wagtail_preferences.admin.views.campaign_reports import chart_of
from wagtail_preferences.audience import growth
from wagtail_preferences.messaging import campaign_reports
from wagtail_preferences.messaging.campaign_reports import THRESHOLDS, Threshold
from wagtail_preferences.models import CampaignStatus, DeliveryStatus

pytestmark = pytest.mark.django_db

CAMPAIGNS = "preference_center_campaigns"
NOW = datetime.datetime(2026, 3, 10, 12, 30, tzinfo=datetime.UTC)
STARTED = datetime.datetime(2026, 3, 10, 2, 15, tzinfo=datetime.UTC)


def campaign_url(name, campaign):
    return reverse(f"{CAMPAIGNS}:{name}", args=[campaign.pk])


def hours(n):
    return STARTED + datetime.timedelta(hours=n)


def build_campaign(**kwargs):
    """Ten messages sent: six delivered, one complained, a hard and a soft bounce, one not
    heard of; one unsubscribed; one contact not sent to. Opens by people of three messages
    (one of them also by a machine), by a machine only of one; clicks by people of three
    messages (four clicks), one click by a scanner."""
    campaign = CampaignFactory(
        name="March news",
        slug="march",
        status=CampaignStatus.FINISHED,
        started_at=STARTED,
        **kwargs,
    )
    sent = {"campaign": campaign, "sent_at": STARTED}
    delivered = [
        DeliveryFactory(**sent, outcome="delivered", outcome_at=hours(1)) for _ in range(6)
    ]
    DeliveryFactory(**sent, outcome="complained", outcome_at=hours(3))
    DeliveryFactory(**sent, outcome="hard_bounce", outcome_at=hours(0))
    DeliveryFactory(**sent, outcome="soft_bounce", outcome_at=hours(0))
    DeliveryFactory(**sent)
    DeliveryFactory(campaign=campaign, status=DeliveryStatus.SKIPPED, sent_at=None)
    d0, d1, d2, d3 = delivered[:4]
    d1.unsubscribed_at = hours(4)
    d1.save()
    news = CampaignLinkFactory(campaign=campaign, url="https://example.com/news/")
    shop = CampaignLinkFactory(campaign=campaign, url="https://example.com/shop/")
    CampaignLinkFactory(campaign=campaign, url='=HYPERLINK("https://evil.example")')
    for delivery, at in ((d0, 3), (d0, 5), (d1, 3), (d3, 4)):
        EngagementFactory(delivery=delivery, created_at=hours(at))
    EngagementFactory(delivery=d2, machine=True, created_at=hours(0))
    EngagementFactory(delivery=d3, machine=True, created_at=hours(0))
    for delivery, link, at in ((d0, news, 3), (d0, news, 5), (d1, news, 3), (d3, shop, 4)):
        EngagementFactory(delivery=delivery, click=True, link=link, created_at=hours(at))
    EngagementFactory(delivery=d2, click=True, link=news, machine=True, created_at=hours(0))
    return campaign


@pytest.fixture
def campaign():
    return build_campaign()


class TestFigures:
    def test_summary(self, campaign, django_assert_num_queries):
        with django_assert_num_queries(2):
            summary = campaign_reports.summaries([campaign.pk])[campaign.pk]
        assert (summary.sent, summary.delivered) == (10, 7)
        assert (summary.hard_bounces, summary.soft_bounces, summary.bounces) == (1, 1, 2)
        assert (summary.complaints, summary.unsubscribes) == (1, 1)
        assert (summary.human_opens, summary.machine_opens) == (3, 1)
        assert (summary.unique_clicks, summary.human_clicks, summary.machine_clicks) == (3, 4, 1)

    def test_rates(self, campaign):
        summary = campaign_reports.summaries([campaign.pk])[campaign.pk]
        assert summary.reached == 8
        assert summary.delivered_rate == pytest.approx(0.7)
        assert summary.bounce_rate == pytest.approx(0.2)
        assert summary.complaint_rate == pytest.approx(1 / 8)
        assert summary.open_rate == pytest.approx(3 / 8)
        assert summary.click_rate == pytest.approx(3 / 8)

    def test_a_campaign_without_deliveries_has_no_rates(self):
        summary = campaign_reports.summaries([CampaignFactory().pk]).popitem()[1]
        assert summary.sent == 0
        assert summary.complaint_rate is None
        assert summary.level("complaint_rate") == "ok"

    def test_the_query_count_does_not_grow(self, campaign, django_assert_num_queries):
        other = CampaignFactory()
        DeliveryFactory.create_batch(30, campaign=other, outcome="delivered")
        with django_assert_num_queries(2):
            found = campaign_reports.summaries([campaign.pk, other.pk])
        assert (found[campaign.pk].sent, found[other.pk].delivered) == (10, 30)

    def test_links_most_clicked_first(self, campaign, django_assert_num_queries):
        with django_assert_num_queries(1):
            links = campaign_reports.links(campaign)
        assert [
            (link.url, link.unique_clickers, link.human_clicks, link.machine_clicks)
            for link in links
        ] == [
            ("https://example.com/news/", 2, 3, 1),
            ("https://example.com/shop/", 1, 1, 0),
            ('=HYPERLINK("https://evil.example")', 0, 0, 0),
        ]


class TestThresholds:
    @pytest.mark.parametrize(
        ("rate", "level"),
        [(None, "ok"), (0, "ok"), (0.001, "ok"), (0.0011, "warning"), (0.003, "over")],
    )
    def test_complaints(self, rate, level):
        assert THRESHOLDS["complaint_rate"].level(rate) == level

    @pytest.mark.parametrize(("rate", "level"), [(0.02, "ok"), (0.021, "warning"), (1, "warning")])
    def test_bounces_only_warn(self, rate, level):
        assert THRESHOLDS["bounce_rate"].level(rate) == level

    def test_a_threshold_without_a_limit(self):
        assert Threshold(warn=0.5).level(0.9) == "warning"

    def test_the_report_flags_what_is_over(self, admin_client, campaign):
        response = admin_client.get(campaign_url("report", campaign))
        assert response.status_code == 200
        rows = {row["name"]: row["level"] for row in response.context["figures"]}
        assert rows["complaints"] == "over"
        assert rows["bounces"] == "warning"
        assert rows["human_opens"] == "ok"
        content = response.content.decode()
        assert "Too many people marked this campaign as spam" in content
        assert "From 0.30 %, Gmail and Yahoo refuse" in content
        assert "Too many addresses bounced" in content
        assert "help-critical" in content and "help-warning" in content

    def test_no_alert_when_all_is_well(self, admin_client):
        campaign = CampaignFactory(status=CampaignStatus.FINISHED, started_at=STARTED)
        DeliveryFactory.create_batch(3, campaign=campaign, outcome="delivered")
        response = admin_client.get(campaign_url("report", campaign))
        assert response.context["alerts"] == []
        assert "Too many" not in response.content.decode()


class TestTimeSeries:
    def test_per_hour_in_the_first_two_days(self, campaign, django_assert_num_queries):
        with django_assert_num_queries(2):
            series = campaign_reports.time_series(campaign, now=NOW)
        assert series.unit == "hour"
        assert series.starts[0] == STARTED.replace(minute=0)
        assert len(series.starts) == 11  # 02:00 to 12:00
        assert series.values["bounces"][:2] == [2, 0]
        assert series.values["delivered"][1] == 6
        assert series.values["delivered"][3] == 1  # the complaint, when reported
        # Deliveries opened or clicked by a person: two at 05:00, one at 06:00 and 07:00.
        assert series.values["opens"] == [0, 0, 0, 2, 1, 1, 0, 0, 0, 0, 0]
        assert series.values["clicks"] == [0, 0, 0, 2, 1, 1, 0, 0, 0, 0, 0]

    def test_per_day_after(self, campaign):
        series = campaign_reports.time_series(campaign, now=STARTED + datetime.timedelta(days=5))
        assert series.unit == "day"
        assert len(series.starts) == 6
        assert series.values == {
            "delivered": [7, 0, 0, 0, 0, 0],
            "opens": [3, 0, 0, 0, 0, 0],
            "clicks": [3, 0, 0, 0, 0, 0],
            "bounces": [2, 0, 0, 0, 0, 0],
        }

    def test_none_before_sending(self):
        assert campaign_reports.time_series(CampaignFactory()) is None

    def test_no_longer_than_the_daily_span(self, campaign):
        later = STARTED + datetime.timedelta(days=400)
        series = campaign_reports.time_series(campaign, now=later)
        assert len(series.starts) == campaign_reports.DAILY_SPAN + 1

    def test_a_start_a_little_ahead_of_the_clock(self, campaign):
        series = campaign_reports.time_series(campaign, now=STARTED - datetime.timedelta(minutes=5))
        assert (series.unit, series.values["bounces"]) == ("hour", [2])

    def test_the_chart_draws_a_point_per_period_and_series(self, campaign):
        series = campaign_reports.time_series(campaign, now=NOW)
        html = Template(
            "{% load wagtail_preferences_admin %}{% line_chart chart 'c' 'Hour' %}"
        ).render(Context({"chart": chart_of(series, campaign)}))
        assert html.count("<circle") == 4 * 11
        assert html.count("<polyline") == 4
        assert '<title id="c-title">' in html and '<desc id="c-desc">' in html
        assert 'aria-labelledby="c-title c-desc"' in html
        assert "style=" not in html and "<script" not in html
        # The same figures as a table: a row per hour.
        assert len(re.findall(r'<tr><th scope="row">', html)) == 11


def csv_rows(response):
    text = b"".join(response).decode("utf-8-sig") if response.streaming else None
    text = text or response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


class TestCSV:
    def test_contents(self, admin_client, campaign):
        response = admin_client.get(campaign_url("report_csv", campaign))
        assert response["Content-Type"].startswith("text/csv")
        assert 'filename="report-march.csv"' in response["Content-Disposition"]
        rows = csv_rows(response)
        assert rows[0] == ["Figure", "Number", "Rate"]
        assert rows[1] == ["Sent", "10", ""]
        assert ["Complaints (marked as spam)", "1", "12.50 %"] in rows
        header = rows.index(["Link", "People who clicked", "Clicks", "Machine clicks"])
        assert rows[header + 1] == ["https://example.com/news/", "2", "3", "1"]
        assert any(row[:1] == ["Period starting"] for row in rows)

    def test_a_formula_in_a_link_is_neutralised(self, admin_client, campaign):
        rows = csv_rows(admin_client.get(campaign_url("report_csv", campaign)))
        assert ['\'=HYPERLINK("https://evil.example")', "0", "0", "0"] in rows


class TestPermissions:
    def test_an_editor_without_campaign_permissions(self, client, campaign):
        client.force_login(editor())
        assert client.get(campaign_url("report_csv", campaign)).status_code == 403
        response = client.get(campaign_url("report", campaign))
        assert (response.status_code, response["Location"]) == (302, reverse("wagtailadmin_home"))

    def test_viewing_campaigns_is_enough(self, client, campaign):
        client.force_login(editor("view_campaign"))
        assert client.get(campaign_url("report", campaign)).status_code == 200
        assert client.get(campaign_url("report_csv", campaign)).status_code == 200

    def test_an_unknown_campaign(self, admin_client):
        assert admin_client.get(reverse(f"{CAMPAIGNS}:report", args=[999])).status_code == 404


class TestPages:
    def test_the_page_query_count_does_not_grow(self, admin_client, campaign):
        def count(target):
            with CaptureQueriesContext(connection) as captured:
                assert admin_client.get(campaign_url("report", target)).status_code == 200
            return len(captured)

        small = CampaignFactory(status=CampaignStatus.FINISHED, started_at=STARTED)
        DeliveryFactory(campaign=small)
        assert count(campaign) == count(small)

    def test_the_progress_page_and_the_list_link_to_the_report(self, admin_client, campaign):
        report = campaign_url("report", campaign)
        assert report in admin_client.get(campaign_url("progress", campaign)).content.decode()
        assert report in admin_client.get(reverse(f"{CAMPAIGNS}:index")).content.decode()

    def test_the_report_says_what_is_not_reported(self, admin_client):
        campaign = CampaignFactory(started_at=STARTED, track_clicks=True)
        DeliveryFactory(campaign=campaign)
        content = admin_client.get(campaign_url("report", campaign)).content.decode()
        assert "No deliveries, bounces or complaints reported yet" in content
        assert "Opens are not tracked for this campaign." in content

    def test_a_tracked_campaign_with_reports_needs_no_notes(self, admin_client):
        campaign = build_campaign(track_opens=True, track_clicks=True)
        content = admin_client.get(campaign_url("report", campaign)).content.decode()
        assert "reported yet" not in content and "not tracked" not in content

    def test_the_report_of_a_draft_says_it_has_not_started(self, admin_client):
        response = admin_client.get(campaign_url("report", CampaignFactory()))
        assert response.status_code == 200
        assert "Sending has not started yet." in response.content.decode()

    def test_a_draft_has_no_report_in_the_list(self, admin_client):
        draft = CampaignFactory()
        content = admin_client.get(reverse(f"{CAMPAIGNS}:index")).content.decode()
        assert campaign_url("report", draft) not in content


class TestOverview:
    def test_last_campaigns(self, django_assert_num_queries):
        build_campaign()
        for n in range(6):
            CampaignFactory(name=f"Older {n}", started_at=STARTED - datetime.timedelta(days=n + 1))
        CampaignFactory(name="Draft")
        with django_assert_num_queries(3):
            campaigns = campaign_reports.last_campaigns()
        assert [c.name for c in campaigns] == ["March news", *(f"Older {n}" for n in range(4))]
        assert campaigns[0].summary.sent == 10

    def test_new_contacts_per_week(self, django_assert_num_queries):
        now = timezone.now()
        for days in (0, 0, 8, 200):
            contact = ContactFactory()
            type(contact).objects.filter(pk=contact.pk).update(
                created_at=now - datetime.timedelta(days=days)
            )
        with django_assert_num_queries(1):
            weeks = growth.new_contacts_per_week(now=now)
        assert len(weeks) == 12
        assert all(monday.weekday() == 0 for monday, _ in weeks)
        assert weeks[-1][1] == 2
        assert sum(n for _, n in weeks) == 3

    def test_contacts_by_status(self, django_assert_num_queries):
        ContactFactory.create_batch(2, confirmed=True)
        ContactFactory(unsubscribed=True)
        with django_assert_num_queries(1):
            counts = {status: n for status, _label, n in growth.contacts_by_status()}
        assert counts == {"pending": 0, "confirmed": 2, "unsubscribed": 1, "blocked": 0}

    def test_the_overview_shows_them(self, admin_client):
        build_campaign()
        ContactFactory()
        response = admin_client.get(reverse("preference_center:index"))
        content = response.content.decode()
        assert "March news" in content
        assert "Last campaigns" in content and "Audience over time" in content
        assert "must stay under 0.30 % (best under 0.10 %)" in content
        assert content.count("<circle") == 12

    def test_the_overview_query_count_does_not_grow(self, admin_client):
        def count():
            with CaptureQueriesContext(connection) as captured:
                assert admin_client.get(reverse("preference_center:index")).status_code == 200
            return len(captured)

        build_campaign()
        before = count()
        for n in range(4):
            campaign = CampaignFactory(started_at=STARTED - datetime.timedelta(days=n + 1))
            DeliveryFactory.create_batch(3, campaign=campaign, outcome="delivered")
        ContactFactory.create_batch(5)
        assert count() == before

    def test_no_campaigns_for_who_may_not_see_them(self, client):
        build_campaign()
        client.force_login(editor("view_contact"))
        content = client.get(reverse("preference_center:index")).content.decode()
        assert "Audience over time" in content
        assert "Last campaigns" not in content and "March news" not in content
