"""The campaign screens in Chromium: list, form, review, sending and its live progress."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import (
    CampaignFactory,
    ContactChannelFactory,
    ContactFactory,
    DeliveryFactory,
    PreferenceFactory,
)
from wagtail_preferences.models import Delivery, DeliveryStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campaign():
    products = PreferenceFactory(name="Products")
    ContactFactory.create_batch(3, confirmed=True, preferences=[products])
    ContactFactory(unsubscribed=True, preferences=[products], email="gone@example.com")
    paused = ContactFactory(confirmed=True, preferences=[products], email="away@example.com")
    ContactChannelFactory(contact=paused, paused=True)
    capped = ContactFactory(confirmed=True, preferences=[products], email="busy@example.com")
    ContactChannelFactory(contact=capped, weekly=True)
    DeliveryFactory(contact=capped, campaign=CampaignFactory(name="Winter sale", slug="winter"))
    return CampaignFactory(name="Spring news", slug="spring", preferences=[products])


def test_review_send_and_follow(admin_page, campaign, screenshot):
    page = admin_page
    page.goto("/admin/preference-center/campaigns/")
    expect(page.get_by_role("link", name="Spring news")).to_be_visible()
    screenshot(page, "admin-campaigns-index")

    page.goto(f"/admin/preference-center/campaigns/edit/{campaign.pk}/")
    expect(page.get_by_text("Contacts who cannot take it yet")).to_be_visible()
    screenshot(page, "admin-campaign-form")

    page.goto(f"/admin/preference-center/campaigns/{campaign.pk}/review/")
    expect(page.get_by_text("The audience is 6 contacts")).to_be_visible()
    screenshot(page, "admin-campaign-review")

    page.get_by_role("link", name="Paused messages").click()
    expect(page.get_by_role("cell", name="away@example.com")).to_be_visible()
    screenshot(page, "admin-campaign-reason-contacts")
    page.go_back()

    page.get_by_label("Send at").fill("2099-12-24 09:00")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_text("will be sent on Dec. 24, 2099, 9 a.m. UTC")).to_be_visible()
    screenshot(page, "admin-campaign-scheduled")
    page.get_by_role("button", name="Unschedule").click()
    expect(page.get_by_text("it is a draft again")).to_be_visible()

    page.get_by_role("link", name="Send now…").click()
    screenshot(page, "admin-campaign-send-confirmation")
    page.get_by_role("button", name="Yes, send it now").click()
    expect(page.get_by_text("Sending “Spring news” has started.")).to_be_visible()
    sent = page.locator("[data-wp-progress='counts.sent']")
    expect(sent).to_have_text("3")
    screenshot(page, "admin-campaign-progress")

    # The page follows what happens without being reloaded.
    Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.DEFERRED).update(
        status=DeliveryStatus.SENT
    )
    expect(sent).to_have_text("5")
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("[data-wp-progress='status']")).to_have_text(re.compile("Paused"))
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    expect(page.get_by_role("button", name="Pause")).to_be_hidden()
