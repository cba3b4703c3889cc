"""Blocking and lifting through the service: logged, signalled, safe to repeat."""

import pytest

from tests.factories import ContactFactory, UserFactory
from wagtail_preferences import signals
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    ContactStatus,
    Suppression,
    SuppressionReason,
)
from wagtail_preferences.services import Origin, set_status, suppressions

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    return UserFactory(username="editor")


@pytest.fixture
def admin_origin(editor):
    return Origin(path=ChangePath.ADMIN, user=editor, reference="asked by the recipient")


def test_blocking_by_hand_is_stored_in_lower_case_and_logged(admin_origin, editor):
    contact = ContactFactory(email="ann@example.com")
    changed = []
    signals.channels_changed.connect(lambda **kw: changed.append(kw), weak=False, dispatch_uid="t")
    try:
        block = suppressions.block("email", " Ann@Example.com ", "manual", admin_origin)
    finally:
        signals.channels_changed.disconnect(dispatch_uid="t")

    assert (block.address, block.reason) == ("ann@example.com", SuppressionReason.MANUAL)
    event = ConsentEvent.objects.get(contact=contact)
    assert (event.subject, event.subject_label, event.field) == ("channel", "email", "blocked")
    assert (event.old_value, event.new_value, event.actor) == (False, True, editor)
    assert event.reference == "asked by the recipient"
    assert changed[0]["contact_ids"] == frozenset([contact.pk])
    assert changed[0]["channels"] == frozenset(["email"])


def test_blocking_an_address_twice_keeps_the_first_block(admin_origin):
    contact = ContactFactory(email="ann@example.com")
    first = suppressions.block("email", "ann@example.com", "hard_bounce", admin_origin)

    assert suppressions.block("email", "ann@example.com", "manual", admin_origin) is None

    assert Suppression.objects.get() == first
    assert ConsentEvent.objects.filter(contact=contact).count() == 1


def test_an_address_without_a_contact_is_blocked_all_the_same(admin_origin):
    suppressions.block("email", "nobody@example.com", "manual", admin_origin)

    assert Suppression.objects.get().address == "nobody@example.com"
    assert not ConsentEvent.objects.exists()


def test_lifting_is_logged_once(admin_origin):
    contact = ContactFactory(email="ann@example.com")
    block = suppressions.block("email", "ann@example.com", "hard_bounce", admin_origin)

    assert suppressions.lift(block, admin_origin) is True
    assert suppressions.lift(block, admin_origin) is False

    assert not Suppression.objects.exists()
    lifted = ConsentEvent.objects.filter(contact=contact, new_value=False).get()
    assert (lifted.old_value, lifted.path) == (True, ChangePath.ADMIN)


@pytest.mark.parametrize("before", [ContactStatus.CONFIRMED, ContactStatus.PENDING])
def test_lifting_a_complaint_gives_back_the_status_before_the_block(before, admin_origin):
    contact = ContactFactory(email="ann@example.com", status=before)
    provider = Origin(path=ChangePath.PROVIDER, reference="postmark complained 1")
    block = suppressions.block("email", contact.email, "complaint", provider)
    set_status(contact, ContactStatus.BLOCKED, provider)

    suppressions.lift(block, admin_origin)

    contact.refresh_from_db()
    assert contact.status == before
    restored = ConsentEvent.objects.filter(contact=contact, subject=ConsentSubject.STATUS).first()
    assert (restored.old_value, restored.new_value) == ("blocked", before)
    assert restored.path == ChangePath.ADMIN


def test_lifting_a_complaint_of_an_unknown_past_unsubscribes(admin_origin):
    contact = ContactFactory(email="ann@example.com", status=ContactStatus.BLOCKED)
    block = suppressions.block("email", contact.email, "complaint", admin_origin)

    suppressions.lift(block, admin_origin)

    contact.refresh_from_db()
    assert contact.status == ContactStatus.UNSUBSCRIBED


def test_lifting_a_bounce_leaves_the_contact_status_alone(admin_origin):
    contact = ContactFactory(email="ann@example.com", status=ContactStatus.BLOCKED)
    block = suppressions.block("email", contact.email, "hard_bounce", admin_origin)

    suppressions.lift(block, admin_origin)

    contact.refresh_from_db()
    assert contact.status == ContactStatus.BLOCKED
