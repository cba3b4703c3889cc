"""An editor imports a file of contacts through the Preference center, in Chromium."""

import pytest
from playwright.sync_api import expect

from tests.factories import PreferenceFactory
from wagtail_preferences.models import ChangePath, ConsentEvent, Contact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE = (
    "email;First name;preferences;Club\n"
    "ann@example.com;Ann;Products;Ghent\n"
    'bob@example.com;Bob;"Products, Trainings";Bruges\n'
    "carl@example.com;Carl;Prodcts;\n"
)


def test_upload_map_check_fix_and_import(admin_page, screenshot, tmp_path):
    PreferenceFactory(name="Products")
    PreferenceFactory(name="Trainings")
    path = tmp_path / "contacts.csv"
    path.write_text(FILE, encoding="cp1252")
    page = admin_page
    page.goto("/admin/preference-center/imports/")
    page.get_by_role("link", name="Upload a file").click()
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_label("Import the valid rows, skip the rest").check()
    screenshot(page, "admin-import-upload")
    page.get_by_role("button", name="Upload and map columns").click()

    expect(page.get_by_label("First name")).to_have_value("first_name")
    page.get_by_label("Club").select_option("data:club")
    screenshot(page, "admin-import-columns")
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", name="What an import would do")).to_be_visible()
    expect(page.get_by_text("Did you mean “Products”?").first).to_be_visible()
    assert not Contact.objects.exists()
    page.get_by_label("Consent").check()
    page.get_by_label("I confirm that the site may contact these people").check()
    screenshot(page, "admin-import-checked")
    page.get_by_role("button", name="Import", exact=True).click()

    expect(page.get_by_role("heading", name="What the import did")).to_be_visible()
    screenshot(page, "admin-import-done")
    assert set(Contact.objects.values_list("email", flat=True)) == {
        "ann@example.com",
        "bob@example.com",
    }
    assert Contact.objects.get(email="bob@example.com").data == {"club": "Bruges"}
    assert ConsentEvent.objects.filter(path=ChangePath.IMPORT).count() == 5
