"""What became of a campaign's messages, counted by the database: the summary figures and
their rates, the links and their clicks, and the same over time.

Every function runs a fixed number of queries, however many deliveries a campaign has.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import Trunc
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import (
    Campaign,
    CampaignLink,
    Delivery,
    DeliveryOutcome,
    DeliveryStatus,
    Engagement,
    EngagementKind,
)


@dataclass(frozen=True)
class Threshold:
    """A rate that should stay low: ``warn`` above which to look closer, ``limit`` above
    which mailbox providers start to refuse or junk the sender's mail (None: no hard limit)."""

    warn: float
    limit: float | None = None

    def level(self, rate: float | None) -> str:
        """ "ok", "warning" or "over"."""
        if rate is None or rate <= self.warn:
            return "ok"
        if self.limit is not None and rate >= self.limit:
            return "over"
        return "warning"


#: The thresholds a report compares its rates with (documented in docs/reports.md).
#: Complaints: Gmail and Yahoo's sender requirements (2024) refuse bulk senders at 0.3% and
#: ask them to stay under 0.1%. Bounces: above 2% a list usually holds old or bought
#: addresses, which providers read as a spammer's.
THRESHOLDS = {
    "complaint_rate": Threshold(warn=0.001, limit=0.003),
    "bounce_rate": Threshold(warn=0.02),
}

#: Links listed in a report, most clicked first.
LINKS_LISTED = 200
#: A campaign's time series goes per hour while it spans at most this long after sending
#: started, per day beyond.
HOURLY_SPAN = datetime.timedelta(hours=48)
#: The longest daily series, in days from the start of sending.
DAILY_SPAN = 90


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Summary:
    """A campaign's figures. Opens and clicks count deliveries, not events: a contact who
    opens three times is one open."""

    sent: int = 0
    delivered: int = 0
    hard_bounces: int = 0
    soft_bounces: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    opened: int = 0
    human_opens: int = 0
    unique_clicks: int = 0
    human_clicks: int = 0
    machine_clicks: int = 0

    @property
    def bounces(self) -> int:
        return self.hard_bounces + self.soft_bounces

    @property
    def reached(self) -> int:
        """Sent and not bounced: the base of the complaint, open and click rates, which
        holds whether or not the provider reports deliveries."""
        return max(self.sent - self.bounces, 0)

    @property
    def machine_opens(self) -> int:
        """Deliveries opened by machines only (mail privacy proxies, scanners)."""
        return self.opened - self.human_opens

    @property
    def has_provider_reports(self) -> bool:
        """Whether the provider reported any delivery, bounce or complaint."""
        return bool(self.delivered or self.bounces or self.complaints)

    @property
    def delivered_rate(self):
        return _rate(self.delivered, self.sent)

    @property
    def bounce_rate(self):
        return _rate(self.bounces, self.sent)

    @property
    def complaint_rate(self):
        return _rate(self.complaints, self.reached)

    @property
    def unsubscribe_rate(self):
        return _rate(self.unsubscribes, self.reached)

    @property
    def open_rate(self):
        return _rate(self.human_opens, self.reached)

    @property
    def click_rate(self):
        return _rate(self.unique_clicks, self.reached)

    def level(self, rate_name: str) -> str:
        threshold = THRESHOLDS.get(rate_name)
        return threshold.level(getattr(self, rate_name)) if threshold else "ok"


def summaries(campaign_ids) -> dict[int, Summary]:
    """The figures of each of several campaigns: two queries, however many."""
    found = {pk: Summary() for pk in campaign_ids}
    outcome = {
        "delivered": Q(outcome__in=[DeliveryOutcome.DELIVERED, DeliveryOutcome.COMPLAINED]),
        "hard_bounces": Q(outcome=DeliveryOutcome.HARD_BOUNCE),
        "soft_bounces": Q(outcome=DeliveryOutcome.SOFT_BOUNCE),
        "complaints": Q(outcome=DeliveryOutcome.COMPLAINED),
        "unsubscribes": Q(unsubscribed_at__isnull=False),
    }
    deliveries = (
        Delivery.objects.filter(campaign__in=campaign_ids)
        .order_by()
        .values("campaign")
        .annotate(
            sent=Count("pk", filter=Q(status=DeliveryStatus.SENT)),
            **{name: Count("pk", filter=condition) for name, condition in outcome.items()},
        )
    )
    _fill(found, deliveries)

    human = Q(machine=False)
    opens, clicks = Q(kind=EngagementKind.OPEN), Q(kind=EngagementKind.CLICK)
    engagements = (
        Engagement.objects.filter(campaign__in=campaign_ids)
        .order_by()
        .values("campaign")
        .annotate(
            opened=Count("delivery", filter=opens, distinct=True),
            human_opens=Count("delivery", filter=opens & human, distinct=True),
            unique_clicks=Count("delivery", filter=clicks & human, distinct=True),
            human_clicks=Count("pk", filter=clicks & human),
            machine_clicks=Count("pk", filter=clicks & ~human),
        )
    )
    _fill(found, engagements)
    return found


def _fill(found: dict[int, Summary], rows) -> None:
    """Set each row's counts (by field name) on the summary of the row's campaign."""
    for row in rows:
        summary = found[row.pop("campaign")]
        for name, value in row.items():
            setattr(summary, name, value)


def links(campaign: Campaign, limit: int = LINKS_LISTED) -> list[CampaignLink]:
    """The campaign's links, most clicked first, each with ``unique_clickers`` (deliveries
    with a human click), ``human_clicks`` and ``machine_clicks``: one query."""
    human = Q(clicks__machine=False)
    return list(
        CampaignLink.objects.filter(campaign=campaign)
        .annotate(
            unique_clickers=Count("clicks__delivery", filter=human, distinct=True),
            human_clicks=Count("clicks", filter=human),
            machine_clicks=Count("clicks", filter=~human),
        )
        .order_by("-unique_clickers", "-human_clicks", "number")[:limit]
    )


#: The series over time, in the order they are drawn.
SERIES = {
    "delivered": _("Delivered"),
    "opens": _("Opens"),
    "clicks": _("Clicks"),
    "bounces": _("Bounces"),
}


@dataclass
class TimeSeries:
    """Counts per period from the start of sending: ``unit`` is "hour" or "day"; ``starts``
    the periods' starts (in the current time zone); ``values`` a list per name of
    ``SERIES``, as long as ``starts``."""

    unit: str
    starts: list[datetime.datetime] = field(default_factory=list)
    values: dict[str, list[int]] = field(default_factory=dict)

    def rows(self):
        """(start, value of each series) per period."""
        return [
            (start, [self.values[name][index] for name in SERIES])
            for index, start in enumerate(self.starts)
        ]


def _periods(start: datetime.datetime, end: datetime.datetime, unit: str):
    """The starts of the periods of ``unit`` from the one holding ``start`` to the one
    holding ``end``, in the current time zone."""
    zone = timezone.get_current_timezone()
    local = timezone.localtime(start, zone).replace(minute=0, second=0, microsecond=0)
    if unit == "hour":
        step = datetime.timedelta(hours=1)
        current = local
        while current <= end:
            yield current
            current = timezone.localtime(current + step, zone)
        return
    day = local.date()
    while (
        current := timezone.make_aware(datetime.datetime.combine(day, datetime.time()), zone)
    ) <= end:
        yield current
        day += datetime.timedelta(days=1)


def time_series(campaign: Campaign, now: datetime.datetime | None = None) -> TimeSeries | None:
    """Delivered messages, opens, clicks and bounces per period since sending started: two
    queries. None before sending starts.

    Per hour while sending started less than ``HOURLY_SPAN`` ago, per day after that, for
    at most ``DAILY_SPAN`` days. Deliveries and bounces count when the provider reported
    them; opens and clicks are the deliveries a person opened or clicked in each period,
    so one who opens on two days counts on both days. What happened before sending started
    (a clock off by a little) counts in the first period.
    """
    if campaign.started_at is None:
        return None
    now = now or timezone.now()
    start = campaign.started_at
    unit = "hour" if now - start < HOURLY_SPAN else "day"
    end = max(start, min(now, start + datetime.timedelta(days=DAILY_SPAN)))
    series = TimeSeries(unit=unit, starts=list(_periods(start, end, unit)))
    first, index = series.starts[0], {period: i for i, period in enumerate(series.starts)}
    series.values = {name: [0] * len(series.starts) for name in SERIES}
    zone = timezone.get_current_timezone()

    def add(name, period, n):
        position = index.get(max(period, first))
        if position is not None:
            series.values[name][position] += n

    outcomes = (
        Delivery.objects.filter(campaign=campaign, outcome_at__lte=end)
        .exclude(outcome="")
        .order_by()
        .values_list(Trunc("outcome_at", unit, tzinfo=zone), "outcome")
        .annotate(n=Count("pk"))
    )
    for period, outcome, n in outcomes:
        if outcome in (DeliveryOutcome.SOFT_BOUNCE, DeliveryOutcome.HARD_BOUNCE):
            add("bounces", period, n)
        else:
            add("delivered", period, n)
    engagements = (
        Engagement.objects.filter(campaign=campaign, machine=False, created_at__lte=end)
        .order_by()
        .values_list(Trunc("created_at", unit, tzinfo=zone), "kind")
        .annotate(n=Count("delivery", distinct=True))
    )
    for period, kind, n in engagements:
        add("opens" if kind == EngagementKind.OPEN else "clicks", period, n)
    return series


def last_campaigns(count: int = 5) -> list[Campaign]:
    """The ``count`` campaigns that started sending last, newest first, each with its
    ``summary``: three queries."""
    campaigns = list(
        Campaign.objects.filter(started_at__isnull=False).order_by("-started_at", "-pk")[:count]
    )
    found = summaries([campaign.pk for campaign in campaigns])
    for campaign in campaigns:
        campaign.summary = found[campaign.pk]
    return campaigns


@dataclass
class DeliveryEngagement:
    """What one delivery's recipient did: opens by a person and by machines, and the links
    a person clicked, each with its clicks."""

    human_opens: int = 0
    machine_opens: int = 0
    machine_clicks: int = 0
    clicked: dict[str, int] = field(default_factory=dict)


def engagement_by_delivery(delivery_ids) -> dict[int, DeliveryEngagement]:
    """The opens and clicks of each of several deliveries: one query, one row per delivery,
    kind, machine or person, and link."""
    found = {pk: DeliveryEngagement() for pk in delivery_ids}
    rows = (
        Engagement.objects.filter(delivery__in=delivery_ids)
        .order_by()
        .values_list("delivery", "kind", "machine", "link__url")
        .annotate(n=Count("pk"))
        .order_by("delivery", "link__url")
    )
    for delivery_id, kind, machine, link_url, n in rows:
        engagement = found[delivery_id]
        if kind == EngagementKind.OPEN:
            if machine:
                engagement.machine_opens += n
            else:
                engagement.human_opens += n
        elif machine:
            engagement.machine_clicks += n
        elif link_url:
            engagement.clicked[link_url] = engagement.clicked.get(link_url, 0) + n
    return found
