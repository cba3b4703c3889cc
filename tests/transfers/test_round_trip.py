"""Contacts exported and imported again leave the database as it was, whatever they hold."""

import random

import pytest

from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactFactory,
    PreferenceFactory,
    SegmentFactory,
)
from tests.import_helpers import make_run
from wagtail_preferences.models import (
    CategoryChoice,
    ConsentEvent,
    Contact,
    ContactPreference,
    ContactStatus,
    ImportMode,
    ImportStatus,
    SegmentInclusion,
)
from wagtail_preferences.transfers import exports
from wagtail_preferences.transfers.imports.runner import ImportRunner

pytestmark = pytest.mark.django_db

CONTACTS = 120


@pytest.fixture
def generated():
    """Contacts holding what makes a file hard: names with commas and quotes, formula-like
    cells (also past invisible characters, or already behind an apostrophe), phone numbers,
    accents, custom data, opt-outs, manual segments, every status."""
    rng = random.Random(6)
    preferences = [
        PreferenceFactory(name=name)
        for name in ("Products", "Events, local", 'The "Weekly"', "Trainings", "Éditions")
    ]
    categories = [CategoryFactory(name=name) for name in ("Promotions", "Surveys, yearly")]
    segments = [SegmentFactory(name=name) for name in ("VIP", "Press, print")]
    for n in range(CONTACTS):
        contact = ContactFactory(
            first_name=rng.choice(
                ["Ann", "=HYPERLINK(x)", "Zoë", "-dash", "@at", "\u200b=SUM(A1)", "\ufeff+1", ""]
            ),
            last_name=rng.choice(["Peeters", "D'Hondt", "+plus", 'O"Neil', "'=x", "''-y", ""]),
            phone=rng.choice(["+32 470 12 34 56", "'+44 7700", "", "0470"]),
            locale=rng.choice(["nl-be", "fr", ""]),
            status=rng.choice(ContactStatus.values),
            data=rng.choice([{}, {"club": "Ghent"}, {"n": n, "tags": ["a", "b"]}]),
            preferences=rng.sample(preferences, rng.randint(0, 3)),
        )
        for category in rng.sample(categories, rng.randint(0, 2)):
            CategoryChoiceFactory(contact=contact, category=category, subscribed=False)
        for segment in rng.sample(segments, rng.randint(0, 2)):
            SegmentInclusion.objects.create(segment=segment, contact=contact, source="admin")


def snapshot() -> dict:
    """Everything a file can change, by id, and how many consent events there are."""
    return {
        "contacts": stored_contacts(),
        "holdings": set(ContactPreference.objects.values_list("contact_id", "preference_id")),
        "choices": set(
            CategoryChoice.objects.values_list("contact_id", "category_id", "subscribed")
        ),
        "inclusions": set(SegmentInclusion.objects.values_list("contact_id", "segment_id")),
        "events": ConsentEvent.objects.count(),
    }


def stored_contacts() -> list[tuple]:
    return sorted(
        Contact.objects.values_list(
            "email", "first_name", "last_name", "phone", "locale", "status", "data"
        )
    )


@pytest.mark.parametrize("mode", [ImportMode.ADD, ImportMode.REPLACE])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(generated, mode, file_format):
    before = snapshot()
    contacts = Contact.objects.all()
    if file_format == "csv":
        content = "".join(exports.csv_blocks(contacts)).encode("utf-8")
    else:
        content = exports.xlsx_file(contacts)

    run = ImportRunner(make_run(content, name=f"contacts.{file_format}", mode=mode)).apply()

    assert run.status == ImportStatus.DONE, run.message
    assert (run.new_rows, run.updated_rows, run.failed_rows) == (0, 0, 0)
    assert run.unchanged_rows == CONTACTS
    assert snapshot() == before


def by_name() -> dict:
    """What the contacts hold, by address and names: ids change when contacts are made again."""
    return {
        "contacts": stored_contacts(),
        "holdings": set(
            ContactPreference.objects.values_list("contact__email", "preference__name")
        ),
        "opt_outs": set(
            CategoryChoice.objects.filter(subscribed=False).values_list(
                "contact__email", "category__name"
            )
        ),
        "inclusions": set(SegmentInclusion.objects.values_list("contact__email", "segment__name")),
    }


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_export_imported_into_an_empty_database_makes_the_same_contacts(generated, file_format):
    before = by_name()
    contacts = Contact.objects.all()
    if file_format == "csv":
        content = "".join(exports.csv_blocks(contacts)).encode("utf-8")
    else:
        content = exports.xlsx_file(contacts)
    Contact.objects.all().delete()

    run = ImportRunner(make_run(content, name=f"contacts.{file_format}")).apply()

    assert run.status == ImportStatus.DONE, run.message
    assert run.new_rows == CONTACTS
    assert by_name() == before
