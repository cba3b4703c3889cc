"""Two processors on the same stored events at once, on PostgreSQL: each applied once."""

from collections import Counter

import pytest
from django.test import Client

from tests.factories import ContactFactory, DeliveryFactory
from tests.feedback import payloads
from tests.threads import at_once
from wagtail_preferences.feedback import events, rules
from wagtail_preferences.models import (
    ConsentEvent,
    ConsentSubject,
    ContactStatus,
    DeliveryOutcome,
    ProviderEvent,
    Suppression,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]
CONTACTS = 30


def test_two_processors_apply_each_event_once(monkeypatch):
    monkeypatch.setattr(events, "_enqueue", lambda pk: None)  # stored, left to the processors
    deliveries = [
        DeliveryFactory(contact=contact, address=contact.email)
        for contact in (ContactFactory(confirmed=True) for _ in range(CONTACTS))
    ]
    client = Client()
    for number, delivery in enumerate(deliveries):
        address, pk = delivery.address, delivery.pk
        kinds = ("complaint", "complaint") if number % 2 else ("hard_bounce", "hard_bounce")
        for kind in (*kinds, "delivered"):
            post = payloads.event("postmark", kind, address, pk)
            assert post.send(client).status_code == 200
            assert post.send(client).status_code == 200  # and again: a duplicate
    assert ProviderEvent.objects.count() == CONTACTS * 3

    done = at_once(lambda: lambda: rules.process(batch_size=4), 2)

    assert sum(done) == CONTACTS * 3
    assert not ProviderEvent.objects.filter(processed_at__isnull=True).exists()
    assert Suppression.objects.count() == CONTACTS
    logged = Counter(
        ConsentEvent.objects.values_list("contact_id", "subject").order_by("contact_id")
    )
    for number, delivery in enumerate(deliveries):
        contact = delivery.contact
        assert logged[(contact.pk, ConsentSubject.CHANNEL)] == 1
        complained = number % 2
        assert logged[(contact.pk, ConsentSubject.STATUS)] == complained
        delivery.refresh_from_db()
        contact.refresh_from_db()
        expected = DeliveryOutcome.COMPLAINED if complained else DeliveryOutcome.HARD_BOUNCE
        assert delivery.outcome == expected
        assert (contact.status == ContactStatus.BLOCKED) == bool(complained)
