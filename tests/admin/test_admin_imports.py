"""The Preference center's import screens, from upload to summary."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import ContactFactory, PreferenceFactory, UserFactory
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    Contact,
    ImportRun,
    ImportStatus,
)

pytestmark = pytest.mark.django_db

IMPORTS = "preference_center_imports"
FILE = (
    "email;first_name;preferences;club\n"
    "ann@example.com;Ann;Products;Ghent\n"
    'bob@example.com;Bob;"Products, Trainings";Bruges\n'
)


@pytest.fixture
def preferences():
    return PreferenceFactory(name="Products"), PreferenceFactory(name="Trainings")


@pytest.fixture
def importer(client):
    user = UserFactory(
        staff=True,
        permissions=["wagtailadmin.access_admin", "wagtail_preferences.import_contact"],
    )
    client.force_login(user)
    return user


def upload(client, content: str = FILE, name="contacts.csv", **options):
    file = SimpleUploadedFile(name, content.encode(), content_type="text/csv")
    return client.post(reverse(f"{IMPORTS}:upload"), {"file": file, "mode": "add", **options})


def map_columns(client, run, **targets):
    data = {
        f"column_{i}": targets.get(name, run.mapping.get(name, ""))
        for i, name in enumerate(run.columns)
    }
    return client.post(reverse(f"{IMPORTS}:mapping", args=[run.pk]), data)


class TestTheWholeFlow:
    def test_upload_map_check_confirm_and_summary(self, client, importer, preferences):
        response = upload(client)
        run = ImportRun.objects.get()
        assert response.url == reverse(f"{IMPORTS}:mapping", args=[run.pk])
        assert run.columns == ["email", "first_name", "preferences", "club"]
        assert run.mapping["club"] == ""

        page = client.get(response.url).content.decode()
        assert "Ghent" in page  # sample values help choose

        response = map_columns(client, run, club="data:club")
        assert response.url == reverse(f"{IMPORTS}:detail", args=[run.pk])
        run.refresh_from_db()
        assert run.status == ImportStatus.CHECKED
        assert (run.new_rows, run.failed_rows) == (2, 0)
        assert not Contact.objects.exists()

        page = client.get(response.url).content.decode()
        assert "What an import would do" in page
        assert "ann@example.com" in page  # the preview
        assert "I confirm that the site may contact these people" in page

        client.post(response.url, {"legal_basis": "consent", "permission_confirmed": "on"})
        run.refresh_from_db()
        assert run.status == ImportStatus.DONE
        assert run.permission_confirmed and run.legal_basis == "consent"
        bob = Contact.objects.get(email="bob@example.com")
        assert bob.data == {"club": "Bruges"}
        assert set(bob.preferences.values_list("name", flat=True)) == {"Products", "Trainings"}
        event = ConsentEvent.objects.filter(contact=bob).first()
        assert (event.path, event.actor) == (ChangePath.IMPORT, importer)
        assert event.reference == run.reference

        listing = client.get(reverse(f"{IMPORTS}:index")).content.decode()
        assert "contacts.csv" in listing and importer.get_username() in listing

    def test_the_import_needs_the_confirmation(self, client, importer, preferences):
        upload(client)
        run = ImportRun.objects.get()
        map_columns(client, run)
        response = client.post(
            reverse(f"{IMPORTS}:detail", args=[run.pk]), {"legal_basis": "consent"}
        )
        assert response.status_code == 200
        assert "This field is required" in response.content.decode()
        run.refresh_from_db()
        assert run.status == ImportStatus.CHECKED
        assert not Contact.objects.exists()

    def test_errors_are_listed_and_block_the_import(self, client, importer, preferences):
        upload(client, "email,preferences\nann@example.com,Prodcts\nnot-an-email,\n")
        run = ImportRun.objects.get()
        map_columns(client, run)
        page = client.get(reverse(f"{IMPORTS}:detail", args=[run.pk])).content.decode()
        assert "Did you mean “Products”?" in page
        assert "is not a valid email address" in page
        assert "Confirm the import" not in page
        report = client.get(reverse(f"{IMPORTS}:errors", args=[run.pk]))
        text = b"".join(report.streaming_content).decode("utf-8-sig")
        assert "Prodcts" in text and "not-an-email" in text
        assert not Contact.objects.exists()


class TestUploadErrors:
    def test_a_file_without_an_email_column_is_refused_at_mapping(self, client, importer):
        upload(client, "name,phone\nAnn,123\n")
        run = ImportRun.objects.get()
        response = map_columns(client, run)
        assert "No column is mapped to email" in response.content.decode()

    def test_an_empty_file_is_refused(self, client, importer):
        response = upload(client, "")
        assert response.status_code == 200
        assert not ImportRun.objects.exists()

    def test_a_file_over_the_limit_is_refused(self, client, importer, settings):
        settings.WAGTAIL_PREFERENCES = {"IMPORT_MAX_UPLOAD_SIZE": 20}
        response = upload(client)
        assert "files up to 20" in response.content.decode()
        assert not ImportRun.objects.exists()


class TestPermissions:
    def test_every_screen_needs_the_import_permission(self, client):
        """Even someone who may change contacts cannot import them."""
        run = ImportRun.objects.create(file_name="x.csv", columns=["email"])
        client.force_login(
            UserFactory(
                staff=True,
                permissions=["wagtailadmin.access_admin", "wagtail_preferences.change_contact"],
            )
        )
        for name, args in (
            ("index", []),
            ("upload", []),
            ("detail", [run.pk]),
            ("mapping", [run.pk]),
            ("errors", [run.pk]),
        ):
            response = client.get(reverse(f"{IMPORTS}:{name}", args=args))
            # Wagtail's admin answers a PermissionDenied with a redirect to its home page.
            assert (response.status_code, response.url) == (302, reverse("wagtailadmin_home"))

    def test_the_menu_shows_import_only_to_importers(self, client, importer):
        ContactFactory()
        html = client.get(reverse("wagtailadmin_home")).content.decode()
        assert reverse(f"{IMPORTS}:index") in html


class TestRunSafety:
    def test_a_second_confirmation_does_not_start_the_run_again(
        self, client, importer, preferences
    ):
        upload(client)
        run = ImportRun.objects.get()
        map_columns(client, run)
        detail = reverse(f"{IMPORTS}:detail", args=[run.pk])
        client.post(detail, {"legal_basis": "consent", "permission_confirmed": "on"})
        events = ConsentEvent.objects.count()
        client.post(detail, {"legal_basis": "consent", "permission_confirmed": "on"})
        assert ConsentEvent.objects.count() == events

    def test_deleting_a_run_deletes_its_file(
        self, client, importer, preferences, django_capture_on_commit_callbacks
    ):
        upload(client)
        run = ImportRun.objects.get()
        storage, name = run.file.storage, run.file.name
        assert storage.exists(name)
        with django_capture_on_commit_callbacks(execute=True):
            run.delete()
        assert not storage.exists(name)


class TestMappingPage:
    def test_each_column_has_a_select_with_its_target_chosen(self, client, importer):
        upload(client, 'email,First name,"<b>Club</b>"\nann@example.com,Ann,Ghent\n')
        run = ImportRun.objects.get()

        page = client.get(reverse(f"{IMPORTS}:mapping", args=[run.pk])).content.decode()

        assert '<select name="column_0"' in page and 'id="id_column_0"' in page
        assert '<option value="email" selected>Email</option>' in page
        assert '<option value="first_name" selected>First name</option>' in page
        assert '<option value="" selected>Leave out</option>' in page  # the unknown column
        assert "<b>Club</b>" not in page and "&lt;b&gt;Club&lt;/b&gt;" in page
        assert '<option value="data:bclubb">' in page

    def test_a_thousand_columns_map(self, client, importer, settings):
        header = ["email", *(f"column {n}" for n in range(999))]
        upload(client, ",".join(header) + "\n" + "ann@example.com" + ",x" * 999 + "\n")
        run = ImportRun.objects.get()

        response = client.get(reverse(f"{IMPORTS}:mapping", args=[run.pk]))

        assert response.status_code == 200
        assert response.content.decode().count("<select ") == 1000
