"""Who reaches the preference center in the admin, and what read-only roles may see."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.admin.admin_helpers import CONTACTS, contact_form_data
from tests.factories import ContactFactory, PreferenceFactory, UserFactory
from wagtail_preferences import services
from wagtail_preferences.models import ChangePath, ConsentEvent

pytestmark = pytest.mark.django_db


class TestMenuAndPermissions:
    def test_superuser_sees_the_preference_center_menu(self, admin_client):
        html = admin_client.get(reverse("wagtailadmin_home")).content.decode()
        assert "Preference center" in html
        for label in ("Overview", "Contacts", "Preferences", "Categories", "Consent log"):
            assert label in html

    def test_admin_without_contact_permissions_does_not_see_it(self, client):
        user = UserFactory(staff=True, permissions=["wagtailadmin.access_admin"])
        client.force_login(user)
        html = client.get(reverse("wagtailadmin_home")).content.decode()
        assert "Preference center" not in html
        for name in (
            "preference_center:index",
            f"{CONTACTS}:index",
            "preference_center_consent:index",
        ):
            response = client.get(reverse(name))
            home = reverse("wagtailadmin_home")
            assert (response.status_code, response["Location"]) == (302, home), name

    def test_view_permission_opens_the_list_but_not_the_edit_form(self, client):
        contact = ContactFactory()
        user = UserFactory(
            staff=True,
            permissions=["wagtailadmin.access_admin", "wagtail_preferences.view_contact"],
        )
        client.force_login(user)
        assert client.get(reverse(f"{CONTACTS}:index")).status_code == 200
        assert client.get(reverse("preference_center:index")).status_code == 200
        response = client.post(
            reverse(f"{CONTACTS}:edit", args=[contact.pk]),
            contact_form_data(contact, first_name="Changed"),
        )
        assert (response.status_code, response["Location"]) == (302, reverse("wagtailadmin_home"))
        contact.refresh_from_db()
        assert contact.first_name != "Changed"
        assert not ConsentEvent.objects.exists()

    def test_custom_permissions_exist(self):
        codenames = set(
            Permission.objects.filter(content_type__app_label="wagtail_preferences").values_list(
                "codename", flat=True
            )
        )
        assert {"export_contact", "import_contact", "view_consentevent"} <= codenames
        assert "change_consentevent" not in codenames


class TestReadOnlyRoles:
    def test_view_permissions_are_offered_in_the_group_editor(self, admin_client):
        html = admin_client.get(reverse("wagtailusers_groups:add")).content.decode()
        for codename in ("view_contact", "view_consentevent", "export_contact", "import_contact"):
            permission = Permission.objects.get(codename=codename)
            assert f'value="{permission.pk}"' in html, codename

    def test_a_viewer_sees_a_contact_without_editing_it(self, client):
        contact = ContactFactory(first_name="Ann")
        user = UserFactory(
            staff=True,
            permissions=["wagtailadmin.access_admin", "wagtail_preferences.view_contact"],
        )
        client.force_login(user)
        listing = client.get(reverse(f"{CONTACTS}:index")).content.decode()
        inspect_url = reverse(f"{CONTACTS}:inspect", args=[contact.pk])
        assert inspect_url in listing
        assert reverse(f"{CONTACTS}:edit", args=[contact.pk]) not in listing
        assert "Ann" in client.get(inspect_url).content.decode()

    def test_history_links_to_the_consent_log_only_for_who_may_read_it(self, client, settings):
        settings.WAGTAIL_PREFERENCES = {"HISTORY_PANEL_LIMIT": 1}
        contact = ContactFactory()
        origin = services.Origin(path=ChangePath.ADMIN)
        services.add_preferences(contact, PreferenceFactory.create_batch(2), origin)
        editor = UserFactory(
            staff=True,
            permissions=["wagtailadmin.access_admin", "wagtail_preferences.change_contact"],
        )
        client.force_login(editor)
        edit_url = reverse(f"{CONTACTS}:edit", args=[contact.pk])
        log_url = reverse("preference_center_consent:index")
        assert log_url not in client.get(edit_url).content.decode()
        editor.user_permissions.add(Permission.objects.get(codename="view_consentevent"))
        client.force_login(editor)
        assert f"{log_url}?contact={contact.pk}" in client.get(edit_url).content.decode()

    @pytest.mark.parametrize("name", [f"{CONTACTS}:index", "preference_center_consent:index"])
    def test_the_generic_spreadsheet_export_is_off(self, admin_client, name):
        ContactFactory()
        response = admin_client.get(reverse(name), {"export": "csv"})
        assert response["Content-Type"].startswith("text/html")

    def test_contact_deletion_warns_that_the_history_goes_too(self, admin_client):
        contact = ContactFactory()
        html = admin_client.get(reverse(f"{CONTACTS}:delete", args=[contact.pk])).content.decode()
        assert "whole consent history" in html
