"""An editor works through the Preference center in Chromium: what a person sees and does."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory
from wagtail_preferences import services
from wagtail_preferences.audience import compiler
from wagtail_preferences.models import ConsentEvent, Contact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_finds_holders_and_edits_a_contact(admin_page, admin_user, screenshot):
    products = PreferenceFactory(name="Products")
    trainings = PreferenceFactory(name="Trainings")
    promotions = CategoryFactory(name="Promotions")
    ann = ContactFactory(email="ann@example.com", first_name="Ann", preferences=[products])
    ContactFactory(email="bob@example.com", preferences=[trainings])
    page = admin_page

    page.goto("/admin/preference-center/preferences/")
    products_row = page.get_by_role("row").filter(has_text="Products")
    products_row.get_by_role("link", name="1 contact").click()
    expect(page.get_by_text("Holds preference: Products")).to_be_visible()
    expect(page.get_by_role("link", name="ann@example.com")).to_be_visible()
    expect(page.get_by_role("link", name="bob@example.com")).to_have_count(0)
    screenshot(page, "admin-contacts-holding-a-preference")

    page.get_by_role("link", name="ann@example.com").click()
    page.get_by_role("tab", name="Preferences and categories").click()
    page.get_by_label("Trainings").check()
    page.get_by_label("Products").uncheck()
    page.get_by_label("Promotions").check()
    page.get_by_role("tab", name="Channels").click()
    page.get_by_label("SMS enabled").uncheck()
    page.get_by_label("Email: number of messages").fill("2")
    page.get_by_label("Email: per period").select_option("week")
    page.get_by_label("Email: pause from").fill("2026-12-01")
    page.get_by_label("Email: pause to").fill("2026-12-31")
    page.get_by_label("Email is the preferred channel").check()
    screenshot(page, "admin-contact-channels")
    page.get_by_role("button", name="Save").first.click()
    expect(page.get_by_text("updated")).to_be_visible()

    ann = Contact.objects.get(pk=ann.pk)
    assert list(ann.preferences.all()) == [trainings]
    assert Contact.objects.filter(compiler.opted_out_of(promotions)).get() == ann
    email = services.channel_settings(ann)["email"]
    assert (email.frequency_count, email.frequency_period, email.is_preferred) == (2, "week", True)
    assert (email.pause_from, email.pause_to) == (
        datetime.date(2026, 12, 1),
        datetime.date(2026, 12, 31),
    )
    assert not services.channel_settings(ann)["sms"].enabled
    assert set(ConsentEvent.objects.filter(contact=ann).values_list("actor", flat=True)) == {
        admin_user.pk
    }

    page.goto(f"/admin/preference-center/contacts/edit/{ann.pk}/")
    page.get_by_role("tab", name="History").click()
    history = page.get_by_role("tabpanel", name="History")
    expect(history.get_by_text("Opted out of category “Promotions”")).to_be_visible()
    expect(history.get_by_text("SMS disabled (do not contact)")).to_be_visible()
    expect(history.get_by_text(re.compile(admin_user.username)).first).to_be_visible()
    screenshot(page, "admin-contact-history")
