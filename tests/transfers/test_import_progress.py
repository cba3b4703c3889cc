"""The import engine: progress told per batch, and runs that fail."""

import pytest

from tests.factories import ContactFactory
from tests.import_helpers import csv_text, make_run
from tests.transfers.test_import_files import xlsx
from wagtail_preferences import services
from wagtail_preferences.exceptions import InvalidFile
from wagtail_preferences.models import Contact, ImportRun, ImportStatus
from wagtail_preferences.transfers.imports.rows import Row
from wagtail_preferences.transfers.imports.runner import ImportRunner

pytestmark = pytest.mark.django_db


def test_progress_is_told_and_stored_after_each_batch(batch_size):
    batch_size(2)
    run = make_run(csv_text("email", *(f"c{n}@example.com" for n in range(5))))
    told = []

    def progress(done, total):
        stored = ImportRun.objects.get(pk=run.pk)
        told.append((done, total, stored.processed_rows, stored.status))

    ImportRunner(run, progress=progress).apply()

    reading = [(2, 5, 2, "importing"), (4, 5, 4, "importing"), (5, 5, 5, "importing")]
    # The file is read once, batch by batch; then the new contacts are created at once.
    assert told == [*reading, (5, 5, 5, "importing")]
    run.refresh_from_db()
    assert (run.processed_rows, run.total_rows, run.status) == (5, 5, ImportStatus.DONE)
    assert run.started_at <= run.finished_at


def test_an_xlsx_run_has_no_total_until_read(batch_size):
    batch_size(1)
    run = make_run(xlsx(["email"], ["a@example.com"], ["b@example.com"]), name="c.xlsx")
    told = []

    ImportRunner(run, progress=lambda done, total: told.append((done, total))).check()

    assert told == [(1, None), (2, None)]
    run.refresh_from_db()
    assert run.total_rows == 2


def test_a_file_whose_header_changed_since_the_upload_fails():
    run = make_run(csv_text("email,first_name", "a@example.com,A"))
    ImportRun.objects.filter(pk=run.pk).update(columns=["email", "name"])
    run.refresh_from_db()

    ImportRunner(run).check()

    assert run.status == ImportStatus.FAILED
    assert "header is not the one read at upload" in run.message


def test_a_run_without_confirmation_is_not_applied():
    run = make_run(csv_text("email", "a@example.com"), permission_confirmed=False)

    with pytest.raises(InvalidFile, match="Confirm that the site may contact these people"):
        ImportRunner(run).apply()

    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            RuntimeError("the database went away"),
            "The run stopped on an unexpected error (RuntimeError: the database went away).",
        ),
        (KeyboardInterrupt(), "The run was interrupted."),
    ],
)
def test_an_unexpected_error_fails_the_run_and_is_raised(monkeypatch, error, message):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(services, "create_staged_contacts", broken)
    run = make_run(csv_text("email", "a@example.com"))

    with pytest.raises(type(error)):
        ImportRunner(run).apply()

    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED and run.finished_at
    assert run.message == message


def test_a_file_unreadable_part_way_imports_nothing(batch_size):
    # The first 64 KiB are ASCII, so the file is read as UTF-8, up to the byte that is not.
    batch_size(4000)
    data = csv_text("email", *(f"c{n}@example.com" for n in range(6000))).encode()
    run = make_run(data + b"bad@example.com\xe9\r\n" + b"e@example.com\r\n" * 10, skip_invalid=True)

    ImportRunner(run).apply()

    assert run.status == ImportStatus.FAILED
    assert run.message == (
        "Line 6002 is not valid UTF-8 (byte 0xE9). Save the file as UTF-8 CSV and upload it again."
    )
    assert not Contact.objects.exists()


def test_the_preview_shows_what_each_first_row_would_do(products):
    ContactFactory(email="old@example.com")
    run = make_run(
        csv_text("email,preferences", "new@example.com,Products", ",", "old@example.com,Nope")
    )

    preview = ImportRunner(run).preview(5)

    assert [(row["line"], row["outcome"]) for row in preview] == [
        (2, "new"),
        (3, "skipped"),
        (4, "failed"),
    ]


def test_a_batch_may_hold_more_addresses_than_a_query_takes_parameters(products):
    # SQLite builds take 999 or 32,766 parameters a query, PostgreSQL with server-side
    # binding 65,535: contacts are looked up in chunks.
    known = ContactFactory(email="c69999@example.com", preferences=[products])
    run = make_run(csv_text("email,preferences", "a@example.com,Products"))
    rows = [Row(line=n + 2, email=f"c{n}@example.com") for n in range(70_000)]

    current = ImportRunner(run)._current(rows)

    assert list(current) == [known.email]
    assert current[known.email].preferences == {products.pk}
