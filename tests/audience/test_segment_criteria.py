"""Each criterion type against hand-computed expectations."""

import datetime

import pytest
from wagtail import blocks

from tests import segment_helpers as crit
from tests.audience.criteria_helpers import matches
from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactChannelFactory,
    ContactFactory,
    PreferenceFactory,
    SegmentFactory,
)
from wagtail_preferences.audience.criteria import SegmentCriteriaBlock
from wagtail_preferences.models import Contact, ContactStatus

pytestmark = pytest.mark.django_db


NOW = datetime.datetime(2025, 6, 15, 12, 0, tzinfo=datetime.UTC)

TODAY = NOW.date()

DAY = datetime.timedelta(days=1)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def clean_criterion(raw: dict):
    block = SegmentCriteriaBlock().child_blocks[raw["type"]]
    return block.clean(block.to_python(raw["value"]))


class TestPreferences:
    @pytest.fixture
    def prefs(self):
        return {name: PreferenceFactory(name=name) for name in ("Products", "Events", "Trainings")}

    @pytest.fixture
    def people(self, prefs):
        holdings = {
            "nothing": [],
            "products": ["Products"],
            "events": ["Events"],
            "both": ["Products", "Events"],
            "trainings": ["Trainings"],
            "all three": ["Products", "Events", "Trainings"],
        }
        return {
            name: ContactFactory(preferences=[prefs[p] for p in held])
            for name, held in holdings.items()
        }

    @pytest.mark.parametrize(
        ("mode", "chosen", "expected"),
        [
            ("any", ["Products", "Events"], {"products", "events", "both", "all three"}),
            ("all", ["Products", "Events"], {"both", "all three"}),
            ("none", ["Products", "Events"], {"nothing", "trainings"}),
            ("any", ["Trainings"], {"trainings", "all three"}),
            ("all", ["Products"], {"products", "both", "all three"}),
            ("all", ["Products", "Events", "Trainings"], {"all three"}),
            ("none", ["Trainings"], {"nothing", "products", "events", "both"}),
        ],
    )
    def test_modes(self, prefs, people, mode, chosen, expected):
        criterion = crit.preferences(mode, *(prefs[name] for name in chosen))

        assert matches([criterion], people) == expected

    def test_an_empty_choice_is_a_problem(self):
        segment = SegmentFactory(criteria=[crit.preferences("any")])

        assert segment.criteria_problems() == ["Choose at least one preference."]


class TestCategory:
    @pytest.fixture
    def promotions(self):
        return CategoryFactory(name="Promotions")

    @pytest.fixture
    def people(self, promotions):
        surveys = CategoryFactory(name="Surveys")
        people = {name: ContactFactory() for name in ("never set", "out", "in", "out of other")}
        CategoryChoiceFactory(contact=people["out"], category=promotions, subscribed=False)
        CategoryChoiceFactory(contact=people["in"], category=promotions, subscribed=True)
        CategoryChoiceFactory(contact=people["out of other"], category=surveys, subscribed=False)
        return people

    def test_subscribed_includes_contacts_who_never_chose(self, promotions, people):
        assert matches([crit.category("subscribed", promotions)], people) == {
            "never set",
            "in",
            "out of other",
        }

    def test_opted_out(self, promotions, people):
        assert matches([crit.category("opted_out", promotions)], people) == {"out"}


class TestChannel:
    @pytest.fixture
    def people(self, frozen):
        people = {
            name: ContactFactory()
            for name in (
                "no settings",
                "enabled row",
                "email off",
                "sms off",
                "paused now",
                "paused from today, open-ended",
                "paused until today, open start",
                "pause in the future",
                "pause over",
                "off and paused",
            )
        }
        rows = {
            "enabled row": {},
            "email off": {"enabled": False},
            "paused now": {"pause_from": TODAY - DAY, "pause_to": TODAY + DAY},
            "paused from today, open-ended": {"pause_from": TODAY},
            "paused until today, open start": {"pause_to": TODAY},
            "pause in the future": {"pause_from": TODAY + DAY, "pause_to": TODAY + 7 * DAY},
            "pause over": {"pause_from": TODAY - 7 * DAY, "pause_to": TODAY - DAY},
            "off and paused": {"enabled": False, "pause_from": TODAY - DAY},
        }
        for name, fields in rows.items():
            ContactChannelFactory(contact=people[name], channel="email", **fields)
        ContactChannelFactory(contact=people["sms off"], channel="sms", enabled=False)
        return people

    def test_enabled_is_the_default(self, people):
        assert matches([crit.channel("email", "enabled")], people) == set(people) - {
            "email off",
            "off and paused",
        }

    def test_disabled(self, people):
        assert matches([crit.channel("email", "disabled")], people) == {
            "email off",
            "off and paused",
        }

    def test_paused_today(self, people):
        assert matches([crit.channel("email", "paused")], people) == {
            "paused now",
            "paused from today, open-ended",
            "paused until today, open start",
            "off and paused",
        }

    def test_each_channel_on_its_own(self, people):
        assert matches([crit.channel("sms", "disabled")], people) == {"sms off"}
        assert matches([crit.channel("sms", "enabled")], people) == set(people) - {"sms off"}
        assert matches([crit.channel("sms", "paused")], people) == set()

    def test_paused_follows_the_date(self, people, time_machine):
        time_machine.move_to(NOW + 2 * DAY, tick=False)

        assert matches([crit.channel("email", "paused")], people) == {
            "paused from today, open-ended",
            "pause in the future",
            "off and paused",
        }


@pytest.mark.parametrize("value", ContactStatus.values)
def test_status(value):
    people = {s: ContactFactory(status=s) for s in ContactStatus.values}

    assert matches([crit.status(value)], people) == {value}


class TestEmailDomain:
    @pytest.fixture
    def people(self):
        addresses = {
            "plain": "ann@example.com",
            "upper case": "Bob@EXAMPLE.com",
            "subdomain": "cat@sub.example.com",
            "other tld": "dan@example.org",
            "longer name": "eve@notexample.com",
            "longer tld": "fay@example.com.au",
        }
        return {name: ContactFactory(email=email) for name, email in addresses.items()}

    @pytest.mark.parametrize(
        ("domain", "expected"),
        [
            ("example.com", {"plain", "upper case"}),
            ("EXAMPLE.COM", {"plain", "upper case"}),
            (" @example.com ", {"plain", "upper case"}),
            ("sub.example.com", {"subdomain"}),
            ("example.org", {"other tld"}),
            ("ample.com", set()),
            ("example.co", set()),
        ],
    )
    def test_domain(self, people, domain, expected):
        assert matches([crit.email_domain(domain)], people) == expected


class TestLocale:
    @pytest.fixture
    def people(self):
        codes = ["nl", "nl-BE", "nl-NL", "NL-be", "nld", "en", "en-GB", "fr", ""]
        return {code: ContactFactory(locale=code) for code in codes}

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("nl", {"nl", "nl-BE", "nl-NL", "NL-be"}),
            ("NL", {"nl", "nl-BE", "nl-NL", "NL-be"}),
            ("nl-BE", {"nl-BE", "NL-be"}),
            ("en", {"en", "en-GB"}),
            ("de", set()),
        ],
    )
    def test_a_language_matches_its_regions(self, people, code, expected):
        assert matches([crit.locale(code)], people) == expected


class TestName:
    @pytest.fixture
    def people(self):
        names = [("Ann", "Smith"), ("Joanna", "Brown"), ("Bob", "Annan"), ("Carl", "Jones")]
        people = {
            f"{first} {last}": ContactFactory(first_name=first, last_name=last)
            for first, last in names
        }
        people["nameless"] = ContactFactory(first_name="", last_name="")
        return people

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("ann", {"Ann Smith", "Joanna Brown", "Bob Annan"}),
            ("SMITH", {"Ann Smith"}),
            (" jo ", {"Joanna Brown", "Carl Jones"}),
            ("zz", set()),
        ],
    )
    def test_first_or_last_name_contains(self, people, text, expected):
        assert matches([crit.name_contains(text)], people) == expected


class TestCreated:
    @pytest.fixture
    def people(self, frozen):
        moments = {
            "last month": datetime.datetime(2025, 5, 1, 10, 0),
            "6 days ago": datetime.datetime(2025, 6, 9, 9, 0),
            "just before the 10th": datetime.datetime(2025, 6, 9, 23, 59, 59),
            "the 10th at midnight": datetime.datetime(2025, 6, 10, 0, 0),
            "yesterday evening": datetime.datetime(2025, 6, 14, 18, 0),
            "this morning": datetime.datetime(2025, 6, 15, 8, 0),
        }
        people = {name: ContactFactory() for name in moments}
        for name, moment in moments.items():
            Contact.objects.filter(pk=people[name].pk).update(
                created_at=moment.replace(tzinfo=datetime.UTC)
            )
        return people

    @pytest.mark.parametrize(
        ("criterion", "expected"),
        [
            (
                crit.created("before", date=datetime.date(2025, 6, 10)),
                {"last month", "6 days ago", "just before the 10th"},
            ),
            (
                crit.created("after", date=datetime.date(2025, 6, 10)),
                {"the 10th at midnight", "yesterday evening", "this morning"},
            ),
            (crit.created("within", days=1), {"yesterday evening", "this morning"}),
            (
                crit.created("within", days=7),
                {
                    "6 days ago",
                    "just before the 10th",
                    "the 10th at midnight",
                    "yesterday evening",
                    "this morning",
                },
            ),
            (
                crit.created("within", days=50),
                {
                    "last month",
                    "6 days ago",
                    "just before the 10th",
                    "the 10th at midnight",
                    "yesterday evening",
                    "this morning",
                },
            ),
        ],
    )
    def test_modes(self, people, criterion, expected):
        assert matches([criterion], people) == expected

    def test_within_counts_back_from_now(self, people, time_machine):
        time_machine.move_to(NOW + 2 * DAY, tick=False)

        assert matches([crit.created("within", days=1)], people) == set()
        assert matches([crit.created("within", days=3)], people) == {
            "yesterday evening",
            "this morning",
        }

    @pytest.mark.parametrize(
        ("raw", "missing"),
        [
            (crit.created("within"), "days"),
            (crit.created("before", days=3), "date"),
            (crit.created("after"), "date"),
        ],
    )
    def test_each_mode_requires_its_value(self, raw, missing):
        with pytest.raises(blocks.StructBlockValidationError) as error:
            clean_criterion(raw)

        assert set(error.value.block_errors) == {missing}

    @pytest.mark.parametrize(
        "raw",
        [crit.created("within", days=3), crit.created("after", date=datetime.date(2025, 1, 1))],
    )
    def test_a_complete_value_is_clean(self, raw):
        cleaned = clean_criterion(raw)

        assert cleaned["mode"] == raw["value"]["mode"]
        assert cleaned["days"] == raw["value"]["days"]
        assert (cleaned["date"] and cleaned["date"].isoformat()) == raw["value"]["date"]


class TestCustomData:
    @pytest.fixture
    def people(self):
        data = {
            "gold": {"plan": "gold"},
            "Gold": {"plan": "Gold"},
            "golden": {"plan": "golden", "city": "Gent"},
            "silver": {"plan": "silver", "city": "Antwerpen"},
            "size number": {"size": 5},
            "size text": {"size": "5"},
            "vip": {"vip": True},
            "percent": {"note": "100% sure"},
            "no percent": {"note": "1000 sure"},
            "nested": {"a": {"b": "x"}},
            "underscores": {"a__b": "x", "tag_": "x"},
            "empty": {},
        }
        return {name: ContactFactory(data=value) for name, value in data.items()}

    @pytest.mark.parametrize(
        ("criterion", "expected"),
        [
            (crit.custom_data("plan", "equals", "gold"), {"gold"}),
            (crit.custom_data("plan", "equals", "silver"), {"silver"}),
            (crit.custom_data("plan", "contains", "GOLD"), {"gold", "Gold", "golden"}),
            (crit.custom_data("city", "contains", "en"), {"golden", "silver"}),
            (crit.custom_data("size", "equals", "5"), {"size number", "size text"}),
            (crit.custom_data("vip", "equals", "true"), {"vip"}),
            (crit.custom_data("note", "contains", "0%"), {"percent"}),
            (crit.custom_data("unknown", "equals", "gold"), set()),
            (crit.custom_data("a__b", "equals", "x"), {"underscores"}),
            (crit.custom_data("tag_", "equals", "x"), {"underscores"}),
        ],
    )
    def test_equals_and_contains(self, people, criterion, expected):
        assert matches([criterion], people) == expected

    @pytest.mark.parametrize("key", ["plan", "plan_2", "_private", "2fa", "a__b", "Tag"])
    def test_valid_keys(self, key):
        value = clean_criterion(crit.custom_data(key, "equals", "x"))

        assert value["key"] == key

    @pytest.mark.parametrize("key", ["a-b", "a b", "a.b", "plan$", "123", "0"])
    def test_invalid_keys(self, key):
        with pytest.raises(blocks.StructBlockValidationError) as error:
            clean_criterion(crit.custom_data(key, "equals", "x"))

        assert error.value.block_errors["key"].messages == [
            "Use letters, digits and underscores; not digits alone."
        ]

    def test_the_error_reaches_the_criteria_list(self):
        stream = SegmentCriteriaBlock()
        value = stream.to_python([crit.locale("nl"), crit.custom_data("123", "equals", "x")])

        with pytest.raises(blocks.StreamBlockValidationError) as error:
            stream.clean(value)

        assert set(error.value.block_errors) == {1}
