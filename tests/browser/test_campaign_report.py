"""A campaign's report in Chromium at a desktop's width, in Wagtail's light and dark themes."""

import datetime
import random

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import CampaignFactory, CampaignLinkFactory, ContactFactory
from wagtail_preferences.models import (
    CampaignStatus,
    Delivery,
    DeliveryOutcome,
    DeliveryStatus,
    Engagement,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campaign():
    """A campaign sent to 80 contacts 30 hours ago: most delivered, a few bounced, one
    complaint; opens and clicks that thin out over the hours, some by machines."""
    rng = random.Random(7)
    started = timezone.now() - datetime.timedelta(hours=30)
    campaign = CampaignFactory(
        name="Spring news",
        slug="spring",
        status=CampaignStatus.FINISHED,
        started_at=started,
        track_opens=True,
        track_clicks=True,
    )
    links = [
        CampaignLinkFactory(campaign=campaign, url=url)
        for url in (
            "https://bakery.example/spring/",
            "https://bakery.example/order/?utm_source=newsletter&utm_campaign=spring-news",
            "https://bakery.example/events/easter-workshop/",
        )
    ]
    outcomes = [DeliveryOutcome.DELIVERED] * 74 + [
        DeliveryOutcome.SOFT_BOUNCE,
        DeliveryOutcome.HARD_BOUNCE,
        DeliveryOutcome.HARD_BOUNCE,
        DeliveryOutcome.COMPLAINED,
        "",
        "",
    ]
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            campaign=campaign,
            contact=contact,
            channel="email",
            status=DeliveryStatus.SENT,
            sent_at=started,
            outcome=outcome,
            outcome_at=started + datetime.timedelta(minutes=rng.randint(1, 90))
            if outcome
            else None,
            unsubscribed_at=started + datetime.timedelta(hours=5) if index == 3 else None,
        )
        for index, (contact, outcome) in enumerate(
            zip(ContactFactory.create_batch(len(outcomes), confirmed=True), outcomes, strict=True)
        )
    )
    engagements = []
    for delivery in deliveries[:60]:
        at = started + datetime.timedelta(hours=min(rng.expovariate(1 / 5), 29))
        machine = rng.random() < 0.2
        engagements.append(
            Engagement(
                delivery=delivery,
                campaign=campaign,
                kind="open",
                machine=machine,
                source="tracking",
                created_at=at,
            )
        )
        if not machine and rng.random() < 0.5:
            engagements.append(
                Engagement(
                    delivery=delivery,
                    campaign=campaign,
                    kind="click",
                    link=rng.choice(links),
                    source="tracking",
                    created_at=at + datetime.timedelta(minutes=2),
                )
            )
    Engagement.objects.bulk_create(engagements)
    return campaign


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_report_at_a_desktops_width(admin_page, campaign, screenshot, scheme):
    page = admin_page
    page.emulate_media(color_scheme=scheme)
    page.goto(f"/admin/preference-center/campaigns/{campaign.pk}/progress/")
    page.get_by_role("link", name="Report: deliveries, bounces, opens and clicks").click()
    expect(page.get_by_role("heading", name="Report of “Spring news”")).to_be_visible()
    chart = page.get_by_role("img", name="What happened per hour since sending started")
    expect(chart).to_be_visible()
    # The chart fills its column and is not squeezed: a readable drawing at this width.
    box = chart.bounding_box()
    assert box["width"] > 450 and box["height"] > 150
    # The complaint (1 of 77 reached) is over Gmail's limit: the page says so.
    expect(page.get_by_text("Too many people marked this campaign as spam")).to_be_visible()
    expect(page.get_by_role("rowheader", name="https://bakery.example/spring/")).to_be_visible()
    # The lines take the theme's colours: not black on a dark page.
    line_colour = page.locator(".wp-chart--2 .wp-chart__line").first.evaluate(
        "line => getComputedStyle(line).stroke"
    )
    page_colour = page.locator("body").evaluate("body => getComputedStyle(body).backgroundColor")
    assert line_colour != page_colour
    if scheme == "dark":
        assert line_colour not in ("rgb(0, 0, 0)", "none")
    # The admin scrolls inside its main column: a tall window shows the whole report.
    page.set_viewport_size({"width": 1280, "height": 2000})
    screenshot(page, f"admin-campaign-report-{scheme}")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_text("The chart's figures as a table").click()
    expect(
        page.get_by_role("table", name="What happened per hour since sending started")
    ).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    assert download.value.suggested_filename == "report-spring.csv"


def test_the_overview_at_a_desktops_width(admin_page, campaign, screenshot):
    page = admin_page
    page.goto("/admin/preference-center/")
    expect(page.get_by_role("link", name="Spring news")).to_be_visible()
    expect(page.get_by_role("img", name="New contacts per week")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 2000})
    screenshot(page, "admin-overview-reports")
