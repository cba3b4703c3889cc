"""``manage.py preferences_import``: the import engine from the command line, end to end."""

import csv
import io
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, ManagementUtility, call_command

from tests.factories import ContactFactory
from tests.import_helpers import csv_text
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    Contact,
    ImportRun,
    ImportStatus,
    Preference,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def write(tmp_path):
    """Write a file into the test's folder; returns its path as text."""

    def write_file(content, name="contacts.csv") -> str:
        path = tmp_path / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8", newline="")
        else:
            path.write_bytes(content)
        return str(path)

    return write_file


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("preferences_import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failing(*args):
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as error:
        call_command("preferences_import", *args, stdout=out, stderr=err)
    return str(error.value), out.getvalue(), err.getvalue()


def test_imports_a_file_and_says_what_it_did(write, products):
    ContactFactory(email="old@example.com", first_name="Old")
    path = write(
        csv_text(
            "email,first_name,preferences",
            "new@example.com,New,Products",
            "old@example.com,Changed,",
            "old2@example.com,,",
        )
    )

    out, err = run(path)

    run_ = ImportRun.objects.get()
    assert f"Import run #{run_.pk}: contacts.csv, mode add, legal basis consent." in out
    assert "Imported 3 rows: 2 new, 1 updated, 0 unchanged, 0 skipped, 0 failed." in out
    assert err == ""
    assert run_.status == ImportStatus.DONE
    assert Contact.objects.get(email="new@example.com").preferences.get() == products
    assert Contact.objects.get(email="old@example.com").first_name == "Changed"


def test_running_the_command_is_the_confirmation(write):
    path = write(csv_text("email", "a@example.com"))

    run(path, "--legal-basis", "contract")

    run_ = ImportRun.objects.get()
    assert run_.permission_confirmed and run_.legal_basis == "contract"
    assert run_.created_by is None
    assert run_.created_by_label.startswith("the command line")
    event = ConsentEvent.objects.get()
    assert (event.path, event.reference) == (ChangePath.IMPORT, run_.reference)
    assert "legal basis “Contract”" in event.wording
    assert f"{run_.created_by_label} confirmed" in event.wording


def test_the_file_is_deleted_when_the_run_ends(write):
    content = csv_text("email,first_name", *(f"c{n}@example.com,Zoë {n}" for n in range(2000)))
    path = write(content, name="leads.csv")

    run(path)

    run_ = ImportRun.objects.get()
    assert (run_.file_name, run_.file_size) == ("leads.csv", len(content.encode()))
    assert run_.columns == ["email", "first_name"]
    assert run_.mapping == {"email": "email", "first_name": "first_name"}
    assert not run_.file
    assert Contact.objects.count() == 2000


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_retained_file_is_kept_in_the_private_storage(write, settings, tmp_path, dry_run):
    settings.WAGTAIL_PREFERENCES = {
        "IMPORT_FILE_RETENTION": timedelta(days=1),
        "IMPORT_FILE_ROOT": str(tmp_path / "private"),
    }
    content = csv_text("email", "ann@example.com")
    path = write(content, name="leads.csv")

    run(path, *(["--dry-run"] if dry_run else []))

    run_ = ImportRun.objects.get()
    with run_.file.open("rb") as stored:
        assert stored.read() == content.encode()
    assert "leads" in run_.file.name and "wagtail_preferences/transfers/imports/" in run_.file.name
    assert run_.file.path.startswith(str(tmp_path / "private"))


def test_dry_run_changes_nothing_and_counts(write, products):
    ContactFactory(email="old@example.com")
    path = write(
        csv_text("email,preferences", "new@example.com,Webinars", "old@example.com,Products")
    )

    out, _ = run(path, "--dry-run", "--create-missing-preferences")

    assert "Checked 2 rows, nothing changed: 1 new, 1 updated" in out
    assert "The import would create the preferences: Webinars." in out
    assert Contact.objects.count() == 1
    assert not Preference.objects.filter(name="Webinars").exists()
    assert not ConsentEvent.objects.exists()
    assert ImportRun.objects.get().status == ImportStatus.CHECKED


def test_dry_run_of_a_file_the_import_would_refuse_fails(write):
    path = write(csv_text("email", "a@example.com", "nope"))

    message, out, err = failing(path, "--dry-run")

    assert "1 row has errors: the import would stop on it. Fix the file" in message
    assert (
        "Checked 2 rows, nothing changed: 1 new, 0 updated, 0 unchanged, 0 skipped, 1 failed."
        in out
    )
    assert "Row 3 (email): “nope” is not a valid email address." in err
    assert not Contact.objects.exists()
    # With --skip-invalid, the same file passes.
    run(path, "--dry-run", "--skip-invalid")


def test_an_invalid_row_fails_the_import_and_changes_nothing(write):
    path = write(csv_text("email,first_name", "a@example.com,A", "nope,B"))

    message, out, err = failing(path)

    assert message.startswith("1 row has errors, so nothing was imported. Fix it in the file")
    assert (
        "Read 2 rows, nothing imported: 0 new, 0 updated, 0 unchanged, 0 skipped, 1 failed." in out
    )
    assert "Row 3 (email): “nope” is not a valid email address." in err
    assert "With --skip-invalid, the valid rows are imported and these skipped." in err
    assert not Contact.objects.exists()
    assert ImportRun.objects.get().status == ImportStatus.FAILED


def test_skip_invalid_imports_the_rest_and_succeeds(write):
    path = write(csv_text("email,first_name", "a@example.com,A", "nope,B"))

    out, err = run(path, "--skip-invalid")

    assert "Imported 2 rows: 1 new, 0 updated, 0 unchanged, 0 skipped, 1 failed." in out
    assert "Row 3 (email)" in err and "--skip-invalid" not in err
    assert list(Contact.objects.values_list("email", flat=True)) == ["a@example.com"]


def test_the_first_errors_are_shown_and_the_rest_counted(write):
    path = write(csv_text("email", *(f"bad{n}" for n in range(25))))

    _, _, err = failing(path)

    assert err.count("is not a valid email address") == 10
    assert "Row 11 (email): “bad9” is not a valid email address." in err
    assert "… and 15 more errors." in err and "--errors FILE" in err


def test_exit_status_is_not_zero_when_the_run_fails(write, capsys):
    path = write(csv_text("email", "nope"))
    utility = ManagementUtility(["manage.py", "preferences_import", path])

    with pytest.raises(SystemExit) as exit_info:
        utility.execute()

    assert exit_info.value.code != 0
    assert "CommandError: 1 row has errors" in capsys.readouterr().err


def test_mode_and_created_preferences(write):
    ContactFactory(email="old@example.com")
    path = write(csv_text("email,preferences", "old@example.com,Webinars", "new@example.com,"))

    out, _ = run(path, "--mode", "update_only", "--create-missing-preferences")

    assert "0 new, 1 updated, 0 unchanged, 1 skipped" in out
    assert "Preferences created: Webinars." in out
    assert not Contact.objects.filter(email="new@example.com").exists()


def test_map_points_columns_at_fields_custom_data_or_nothing(write):
    path = write(
        csv_text(
            "Correo,Nombre,Club,Notes,first_name",
            "ana@example.com,Ana,Ghent,call back,Ignored",
        )
    )

    run(
        path,
        "--map", "Correo=email",
        "--map", "Nombre = first_name",
        "--map", "first_name=",
        "--map", "Club=data:club",
    )  # fmt: skip

    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.data) == (
        "ana@example.com",
        "Ana",
        {"club": "Ghent"},
    )
    assert ImportRun.objects.get().mapping == {
        "Correo": "email",
        "Nombre": "first_name",
        "Club": "data:club",
        "Notes": "",
        "first_name": "",
    }


@pytest.mark.parametrize(
    ("maps", "message"),
    [
        (["Nope=email"], "The file has no column “Nope”; its columns are: Mail, Name."),
        (["Name"], "--map takes HEADER=TARGET, not “Name”."),
        (["Name=shoe_size"], "'shoe_size' is not a column of the import format."),
        (["Mail="], "No column is mapped to email"),
        (["Name=email"], "More than one column is mapped to email."),
    ],
)
def test_a_mapping_that_cannot_work_is_refused_before_storing_anything(write, maps, message):
    path = write(csv_text("Mail,Name", "a@example.com,A"))

    error, _, _ = failing(path, *[arg for given in maps for arg in ("--map", given)])

    assert message in error
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel 97-2003 workbook"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused(write, content, message):
    error, _, _ = failing(write(content))

    assert message in error
    assert not ImportRun.objects.exists()


def test_a_missing_file(tmp_path):
    error, _, _ = failing(str(tmp_path / "nothing.csv"))

    assert error.startswith("No such file:")


def test_the_errors_report_has_the_failing_rows_as_they_were(write, tmp_path):
    path = write(
        csv_text(
            "email;first_name;preferences",
            "a@example.com;Ann;",
            'nope;=HYPERLINK("http://x");',
            "b@example.com;Bob;Unknown",
            "a@example.com;Again;",
            "c@example.com;C;;extra",
        ).encode("cp1252")
    )
    report = tmp_path / "errors.csv"

    _, _, err = failing(path, "--errors", str(report))

    assert f"The failing rows and their errors are in {report}." in err
    text = report.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["email", "first_name", "preferences", "error"],
        ["nope", '\'=HYPERLINK("http://x")', "", "email: “nope” is not a valid email address."],
        ["b@example.com", "Bob", "Unknown", "preferences: There is no preference named “Unknown”."],
        [
            "a@example.com",
            "Again",
            "",
            "email: a@example.com is also on row 2: a contact may appear only once in a file.",
        ],
        [
            "c@example.com",
            "C",
            "",
            "This row has 4 cells but the header has 3 columns. A value holding the separator "
            "must be in double quotes.",
            "extra",
        ],
    ]


def test_the_errors_report_of_an_xlsx_file(write, tmp_path):
    from tests.transfers.test_import_files import xlsx

    path = write(xlsx(["Email", "Phone"], ["nope", 32470123456], ["ok@example.com", 1]), "c.xlsx")
    report = tmp_path / "errors.csv"

    failing(path, "--errors", str(report))

    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert rows == [
        ["Email", "Phone", "error"],
        ["nope", "32470123456", "Email: “nope” is not a valid email address."],
    ]


def test_no_report_is_written_without_errors(write, tmp_path):
    report = tmp_path / "errors.csv"

    run(write(csv_text("email", "a@example.com")), "--errors", str(report))

    assert not report.exists()


def test_a_progress_bar_when_asked(write, settings):
    settings.WAGTAIL_PREFERENCES = {"IMPORT_BATCH_SIZE": 2}
    path = write(csv_text("email", *(f"c{n}@example.com" for n in range(4))))

    _, err = run(path, "--progress")

    assert "\rChecking [###############---------------]  50% 2/4 rows" in err
    assert "\rChecking [##############################] 100% 4/4 rows\n" in err
    assert "\rImporting [##############################] 100% 4/4 rows\n" in err


def test_no_progress_bar_when_stderr_is_not_a_terminal(write):
    _, err = run(write(csv_text("email", "a@example.com")))

    assert err == ""
