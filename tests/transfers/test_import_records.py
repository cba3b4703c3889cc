"""The import engine: what every change logs and signals, and what a batch costs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ContactFactory, SegmentFactory, UserFactory
from tests.import_helpers import csv_text, make_run
from tests.transfers.runner_helpers import imported
from wagtail_preferences import services
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    Contact,
    ImportMode,
    ImportStatus,
    LegalBasis,
)
from wagtail_preferences.transfers.imports.runner import ImportRunner

pytestmark = pytest.mark.django_db


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

    def recording(contact_ids, changes=None):
        refreshed.append(set(contact_ids))
        refresh_contacts(contact_ids, changes)

    monkeypatch.setattr(services, "refresh_contacts", recording)
    run = make_run(csv_text("email,preferences", *(f"c{n}@example.com,Products" for n in range(6))))

    with django_capture_on_commit_callbacks(execute=True):
        ImportRunner(run).apply()

    contacts = set(Contact.objects.values_list("pk", flat=True))
    assert refreshed == [contacts]
    assert set(services.members(fans).values_list("pk", flat=True)) == contacts
