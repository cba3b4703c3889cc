"""Import files hold personal data: kept privately, served only to importers, then deleted."""

import os
from datetime import timedelta
from email.message import Message

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.import_helpers import csv_text, make_run
from wagtail_preferences.checks import check_import_storage
from wagtail_preferences.models import ImportRun, ImportStatus
from wagtail_preferences.models.storage import (
    STORAGE_ALIAS,
    PrivateFileSystemStorage,
    import_storage,
)
from wagtail_preferences.transfers.imports.files import purge_files, release_file

pytestmark = pytest.mark.django_db

IMPORTS = "preference_center_imports"
CONTENT = csv_text("email,first_name", "ann@example.com,Ann")
HOSTILE_NAME = "a\";filename*=UTF-8''report.html;x=\".csv"


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    """Import files go to a folder of the test's own, next to (not in) its media folder."""
    root = tmp_path / "private"
    settings.WAGTAIL_PREFERENCES = {"IMPORT_FILE_ROOT": str(root)}
    return root


@pytest.fixture
def importer(client):
    client.force_login(
        UserFactory(
            staff=True,
            permissions=["wagtailadmin.access_admin", "wagtail_preferences.import_contact"],
        )
    )
    return client


def upload(client, name="contacts.csv", content=CONTENT):
    file = SimpleUploadedFile(name, content.encode(), content_type="text/csv")
    client.post(reverse(f"{IMPORTS}:upload"), {"file": file, "mode": "add"})
    return ImportRun.objects.get()


class TestPrivateStorage:
    def test_an_uploaded_file_is_outside_the_media_folder_and_has_no_url(
        self, importer, client, settings, private_root
    ):
        run = upload(importer)

        path = run.file.path
        assert path.startswith(str(private_root))
        assert not path.startswith(os.path.realpath(settings.MEDIA_ROOT))
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
        with pytest.raises(ValueError, match="not accessible via a URL"):
            run.file.url  # noqa: B018
        client.logout()
        assert client.get(settings.MEDIA_URL + run.file.name).status_code == 404
        assert not os.path.exists(os.path.join(settings.MEDIA_ROOT, run.file.name))

    def test_served_media_do_not_hold_import_files(self, importer, client, settings):
        settings.ROOT_URLCONF = "tests.urls_serving_media"
        os.makedirs(settings.MEDIA_ROOT, exist_ok=True)
        with open(os.path.join(settings.MEDIA_ROOT, "logo.txt"), "w") as file:
            file.write("public")
        run = upload(importer)
        client.logout()

        assert client.get(settings.MEDIA_URL + "logo.txt").status_code == 200  # media are served
        assert client.get(settings.MEDIA_URL + run.file.name).status_code == 404

    def test_a_site_storage_of_the_alias_is_used(self, settings, tmp_path):
        settings.STORAGES = {
            **settings.STORAGES,
            STORAGE_ALIAS: {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(tmp_path / "elsewhere"), "base_url": None},
            },
        }
        run = make_run(CONTENT)
        assert run.file.path.startswith(str(tmp_path / "elsewhere"))
        assert not isinstance(import_storage._wrapped, PrivateFileSystemStorage)

    def test_an_importer_downloads_the_file_and_nobody_else(self, importer, client):
        run = make_run(CONTENT, name=HOSTILE_NAME)  # as the command line names a run
        url = reverse(f"{IMPORTS}:file", args=[run.pk])

        response = importer.get(url)

        assert response.status_code == 200
        assert b"".join(response.streaming_content) == CONTENT.encode()
        assert attachment_name(response["Content-Disposition"]) == HOSTILE_NAME
        client.logout()
        assert client.get(url).status_code == 302  # to the login page
        client.force_login(UserFactory(staff=True, permissions=["wagtailadmin.access_admin"]))
        assert client.get(url).url == reverse("wagtailadmin_home")


def attachment_name(disposition: str) -> str:
    """The one file name of a Content-Disposition header, as a mail or HTTP parser reads it."""
    header = Message()
    header["Content-Disposition"] = disposition
    params = header.get_params(header="content-disposition")
    assert [name for name, _ in params] == ["attachment", "filename"]  # no "filename*" or "x"
    return header.get_filename()


class TestErrorReportName:
    def test_a_hostile_file_name_cannot_rename_the_report(self, importer):
        run = make_run(csv_text("email", "nope"), name=HOSTILE_NAME)
        importer.post(reverse(f"{IMPORTS}:mapping", args=[run.pk]), {"column_0": "email"})

        response = importer.get(reverse(f"{IMPORTS}:errors", args=[run.pk]))

        assert response.status_code == 200
        name = attachment_name(response["Content-Disposition"])
        assert name == HOSTILE_NAME.removesuffix(".csv") + "-errors.csv"


class TestDeletion:
    def test_the_file_is_deleted_when_the_import_ends(self, importer):
        run = upload(importer)
        path = run.file.path
        importer.post(reverse(f"{IMPORTS}:mapping", args=[run.pk]), {"column_0": "email"})
        assert os.path.exists(path)  # checked: the import still needs it
        detail = reverse(f"{IMPORTS}:detail", args=[run.pk])

        importer.post(detail, {"legal_basis": "consent", "permission_confirmed": "on"})

        run.refresh_from_db()
        assert run.status == ImportStatus.DONE
        assert not run.file and not os.path.exists(path)
        page = importer.get(detail).content.decode()
        assert reverse(f"{IMPORTS}:file", args=[run.pk]) not in page
        assert importer.get(reverse(f"{IMPORTS}:file", args=[run.pk])).status_code == 404
        assert importer.get(reverse(f"{IMPORTS}:errors", args=[run.pk])).status_code == 404

    def test_a_failed_check_deletes_the_file_and_its_page_says_so(self, importer):
        run = upload(importer)
        path = run.file.path
        # The file changes under the run: its check fails.
        with open(path, "w") as file:
            file.write("other,header\n")
        importer.post(reverse(f"{IMPORTS}:mapping", args=[run.pk]), {"column_0": "email"})

        run.refresh_from_db()
        assert run.status == ImportStatus.FAILED
        assert not run.file and not os.path.exists(path)
        assert importer.get(reverse(f"{IMPORTS}:mapping", args=[run.pk])).status_code == 200

    def test_retention_keeps_the_file_until_the_purge(self, settings, private_root):
        settings.WAGTAIL_PREFERENCES = {
            "IMPORT_FILE_ROOT": str(private_root),
            "IMPORT_FILE_RETENTION": timedelta(days=2),
        }
        run = make_run(CONTENT, status=ImportStatus.DONE)
        ImportRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
        release_file(run)
        assert run.file and os.path.exists(run.file.path)
        week = timedelta(days=7)

        assert purge_files(abandoned_after=week) == 0
        assert purge_files(abandoned_after=week, now=timezone.now() + timedelta(days=3)) == 1

        run.refresh_from_db()
        assert not run.file

    def test_the_purge_deletes_abandoned_uploads_but_not_running_ones(self):
        old = timezone.now() - timedelta(days=8)
        abandoned = make_run(CONTENT, status=ImportStatus.CHECKED)
        running = make_run(CONTENT, status=ImportStatus.IMPORTING)
        recent = make_run(CONTENT, status=ImportStatus.UPLOADED)
        ImportRun.objects.filter(pk__in=[abandoned.pk, running.pk]).update(created_at=old)

        assert purge_files(abandoned_after=timedelta(days=7)) == 1

        kept = {run.pk for run in ImportRun.objects.exclude(file="")}
        assert kept == {running.pk, recent.pk}
        assert not os.path.exists(abandoned.file.path)

    def test_the_purge_command(self, capsys):
        from django.core.management import call_command

        run = make_run(CONTENT, status=ImportStatus.FAILED)
        ImportRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())

        call_command("preferences_purge_import_files")

        assert "Deleted 1 import file." in capsys.readouterr().out
        assert not ImportRun.objects.get().file


class TestStorageCheck:
    def test_no_warning_for_a_folder_outside_media_and_static(self):
        assert check_import_storage() == []

    @pytest.mark.parametrize("name", ["MEDIA_ROOT", "STATIC_ROOT"])
    def test_a_folder_inside_media_or_static_is_warned_about(self, settings, tmp_path, name):
        served = tmp_path / "served"
        setattr(settings, name, str(served))
        with override_settings(WAGTAIL_PREFERENCES={"IMPORT_FILE_ROOT": str(served / "imports")}):
            (warning,) = check_import_storage()
        assert warning.id == "wagtail_preferences.W003"
        assert name in warning.msg

    def test_a_served_storage_alias_is_warned_about(self, settings):
        settings.WAGTAIL_PREFERENCES = {"IMPORT_STORAGE": "default"}
        (warning,) = check_import_storage()
        assert "MEDIA_ROOT" in warning.msg

    def test_a_storage_not_on_disk_is_left_to_its_own_policy(self, settings):
        settings.STORAGES = {
            **settings.STORAGES,
            STORAGE_ALIAS: {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        }
        assert check_import_storage() == []
