"""The segment editor counts matching contacts live, in Chromium."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import ContactFactory
from wagtail_preferences.models import Segment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_matching_count_follows_the_criteria(admin_page, screenshot):
    ContactFactory.create_batch(3, confirmed=True)
    ContactFactory.create_batch(2, unsubscribed=True)
    segment = Segment.objects.create(
        name="Confirmed",
        criteria=[{"type": "status", "value": {"status": "confirmed"}}],
    )
    page = admin_page
    page.goto(f"/admin/preference-center/segments/edit/{segment.pk}/")
    count = page.locator("[data-segment-count-url]")
    expect(count).to_have_text("3 contacts match these criteria.")

    page.locator("select[name='criteria-0-value-status']").select_option("unsubscribed")
    expect(count).to_have_text("2 contacts match these criteria.")
    count.scroll_into_view_if_needed()
    screenshot(page, "admin-segment-live-count")

    page.get_by_role("button", name=re.compile("^Save")).first.click()
    expect(page.get_by_text("updated")).to_be_visible()
    segment.refresh_from_db()
    assert segment.criteria[0].value["status"] == "unsubscribed"
