"""The import engine's row errors: cells it cannot import, all or nothing, or the valid rows."""

import pytest

from tests.factories import ContactFactory, PreferenceFactory, SegmentFactory
from tests.import_helpers import csv_text, make_run
from tests.transfers.runner_helpers import counts, held, imported
from wagtail_preferences.models import (
    ConsentEvent,
    Contact,
    ImportMode,
    ImportRowError,
    ImportStatus,
    Preference,
)
from wagtail_preferences.transfers.imports.runner import ImportRunner

pytestmark = pytest.mark.django_db


def errors_of(run) -> list[tuple[int, str, str]]:
    return list(ImportRowError.objects.filter(run=run).values_list("row", "column", "message"))


# Row errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        ("Interests", "Prodcts", "no preference named “Prodcts”. Did you mean “Products”?"),
        ("Interests", "products", "no preference named “products”. Did you mean “Products”?"),
        ("Category", "Promotion", "no category named “Promotion”. Did you mean “Promotions”?"),
        ("Segment", "vip", "no segment named “vip”. Did you mean “VIP”?"),
        ("Segment", "Nothing like it", "no segment named “Nothing like it”."),
    ],
)
def test_an_unknown_name_is_an_error_naming_it_and_the_closest(
    column, cell, message, products, promotions
):
    SegmentFactory(name="VIP")
    header = "email,Interests,Category,Segment"
    cells = {"Interests": "", "Category": "", "Segment": "", column: cell}
    row = ",".join(["ann@example.com", *cells.values()])

    run = imported(csv_text(header, row))

    assert run.status == ImportStatus.FAILED
    assert errors_of(run) == [(2, column, f"There is {message}")]
    assert not Contact.objects.exists()


def test_every_unknown_name_of_a_cell_is_named(products):
    run = imported(csv_text("email,preferences", 'a@example.com,"Prodcts, Products, Evnts"'))

    ((_, _, message),) = errors_of(run)
    assert message == (
        "There is no preference named “Prodcts”. Did you mean “Products”? "
        "There is no preference named “Evnts”."
    )


def test_missing_preferences_are_created_when_asked(products):
    run = imported(
        csv_text(
            "email,preferences",
            'a@example.com,"Products, Webinars"',
            "b@example.com,Webinars",
            "not-an-email,Podcasts",
        ),
        create_missing_preferences=True,
        skip_invalid=True,
    )

    webinars = Preference.objects.get(name="Webinars")
    assert (webinars.slug, webinars.is_public) == ("webinars", False)
    assert run.created_preferences == ["Webinars"]
    # Only rows that are imported create what they name.
    assert not Preference.objects.filter(name="Podcasts").exists()
    assert held(Contact.objects.get(email="a@example.com")) == {"Products", "Webinars"}
    assert held(Contact.objects.get(email="b@example.com")) == {"Webinars"}


def test_a_created_preference_gets_a_free_slug():
    PreferenceFactory(name="Old webinars", slug="webinars")

    imported(
        csv_text("email,preferences", "a@example.com,Webinars"), create_missing_preferences=True
    )

    assert Preference.objects.get(name="Webinars").slug == "webinars-2"


def test_a_check_says_which_preferences_it_would_create_and_creates_none():
    run = make_run(
        csv_text("email,preferences", "a@example.com,Webinars"), create_missing_preferences=True
    )

    runner = ImportRunner(run)
    runner.check()

    assert runner.preferences_to_create == {"Webinars"}
    assert not Preference.objects.exists()


def test_a_preference_name_too_long_to_create_is_an_error():
    run = imported(
        csv_text("email,preferences", f"a@example.com,{'x' * 101}"), create_missing_preferences=True
    )

    ((_, column, message),) = errors_of(run)
    assert column == "preferences" and "at most 100 characters" in message


def test_invalid_emails_and_duplicates_are_errors():
    run = imported(
        csv_text(
            "email,first_name",
            "not-an-email,A",
            "a@example.com,B",
            ",C",
            " A@Example.com ,D",
            f"{'x' * 250}@example.com,E",
        )
    )

    assert errors_of(run) == [
        (2, "email", "“not-an-email” is not a valid email address."),
        (4, "email", "The email is missing."),
        (5, "email", "a@example.com is also on row 3: a contact may appear only once in a file."),
        (6, "email", f"“{'x' * 250}@example.com” is longer than an email address may be (254)."),
    ]
    assert counts(run)["failed"] == 4


def test_other_cells_that_cannot_be_imported():
    run = imported(
        csv_text(
            "email,status,data,first_name",
            "a@example.com,subscribed,,",
            'b@example.com,,"[1, 2]",',
            f"c@example.com,,,{'x' * 151}",
            "d@example.com,,,A\x00B",  # a stray NUL: no database stores it as text
        )
    )

    assert [(row, column) for row, column, _ in errors_of(run)] == [
        (2, "status"),
        (3, "data"),
        (4, "first_name"),
        (5, "first_name"),
    ]
    messages = [message for _, _, message in errors_of(run)]
    assert messages[0].startswith("“subscribed” is not a status; use one of pending, confirmed")
    assert messages[1] == 'data must be a JSON object, such as {"club": "Ghent"}.'
    assert messages[2] == "first_name is longer than 150 characters."
    assert messages[3] == "This cell holds a NUL character, which is not text."


def test_errors_name_the_columns_as_the_file_does():
    run = imported(
        csv_text(
            "E-mail,Interests,Notes",
            "nope,,",
            "b@example.com,Unknown,",
            "c@example.com,,one,two,three",
        ),
        mapping={"Notes": ""},
    )

    assert [(row, column) for row, column, _ in errors_of(run)] == [
        (2, "E-mail"),
        (3, "Interests"),
        (4, ""),  # the whole row: not the ignored column
    ]
    assert "This row has 5 cells but the header has 3 columns" in errors_of(run)[2][2]


def test_a_row_short_of_the_email_column_is_missing_its_email():
    run = imported(csv_text("first_name,email", "Ann,ann@example.com", "Bob"))

    assert errors_of(run) == [(3, "email", "The email is missing.")]
    assert not Contact.objects.exists()


# All or nothing, or the valid rows --------------------------------------------------------------


def test_one_invalid_row_imports_nothing(products):
    run = imported(
        csv_text(
            "email,preferences",
            "a@example.com,Products",
            "b@example.com,Unknown",
            "c@example.com,Products",
        )
    )

    assert run.status == ImportStatus.FAILED
    assert run.message.startswith("1 row has errors, so nothing was imported. Fix it in the file")
    assert not Contact.objects.exists()
    assert not ConsentEvent.objects.exists()
    assert counts(run) == {"new": 0, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 1}


def test_one_invalid_row_near_the_end_of_a_50_mb_file_imports_nothing(tmp_path, batch_size):
    batch_size(25_000)
    existing = ContactFactory(email="c7@example.com", first_name="Unchanged")
    note = "x" * 480
    path = tmp_path / "big.csv"
    rows, bad = 100_000, 99_990
    with path.open("w", newline="") as file:
        file.write("email,first_name,notes\r\n")
        for start in range(0, rows, 10_000):
            file.write(
                "".join(
                    f"{'not-an-email' if n == bad else f'c{n}@example.com'},Name {n},{note}\r\n"
                    for n in range(start, start + 10_000)
                )
            )
    assert path.stat().st_size > 50 * 1000**2

    run = ImportRunner(make_run(path, name="big.csv")).apply()

    assert run.status == ImportStatus.FAILED
    assert errors_of(run) == [(bad + 2, "email", "“not-an-email” is not a valid email address.")]
    assert (run.processed_rows, run.total_rows, run.failed_rows) == (rows, rows, 1)
    assert list(Contact.objects.all()) == [existing]
    existing.refresh_from_db()
    assert existing.first_name == "Unchanged"
    assert not ConsentEvent.objects.exists()


def test_skip_invalid_imports_the_valid_rows(products):
    run = imported(
        csv_text(
            "email,preferences",
            "a@example.com,Products",
            "b@example.com,Unknown",
            "nope,Products",
            "c@example.com,Products",
        ),
        skip_invalid=True,
    )

    assert run.status == ImportStatus.DONE
    assert set(Contact.objects.values_list("email", flat=True)) == {
        "a@example.com",
        "c@example.com",
    }
    assert [row for row, _, _ in errors_of(run)] == [3, 4]
    assert counts(run) == {"new": 2, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 2}


def test_a_check_changes_nothing_and_counts_what_an_import_would_do(products):
    ContactFactory(email="old@example.com", preferences=[products])
    ContactFactory(email="same@example.com", preferences=[products])
    run = make_run(
        csv_text(
            "email,preferences",
            "new@example.com,Products",
            "old@example.com,",
            "same@example.com,Products",
            "nope,",
        ),
        mode=ImportMode.UPDATE_ONLY,
    )

    ImportRunner(run).check()

    run.refresh_from_db()
    assert run.status == ImportStatus.CHECKED and run.checked_at
    assert counts(run) == {"new": 0, "updated": 0, "unchanged": 2, "skipped": 1, "failed": 1}
    assert Contact.objects.count() == 2
    assert not ConsentEvent.objects.exists()
