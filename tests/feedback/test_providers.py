"""Each provider's real webhook posts, through anymail's own URLs, to their outcome."""

import pytest

from tests.feedback import payloads
from wagtail_preferences.models import (
    Bounce,
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    ContactStatus,
    DeliveryOutcome,
    ProviderEvent,
    Suppression,
    SuppressionReason,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.parametrize("provider", payloads.PROVIDERS),
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]


def test_a_delivery_is_recorded(provider, webhook, delivery):
    webhook(payloads.event(provider, "delivered", delivery.address, delivery.pk))

    delivery.refresh_from_db()
    assert delivery.outcome == DeliveryOutcome.DELIVERED
    assert delivery.outcome_at is not None
    event = ProviderEvent.objects.get()
    assert (event.provider, event.event_type, event.delivery) == (provider, "delivered", delivery)
    assert event.processed_at is not None
    assert not Suppression.objects.exists()


def test_a_hard_bounce_blocks_the_address_at_once(provider, webhook, delivery):
    webhook(payloads.event(provider, "hard_bounce", "Jane@Example.com", delivery.pk))

    delivery.refresh_from_db()
    assert delivery.outcome == DeliveryOutcome.HARD_BOUNCE
    event = ProviderEvent.objects.get()
    assert event.bounce == Bounce.HARD
    block = Suppression.objects.get()
    assert (block.channel, block.address, block.reason) == (
        "email",
        "jane@example.com",
        SuppressionReason.HARD_BOUNCE,
    )
    assert block.evidence["provider"] == provider
    assert block.evidence["provider_event"] == event.pk
    assert block.evidence["event"] == "bounced"
    logged = ConsentEvent.objects.get(contact=delivery.contact)
    assert (logged.subject, logged.field, logged.old_value, logged.new_value) == (
        ConsentSubject.CHANNEL,
        "blocked",
        False,
        True,
    )
    assert logged.path == ChangePath.PROVIDER
    assert logged.reference.startswith(f"{provider} bounced ")


def test_a_complaint_blocks_the_address_and_the_contact(provider, webhook, delivery):
    webhook(payloads.event(provider, "complaint", delivery.address, delivery.pk))

    delivery.refresh_from_db()
    assert delivery.outcome == DeliveryOutcome.COMPLAINED
    assert Suppression.objects.get().reason == SuppressionReason.COMPLAINT
    delivery.contact.refresh_from_db()
    assert delivery.contact.status == ContactStatus.BLOCKED
    status = ConsentEvent.objects.get(contact=delivery.contact, subject=ConsentSubject.STATUS)
    assert (status.old_value, status.new_value) == (ContactStatus.CONFIRMED, ContactStatus.BLOCKED)
    assert status.path == ChangePath.PROVIDER
    assert status.reference.startswith(f"{provider} complained ")


def test_a_soft_bounce_is_counted_without_blocking(provider, webhook, delivery):
    webhook(payloads.event(provider, "soft_bounce", delivery.address, delivery.pk))

    delivery.refresh_from_db()
    assert delivery.outcome == DeliveryOutcome.SOFT_BOUNCE
    assert ProviderEvent.objects.get().bounce == Bounce.SOFT
    assert not Suppression.objects.exists()


def test_the_same_post_twice_is_applied_once(provider, webhook, delivery):
    post = payloads.event(provider, "hard_bounce", delivery.address, delivery.pk)

    webhook(post)
    webhook(post)

    assert ProviderEvent.objects.count() == 1
    assert Suppression.objects.count() == 1
    assert ConsentEvent.objects.filter(contact=delivery.contact).count() == 1


def test_a_bounce_before_the_delivery_report_keeps_the_bounce(provider, webhook, delivery):
    webhook(payloads.event(provider, "hard_bounce", delivery.address, delivery.pk))
    webhook(payloads.event(provider, "delivered", delivery.address, delivery.pk))

    delivery.refresh_from_db()
    assert delivery.outcome == DeliveryOutcome.HARD_BOUNCE
    assert ProviderEvent.objects.filter(processed_at__isnull=False).count() == 2


def test_an_unknown_delivery_still_blocks_the_address(provider, webhook, contact):
    webhook(payloads.event(provider, "hard_bounce", contact.email, delivery_id=987654))

    assert ProviderEvent.objects.get().delivery is None
    assert Suppression.objects.get().address == contact.email


def test_a_post_without_the_secret_is_refused(provider, client, delivery):
    post = payloads.event(provider, "hard_bounce", delivery.address, delivery.pk)

    response = client.generic("POST", post.url, post.body, content_type=post.content_type)

    assert response.status_code in (400, 401, 403)
    assert not ProviderEvent.objects.exists()
