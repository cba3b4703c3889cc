"""How the audience grows: contacts by status now, and new contacts per week."""

import datetime
from collections import Counter

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from ..models import Contact, ContactStatus

#: Weeks of growth the Overview shows.
GROWTH_WEEKS = 12


def contacts_by_status() -> list[tuple[str, str, int]]:
    """(status, label, contacts) for every status, in the order of ``ContactStatus``: one
    query."""
    counts = Counter(dict(Contact.objects.order_by().values_list("status").annotate(n=Count("pk"))))
    return [(value, label, counts[value]) for value, label in ContactStatus.choices]


def new_contacts_per_week(
    weeks: int = GROWTH_WEEKS, now: datetime.datetime | None = None
) -> list[tuple[datetime.date, int]]:
    """(Monday, contacts created that week) for the last ``weeks`` weeks, this one
    included, oldest first, in the current time zone: one query."""
    zone = timezone.get_current_timezone()
    today = timezone.localtime(now or timezone.now(), zone).date()
    this_monday = today - datetime.timedelta(days=today.weekday())
    mondays = [this_monday - datetime.timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    since = timezone.make_aware(datetime.datetime.combine(mondays[0], datetime.time()), zone)
    rows = (
        Contact.objects.filter(created_at__gte=since)
        .order_by()
        .values_list(TruncWeek("created_at", tzinfo=zone))
        .annotate(n=Count("pk"))
    )
    counts = {timezone.localtime(week, zone).date(): n for week, n in rows}
    return [(monday, counts.get(monday, 0)) for monday in mondays]
