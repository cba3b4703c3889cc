"""A campaign's audience, who of it will receive the message and why not, and the plan.

Planning freezes the audience into delivery rows, one per contact and channel, made by the
database (``INSERT … SELECT``) with each row's reason already decided by the eligibility
policy: no contact is loaded into Python, however large the audience.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, F, IntegerField, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from ..audience import compiler
from ..channels.registry import get_channels
from ..db.insert_select import insert_from
from ..exceptions import InvalidChange
from ..models import (
    Campaign,
    Contact,
    Delivery,
    DeliveryStatus,
    MatchRule,
    Message,
    PreferenceRule,
)
from . import eligibility
from .eligibility import HELD, Sending

_NOBODY = Q(pk__in=[])

#: Whether a message has something to send on a channel, by channel key.
CONTENT = {
    "email": lambda message: bool(message.subject),
    "sms": lambda message: bool(message.sms_text.strip()),
}


def message_channels(message: Message, chosen=()) -> tuple[str, ...]:
    """The channels ``message`` goes out on: of ``chosen`` (all if empty), those it has
    content for, in the order of ``WAGTAIL_PREFERENCES["CHANNELS"]``."""
    return tuple(
        key
        for key in get_channels()
        if (not chosen or key in chosen) and CONTENT.get(key, lambda _m: False)(message)
    )


def criteria_problems(campaign: Campaign) -> list[str]:
    return [
        *(
            _("The criterion type “%(type)s” is no longer installed.") % {"type": kind}
            for kind in getattr(campaign.criteria, "unknown_types", [])
        ),
        *(
            str(problem)
            for criterion in campaign.criteria
            for problem in criterion.block.problems(criterion.value)
        ),
    ]


def audience(campaign: Campaign) -> Q:
    """Who the campaign is for, before the eligibility policy: the contacts matching its
    preferences, segments and criteria (all parts filled in, or any), minus exclusions.
    Without any part, nobody."""
    problems = criteria_problems(campaign)
    if problems:
        raise InvalidChange(
            _("The audience of “%(name)s” cannot be evaluated: %(problems)s")
            % {"name": campaign.name, "problems": " ".join(problems)}
        )
    parts = []
    preferences = list(campaign.preferences.all())
    if preferences:
        if campaign.preference_rule == PreferenceRule.ALL:
            parts.append(compiler.holds_all(preferences))
        else:
            parts.append(compiler.holds_any(preferences))
    segments = list(campaign.segments.all())
    if segments:
        parts.append(_member_of_any(segments))
    parts += [criterion.block.to_q(criterion.value) for criterion in campaign.criteria]
    if not parts:
        return _NOBODY
    condition = parts[0]
    for part in parts[1:]:
        condition = condition & part if campaign.match == MatchRule.ALL else condition | part
    excluded_preferences = list(campaign.exclude_preferences.all())
    if excluded_preferences:
        condition &= compiler.holds_none(excluded_preferences)
    excluded_segments = list(campaign.exclude_segments.all())
    if excluded_segments:
        condition &= ~_member_of_any(excluded_segments)
    return condition


def _member_of_any(segments) -> Q:
    condition = _NOBODY
    for segment in segments:
        condition |= compiler.member_of(segment)
    return condition


def sending_of(campaign: Campaign, message: Message | None = None) -> Sending:
    """What the eligibility policy needs to know of ``campaign`` (and of the version of its
    message being sent, ``message``; by default the campaign's message as it is now)."""
    message = message or campaign.message
    return Sending(
        channels=message_channels(message, campaign.channels),
        category_id=message.category_id,
        segment_ids=tuple(campaign.segments.values_list("pk", flat=True)),
        transactional=message.transactional,
        when_paused=campaign.when_paused,
        when_capped=campaign.when_capped,
    )


@dataclass
class ChannelBreakdown:
    """Of a campaign's audience, on one channel: who will be sent the message now, who
    will wait (and why), who will not receive it on this channel (and why)."""

    channel: str
    sending: int = 0
    waiting: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)

    @property
    def receiving(self) -> int:
        return self.sending + sum(self.waiting.values())


@dataclass
class Breakdown:
    audience: int
    channels: list[ChannelBreakdown]

    @property
    def receiving(self) -> int:
        return sum(channel.receiving for channel in self.channels)

    @property
    def not_receiving(self) -> int:
        """Contacts of the audience who receive the message on no channel (a contact
        receives it on one channel at most)."""
        return self.audience - self.receiving


def breakdown(campaign: Campaign, at: datetime.datetime | None = None) -> Breakdown:
    """Who of the audience will receive the message, and why the others will not: one
    query per channel, counted by the database."""
    at = at or timezone.now()
    sending = sending_of(campaign)
    contacts = Contact.objects.filter(audience(campaign))
    result = Breakdown(audience=0, channels=[])
    for channel in sending.channels:
        counts = (
            contacts.annotate(wp_reason=eligibility.reason_of(channel, sending, at))
            .order_by()
            .values("wp_reason")
            .annotate(n=Count("*"))
            .values_list("wp_reason", "n")
        )
        row = ChannelBreakdown(channel)
        for reason, n in counts:
            if not reason:
                row.sending += n
            elif reason in HELD and sending.holds(reason):
                row.waiting[reason] += n
            else:
                row.skipped[reason] += n
        result.channels.append(row)
    if result.channels:
        first = result.channels[0]
        result.audience = first.receiving + sum(first.skipped.values())
    return result


def plan(campaign: Campaign, message: Message, at: datetime.datetime | None = None) -> int:
    """Freeze the campaign's audience into deliveries of ``message`` (the version being
    sent): queued, waiting (a pause or a frequency limit, if the campaign waits for them)
    or skipped with the reason. Planning again adds no delivery twice. Returns the number
    of deliveries made."""
    at = at or timezone.now()
    sending = sending_of(campaign, message)
    contacts = Contact.objects.filter(audience(campaign))
    made = 0
    for channel in sending.channels:
        made += insert_from(
            Delivery,
            contacts,
            {
                "campaign": Value(campaign.pk, output_field=IntegerField()),
                "contact": F("pk"),
                "channel": Value(channel),
                "status": Value(DeliveryStatus.SKIPPED),
                "reason": eligibility.reason_of(channel, sending, at),
                "marketing": Value(not sending.transactional),
                "attempts": Value(0),
                "address": Value(""),
                "message_id": Value(""),
                "provider_id": Value(""),
                "error": Value(""),
                "claimed_by": Value(""),
                "created_at": Value(at),
            },
            ignore_conflicts=True,
        )
    deliveries = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.SKIPPED)
    deliveries.filter(reason="").update(status=DeliveryStatus.QUEUED)
    waiting = [reason for reason in HELD if sending.holds(reason)]
    deliveries.filter(reason__in=waiting).update(status=DeliveryStatus.DEFERRED)
    return made


def begin(campaign: Campaign) -> int:
    """Start sending ``campaign``: fix the message's live version and plan the deliveries,
    in one transaction. Returns the number of deliveries planned."""
    message = Message.objects.select_related("live_revision").get(pk=campaign.message_id)
    revision = message.live_revision
    if not message.live or revision is None:
        raise InvalidChange(
            _("Publish the message “%(message)s” before sending it.") % {"message": message}
        )
    with transaction.atomic():
        campaign.begin_sending(revision)
        return plan(campaign, revision.as_object())
