"""The compiled segment query agrees with a plain-Python reading of the same criteria.

Hypothesis draws 5-12 contacts (status, locale, email domain, names, preferences held,
category choices, channel settings, creation date, custom data, membership of another
segment) and three random criteria of each type. Each criterion alone, then a segment of a
few of them under a random all/any rule, must match exactly the contacts that ``holds``
says. Each example is built inside a transaction that is rolled back afterwards."""

import dataclasses
import datetime

import pytest
from django.db import transaction
from hypothesis import given, note
from hypothesis import strategies as st

from tests import segment_helpers as crit
from tests.audience.property_helpers import NOW, TODAY, database_examples, day
from wagtail_preferences.models import (
    Category,
    CategoryChoice,
    ChangePath,
    Contact,
    ContactChannel,
    ContactPreference,
    ContactStatus,
    MatchRule,
    Preference,
    Segment,
    SegmentMember,
)

PREFERENCES = 3
CATEGORIES = 2
CHANNELS = ("email", "sms")

LOCALES = ["", "nl", "nl-BE", "NL-be", "nld", "en", "en-GB", "fr"]
DOMAINS = ["example.com", "Example.COM", "sub.example.com", "example.org", "notexample.com"]
NAMES = ["", "Ann", "Anna", "Joanna", "Bob", "Smith", "Annan", "Jones", "de Vries"]
DATA_KEYS = ["plan", "size", "vip"]
# Days back from today for creation dates and criteria: few, so that they often meet.
DAYS = [0, 1, 2, 7, 8, 30, 31]
DATA_VALUES = st.one_of(
    st.sampled_from(["gold", "Gold", "golden", "silver", "5", ""]),
    st.sampled_from([5, 50]),
    st.booleans(),
)


@dataclasses.dataclass(frozen=True)
class ChannelRow:
    enabled: bool
    pause_from: int | None  # days from today
    pause_to: int | None


@dataclasses.dataclass(frozen=True)
class Person:
    status: str
    locale: str
    domain: str
    first_name: str
    last_name: str
    preferences: frozenset[int]  # indices into the preferences built
    categories: tuple[bool | None, ...]  # per category: no choice, subscribed, opted out
    channels: dict[str, ChannelRow]
    created_ago: datetime.timedelta
    data: dict
    in_other_segment: bool


day_offsets = st.sampled_from([None, -3, -1, 0, 1, 3])


@st.composite
def channel_rows(draw):
    start, end = draw(day_offsets), draw(day_offsets)
    if start is not None and end is not None and start > end:
        start, end = end, start
    return ChannelRow(enabled=draw(st.booleans()), pause_from=start, pause_to=end)


people = st.builds(
    Person,
    status=st.sampled_from(ContactStatus.values),
    locale=st.sampled_from(LOCALES),
    domain=st.sampled_from(DOMAINS),
    first_name=st.sampled_from(NAMES),
    last_name=st.sampled_from(NAMES),
    preferences=st.frozensets(st.integers(0, PREFERENCES - 1)),
    categories=st.tuples(*[st.sampled_from([None, True, False])] * CATEGORIES),
    channels=st.fixed_dictionaries(
        {key: st.one_of(st.none(), channel_rows(), channel_rows()) for key in CHANNELS}
    ).map(lambda rows: {key: row for key, row in rows.items() if row is not None}),
    # Whole days and a few hours: never near midnight nor near a "within N days" boundary.
    created_ago=st.builds(
        lambda days, hours: datetime.timedelta(days=days, hours=hours),
        st.sampled_from(DAYS),
        st.sampled_from([3, 9, 15, 21]),
    ),
    data=st.dictionaries(st.sampled_from(DATA_KEYS), DATA_VALUES, max_size=3),
    in_other_segment=st.booleans(),
)

# Criteria as tuples, one strategy per criterion type; preferences and categories by
# index, resolved once they are built.
CRITERIA = {
    "preferences": st.tuples(
        st.just("preferences"),
        st.sampled_from(["any", "all", "none"]),
        st.lists(st.integers(0, PREFERENCES - 1), min_size=1, max_size=3, unique=True),
    ),
    "category": st.tuples(
        st.just("category"),
        st.sampled_from(["subscribed", "opted_out"]),
        st.integers(0, CATEGORIES - 1),
    ),
    "channel": st.tuples(
        st.just("channel"),
        st.sampled_from(CHANNELS),
        st.sampled_from(["enabled", "disabled", "paused"]),
    ),
    "status": st.tuples(st.just("status"), st.sampled_from(ContactStatus.values)),
    "email_domain": st.tuples(
        st.just("email_domain"),
        st.sampled_from(
            ["example.com", "EXAMPLE.com", "@example.org", "sub.example.com", "ample.com"]
        ),
    ),
    "locale": st.tuples(st.just("locale"), st.sampled_from(["nl", "NL", "nl-BE", "en", "de"])),
    "name": st.tuples(st.just("name"), st.sampled_from(["an", "AN", "Jo", "smith", "de v"])),
    "created": st.one_of(
        st.tuples(
            st.just("created"),
            st.sampled_from(["before", "after"]),
            st.sampled_from(DAYS).map(lambda days: TODAY - datetime.timedelta(days=days)),
        ),
        st.tuples(st.just("created"), st.just("within"), st.sampled_from(DAYS[1:])),
    ),
    "custom_data": st.tuples(
        st.just("custom_data"),
        st.sampled_from([*DATA_KEYS, "missing"]),
        st.sampled_from(["equals", "contains"]),
        st.sampled_from(["gold", "Gold", "old", "5", "true", ""]),
    ),
    "segment": st.tuples(st.just("segment"), st.sampled_from(["member", "not_member"])),
}


def as_text(value) -> str:
    """A custom data value as the criterion compares it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def holds(person: Person, criterion: tuple) -> bool:
    """The plain-Python reading of one criterion."""
    kind, *args = criterion
    if kind == "preferences":
        mode, chosen = args
        held = [index in person.preferences for index in chosen]
        return {"any": any(held), "all": all(held), "none": not any(held)}[mode]
    if kind == "category":
        state, index = args
        opted_out = person.categories[index] is False
        return opted_out if state == "opted_out" else not opted_out
    if kind == "channel":
        key, state = args
        row = person.channels.get(key)
        if state == "paused":
            return (
                row is not None
                and (row.pause_from is not None or row.pause_to is not None)
                and (row.pause_from is None or row.pause_from <= 0)
                and (row.pause_to is None or row.pause_to >= 0)
            )
        disabled = row is not None and not row.enabled
        return disabled if state == "disabled" else not disabled
    if kind == "status":
        return person.status == args[0]
    if kind == "email_domain":
        return person.domain.lower() == args[0].strip().lstrip("@").lower()
    if kind == "locale":
        code, wanted = person.locale.lower(), args[0].lower()
        return code == wanted or code.startswith(wanted + "-")
    if kind == "name":
        text = args[0].lower()
        return text in person.first_name.lower() or text in person.last_name.lower()
    if kind == "created":
        mode, limit = args
        created_at = NOW - person.created_ago
        if mode == "within":
            return created_at >= NOW - datetime.timedelta(days=limit)
        start = datetime.datetime.combine(limit, datetime.time.min, tzinfo=datetime.UTC)
        return created_at < start if mode == "before" else created_at >= start
    if kind == "custom_data":
        key, operator, wanted = args
        if key not in person.data:
            return False
        text = as_text(person.data[key])
        return wanted.lower() in text.lower() if operator == "contains" else text == wanted
    if kind == "segment":
        return person.in_other_segment == (args[0] == "member")
    raise AssertionError(kind)


def expected_ids(persons, contacts, segment_criteria, match) -> set[int]:
    combine = all if match == MatchRule.ALL else any
    return {
        contact.pk
        for person, contact in zip(persons, contacts, strict=True)
        if segment_criteria and combine(holds(person, c) for c in segment_criteria)
    }


def raw(criterion: tuple, preferences, categories, other) -> dict:
    """The criterion as the raw StreamField data the admin stores."""
    kind, *args = criterion
    if kind == "preferences":
        return crit.preferences(args[0], *(preferences[i] for i in args[1]))
    if kind == "category":
        return crit.category(args[0], categories[args[1]])
    if kind == "channel":
        return crit.channel(*args)
    if kind == "status":
        return crit.status(args[0])
    if kind == "email_domain":
        return crit.email_domain(args[0])
    if kind == "locale":
        return crit.locale(args[0])
    if kind == "name":
        return crit.name_contains(args[0])
    if kind == "created":
        mode, limit = args
        return (
            crit.created(mode, days=limit) if mode == "within" else crit.created(mode, date=limit)
        )
    if kind == "custom_data":
        return crit.custom_data(*args)
    if kind == "segment":
        return crit.segment(args[0], other)
    raise AssertionError(kind)


def build(persons: list[Person]):
    """Write the contacts and everything they hold; returns (contacts, prefs, cats, other)."""
    preferences = [Preference.objects.create(name=f"Preference {i}") for i in range(PREFERENCES)]
    categories = [Category.objects.create(name=f"Category {i}") for i in range(CATEGORIES)]
    # bulk_create sends no post_save: no refresh is scheduled for this segment.
    [other] = Segment.objects.bulk_create([Segment(name="Other", slug="other")])
    contacts = Contact.objects.bulk_create(
        [
            Contact(
                email=f"contact{i}@{person.domain.lower()}",
                first_name=person.first_name,
                last_name=person.last_name,
                locale=person.locale,
                status=person.status,
                data=person.data,
            )
            for i, person in enumerate(persons)
        ]
    )
    for contact, person in zip(contacts, persons, strict=True):
        contact.created_at = NOW - person.created_ago
    Contact.objects.bulk_update(contacts, ["created_at"])
    pairs = list(zip(contacts, persons, strict=True))
    ContactPreference.objects.bulk_create(
        ContactPreference(contact=c, preference=preferences[i], source=ChangePath.ADMIN)
        for c, p in pairs
        for i in p.preferences
    )
    CategoryChoice.objects.bulk_create(
        CategoryChoice(
            contact=c, category=categories[i], subscribed=choice, source=ChangePath.ADMIN
        )
        for c, p in pairs
        for i, choice in enumerate(p.categories)
        if choice is not None
    )
    ContactChannel.objects.bulk_create(
        ContactChannel(
            contact=c,
            channel=key,
            enabled=row.enabled,
            pause_from=day(row.pause_from),
            pause_to=day(row.pause_to),
        )
        for c, p in pairs
        for key, row in p.channels.items()
    )
    SegmentMember.objects.bulk_create(
        SegmentMember(segment=other, contact=c) for c, p in pairs if p.in_other_segment
    )
    return contacts, preferences, categories, other


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen_now")
@database_examples(60)
@given(
    persons=st.lists(people, min_size=5, max_size=12),
    battery=st.tuples(*(st.lists(c, min_size=3, max_size=3) for c in CRITERIA.values())).map(
        lambda lists: [criterion for criteria in lists for criterion in criteria]
    ),
    chosen=st.lists(st.integers(0, 3 * len(CRITERIA) - 1), min_size=1, max_size=4, unique=True),
    match=st.sampled_from(MatchRule.values),
)
def test_the_compiled_query_agrees_with_python(persons, battery, chosen, match):
    """Three criteria of each type alone, then a segment of some of them under a rule."""
    with transaction.atomic():
        contacts, preferences, categories, other = build(persons)

        def matched(segment):
            return set(segment.matching_contacts().values_list("pk", flat=True))

        wrong = [
            criterion
            for criterion in battery
            if matched(Segment(criteria=[raw(criterion, preferences, categories, other)]))
            != expected_ids(persons, contacts, [criterion], MatchRule.ALL)
        ]
        assert wrong == []

        segment_criteria = [battery[i] for i in chosen]
        [segment] = Segment.objects.bulk_create(
            [
                Segment(
                    name="Under test",
                    slug="under-test",
                    match=match,
                    criteria=[raw(c, preferences, categories, other) for c in segment_criteria],
                )
            ]
        )
        segment = Segment.objects.get(pk=segment.pk)  # the criteria as stored
        note(f"criteria: {segment_criteria!r}, match: {match}")

        assert matched(segment) == expected_ids(persons, contacts, segment_criteria, match)
        transaction.set_rollback(True)
