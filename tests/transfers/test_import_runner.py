"""The import engine: what each mode changes, row errors, batches, and what every change logs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactFactory,
    PreferenceFactory,
    SegmentFactory,
    UserFactory,
)
from tests.import_helpers import csv_text, make_run
from tests.transfers.test_import_files import xlsx
from wagtail_preferences import services
from wagtail_preferences.exceptions import InvalidFile
from wagtail_preferences.models import (
    CategoryChoice,
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    Contact,
    ContactStatus,
    ImportMode,
    ImportRowError,
    ImportRun,
    ImportStatus,
    LegalBasis,
    Preference,
    SegmentInclusion,
    SegmentMember,
)
from wagtail_preferences.transfers.imports.rows import Row
from wagtail_preferences.transfers.imports.runner import ImportRunner

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch_size(settings):
    def set_to(size: int):
        settings.WAGTAIL_PREFERENCES = {**settings.WAGTAIL_PREFERENCES, "IMPORT_BATCH_SIZE": size}

    settings.WAGTAIL_PREFERENCES = getattr(settings, "WAGTAIL_PREFERENCES", {})
    return set_to


def imported(content, **fields) -> ImportRun:
    run = ImportRunner(make_run(content, **fields)).apply()
    assert run.status in (ImportStatus.DONE, ImportStatus.FAILED)
    return run


def errors_of(run) -> list[tuple[int, str, str]]:
    return list(ImportRowError.objects.filter(run=run).values_list("row", "column", "message"))


def counts(run) -> dict[str, int]:
    run.refresh_from_db()
    return {
        "new": run.new_rows,
        "updated": run.updated_rows,
        "unchanged": run.unchanged_rows,
        "skipped": run.skipped_rows,
        "failed": run.failed_rows,
    }


def held(contact) -> set[str]:
    return set(contact.preferences.values_list("name", flat=True))


# Adding ---------------------------------------------------------------------------------------


def test_a_new_contact_gets_every_column(products, trainings, events, promotions):
    vip = SegmentFactory(name="VIP")
    run = imported(
        csv_text(
            "email,first_name,last_name,phone,locale,preferences,categories,segments,data:club",
            ' Ann@Example.COM ,Ann,Smith,+32470123456,nl,"Products, Trainings",Promotions,VIP,'
            "Ghent",
        )
    )

    assert run.status == ImportStatus.DONE, run.message
    contact = Contact.objects.get()
    assert contact.email == "ann@example.com"
    assert (contact.first_name, contact.last_name, contact.phone) == (
        "Ann",
        "Smith",
        "+32470123456",
    )
    assert (contact.locale, contact.data) == ("nl", {"club": "Ghent"})
    assert contact.status == ContactStatus.CONFIRMED  # IMPORT_DEFAULT_STATUS
    assert held(contact) == {"Products", "Trainings"}
    assert CategoryChoice.objects.get(contact=contact, category=promotions).subscribed is False
    assert SegmentInclusion.objects.filter(contact=contact, segment=vip).exists()
    assert SegmentMember.objects.filter(contact=contact, segment=vip).exists()
    assert counts(run) == {"new": 1, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 0}


def test_new_contacts_take_the_default_status_unless_the_file_has_one(settings):
    settings.WAGTAIL_PREFERENCES = {"IMPORT_DEFAULT_STATUS": "pending"}

    imported(
        csv_text(
            "email,status",
            "a@example.com,",
            "b@example.com,Confirmed",
            "c@example.com,unsubscribed",
            "d@example.com,Pending confirmation",
        )
    )

    assert dict(Contact.objects.values_list("email", "status")) == {
        "a@example.com": "pending",
        "b@example.com": "confirmed",
        "c@example.com": "unsubscribed",
        "d@example.com": "pending",
    }


def test_an_existing_contact_changes_only_where_the_file_has_a_value(products, events):
    contact = ContactFactory(
        email="ann@example.com",
        first_name="Ann",
        last_name="Old",
        phone="+3211",
        locale="en",
        data={"club": "Ghent", "size": "M"},
        preferences=[events],
    )

    run = imported(
        csv_text(
            "email,first_name,last_name,phone,locale,preferences,categories,segments,data:size",
            "ANN@example.com,,New,,,,,,L",
        )
    )

    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name, contact.phone) == ("Ann", "New", "+3211")
    assert contact.locale == "en"
    assert contact.data == {"club": "Ghent", "size": "L"}
    assert held(contact) == {"Events"}
    assert counts(run)["updated"] == 1


def test_a_row_that_matches_the_contact_is_unchanged_and_logs_nothing(products):
    ContactFactory(email="ann@example.com", first_name="Ann", preferences=[products])

    run = imported(csv_text("email,first_name,preferences", "ann@example.com,Ann,Products"))

    assert counts(run) == {"new": 0, "updated": 0, "unchanged": 1, "skipped": 0, "failed": 0}
    assert not ConsentEvent.objects.exists()


def test_add_never_removes_a_preference(products, events, trainings):
    contact = ContactFactory(email="ann@example.com", preferences=[events, trainings])

    imported(csv_text("email,preferences", "ann@example.com,Products"))

    assert held(contact) == {"Products", "Events", "Trainings"}


def test_custom_data_from_a_json_column_and_from_data_columns():
    contact = ContactFactory(email="ann@example.com", data={"a": 1})

    imported(
        csv_text("email,data,data:club", 'ann@example.com,"{""b"": [2, 3]}",Ghent'),
    )

    contact.refresh_from_db()
    assert contact.data == {"a": 1, "b": [2, 3], "club": "Ghent"}


def test_xlsx_numbers_and_dates_arrive_as_text():
    import datetime

    imported(
        xlsx(
            ["Email", "Phone", "data:born"],
            ["ann@example.com", 32470123456, datetime.date(1990, 5, 17)],
        ),
        name="contacts.xlsx",
    )

    contact = Contact.objects.get()
    assert (contact.phone, contact.data) == ("32470123456", {"born": "1990-05-17"})


def test_formula_cells_an_export_neutralised_are_restored():
    imported(csv_text("email,phone,first_name", "ann@example.com,'+32470123456,'=Ann"))

    contact = Contact.objects.get()
    assert (contact.phone, contact.first_name) == ("+32470123456", "=Ann")


def test_blank_rows_are_skipped():
    run = imported(csv_text("email,first_name", "a@example.com,A", ",", "", "b@example.com,B"))

    assert Contact.objects.count() == 2
    assert counts(run)["skipped"] == 2


# Modes ----------------------------------------------------------------------------------------


def test_replace_removes_preferences_and_manual_segments_the_file_does_not_list(
    products, events, trainings, origin
):
    one, two = SegmentFactory(name="One"), SegmentFactory(name="Two")
    contact = ContactFactory(email="ann@example.com", preferences=[events, trainings])
    untouched = ContactFactory(email="bob@example.com", preferences=[events])
    services.add_to_segment([contact, untouched], one, origin)
    services.add_to_segment([contact, untouched], two, origin)

    run = imported(
        csv_text(
            "email,preferences,segments",
            'ann@example.com,"Products, Trainings",One',
            "bob@example.com,,",
        ),
        mode=ImportMode.REPLACE,
    )

    assert run.status == ImportStatus.DONE, run.message
    assert held(contact) == {"Products", "Trainings"}
    assert set(contact.segment_inclusions.values_list("segment__name", flat=True)) == {"One"}
    assert set(contact.segment_memberships.values_list("segment__name", flat=True)) == {"One"}
    # Empty cells leave even a replacing import's lists alone.
    assert held(untouched) == {"Events"}
    assert untouched.segment_inclusions.count() == 2
    lost = ConsentEvent.objects.filter(contact=contact, new_value=False)
    assert {(e.subject, e.subject_label, e.path) for e in lost} == {
        (ConsentSubject.PREFERENCE, "Events", ChangePath.IMPORT),
        (ConsentSubject.SEGMENT, "Two", ChangePath.IMPORT),
    }


@pytest.mark.parametrize("mode", [ImportMode.ADD, ImportMode.REPLACE])
def test_categories_only_ever_add_opt_outs(mode, promotions):
    news = CategoryFactory(name="News")
    contact = ContactFactory(email="ann@example.com")
    CategoryChoiceFactory(contact=contact, category=promotions, subscribed=False)
    CategoryChoiceFactory(contact=contact, category=news, subscribed=True)

    imported(csv_text("email,categories", "ann@example.com,News"), mode=mode)

    assert dict(contact.category_choices.values_list("category__name", "subscribed")) == {
        "Promotions": False,
        "News": False,
    }


def test_manual_segment_membership_added(origin):
    vip = SegmentFactory(name="VIP")
    contact = ContactFactory(email="ann@example.com")

    imported(csv_text("email,segments", "ann@example.com,VIP"))

    assert list(services.members(vip)) == [contact]
    event = ConsentEvent.objects.get(subject=ConsentSubject.SEGMENT)
    assert (event.field, event.new_value, event.path) == ("member", True, ChangePath.IMPORT)


@pytest.mark.parametrize(
    ("stored", "given"),
    [
        (ContactStatus.UNSUBSCRIBED, "confirmed"),
        (ContactStatus.UNSUBSCRIBED, "pending"),
        (ContactStatus.BLOCKED, "confirmed"),
        (ContactStatus.BLOCKED, "pending"),
        # Unblocking would let emails reach an address that bounced or complained.
        (ContactStatus.BLOCKED, "unsubscribed"),
    ],
)
def test_an_import_never_subscribes_again_who_left_or_was_blocked(stored, given):
    contact = ContactFactory(email="ann@example.com", status=stored, first_name="Ann")

    run = imported(csv_text("email,status,first_name", f"ann@example.com,{given},Anna"))

    contact.refresh_from_db()
    assert (contact.status, contact.first_name) == (stored, "Anna")
    assert not ConsentEvent.objects.filter(subject=ConsentSubject.STATUS).exists()
    assert counts(run)["updated"] == 1


@pytest.mark.parametrize(
    ("stored", "given"),
    [
        (ContactStatus.PENDING, ContactStatus.CONFIRMED),
        (ContactStatus.CONFIRMED, ContactStatus.UNSUBSCRIBED),
        (ContactStatus.UNSUBSCRIBED, ContactStatus.BLOCKED),
    ],
)
def test_other_status_changes_are_imported(stored, given):
    contact = ContactFactory(email="ann@example.com", status=stored)

    imported(csv_text("email,status", f"ann@example.com,{given}"))

    contact.refresh_from_db()
    assert contact.status == given
    event = ConsentEvent.objects.get(subject=ConsentSubject.STATUS)
    assert (event.old_value, event.new_value) == (stored, given)


def test_create_only_skips_existing_contacts():
    existing = ContactFactory(email="old@example.com", first_name="Old")

    run = imported(
        csv_text("email,first_name", "old@example.com,Changed", "new@example.com,New"),
        mode=ImportMode.CREATE_ONLY,
    )

    existing.refresh_from_db()
    assert existing.first_name == "Old"
    assert Contact.objects.filter(email="new@example.com").exists()
    assert counts(run) == {"new": 1, "updated": 0, "unchanged": 0, "skipped": 1, "failed": 0}


def test_update_only_skips_new_contacts():
    existing = ContactFactory(email="old@example.com", first_name="Old")

    run = imported(
        csv_text("email,first_name", "old@example.com,Changed", "new@example.com,New"),
        mode=ImportMode.UPDATE_ONLY,
    )

    existing.refresh_from_db()
    assert existing.first_name == "Changed"
    assert not Contact.objects.filter(email="new@example.com").exists()
    assert counts(run) == {"new": 0, "updated": 1, "unchanged": 0, "skipped": 1, "failed": 0}


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
    assert run.message.startswith("1 rows have errors, so nothing was imported.")
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


# What every change records -----------------------------------------------------------------------


def test_every_change_is_logged_with_the_run_and_the_legal_basis(products, events, promotions):
    user = UserFactory(username="importer")
    SegmentFactory(name="VIP")
    existing = ContactFactory(email="old@example.com", preferences=[events])
    run = make_run(
        csv_text(
            "email,first_name,status,preferences,categories,segments",
            "new@example.com,New,,Products,Promotions,VIP",
            "old@example.com,Changed,unsubscribed,Products,Promotions,VIP",
        ),
        name="leads.csv",
        mode=ImportMode.REPLACE,
        legal_basis=LegalBasis.LEGITIMATE_INTERESTS,
        created_by=user,
        created_by_label="importer",
    )

    ImportRunner(run).apply()

    events_logged = ConsentEvent.objects.all()
    assert {event.subject for event in events_logged} == {
        ConsentSubject.CONTACT,
        ConsentSubject.STATUS,
        ConsentSubject.PREFERENCE,
        ConsentSubject.CATEGORY,
        ConsentSubject.SEGMENT,
    }
    assert events_logged.filter(contact=existing).count() == 6  # name, status, ±pref, cat, seg
    for event in events_logged:
        assert event.path == ChangePath.IMPORT
        assert event.reference == f"import run #{run.pk} (leads.csv)"
        assert event.actor == user
        assert "Legitimate interests" in event.wording
        assert "importer confirmed that the site may contact these people" in event.wording


def test_the_reference_of_a_run_with_a_long_file_name_fits_the_consent_log():
    name = "contacts-" + "x" * 240 + ".csv"
    run = imported(csv_text("email", "a@example.com"), name=name)

    assert run.status == ImportStatus.DONE, run.message
    reference = ConsentEvent.objects.get().reference
    assert len(reference) <= 255 and reference.startswith(f"import run #{run.pk} (contacts-xxx")


def test_signals_fire_once_per_batch_not_per_row(batch_size, sent_signals, products):
    batch_size(2)
    existing = ContactFactory.create_batch(2, first_name="Old")

    imported(
        csv_text(
            "email,first_name,preferences",
            "a@example.com,A,Products",
            "b@example.com,B,Products",
            f"{existing[0].email},New,Products",
            f"{existing[1].email},New,Products",
        )
    )

    sent = [(name, len(kwargs["contact_ids"])) for name, kwargs in sent_signals]
    assert sent.count(("contact_created", 2)) == 1
    assert sent.count(("contact_details_changed", 2)) == 1
    # Each batch gives Products to its two contacts with one signal.
    assert sent.count(("preferences_added", 2)) == 2
    assert len(sent) == 4


def rows_for_batches(tag: str, batches: int, existing: list) -> str:
    """Rows of ``batches`` batches of 4, each alike: 2 new contacts and 2 changed."""
    lines = ["email,first_name,status,preferences,categories,segments,data:club"]
    for b in range(batches):
        lines += [
            f"{tag}-{b}-1@example.com,New,pending,Products,Promotions,VIP,Ghent",
            f'{tag}-{b}-2@example.com,New,,"Products, Events",,VIP,',
            f"{existing[2 * b].email},Changed {tag},confirmed,Events,Promotions,VIP,Bruges",
            f"{existing[2 * b + 1].email},Changed {tag},,Products,,,",
        ]
    return csv_text(*lines)


def test_the_queries_of_a_batch_do_not_grow_with_the_number_of_batches(
    batch_size, products, events, promotions
):
    batch_size(4)
    SegmentFactory(name="VIP")
    queries = {}
    for batches in (2, 4, 6):
        existing = ContactFactory.create_batch(2 * batches)
        run = make_run(rows_for_batches(f"b{batches}", batches, existing))
        with CaptureQueriesContext(connection) as captured:
            ImportRunner(run).apply()
        assert run.status == ImportStatus.DONE, run.message
        queries[batches] = len(captured)

    assert queries[6] - queries[4] == queries[4] - queries[2]
    per_batch = (queries[4] - queries[2]) / 2
    assert per_batch < 80, queries


def test_segments_are_refreshed_once_at_the_end(
    batch_size, products, monkeypatch, django_capture_on_commit_callbacks
):
    batch_size(2)
    fans = SegmentFactory(
        name="Fans",
        criteria=[{"type": "preferences", "value": {"mode": "any", "preferences": [products.pk]}}],
    )
    refreshed = []
    refresh_contacts = services.refresh_contacts

    def recording(contact_ids):
        refreshed.append(set(contact_ids))
        refresh_contacts(contact_ids)

    monkeypatch.setattr(services, "refresh_contacts", recording)
    run = make_run(csv_text("email,preferences", *(f"c{n}@example.com,Products" for n in range(6))))

    with django_capture_on_commit_callbacks(execute=True):
        ImportRunner(run).apply()

    contacts = set(Contact.objects.values_list("pk", flat=True))
    assert refreshed == [contacts]
    assert set(services.members(fans).values_list("pk", flat=True)) == contacts


# Progress and failures ---------------------------------------------------------------------------


def test_progress_is_told_and_stored_after_each_batch(batch_size):
    batch_size(2)
    run = make_run(csv_text("email", *(f"c{n}@example.com" for n in range(5))))
    told = []

    def progress(done, total):
        stored = ImportRun.objects.get(pk=run.pk)
        told.append((done, total, stored.processed_rows, stored.status))

    ImportRunner(run, progress=progress).apply()

    checking = [(2, 5, 2, "importing"), (4, 5, 4, "importing"), (5, 5, 5, "importing")]
    # All or nothing: the file is read once to check it, then again to import it.
    assert told == checking * 2
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

    monkeypatch.setattr(services, "create_contacts", broken)
    run = make_run(csv_text("email", "a@example.com"))

    with pytest.raises(type(error)):
        ImportRunner(run).apply()

    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED and run.finished_at
    assert run.message == message


def test_a_file_unreadable_part_way_keeps_the_batches_imported_before(batch_size):
    # The first 64 KiB are ASCII, so the file is read as UTF-8, up to the byte that is not.
    batch_size(4000)
    data = csv_text("email", *(f"c{n}@example.com" for n in range(6000))).encode()
    run = make_run(data + b"bad@example.com\xe9\r\n" + b"e@example.com\r\n" * 10, skip_invalid=True)

    ImportRunner(run).apply()

    assert run.status == ImportStatus.FAILED
    assert run.message.startswith("Line 6002 is not valid UTF-8 (byte 0xE9).")
    assert run.message.endswith("The 4000 rows read before it had been imported.")
    assert Contact.objects.count() == 4000


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
