"""Processing stored provider events: a delivery's outcome, the bounce and complaint rules
(``BOUNCE_RULES``), provider unsubscribes, and opens and clicks where tracking is allowed.

Each event is processed once: claimed under a lock (``SKIP LOCKED`` on PostgreSQL), applied,
and marked ``processed_at`` in the same transaction. Every rule reads the stored events or
makes a change that only goes one way, so events may be processed in any order.
"""

import datetime
import logging

from django.db import connection, transaction
from django.utils import timezone

from .. import services
from ..conf import get_setting
from ..identity.tokens import UnsubscribeScope
from ..models import (
    Bounce,
    CampaignLink,
    ChangePath,
    Contact,
    ContactStatus,
    Delivery,
    DeliveryOutcome,
    Engagement,
    EngagementKind,
    EngagementSource,
    ProviderEvent,
    ProviderEventType,
    SuppressionReason,
)
from ..models.deliveries import OUTCOME_RANK
from ..services import suppressions
from . import policy
from .machines import is_machine

logger = logging.getLogger(__name__)

#: Events claimed and applied in one transaction.
BATCH_SIZE = 200
EMAIL = "email"
OUTCOMES = {
    ProviderEventType.DELIVERED: DeliveryOutcome.DELIVERED,
    ProviderEventType.COMPLAINED: DeliveryOutcome.COMPLAINED,
}
BOUNCE_OUTCOMES = {
    Bounce.HARD: DeliveryOutcome.HARD_BOUNCE,
    Bounce.SOFT: DeliveryOutcome.SOFT_BOUNCE,
}
ENGAGEMENTS = {
    ProviderEventType.OPENED: EngagementKind.OPEN,
    ProviderEventType.CLICKED: EngagementKind.CLICK,
}


def process(ids: list[int] | None = None, *, batch_size: int = BATCH_SIZE) -> int:
    """Apply the unprocessed events (those of ``ids``, or all); returns how many.

    Events another process holds are skipped: that process applies them.
    """
    done = 0
    while True:
        with transaction.atomic():
            events = claim(ids, batch_size)
            allowed = policy.site_allows()
            for event in events:
                apply_safely(event, allowed)
            ProviderEvent.objects.filter(pk__in=[e.pk for e in events]).update(
                processed_at=timezone.now()
            )
        done += len(events)
        if len(events) < batch_size:
            return done


def claim(ids: list[int] | None, size: int) -> list[ProviderEvent]:
    todo = ProviderEvent.objects.filter(processed_at__isnull=True)
    if ids is not None:
        todo = todo.filter(pk__in=ids)
    if connection.features.has_select_for_update_skip_locked:
        todo = todo.select_for_update(skip_locked=True, of=("self",))
    todo = todo.select_related("delivery__contact", "delivery__campaign__message")
    return list(todo.order_by("received_at", "pk")[:size])


def apply_safely(event: ProviderEvent, allowed: frozenset[str]) -> None:
    """Apply ``event``; one that cannot be applied is logged and marked processed all the
    same, so that it does not stop the others (it stays stored, with its payload)."""
    try:
        with transaction.atomic():
            apply(event, allowed)
    except Exception:
        logger.exception("Could not apply provider event %s.", event.pk)


def apply(event: ProviderEvent, allowed: frozenset[str]) -> None:
    """Apply ``event``; ``allowed`` is the tracking the site allows (``policy.site_allows``),
    read once per batch."""
    record_outcome(event)
    # A provider that refuses to send to an address on its own unsubscribe list tells us of
    # an unsubscribe we may have missed.
    refused_for = (
        event.payload.get("reject_reason")
        if event.event_type == ProviderEventType.REJECTED
        else None
    )
    if event.bounce:
        bounced(event)
    elif event.event_type == ProviderEventType.COMPLAINED:
        complained(event)
    elif event.event_type == ProviderEventType.UNSUBSCRIBED or refused_for == "unsubscribed":
        unsubscribed(event)
    elif event.event_type in ENGAGEMENTS:
        engaged(event, ENGAGEMENTS[event.event_type], allowed)


def record_outcome(event: ProviderEvent) -> None:
    """Raise the delivery's outcome to the event's, in one conditional UPDATE: an event
    that tells less than the one already recorded changes nothing."""
    outcome = BOUNCE_OUTCOMES.get(event.bounce) or OUTCOMES.get(event.event_type)
    if not outcome or event.delivery_id is None:
        return
    lower = [value for value, rank in OUTCOME_RANK.items() if rank < OUTCOME_RANK[outcome]]
    Delivery.objects.filter(pk=event.delivery_id, outcome__in=lower).update(
        outcome=outcome, outcome_at=event.occurred_at or event.received_at
    )


def bounced(event: ProviderEvent) -> None:
    if not event.recipient:
        return
    rules = get_setting("BOUNCE_RULES")
    bounces = ProviderEvent.objects.filter(recipient=event.recipient, bounce=event.bounce)
    if event.bounce == Bounce.HARD:
        if bounces.count() >= rules["HARD_BOUNCES"]:
            block(event, SuppressionReason.HARD_BOUNCE)
        return
    if reached(bounces, event.occurred_at or event.received_at, rules):
        block(event, SuppressionReason.SOFT_BOUNCES)


def reached(soft_bounces, at: datetime.datetime, rules: dict) -> bool:
    """Whether ``SOFT_BOUNCES`` of ``soft_bounces`` fall within one ``SOFT_BOUNCE_WINDOW``
    that holds ``at``: counted by when they happened, so order of arrival does not matter.

    A message counts once, at its first soft bounce: providers retry a deferred message and
    may report every attempt.
    """
    window, limit = rules["SOFT_BOUNCE_WINDOW"], rules["SOFT_BOUNCES"]
    rows = soft_bounces.filter(
        occurred_at__gt=at - window, occurred_at__lt=at + window
    ).values_list("occurred_at", "delivery_id", "pk")
    first: dict = {}
    for occurred_at, delivery, pk in rows:
        key = ("delivery", delivery) if delivery is not None else ("event", pk)
        first[key] = min(occurred_at, first.get(key, occurred_at))
    times = sorted(first.values())
    return any(times[i + limit - 1] - times[i] < window for i in range(len(times) - limit + 1))


def complained(event: ProviderEvent) -> None:
    """A complaint blocks the address and the contact: no more marketing on any channel."""
    if not event.recipient:
        return
    complaints = ProviderEvent.objects.filter(
        recipient=event.recipient, event_type=ProviderEventType.COMPLAINED
    )
    if complaints.count() < get_setting("BOUNCE_RULES")["COMPLAINTS"]:
        return
    block(event, SuppressionReason.COMPLAINT)
    contact = contact_of(event)
    if contact is not None:
        services.set_status(contact, ContactStatus.BLOCKED, origin_of(event))


def unsubscribed(event: ProviderEvent) -> None:
    """The provider's unsubscribe is ours: the same service as the unsubscribe link."""
    contact = contact_of(event)
    if contact is not None:
        services.unsubscribe(contact, UnsubscribeScope(), origin_of(event))
    if event.delivery_id is not None:
        Delivery.objects.filter(pk=event.delivery_id, unsubscribed_at__isnull=True).update(
            unsubscribed_at=event.occurred_at or event.received_at
        )


def engaged(event: ProviderEvent, kind: str, allowed: frozenset[str]) -> None:
    """An open or a click the provider saw: recorded where tracking is allowed, otherwise
    nothing of it about the contact is kept."""
    delivery = event.delivery
    if delivery is None or not policy.tracks(delivery.campaign, delivery.contact, kind, allowed):
        ProviderEvent.objects.filter(pk=event.pk).update(payload={}, recipient="", description="")
        return
    Engagement.objects.create(
        delivery=delivery,
        campaign=delivery.campaign,
        kind=kind,
        link=link_of(delivery.campaign_id, event.payload.get("click_url")),
        machine=is_machine(event.payload.get("user_agent") or "", None),
        source=EngagementSource.PROVIDER,
        created_at=event.occurred_at or event.received_at,
    )


def link_of(campaign_id: int, url: str | None) -> CampaignLink | None:
    if not url:
        return None
    return CampaignLink.objects.filter(campaign_id=campaign_id, url=url).first()


def block(event: ProviderEvent, reason: str) -> None:
    suppressions.block(EMAIL, event.recipient, reason, origin_of(event), evidence(event))


def evidence(event: ProviderEvent) -> dict:
    """What a block shows as its proof: the provider's event, in short."""
    return {
        "provider": event.provider,
        "event_id": provider_event_id(event),
        "event": event.event_type,
        "bounce": event.bounce,
        "description": event.description,
        "occurred_at": _iso(event.occurred_at),
        "provider_event": event.pk,
    }


def origin_of(event: ProviderEvent) -> services.Origin:
    return services.Origin(
        path=ChangePath.PROVIDER,
        reference=f"{event.provider} {event.event_type} {provider_event_id(event)}"[:255],
    )


def provider_event_id(event: ProviderEvent) -> str:
    """The provider's own id (``event_id`` also names the recipient)."""
    return event.event_id.removesuffix(f"/{event.recipient}")


def contact_of(event: ProviderEvent) -> Contact | None:
    """The event's contact, locked (``services.lock_contact``) and read afresh, so that two
    processes applying events of one contact at once change it one after the other."""
    if event.delivery is not None:
        contact = event.delivery.contact
    elif event.recipient:
        contact = Contact.objects.filter(email__iexact=event.recipient).first()
    else:
        return None
    if contact is not None:
        services.lock_contact(contact)
        contact.refresh_from_db(fields=["status"])
    return contact


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None
