"""An import through its staging table: read once, checked with SQL, new contacts created
from the table with what each row holds, their consent events and their signals."""

import pytest
from django.db import connection

from tests.factories import ContactFactory, SegmentFactory
from tests.import_helpers import csv_text
from tests.transfers.runner_helpers import counts, imported
from wagtail_preferences.models import (
    CategoryChoice,
    ConsentEvent,
    ConsentSubject,
    Contact,
    ContactStatus,
    ImportStatus,
    Suppression,
    SuppressionReason,
)
from wagtail_preferences.models.contacts import SECRET_LENGTH
from wagtail_preferences.services import staged_contacts

pytestmark = pytest.mark.django_db


def test_a_new_contact_gets_its_row_and_an_event_for_each_thing_it_holds(
    products, events, promotions
):
    vip = SegmentFactory(name="VIP")

    run = imported(
        csv_text(
            "email,first_name,last_name,status,preferences,categories,segments,data:club",
            'Lena@Example.com,Lena,Visitor,confirmed,"Products, Events",Promotions,VIP,Ghent',
        )
    )

    assert run.status == ImportStatus.DONE, run.message
    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.last_name) == (
        "lena@example.com",
        "Lena",
        "Visitor",
    )
    assert (contact.status, contact.data, len(contact.secret)) == (
        "confirmed",
        {"club": "Ghent"},
        SECRET_LENGTH,
    )
    assert CategoryChoice.objects.get(contact=contact).subscribed is False
    assert vip.inclusions.filter(contact=contact).exists()
    logged = [
        (e.subject, e.subject_id, e.subject_label, e.field, e.old_value, e.new_value)
        for e in ConsentEvent.objects.filter(contact=contact)
        .exclude(subject=ConsentSubject.SEGMENT)
        .order_by("subject", "subject_label")
    ]
    assert logged == [
        (ConsentSubject.CATEGORY, promotions.pk, "Promotions", "subscribed", None, False),
        (
            ConsentSubject.CONTACT,
            None,
            "",
            "created",
            None,
            {"email": "lena@example.com", "status": "confirmed"},
        ),
        (ConsentSubject.PREFERENCE, events.pk, "Events", "held", False, True),
        (ConsentSubject.PREFERENCE, products.pk, "Products", "held", False, True),
    ]
    assert ConsentEvent.objects.filter(contact=contact, subject=ConsentSubject.SEGMENT).exists()


def test_new_contacts_take_empty_details_and_the_default_status(settings):
    settings.WAGTAIL_PREFERENCES = {"IMPORT_DEFAULT_STATUS": ContactStatus.CONFIRMED}

    imported(csv_text("email,first_name", "a@example.com,"))

    contact = Contact.objects.get()
    assert (contact.first_name, contact.phone, contact.data) == ("", "", {})
    assert contact.status == ContactStatus.CONFIRMED


def test_signals_of_new_contacts_come_in_parts_of_a_bounded_size(
    monkeypatch, sent_signals, products
):
    monkeypatch.setattr(staged_contacts, "SIGNAL_CHUNK", 2)

    imported(csv_text("email,preferences", *(f"c{n}@example.com,Products" for n in range(5))))

    ids = set(Contact.objects.values_list("pk", flat=True))
    for name in ("contact_created", "preferences_added"):
        parts = [kwargs["contact_ids"] for sent, kwargs in sent_signals if sent == name]
        assert [len(part) for part in parts] == [2, 2, 1]
        assert set().union(*parts) == ids


def test_an_address_after_a_row_with_errors_is_still_given_twice():
    run = imported(
        csv_text("email,status", "a@example.com,nonsense", "A@example.com,confirmed"),
        skip_invalid=True,
    )

    assert counts(run) == {"new": 0, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 2}
    errors = list(run.row_errors.order_by("row").values_list("row", "message"))
    assert errors[-1] == (
        3,
        "a@example.com is also on row 2: a contact may appear only once in a file.",
    )
    assert not Contact.objects.exists()


def test_the_first_of_two_rows_with_an_address_is_imported_when_skipping_invalid_rows():
    run = imported(
        csv_text("email,first_name", "a@example.com,First", "a@example.com,Second"),
        skip_invalid=True,
    )

    assert counts(run)["failed"] == 1
    assert Contact.objects.get().first_name == "First"


def test_new_and_existing_contacts_in_one_file(products, events):
    old = ContactFactory(email="old@example.com", first_name="Old", preferences=[events])

    run = imported(
        csv_text(
            "email,first_name,preferences",
            "new@example.com,New,Products",
            "old@example.com,Renamed,Products",
            "same@example.com,Same,",
        )
    )

    assert counts(run) == {"new": 2, "updated": 1, "unchanged": 0, "skipped": 0, "failed": 0}
    old.refresh_from_db()
    assert old.first_name == "Renamed"
    assert set(old.preferences.values_list("name", flat=True)) == {"Events", "Products"}
    assert Contact.objects.get(email="new@example.com").preferences.get() == products


def test_a_new_contact_of_a_suppressed_address_is_counted_as_kept_blocked():
    Suppression.objects.create(
        channel="email", address="gone@example.com", reason=SuppressionReason.HARD_BOUNCE
    )

    run = imported(csv_text("email", "gone@example.com", "fine@example.com"))

    assert run.status == ImportStatus.DONE
    assert run.message.startswith("1 row is of a blocked address")


def test_the_staging_table_is_dropped_when_the_run_ends():
    run = imported(csv_text("email", "a@example.com"))

    table = f"wagtail_preferences_import_{run.pk}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT to_regclass(%s)", [f"pg_temp.{table}"])
            assert cursor.fetchone() == (None,)
        else:
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE name = %s", [table])
            assert cursor.fetchall() == []
