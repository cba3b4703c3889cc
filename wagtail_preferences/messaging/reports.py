"""What campaigns' deliveries say, counted by the database: totals by status and reason,
the sending rate, and which contacts of an audience a rule of the policy keeps out."""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from ..models import Campaign, Contact, ContactChannel, Delivery, DeliveryStatus
from . import eligibility, planning

#: The window the sending rate is measured over.
RATE_WINDOW = datetime.timedelta(minutes=1)
#: Contacts listed for one reason.
REASON_LIST_SIZE = 50

#: Deliveries not yet sent, nor given up on: what the campaign lists still have to do.
TO_DO = (
    DeliveryStatus.QUEUED,
    DeliveryStatus.DEFERRED,
    DeliveryStatus.CLAIMED,
    DeliveryStatus.SENDING,
)


@dataclass
class DeliveryCounts:
    """A campaign's deliveries by status; the skipped and waiting ones also by reason."""

    statuses: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    waiting: Counter = field(default_factory=Counter)
    sent_last_minute: int = 0

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def to_do(self) -> int:
        return sum(self.statuses[status] for status in TO_DO)

    @property
    def per_second(self) -> float:
        return self.sent_last_minute / RATE_WINDOW.total_seconds()


def delivery_counts(campaign: Campaign, now: datetime.datetime | None = None) -> DeliveryCounts:
    """The campaign's deliveries counted, with those sent in the last minute: one query."""
    since = (now or timezone.now()) - RATE_WINDOW
    rows = (
        Delivery.objects.filter(campaign=campaign)
        .order_by()
        .values_list("status", "reason")
        .annotate(
            n=Count("pk"),
            recent=Count("pk", filter=Q(status=DeliveryStatus.SENT, sent_at__gte=since)),
        )
    )
    counts = DeliveryCounts()
    for status, reason, n, recent in rows:
        counts.statuses[status] += n
        counts.sent_last_minute += recent
        if status == DeliveryStatus.SKIPPED:
            counts.skipped[reason] += n
        elif status == DeliveryStatus.DEFERRED:
            counts.waiting[reason] += n
    return counts


def status_counts(campaign_ids) -> dict[int, Counter]:
    """Deliveries by status for each of several campaigns: one query."""
    counts: dict[int, Counter] = {pk: Counter() for pk in campaign_ids}
    rows = (
        Delivery.objects.filter(campaign__in=campaign_ids)
        .order_by()
        .values_list("campaign", "status")
        .annotate(n=Count("pk"))
    )
    for campaign_id, status, n in rows:
        counts[campaign_id][status] = n
    return counts


def contacts_for_reason(
    campaign: Campaign,
    channel: str,
    reason: str,
    at: datetime.datetime | None = None,
    limit: int = REASON_LIST_SIZE,
):
    """The first ``limit`` contacts of the campaign's audience whom the policy keeps from
    the message on ``channel`` for ``reason``, each with the channel's pause end
    (``wp_pause_to``) and frequency limit (``wp_frequency_count``, ``wp_frequency_period``):
    one query."""
    at = at or timezone.now()
    sending = planning.sending_of(campaign)
    settings = ContactChannel.objects.filter(contact=OuterRef("pk"), channel=channel)
    return (
        Contact.objects.filter(planning.audience(campaign))
        .annotate(wp_reason=eligibility.reason_of(channel, sending, at))
        .filter(wp_reason=reason)
        .annotate(
            **{
                f"wp_{name}": Subquery(settings.values(name)[:1])
                for name in ("pause_to", "frequency_count", "frequency_period")
            }
        )
        .only("pk", "email", "status")
        .order_by("email")[:limit]
    )
