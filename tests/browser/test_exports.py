"""An editor exports contacts from the Preference center in Chromium: the files they get."""

import csv
import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.factories import ContactFactory, PreferenceFactory
from wagtail_preferences.models import ContactExport

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def downloaded(page, click) -> tuple[str, bytes]:
    with page.expect_download() as info:
        click()
    download = info.value
    with open(download.path(), "rb") as file:
        return download.suggested_filename, file.read()


def test_an_editor_exports_the_filtered_list_and_a_preferences_holders(
    admin_page, screenshot, settings
):
    products = PreferenceFactory(name="Products")
    ContactFactory(email="ann@example.com", first_name="=Ann", preferences=[products])
    ContactFactory(email="bob@example.com", confirmed=True, preferences=[products])
    ContactFactory(email="cy@example.com")
    page = admin_page

    page.goto(f"/admin/preference-center/contacts/?preference={products.pk}")
    page.get_by_role("button", name="Actions").click()
    screenshot(page, "admin-contacts-export-menu")
    name, content = downloaded(page, page.get_by_role("link", name="Export CSV").click)
    assert name.startswith("contacts-holds-preference-products-") and name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [row["email"] for row in rows] == ["ann@example.com", "bob@example.com"]
    assert rows[0]["first_name"] == "'=Ann"  # neutralised: no formula in a spreadsheet

    page.goto("/admin/preference-center/preferences/")
    row = page.get_by_role("row").filter(has_text="Products")
    row.get_by_role("button", name="More options for 'Products'").click()
    name, content = downloaded(page, row.get_by_role("link", name="Export holders as XLSX").click)
    assert name.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(content)).active
    assert [r[0] for r in sheet.iter_rows(values_only=True)][1:] == [
        "ann@example.com",
        "bob@example.com",
    ]
    assert ContactExport.objects.count() == 2

    settings.WAGTAIL_PREFERENCES = {"EXPORT_XLSX_MAX_ROWS": 1}
    page.goto(f"/admin/preference-center/contacts/?preference={products.pk}")
    page.get_by_role("button", name="Actions").click()
    page.get_by_role("link", name="Export XLSX").click()
    expect(page.get_by_text("more than an XLSX export holds")).to_be_visible()
    screenshot(page, "admin-contacts-export-xlsx-refused")
    name, _content = downloaded(page, page.get_by_role("link", name="Export CSV").first.click)
    assert name.endswith(".csv")
