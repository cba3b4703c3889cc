"""``reachable_on`` agrees with a plain-Python reading of the same rules.

Hypothesis draws 4-10 contacts, each with a status, settings per channel (turned off, a pause
window around today, a frequency cap) and messages already sent on each channel some hours
ago. For each channel, the contacts the compiled SQL finds reachable now must be exactly those
the rules below say. Each example is built inside a transaction that is rolled back."""

import dataclasses
import datetime

import pytest
from django.db import transaction
from hypothesis import given, note
from hypothesis import strategies as st

from tests.audience.property_helpers import NOW, database_examples, day
from tests.testapp.models import SentMessage
from wagtail_preferences.audience import compiler
from wagtail_preferences.models import Contact, ContactChannel, ContactStatus, FrequencyPeriod

CHANNELS = ("email", "sms")
WINDOW_HOURS = {FrequencyPeriod.DAY: 24, FrequencyPeriod.WEEK: 7 * 24, FrequencyPeriod.MONTH: 720}
# Hours ago, around the edges of each window but never on one.
SENT_HOURS = [1, 23, 25, 7 * 24 - 1, 7 * 24 + 1, 719, 721]


@dataclasses.dataclass(frozen=True)
class Settings:
    enabled: bool
    pause_from: int | None  # days from today
    pause_to: int | None
    cap: tuple[int, str] | None  # messages per period


@dataclasses.dataclass(frozen=True)
class Person:
    status: str
    channels: dict[str, Settings]
    sent: tuple[tuple[str, int], ...]  # (channel, hours ago)


days = st.sampled_from([None, -2, -1, 0, 1, 2])


@st.composite
def channel_settings(draw):
    start, end = draw(days), draw(days)
    if start is not None and end is not None and start > end:
        start, end = end, start
    cap = draw(st.none() | st.tuples(st.integers(1, 3), st.sampled_from(FrequencyPeriod.values)))
    return Settings(enabled=draw(st.booleans()), pause_from=start, pause_to=end, cap=cap)


people = st.builds(
    Person,
    status=st.sampled_from(ContactStatus.values),
    channels=st.fixed_dictionaries({key: st.none() | channel_settings() for key in CHANNELS}).map(
        lambda rows: {key: row for key, row in rows.items() if row is not None}
    ),
    sent=st.lists(
        st.tuples(st.sampled_from(CHANNELS), st.sampled_from(SENT_HOURS)), max_size=6
    ).map(tuple),
)


def reachable(person: Person, channel: str) -> bool:
    """The plain-Python reading of the rules."""
    if person.status != ContactStatus.CONFIRMED:
        return False
    row = person.channels.get(channel)
    if row is None:
        return True
    if not row.enabled:
        return False
    paused = (row.pause_from is not None or row.pause_to is not None) and (
        (row.pause_from is None or row.pause_from <= 0)
        and (row.pause_to is None or row.pause_to >= 0)
    )
    if paused:
        return False
    if row.cap is not None:
        count, period = row.cap
        window = WINDOW_HOURS[period]
        sent = sum(1 for key, hours in person.sent if key == channel and hours < window)
        if sent >= count:
            return False
    return True


def build(persons: list[Person]) -> list[Contact]:
    contacts = Contact.objects.bulk_create(
        Contact(email=f"contact{i}@example.com", status=person.status)
        for i, person in enumerate(persons)
    )
    pairs = list(zip(contacts, persons, strict=True))
    ContactChannel.objects.bulk_create(
        ContactChannel(
            contact=contact,
            channel=key,
            enabled=row.enabled,
            pause_from=day(row.pause_from),
            pause_to=day(row.pause_to),
            frequency_count=row.cap[0] if row.cap else None,
            frequency_period=row.cap[1] if row.cap else "",
        )
        for contact, person in pairs
        for key, row in person.channels.items()
    )
    SentMessage.objects.bulk_create(
        SentMessage(contact=contact, channel=key, sent_at=NOW - datetime.timedelta(hours=hours))
        for contact, person in pairs
        for key, hours in person.sent
    )
    return contacts


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_now")
@database_examples(80)
@given(persons=st.lists(people, min_size=4, max_size=10))
def test_reachable_on_agrees_with_python(persons):
    with transaction.atomic():
        contacts = build(persons)
        for channel in CHANNELS:
            condition = compiler.reachable_on(channel, sent=SentMessage.objects.all())
            found = set(Contact.objects.filter(condition).values_list("pk", flat=True))
            expected = {
                contact.pk
                for contact, person in zip(contacts, persons, strict=True)
                if reachable(person, channel)
            }
            note(f"{channel}: {persons!r}")
            assert found == expected
        transaction.set_rollback(True)
