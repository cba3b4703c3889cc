"""The import engine: what adding, replacing and each other mode changes."""

import pytest

from tests.factories import CategoryChoiceFactory, CategoryFactory, ContactFactory, SegmentFactory
from tests.import_helpers import csv_text
from tests.transfers.runner_helpers import counts, held, imported
from tests.transfers.test_import_files import xlsx
from wagtail_preferences import services
from wagtail_preferences.models import (
    CategoryChoice,
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    Contact,
    ContactStatus,
    ImportMode,
    ImportStatus,
    SegmentInclusion,
    SegmentMember,
)

pytestmark = pytest.mark.django_db


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
