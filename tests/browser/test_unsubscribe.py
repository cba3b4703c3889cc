"""Unsubscribing in Chromium: the page names the address, the leaving question comes after,
and a used link says so; the admin's Overview then counts the answer."""

import pytest
from playwright.sync_api import expect

from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory
from tests.link_fixtures import unsubscribe_url
from wagtail_preferences.models import ContactStatus, UnsubscribeReason

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_unsubscribing_then_saying_why_without_javascript(new_context, admin_page, screenshot):
    CategoryFactory(name="Promotions")
    contact = ContactFactory(
        email="ann@example.com", confirmed=True, preferences=[PreferenceFactory(name="Products")]
    )
    path = unsubscribe_url(contact)
    page = new_context(java_script_enabled=False)

    page.goto(path)
    expect(page.get_by_text("For ann@example.com.")).to_be_visible()
    expect(page.get_by_role("button", name="Save my preferences")).to_be_visible()
    page.get_by_role("button", name="Unsubscribe from everything").click()

    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    contact.refresh_from_db()
    assert contact.status == ContactStatus.UNSUBSCRIBED
    page.get_by_label("I receive too many messages").check()
    page.get_by_label("Anything else you would like to tell us?").fill("Weekly would do.")
    screenshot(page, "visitor-7-leaving-question")
    page.get_by_role("button", name="Send my answer").click()

    expect(page.get_by_role("heading", name="You are already unsubscribed")).to_be_visible()
    expect(page.get_by_text("Thank you for your answer.")).to_be_visible()
    answer = UnsubscribeReason.objects.get()
    assert (answer.contact, answer.reason, answer.comment) == (
        contact,
        "too_many",
        "Weekly would do.",
    )

    admin_page.goto("/admin/preference-center/")
    row = admin_page.get_by_role("row", name="I receive too many messages")
    expect(row.get_by_role("cell")).to_have_text("1")
    expect(admin_page.get_by_text("Weekly would do.")).to_have_count(0)
