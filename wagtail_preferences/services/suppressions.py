"""Blocking an address on a channel (the suppression list), and lifting a block.

A block is written to the consent log of every contact with that address, with the reason,
and sends ``channels_changed``. Lifting a complaint's block also gives the contact back the
status it had before the complaint blocked it (``unsubscribed`` when the log does not say).
"""

from dataclasses import replace

from django.db import IntegrityError, transaction
from django.db.models import Q

from .. import signals
from ..channels.registry import get_channel, get_channels
from ..models import (
    ConsentEvent,
    ConsentSubject,
    Contact,
    ContactChannel,
    ContactStatus,
    Suppression,
    SuppressionReason,
    normalise_email,
)
from .consent_log import record
from .contacts import set_status
from .origin import Origin

#: The consent log's field for a block on a channel.
BLOCKED = "blocked"


def normalise_address(channel: str, address: str) -> str:
    address = (address or "").strip()
    return normalise_email(address) if channel == "email" else address


def blocked_channels(contact: Contact) -> list[str]:
    """The labels of the channels on which ``contact``'s address is blocked: one query."""
    addresses = {
        key: normalise_address(key, address)
        for key, channel in get_channels().items()
        if (address := channel.address_for(contact))
    }
    if not addresses:
        return []
    condition = Q()
    for key, address in addresses.items():
        condition |= Q(channel=key, address=address)
    blocked = set(Suppression.objects.filter(condition).values_list("channel", flat=True))
    return [str(get_channel(key).label) for key in addresses if key in blocked]


def block(
    channel: str, address: str, reason: str, origin: Origin, evidence: dict | None = None
) -> Suppression | None:
    """Block ``address`` on ``channel``; returns the new block, or None if it was blocked.

    Safe when two processes block the same address at once: the unique constraint decides,
    and only the one that created the block writes the consent log.
    """
    address = normalise_address(channel, address)
    try:
        with transaction.atomic():
            suppression = Suppression.objects.create(
                channel=channel, address=address, reason=reason, evidence=evidence or {}
            )
    except IntegrityError:
        return None
    _log(suppression, origin, old=False, new=True)
    return suppression


def lift(suppression: Suppression, origin: Origin) -> bool:
    """Lift a block; returns False when it was already lifted."""
    deleted, _ = Suppression.objects.filter(pk=suppression.pk).delete()
    if not deleted:
        return False
    contact_ids = _log(suppression, origin, old=True, new=False)
    if suppression.reason == SuppressionReason.COMPLAINT:
        for contact in Contact.objects.filter(pk__in=contact_ids, status=ContactStatus.BLOCKED):
            set_status(contact, status_before_block(contact), origin)
    return True


def status_before_block(contact: Contact) -> str:
    """The status ``contact`` had before it was last blocked; ``unsubscribed`` if unknown.

    Never ``pending`` or ``confirmed`` from a guess: only what the consent log proves.
    """
    old = (
        ConsentEvent.objects.filter(
            contact=contact, subject=ConsentSubject.STATUS, new_value=ContactStatus.BLOCKED
        )
        .order_by("-created_at", "-pk")
        .values_list("old_value", flat=True)
        .first()
    )
    if old in ContactStatus.values and old != ContactStatus.BLOCKED:
        return old
    return ContactStatus.UNSUBSCRIBED


def contacts_with(channel: str, address: str) -> list[int]:
    field = get_channel(channel).address_field
    if not field:
        return []
    # Addresses are stored normalised (email in lower case), so the unique index serves this.
    address = normalise_address(channel, address)
    return list(Contact.objects.filter(**{field: address}).values_list("pk", flat=True))


def _log(suppression: Suppression, origin: Origin, *, old: bool, new: bool) -> list[int]:
    contact_ids = contacts_with(suppression.channel, suppression.address)
    if not origin.reference:
        origin = replace(origin, reference=str(suppression.get_reason_display()))
    record(
        [
            origin.event(
                pk,
                ConsentSubject.CHANNEL,
                subject_label=suppression.channel,
                field=BLOCKED,
                old_value=old,
                new_value=new,
            )
            for pk in contact_ids
        ]
    )
    if contact_ids:
        signals.channels_changed.send(
            sender=ContactChannel,
            contact_ids=frozenset(contact_ids),
            channels=frozenset([suppression.channel]),
            origin=origin,
        )
    return contact_ids
