"""Receiving anymail's ``tracking`` signal: each event is stored as it came, then processed
by a task (``feedback.rules``).

The receiver is connected in ``AppConfig.ready()``. It never raises: a provider whose webhook
gets an error posts the same events again and again, so an event we cannot store is logged
and answered all the same (decision 0014).
"""

import hashlib
import json
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Bounce, Delivery, ProviderEvent, ProviderEventType
from .tasks import process_provider_events

logger = logging.getLogger(__name__)

#: The most of a provider's own event we keep, in characters of JSON.
MAX_PAYLOAD = 8_000
MAX_DESCRIPTION = 2_000
#: anymail's fields the rules read, kept beside the provider's event.
ANYMAIL_FIELDS = ("user_agent", "click_url", "reject_reason")
#: Why a provider refuses to send (anymail's ``reject_reason``) when it knows the address is
#: dead: as good as a hard bounce.
DEAD_ADDRESS = {"bounced", "invalid"}
#: Bounce types that say the address may work later (anymail's ``esp_event``, per provider).
SOFT_BOUNCE_TYPES = {
    "amazon_ses": ("bounce", "bounceType", {"Transient", "Undetermined"}),
    "postmark": (None, "Type", {"SoftBounce", "VirusNotification"}),
    "sendgrid": (None, "type", {"blocked"}),
    "mailgun": ("event-data", "severity", {"temporary"}),
}


def receive(sender, event, esp_name, **kwargs) -> None:
    """anymail's ``tracking`` receiver: store the event, process it after the commit."""
    try:
        stored = store(event, esp_name)
    except Exception:
        logger.exception("Could not store a %s %s event.", esp_name, event.event_type)
        return
    if stored is not None:
        transaction.on_commit(lambda: _enqueue(stored.pk))


def store(event, esp_name: str) -> ProviderEvent | None:
    """Store ``event``; returns None when it is a duplicate (already stored)."""
    provider = provider_key(esp_name)
    payload = {"esp_event": bounded(event.esp_event)}
    payload.update({k: v for k in ANYMAIL_FIELDS if (v := getattr(event, k, None))})
    row = ProviderEvent(
        provider=provider,
        event_id=event_key(event, payload),
        event_type=event_type(event),
        bounce=bounce_of(event, provider),
        delivery_id=delivery_id(event),
        recipient=(event.recipient or "").strip().lower()[:254],
        occurred_at=event.timestamp or timezone.now(),
        description=describe(event),
        payload=payload,
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:  # stored already: the unique constraint said so
        return None
    return row


def provider_key(esp_name: str) -> str:
    """``"Amazon SES"`` → ``"amazon_ses"``, as in anymail's webhook URLs."""
    return esp_name.strip().lower().replace(" ", "_")[:32]


def event_type(event) -> str:
    value = event.event_type
    return value if value in ProviderEventType.values else ProviderEventType.UNKNOWN


def event_key(event, payload) -> str:
    """The provider's event id with the recipient (one SES event may name several), or a
    hash of the event when the provider gives no id."""
    recipient = (event.recipient or "").lower()
    if event.event_id:
        return f"{event.event_id}/{recipient}"[:255]
    text = json.dumps([event.event_type, recipient, payload], sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def bounce_of(event, provider: str) -> str:
    """``hard``, ``soft`` or ``""``: a deferral counts as a soft bounce, and a message the
    provider refused to send to an address it knows is dead as a hard bounce."""
    if event.event_type == ProviderEventType.DEFERRED:
        return Bounce.SOFT
    if event.event_type == ProviderEventType.REJECTED:
        return Bounce.HARD if event.reject_reason in DEAD_ADDRESS else ""
    if event.event_type != ProviderEventType.BOUNCED:
        return ""
    part, key, soft = SOFT_BOUNCE_TYPES.get(provider, (None, None, ()))
    data = event.esp_event if isinstance(event.esp_event, dict) else {}
    if part is not None:
        data = data.get(part) or {}
    return Bounce.SOFT if isinstance(data, dict) and data.get(key) in soft else Bounce.HARD


def delivery_id(event) -> int | None:
    """The delivery the campaign named in the message's metadata, if it still exists."""
    try:
        pk = int((event.metadata or {}).get("delivery_id"))
    except (TypeError, ValueError):
        return None
    return pk if Delivery.objects.filter(pk=pk).exists() else None


def describe(event) -> str:
    parts = [event.description, event.mta_response, event.reject_reason]
    return " — ".join(str(p) for p in parts if p)[:MAX_DESCRIPTION]


def bounded(esp_event):
    """The provider's event as JSON, or its start when it is too large to keep whole."""
    try:
        text = json.dumps(esp_event, default=str)
    except (TypeError, ValueError):
        return {"unreadable": True}
    if len(text) > MAX_PAYLOAD:
        return {"truncated": True, "start": text[:MAX_PAYLOAD]}
    return json.loads(text)


def _enqueue(pk: int) -> None:
    try:
        process_provider_events.enqueue([pk])
    except Exception:  # the event stays stored; the next run or the sweep processes it
        logger.exception("Could not enqueue the processing of provider event %s.", pk)
