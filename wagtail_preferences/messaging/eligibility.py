"""The eligibility policy: who may receive a message on a channel now, and why not.

One ordered list of rules, each an SQL condition (``audience.compiler``), decides for a whole
audience at once, when a campaign is planned and counted, and again for each batch of
recipients when its deliveries are claimed for sending: consent that changed in between
(an unsubscribe in the middle of a campaign) stops the messages not yet sent.

A contact who fails a rule is skipped, with the first rule failed as the reason; the rules
``HELD`` (a pause, a frequency limit) may instead make the message wait, as the campaign says.
Transactional messages obey only ``TRANSACTIONAL_RULES``: they never go to a blocked address.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Case, CharField, Q, Value, When
from django.utils import timezone

from ..audience import compiler
from ..channels.registry import get_channel
from ..models import Contact, ContactStatus, SegmentOptOut, SkipReason, Suppression, WhenHeld

#: Reasons that make a message wait, when the campaign says so, rather than skip.
HELD = (SkipReason.PAUSED, SkipReason.FREQUENCY_CAP)
#: Reasons that say nothing can reach the contact on a channel: another channel is tried.
UNREACHABLE = (SkipReason.SUPPRESSED, SkipReason.NO_ADDRESS, SkipReason.CHANNEL_DISABLED)
#: The rules a transactional message obeys.
TRANSACTIONAL_RULES = (SkipReason.BLOCKED, SkipReason.SUPPRESSED, SkipReason.NO_ADDRESS)


@dataclass(frozen=True)
class Sending:
    """What is being sent, as far as the rules care.

    ``channels`` are the channels the message goes out on, in the order tried for a contact
    without a preferred one. ``segments`` are those the message is sent to: a contact who
    opted out of one of them is skipped.
    """

    channels: tuple[str, ...]
    category_id: int | None = None
    segment_ids: tuple[int, ...] = ()
    transactional: bool = False
    when_paused: str = WhenHeld.WAIT
    when_capped: str = WhenHeld.WAIT

    def holds(self, reason: str) -> bool:
        """Whether ``reason`` makes the message wait rather than skip."""
        wait = {SkipReason.PAUSED: self.when_paused, SkipReason.FREQUENCY_CAP: self.when_capped}
        return wait.get(reason) == WhenHeld.WAIT


def channel_rules(channel: str, sending: Sending, at: datetime.datetime) -> list[tuple[str, Q]]:
    """The rules for ``channel`` in the order they are checked: (reason, who fails it)."""
    backend = get_channel(channel)
    rules = [
        (SkipReason.PENDING, Q(status=ContactStatus.PENDING)),
        (SkipReason.UNSUBSCRIBED, Q(status=ContactStatus.UNSUBSCRIBED)),
        (SkipReason.BLOCKED, Q(status=ContactStatus.BLOCKED)),
        (SkipReason.SUPPRESSED, compiler.suppressed(channel, backend.address_field)),
        (SkipReason.NO_ADDRESS, ~backend.has_address()),
        (SkipReason.CHANNEL_DISABLED, compiler.channel_disabled(channel)),
        (SkipReason.OTHER_CHANNEL, _other_channel_chosen(channel, sending)),
        (SkipReason.CATEGORY_OPT_OUT, _category_opt_out(sending)),
        (SkipReason.SEGMENT_OPT_OUT, _segment_opt_out(sending)),
        (SkipReason.PAUSED, compiler.paused_on(channel, timezone.localdate(at))),
        (
            SkipReason.FREQUENCY_CAP,
            compiler.over_frequency_cap(channel, at, compiler.sent_messages()),
        ),
    ]
    if sending.transactional:
        return [(reason, q) for reason, q in rules if reason in TRANSACTIONAL_RULES]
    return [(reason, q) for reason, q in rules if q != _NOBODY]


_NOBODY = Q(pk__in=[])


def _category_opt_out(sending: Sending) -> Q:
    if sending.category_id is None:
        return _NOBODY
    return compiler.opted_out_of(sending.category_id)


def _segment_opt_out(sending: Sending) -> Q:
    if not sending.segment_ids:
        return _NOBODY
    return Q(pk__in=SegmentOptOut.objects.filter(segment__in=sending.segment_ids).values("contact"))


def reachable(channel: str) -> Q:
    """Something can reach the contact on ``channel`` at all (the ``UNREACHABLE`` rules)."""
    backend = get_channel(channel)
    return (
        backend.has_address()
        & ~compiler.suppressed(channel, backend.address_field)
        & compiler.channel_enabled(channel)
    )


def _other_channel_chosen(channel: str, sending: Sending) -> Q:
    """The contact gets the message on another of ``sending.channels``: the one they prefer,
    else the first in order, of those that can reach them."""
    if len(sending.channels) < 2:
        return _NOBODY
    position = sending.channels.index(channel)
    chosen = _NOBODY
    for index, other in enumerate(sending.channels):
        if other == channel:
            continue
        before = compiler.prefers(other)
        if index < position:
            before |= ~compiler.prefers(channel)
        chosen |= reachable(other) & before
    return chosen


def reason_of(channel: str, sending: Sending, at: datetime.datetime) -> Case:
    """The first rule a contact fails on ``channel``, as an SQL expression; ``""`` if none."""
    return Case(
        *(When(q, then=Value(reason)) for reason, q in channel_rules(channel, sending, at)),
        default=Value(""),
        output_field=CharField(),
    )


def eligible(channel: str, sending: Sending, at: datetime.datetime | None = None) -> Q:
    """Contacts who may be sent the message on ``channel`` at ``at`` (default now)."""
    at = at or timezone.now()
    condition = Q()
    for _reason, q in channel_rules(channel, sending, at):
        condition &= ~q
    return condition


def blocked(channel: str, address: str) -> bool:
    """Whether nothing, not even a transactional message, may go to ``address`` on
    ``channel``: it is suppressed, or its contact is blocked."""
    backend = get_channel(channel)
    if Suppression.objects.filter(channel=channel, address=address).exists():
        return True
    if not backend.address_field:
        return False
    return Contact.objects.filter(
        status=ContactStatus.BLOCKED, **{backend.address_field: address}
    ).exists()
