"""Sending a campaign's deliveries: claim a batch, check each recipient again, send, record.

A delivery moves ``queued``/``deferred`` → ``claimed`` (leased to one sender, its frequency
slot taken) → ``sending`` (handed to the provider) → ``sent``, ``failed`` or again
``deferred`` (a temporary failure, retried later). Consent is checked again when a batch is
claimed, so a contact who unsubscribed after the campaign started gets nothing more.

A sender killed mid-batch loses nobody and doubles nobody: when its lease runs out the
sweeper queues again what it had claimed but not handed over, and marks ``unknown`` what it
had handed over without recording the result: those are shown, never resent on their own.
"""

import datetime
import hashlib
import hmac
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache, partial
from queue import Empty, SimpleQueue

from django.conf import settings
from django.core.mail.utils import DNS_NAME
from django.db import connection, transaction
from django.db.models import F, Min, OuterRef, Q, Subquery
from django.utils import timezone
from wagtail.models import Revision

from ..audience import compiler
from ..audience.profiles import profiles_of
from ..channels.base import SendStatus
from ..channels.registry import get_channel
from ..conf import get_setting
from ..db.batches import any_of, batched, update_rows
from ..db.send_rate import wait_for_slots
from ..feedback.policy import campaign_tracks
from ..models import (
    Campaign,
    CampaignStatus,
    Contact,
    ContactChannel,
    Delivery,
    DeliveryStatus,
    FrequencyPeriod,
    SkipReason,
)
from ..models.deliveries import PENDING
from . import eligibility, planning
from .eligibility import HELD, Sending
from .parallel import in_parallel
from .rendering import MessageRenderer, Recipient, Tracking

#: How long one send task works before it hands over to a successor.
TASK_BUDGET = datetime.timedelta(minutes=1)


def message_id_of(delivery_id: int) -> str:
    """The delivery's ``Message-ID``: the same for every attempt, unique to this site's
    database (keyed with ``SECRET_KEY``), so no write is needed to fix it in advance."""
    key = settings.SECRET_KEY.encode()
    tag = hmac.new(key, str(delivery_id).encode(), hashlib.sha256).hexdigest()[:12]
    return f"<wp.{delivery_id}.{tag}@{DNS_NAME}>"


@dataclass(frozen=True)
class Claimed:
    """Deliveries leased to one sender (``token``), checked again and holding their slots.

    ``leased`` counts every delivery the claim took, including those the check skipped or
    deferred: none means nothing was due.
    """

    token: str
    campaign: Campaign
    deliveries: list[Delivery]
    leased: int = 0


def claim(campaign: Campaign, *, size: int | None = None, now=None) -> Claimed:
    """Lease up to ``size`` due deliveries of ``campaign`` to a new sender.

    On PostgreSQL, concurrent senders skip each other's rows (``FOR UPDATE SKIP LOCKED``);
    on SQLite, whose writers take turns, the ``UPDATE``s change only rows still due, so a
    row is one sender's. Each recipient is checked again by the eligibility policy before
    any row changes; those who may not receive it now are skipped or deferred, the others
    are claimed with their frequency slot in one ``UPDATE``.
    """
    size = size or get_setting("SEND_BATCH_SIZE")
    now = now or timezone.now()
    token = secrets.token_hex(16)
    with transaction.atomic():
        due = (
            Delivery.objects.filter(campaign=campaign, status__in=PENDING)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .order_by("pk")
        )
        rows = list(
            due.select_for_update(skip_locked=True).values_list("pk", "channel", "contact_id")[
                :size
            ]
        )
        eligible = _check_again(campaign, rows, now)
        # The slots are taken (and seen by other senders) when this transaction commits.
        Delivery.objects.filter(pk__in=any_of(Delivery, "id", eligible), status__in=PENDING).update(
            status=DeliveryStatus.CLAIMED,
            claimed_by=token,
            lease_until=now + get_setting("SEND_LEASE"),
            reason="",
            sent_at=now,
            attempts=F("attempts") + 1,
        )
    deliveries = list(
        Delivery.objects.filter(claimed_by=token, status=DeliveryStatus.CLAIMED)
        .select_related("contact")
        .order_by("pk")
    )
    return Claimed(token, campaign, deliveries, len(rows))


def _check_again(campaign: Campaign, rows: list[tuple], now) -> list[int]:
    """Skip or defer the deliveries ``rows`` (pk, channel, contact id) whose recipients may
    not receive the message now; the ids of the others."""
    if not rows:
        return []
    sending = planning.sending_of(campaign, _message_of(campaign))
    by_channel = defaultdict(dict)
    for pk, channel, contact_id in rows:
        by_channel[channel][contact_id] = pk
    eligible = []
    for channel, delivery_of in by_channel.items():
        # The channel was chosen when planning; only that one channel is checked now.
        on_channel = Sending(**{**sending.__dict__, "channels": (channel,)})
        held, skipped = _reasons(channel, on_channel, list(delivery_of), now)
        pending = Delivery.objects.filter(status__in=PENDING)
        released = {"claimed_by": "", "lease_until": None}
        for reason, ids in skipped.items():
            pending.filter(pk__in=[delivery_of[i] for i in ids]).update(
                status=DeliveryStatus.SKIPPED, reason=reason, **released
            )
        for reason, ids in held.items():
            for not_before, waiting in _next_chances(channel, reason, ids, now).items():
                pending.filter(pk__in=[delivery_of[i] for i in waiting]).update(
                    status=DeliveryStatus.DEFERRED, reason=reason, not_before=not_before, **released
                )
        kept = set(delivery_of).difference(*held.values(), *skipped.values())
        eligible.extend(delivery_of[contact_id] for contact_id in kept)
    return eligible


def _reasons(channel: str, on_channel: Sending, contact_ids: list[int], now) -> tuple:
    """The contacts who may not receive the message on ``channel`` now, by reason: those
    held (deferred) and those skipped."""
    # Two senders claiming for the same capped contact take turns here, so the second
    # counts the slot the first took.
    list(
        ContactChannel.objects.select_for_update()
        .filter(contact_id__in=contact_ids, channel=channel, frequency_count__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    reasons = (
        Contact.objects.filter(pk__in=contact_ids)
        .annotate(wp_reason=eligibility.reason_of(channel, on_channel, now))
        .exclude(wp_reason="")
        .values_list("pk", "wp_reason")
    )
    held = defaultdict(list)
    skipped = defaultdict(list)
    for contact_id, reason in reasons:
        (held if reason in HELD and on_channel.holds(reason) else skipped)[reason].append(
            contact_id
        )
    return held, skipped


def _next_chances(channel: str, reason: str, contact_ids, now) -> dict:
    """When each held contact may next take a message on ``channel``: contact ids by time."""
    settings_of = {
        row.contact_id: row
        for row in ContactChannel.objects.filter(contact_id__in=contact_ids, channel=channel)
    }
    chances = defaultdict(list)
    if reason == SkipReason.PAUSED:
        for contact_id in contact_ids:
            chances[_after_pause(settings_of[contact_id], now)].append(contact_id)
        return chances
    windows = compiler.FREQUENCY_WINDOWS
    longest = max(windows.values())
    sent = defaultdict(list)
    for contact_id, sent_at in (
        compiler.sent_messages()
        .filter(contact_id__in=contact_ids, channel=channel, sent_at__gt=now - longest)
        .order_by("-sent_at")
        .values_list("contact_id", "sent_at")
    ):
        sent[contact_id].append(sent_at)
    for contact_id in contact_ids:
        row = settings_of[contact_id]
        window = windows[FrequencyPeriod(row.frequency_period)]
        recent = [at for at in sent[contact_id] if at > now - window]
        # A slot frees when the oldest of the last ``count`` messages leaves the window.
        oldest = recent[row.frequency_count - 1] if len(recent) >= row.frequency_count else now
        chances[oldest + window].append(contact_id)
    return chances


def _after_pause(row: ContactChannel, now) -> datetime.datetime:
    """The start of the day after the pause (tomorrow for a pause without an end)."""
    today = timezone.localdate(now)
    last = row.pause_to if row.pause_to and row.pause_to >= today else today
    day = last + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@lru_cache(maxsize=16)
def _renderer(revision_id: int) -> MessageRenderer:
    return MessageRenderer(Revision.objects.get(pk=revision_id).as_object())


def _message_of(campaign: Campaign):
    return _renderer(campaign.message_revision_id).message


def send(claimed: Claimed, now=None) -> None:
    """Render and send the claimed deliveries, ``SEND_CHUNK_SIZE`` at a time, recording each
    chunk's results before handing over the next.

    The chunks go out over ``SEND_CONNECTIONS`` connections at once, each in a thread with
    its own database connection, so that one connection's wait for the provider's replies
    is another's turn to send. Inside a transaction (which other threads cannot see) they go
    out over one.
    """
    renderer = _renderer(claimed.campaign.message_revision_id)
    profiles = profiles_of([delivery.contact for delivery in claimed.deliveries])
    tracking = Tracking(claimed.campaign.pk, campaign_tracks(claimed.campaign))
    by_channel = defaultdict(list)
    for delivery in claimed.deliveries:
        by_channel[delivery.channel].append(delivery)
    for channel_key, deliveries in by_channel.items():
        channel = get_channel(channel_key)
        chunks = SimpleQueue()
        for chunk in batched(deliveries, get_setting("SEND_CHUNK_SIZE")):
            for delivery in chunk:
                delivery.address = channel.address_for(delivery.contact)
                delivery.message_id = message_id_of(delivery.pk)
            recipients = [Recipient(d.pk, d.contact, d.address, d.message_id) for d in chunk]
            outgoing = renderer.render(channel_key, recipients, profiles, tracking=tracking)
            chunks.put((chunk, outgoing))
        connections = 1 if connection.in_atomic_block else get_setting("SEND_CONNECTIONS")
        in_parallel(partial(_hand_over, claimed, channel, chunks, now), connections)


def _hand_over(claimed: Claimed, channel, chunks: SimpleQueue, now) -> None:
    """Take rendered chunks from ``chunks`` until none is left, and send each over one
    session of ``channel``."""
    with channel.session() as send_batch:
        while True:
            try:
                chunk, outgoing = chunks.get_nowait()
            except Empty:
                return
            wait_for_slots(channel.key, len(chunk))
            handed = Delivery.objects.filter(
                pk__in=[d.pk for d in chunk],
                claimed_by=claimed.token,
                status=DeliveryStatus.CLAIMED,
            ).update(status=DeliveryStatus.SENDING, **_address_of(channel))
            if handed:  # none: the lease ran out and the sweeper took the chunk back
                _record(chunk, send_batch(outgoing), now)


def _address_of(channel) -> dict:
    """The address column set from the contact's row as the chunk is handed over, so that
    a delivery whose result is never recorded still says where it went."""
    if not channel.address_field:
        return {}
    address = Contact.objects.filter(pk=OuterRef("contact_id")).values(channel.address_field)
    return {"address": Subquery(address[:1])}


#: What recording a result writes, in ``_record``'s order.
RECORDED = (
    "status",
    "reason",
    "not_before",
    "lease_until",
    "claimed_by",
    "message_id",
    "provider_id",
    "error",
    "sent_at",
)


def _record(chunk, results, now=None) -> None:
    now = now or timezone.now()
    max_attempts = get_setting("SEND_MAX_ATTEMPTS")
    rows = []
    for delivery, result in zip(chunk, results, strict=True):
        status, reason, not_before, claimed_by = DeliveryStatus.SENT, "", None, delivery.claimed_by
        sent_at = delivery.sent_at
        if result.status != SendStatus.SENT:
            sent_at = None  # the frequency slot is free again
            status = DeliveryStatus.FAILED
            if result.status == SendStatus.TEMPORARY_FAILURE and delivery.attempts < max_attempts:
                status, reason, claimed_by = DeliveryStatus.DEFERRED, SkipReason.RETRY, ""
                not_before = now + get_setting("SEND_RETRY_DELAY") * 2 ** (delivery.attempts - 1)
        rows.append(
            (
                status,
                reason,
                not_before,
                None,
                claimed_by,
                delivery.message_id,
                result.provider_id,
                result.error,
                sent_at,
                delivery.pk,
            )
        )
    update_rows(Delivery, list(RECORDED), rows)


def sweep(now=None) -> tuple[int, int]:
    """Take back what senders whose lease ran out left: claimed deliveries are queued
    again, deliveries handed to the provider become ``unknown``. Returns both counts."""
    now = now or timezone.now()
    expired = Delivery.objects.filter(lease_until__lt=now)
    requeued = expired.filter(status=DeliveryStatus.CLAIMED).update(
        status=DeliveryStatus.QUEUED, claimed_by="", lease_until=None, sent_at=None
    )
    unknown = expired.filter(status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.UNKNOWN, lease_until=None
    )
    return requeued, unknown


@dataclass(frozen=True)
class Progress:
    """What a send task left: more to do now, or the time of the next waiting delivery."""

    more: bool = False
    next_at: datetime.datetime | None = None


def run(campaign_id: int, budget: datetime.timedelta = TASK_BUDGET) -> Progress:
    """Send batches of the campaign until none is due or ``budget`` is spent."""
    sweep()
    deadline = time.monotonic() + budget.total_seconds()
    campaign = Campaign.objects.select_related("message_revision").get(pk=campaign_id)
    while campaign.status == CampaignStatus.SENDING:
        claimed = claim(campaign)
        if not claimed.leased:
            break
        send(claimed)
        if time.monotonic() > deadline:
            return Progress(more=True)
        campaign.refresh_from_db(fields=["status"])
    if campaign.status != CampaignStatus.SENDING or campaign.finish_if_done():
        return Progress()
    waiting = Delivery.objects.filter(campaign=campaign, status__in=PENDING)
    return Progress(next_at=waiting.aggregate(at=Min("not_before"))["at"])
