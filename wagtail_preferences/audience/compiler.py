"""The audience rules, each defined once, as SQL conditions on contacts.

Every rule returns a ``Q`` to filter ``Contact`` rows: segment criteria, the admin's filters,
exports, profiles and services all ask here, so "who holds a preference" or "who may be sent
an email now" means the same everywhere and is one query however many contacts there are.

The ``*_rows`` functions give the rows behind a rule (for example the category opt-outs of a
contact) for callers that join or aggregate them rather than filter by them.
"""

import datetime
from collections.abc import Iterable

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from ..models import (
    CategoryChoice,
    ContactChannel,
    ContactPreference,
    ContactStatus,
    Delivery,
    FormSubmission,
    FrequencyPeriod,
    SegmentMember,
    SubmissionStatus,
    Suppression,
)
from ..models.deliveries import HOLDS_SLOT

#: The statuses that receive marketing messages.
RECEIVING = (ContactStatus.CONFIRMED,)

#: How far back a frequency cap counts, by its period: a rolling window ending now.
FREQUENCY_WINDOWS = {
    FrequencyPeriod.DAY: datetime.timedelta(days=1),
    FrequencyPeriod.WEEK: datetime.timedelta(days=7),
    FrequencyPeriod.MONTH: datetime.timedelta(days=30),
}

_CONTACT = OuterRef("pk")


def _exists(rows: QuerySet) -> Q:
    return Q(Exists(rows))


# Preferences -------------------------------------------------------------------------------


def preference_rows() -> QuerySet:
    """Who holds which preference: one row per contact and preference held."""
    return ContactPreference.objects.all()


def holds_any(preferences) -> Q:
    """Holds any of ``preferences`` (instances, ids or a queryset)."""
    return _exists(preference_rows().filter(contact=_CONTACT, preference__in=preferences))


def holds_all(preferences: Iterable) -> Q:
    condition = Q()
    for preference in preferences:
        condition &= _exists(preference_rows().filter(contact=_CONTACT, preference=preference))
    return condition


def holds_none(preferences) -> Q:
    return ~holds_any(preferences)


# Categories --------------------------------------------------------------------------------


def category_opt_out_rows() -> QuerySet:
    """Who opted out of which category; without a row, a contact receives a category."""
    return CategoryChoice.objects.opt_outs()


def opted_out_of(category) -> Q:
    return _exists(category_opt_out_rows().filter(contact=_CONTACT, category=category))


def subscribed_to(category) -> Q:
    """Has not opted out of ``category`` (whatever the contact's status)."""
    return ~opted_out_of(category)


# Channels ----------------------------------------------------------------------------------


def _channel_rows(channel: str) -> QuerySet:
    return ContactChannel.objects.filter(contact=_CONTACT, channel=channel)


def channel_disabled(channel: str) -> Q:
    """Turned ``channel`` off ("do not contact"); without a row a channel is enabled."""
    return _exists(_channel_rows(channel).filter(enabled=False))


def channel_enabled(channel: str) -> Q:
    return ~channel_disabled(channel)


def prefers(channel: str) -> Q:
    """Chose ``channel`` as their preferred one."""
    return _exists(_channel_rows(channel).filter(is_preferred=True))


def suppressed(channel: str, address_field: str) -> Q:
    """The contact's address on ``channel`` (the field ``address_field``) is blocked."""
    return _exists(Suppression.objects.filter(channel=channel, address=OuterRef(address_field)))


def _pause_covers(day: datetime.date) -> Q:
    """A pause window, open at either end, that includes ``day``."""
    return (
        (Q(pause_from__isnull=False) | Q(pause_to__isnull=False))
        & (Q(pause_from__isnull=True) | Q(pause_from__lte=day))
        & (Q(pause_to__isnull=True) | Q(pause_to__gte=day))
    )


def paused_on(channel: str, day: datetime.date) -> Q:
    """Has paused ``channel`` for a window that includes ``day`` (a date in the site's zone)."""
    return _exists(_channel_rows(channel).filter(_pause_covers(day)))


def over_frequency_cap(channel: str, at: datetime.datetime, sent: QuerySet | None) -> Q:
    """Has already been sent, within the rolling window of its cap, as many messages on
    ``channel`` as its frequency allows.

    ``sent`` holds one row per message sent, with ``contact``, ``channel`` and ``sent_at``
    fields; ``None`` means nothing has been sent yet, so nobody is over a cap.
    """
    if sent is None:
        return Q(pk__in=[])
    capped = Q()
    for period, window in FREQUENCY_WINDOWS.items():
        count = Subquery(
            sent.filter(contact=OuterRef("contact"), channel=channel, sent_at__gt=at - window)
            .order_by()
            .values("contact")
            .annotate(count=Count("pk"))
            .values("count")
        )
        # No message in the window gives NULL, which is under every cap.
        capped |= Q(frequency_period=period, frequency_count__lte=count)
    return _exists(_channel_rows(channel).filter(capped, frequency_count__isnull=False))


def sent_messages() -> QuerySet:
    """The marketing messages sent, or on their way, that count towards frequency caps: a
    delivery holds its slot from the moment it is claimed for sending (``sent_at``)."""
    return Delivery.objects.filter(marketing=True, status__in=HOLDS_SLOT, sent_at__isnull=False)


def reachable_on(channel: str, at: datetime.datetime | None = None, *, sent=None) -> Q:
    """May be sent a marketing message on ``channel`` at ``at`` (default now): confirmed,
    the channel not turned off, not paused that day, and under its frequency cap.

    ``sent`` counts the frequency caps (see ``over_frequency_cap``); by default the
    messages recorded by ``sent_messages``. Whether the contact has an address on the channel
    is the channel's own rule (``Channel.address_for``).
    """
    at = at or timezone.now()
    sent = sent_messages() if sent is None else sent
    return (
        Q(status__in=RECEIVING)
        & channel_enabled(channel)
        & ~paused_on(channel, timezone.localdate(at))
        & ~over_frequency_cap(channel, at, sent)
    )


# Segments and forms ------------------------------------------------------------------------


def membership_rows(model=SegmentMember) -> QuerySet:
    """Who is a stored member of which segment (or, with ``model``, was added to or opted
    out of one by hand: ``SegmentInclusion``, ``SegmentOptOut``)."""
    return model.objects.all()


def member_of(segment, model=SegmentMember) -> Q:
    return _exists(membership_rows(model).filter(contact=_CONTACT, segment=segment))


def submitted_form(pages=None, since: datetime.datetime | None = None) -> Q:
    """Sent a form that was applied or confirmed: on one of ``pages`` (any page if
    ``None``), since ``since`` (any time if ``None``)."""
    rows = FormSubmission.objects.filter(
        contact=_CONTACT, status__in=[SubmissionStatus.APPLIED, SubmissionStatus.CONFIRMED]
    )
    if pages is not None:
        rows = rows.filter(page__in=pages)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return _exists(rows)
