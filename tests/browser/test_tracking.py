"""Tracked links in Chromium: a click lands on the link and is counted; a person who then
refuses tracking on their manage page (without JavaScript) still lands, and is not counted.
Headless Chromium's own User-Agent is a machine's."""

import pytest
from playwright.sync_api import expect

from tests.feedback.tracking_helpers import allow, click_path, sent_delivery
from tests.visitor_helpers import manage_path
from wagtail_preferences.models import Engagement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


def test_a_click_counts_until_the_person_refuses_tracking(new_context, live_server, screenshot):
    allow()
    # The link leads to a page of this site: the test reaches no other host.
    delivery = sent_delivery(url=f"{live_server.url}/preferences/link/")
    page = new_context(java_script_enabled=False, user_agent=FIREFOX)

    page.goto(click_path(delivery))

    assert page.url == f"{live_server.url}/preferences/link/"
    [click] = Engagement.objects.all()
    assert (click.delivery_id, click.machine) == (delivery.pk, False)

    page.goto(manage_path(delivery.contact))
    page.get_by_label("Don't track my opens and clicks").check()
    screenshot(page, "visitor-tracking-refused")
    page.get_by_role("button", name="Save my preferences").click()
    expect(page.get_by_text("Your preferences are saved.")).to_be_visible()

    page.goto(click_path(delivery))

    assert page.url == f"{live_server.url}/preferences/link/"
    assert Engagement.objects.count() == 1
    delivery.contact.refresh_from_db()
    assert delivery.contact.refuses_tracking is True


def test_headless_chromium_clicks_as_a_machine(new_context, live_server):
    allow()
    delivery = sent_delivery(url=f"{live_server.url}/preferences/link/")

    new_context().goto(click_path(delivery))

    assert Engagement.objects.get().machine is True
