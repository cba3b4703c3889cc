from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from .. import signals
from ..channels.registry import get_channel
from ..exceptions import InvalidChange
from ..models import ConsentSubject, ContactChannel, FrequencyPeriod
from .consent_log import record
from .contacts import lock_contact
from .origin import Origin


@dataclass(frozen=True)
class ChannelSettings:
    """A contact's settings for one channel; the defaults are what a missing row means."""

    enabled: bool = True
    frequency_count: int | None = None
    frequency_period: str = ""
    pause_from: date | None = None
    pause_to: date | None = None
    is_preferred: bool = False

    def __post_init__(self):
        if self.frequency_count is not None and self.frequency_count < 1:
            raise InvalidChange(_("A frequency needs at least one message."))
        if bool(self.frequency_count) != bool(self.frequency_period):
            raise InvalidChange(_("A frequency needs both a number of messages and a period."))
        if self.frequency_period and self.frequency_period not in FrequencyPeriod.values:
            raise InvalidChange(
                _("Unknown frequency period %(period)s.") % {"period": repr(self.frequency_period)}
            )
        if self.pause_from and self.pause_to and self.pause_from > self.pause_to:
            raise InvalidChange(_("A pause cannot end before it starts."))

    @classmethod
    def of(cls, row: ContactChannel | None) -> "ChannelSettings":
        if row is None:
            return cls()
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})

    def logged(self) -> dict[str, object]:
        """The values a consent event records, grouped the way an editor reads them."""
        return {
            "enabled": self.enabled,
            "frequency": [self.frequency_count, self.frequency_period]
            if self.frequency_count
            else None,
            "pause": [_iso(self.pause_from), _iso(self.pause_to)]
            if self.pause_from or self.pause_to
            else None,
            "preferred": self.is_preferred,
        }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def channel_settings(contact) -> dict[str, ChannelSettings]:
    """The settings a contact has for each channel it has a row for."""
    return {row.channel: ChannelSettings.of(row) for row in contact.channel_settings.all()}


@transaction.atomic
def update_channels(
    contact, wanted: Mapping[str, ChannelSettings], origin: Origin
) -> frozenset[str]:
    """Give ``contact`` the channel settings in ``wanted``; other channels stay as they are.

    At most one channel may be preferred: preferring one un-prefers the others. Returns the
    keys of the channels that changed.
    """
    for key in wanted:
        get_channel(key)
    lock_contact(contact)
    rows = {
        row.channel: row
        for row in ContactChannel.objects.select_for_update().filter(contact=contact)
    }
    wanted = dict(wanted)
    if sum(s.is_preferred for s in wanted.values()) > 1:
        raise InvalidChange(_("Only one channel can be preferred."))
    if any(s.is_preferred for s in wanted.values()):
        for key, row in rows.items():
            if row.is_preferred and key not in wanted:
                wanted[key] = ChannelSettings(
                    **{**asdict(ChannelSettings.of(row)), "is_preferred": False}
                )

    current = {key: ChannelSettings.of(rows.get(key)) for key in wanted}
    changed = {key: (current[key], new) for key, new in wanted.items() if current[key] != new}
    if not changed:
        return frozenset()
    # Clear the old preferred channel first: the database allows one per contact.
    ContactChannel.objects.filter(contact=contact, channel__in=changed, is_preferred=True).update(
        is_preferred=False
    )
    ContactChannel.objects.bulk_create(
        [
            ContactChannel(contact=contact, channel=key, **asdict(new))
            for key, (_, new) in changed.items()
        ],
        update_conflicts=True,
        unique_fields=["contact", "channel"],
        update_fields=[*(f.name for f in fields(ChannelSettings)), "updated_at"],
    )
    events = []
    for key, (old, new) in changed.items():
        before, after = old.logged(), new.logged()
        events += [
            origin.event(
                contact.pk,
                ConsentSubject.CHANNEL,
                subject_label=key,
                field=name,
                old_value=before[name],
                new_value=after[name],
            )
            for name in after
            if before[name] != after[name]
        ]
    record(events)
    signals.channels_changed.send(
        sender=ContactChannel,
        contact_ids=frozenset([contact.pk]),
        channels=frozenset(changed),
        origin=origin,
    )
    return frozenset(changed)
