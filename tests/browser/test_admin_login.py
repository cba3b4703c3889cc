import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_superuser_logs_in_and_finds_the_preference_center(page, admin_user, screenshot):
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))

    page.get_by_label(re.compile("username", re.IGNORECASE)).fill(admin_user.username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name=re.compile("sign in", re.IGNORECASE)).click()

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("main")).to_be_visible()
    menu_item = page.locator("#wagtail-sidebar").get_by_role("button", name="Preference center")
    expect(menu_item).to_be_visible()
    screenshot(page, "admin-dashboard")

    menu_item.click()
    expect(menu_item).to_have_attribute("aria-expanded", "true")
    submenu = page.locator("#wagtail-sidebar").get_by_role("heading", name="Preference center")
    expect(submenu).to_be_visible()
    screenshot(page, "admin-preference-center-menu")
