"""Each criterion type and the all/any rule against hand-computed expectations."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from wagtail import blocks

from tests import segment_helpers as crit
from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactChannelFactory,
    ContactFactory,
    PreferenceFactory,
    SegmentFactory,
)
from tests.segment_helpers import fresh, matching_ids, member_ids
from wagtail_preferences import services, tasks
from wagtail_preferences.audience.criteria import SegmentCriteriaBlock
from wagtail_preferences.exceptions import InvalidChange
from wagtail_preferences.models import (
    ChangePath,
    Contact,
    ContactStatus,
    MatchRule,
    Segment,
)

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 6, 15, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def matches(criteria, people, match=MatchRule.ALL) -> set[str]:
    """The names (keys of ``people``) of the contacts a segment of ``criteria`` matches."""
    found = matching_ids(fresh(SegmentFactory(criteria=criteria, match=match)))
    assert found <= {contact.pk for contact in people.values()}
    return {name for name, contact in people.items() if contact.pk in found}


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


class TestOtherSegment:
    @pytest.fixture
    def people(self):
        return {
            name: ContactFactory(locale=code)
            for name, code in [
                ("dutch", "nl"),
                ("added by hand", "en"),
                ("dutch, opted out", "nl"),
                ("english", "en"),
            ]
        }

    @pytest.fixture
    def dutch(self, people, origin):
        segment = SegmentFactory(name="Dutch", criteria=[crit.locale("nl")])
        services.add_to_segment(people["added by hand"], segment, origin)
        services.opt_out_of_segment(people["dutch, opted out"], segment, origin)
        services.refresh_segment(segment)
        return segment

    def test_member_of_follows_the_stored_members(self, people, dutch):
        assert matches([crit.segment("member", dutch)], people) == {"dutch", "added by hand"}

    def test_not_a_member_of(self, people, dutch):
        assert matches([crit.segment("not_member", dutch)], people) == {
            "dutch, opted out",
            "english",
        }


class TestMatchRule:
    @pytest.fixture
    def people(self):
        return {
            f"{code} {state}": ContactFactory(locale=code, status=state)
            for code in ("nl", "en")
            for state in (ContactStatus.CONFIRMED, ContactStatus.PENDING)
        }

    @pytest.mark.parametrize(
        ("match", "expected"),
        [
            (MatchRule.ALL, {"nl confirmed"}),
            (MatchRule.ANY, {"nl confirmed", "nl pending", "en confirmed"}),
        ],
    )
    def test_two_criteria(self, people, match, expected):
        criteria = [crit.locale("nl"), crit.status(ContactStatus.CONFIRMED)]

        assert matches(criteria, people, match) == expected

    @pytest.mark.parametrize(
        ("match", "expected"),
        [
            (MatchRule.ALL, {"en pending"}),
            (MatchRule.ANY, {"nl pending", "en confirmed", "en pending"}),
        ],
    )
    def test_with_a_negated_criterion(self, people, match, expected):
        nl = PreferenceFactory()
        for name in ("nl confirmed", "nl pending"):
            services.add_preferences(people[name], nl, services.Origin(path=ChangePath.SYSTEM))
        criteria = [crit.preferences("none", nl), crit.status(ContactStatus.PENDING)]
        criteria.append(crit.locale("en") if match == MatchRule.ALL else crit.email_domain("x.y"))

        assert matches(criteria, people, match) == expected

    @pytest.mark.parametrize("match", MatchRule.values)
    def test_one_criterion_is_the_same_under_both_rules(self, people, match):
        assert matches([crit.locale("en")], people, match) == {"en confirmed", "en pending"}

    @pytest.mark.parametrize("match", MatchRule.values)
    def test_no_criteria_match_nobody(self, people, match, origin):
        segment = SegmentFactory(criteria=[], match=match)
        services.add_to_segment(people["en pending"], segment, origin)

        services.refresh_segment(segment)

        assert matching_ids(segment) == set()
        assert member_ids(segment) == {people["en pending"].pk}

    def test_every_criterion_type_compiles_to_one_query(self, django_assert_num_queries):
        preference, category = PreferenceFactory(), CategoryFactory()
        other = SegmentFactory()
        segment = SegmentFactory(
            match=MatchRule.ANY,
            criteria=[
                crit.preferences("all", preference),
                crit.category("opted_out", category),
                crit.channel("sms", "paused"),
                crit.status(ContactStatus.CONFIRMED),
                crit.email_domain("example.com"),
                crit.locale("nl"),
                crit.name_contains("an"),
                crit.created("within", days=3),
                crit.custom_data("plan", "contains", "gold"),
                crit.segment("not_member", other),
                crit.form_submitted(days=30),
            ],
        )
        ContactFactory.create_batch(3)
        segment = fresh(segment)
        condition = segment.condition()  # reads the chosen snippets

        with django_assert_num_queries(1):
            Contact.objects.filter(condition).count()
        assert {block.block_type for block in segment.criteria} == set(
            SegmentCriteriaBlock().child_blocks
        )


class TestDeletedReferences:
    """A criterion naming something deleted makes the segment invalid, never an error."""

    @pytest.fixture
    def people(self):
        return ContactFactory.create_batch(3)

    def assert_refused(self, segment, expected_problem, members_before):
        segment = fresh(segment)

        assert segment.criteria_problems() == [expected_problem]
        with pytest.raises(InvalidChange, match=expected_problem):
            services.refresh_segment(segment)
        with pytest.raises(InvalidChange):
            services.refresh_segment(segment, contacts=Contact.objects.all())
        assert member_ids(segment) == members_before
        # Refreshing everyone or every segment passes over it.
        services.refresh_contacts(Contact.objects.values_list("pk", flat=True))
        assert tasks.refresh_segments.call() == {"joined": 0, "left": 0}
        assert member_ids(segment) == members_before

    def test_a_deleted_preference(self, people):
        kept, deleted = PreferenceFactory(), PreferenceFactory(name="Gone")
        for contact in people:
            services.add_preferences(contact, kept, services.Origin(path=ChangePath.SYSTEM))
        segment = SegmentFactory(criteria=[crit.preferences("any", kept, deleted)])
        services.refresh_segment(segment)
        before = member_ids(segment)
        assert before == {c.pk for c in people}

        deleted.delete()

        self.assert_refused(segment, "A preference this criterion names has been deleted.", before)

    def test_a_deleted_category(self, people):
        category = CategoryFactory()
        segment = SegmentFactory(criteria=[crit.category("subscribed", category)])
        services.refresh_segment(segment)
        before = member_ids(segment)

        category.delete()

        self.assert_refused(segment, "The category this criterion names has been deleted.", before)

    def test_a_deleted_segment(self, people):
        other = SegmentFactory()
        segment = SegmentFactory(criteria=[crit.segment("not_member", other)])
        services.refresh_segment(segment)
        before = member_ids(segment)
        assert before == {c.pk for c in people}

        other.delete()

        self.assert_refused(segment, "The segment this criterion names has been deleted.", before)

    def test_a_channel_no_longer_registered(self, people, settings):
        segment = SegmentFactory(criteria=[crit.channel("sms", "enabled")])
        services.refresh_segment(segment)
        before = member_ids(segment)

        settings.WAGTAIL_PREFERENCES = {
            "CHANNELS": ["wagtail_preferences.channels.email.EmailChannel"]
        }

        self.assert_refused(
            segment, "The channel this criterion names is no longer available.", before
        )

    def test_adding_by_hand_to_an_invalid_segment_is_refused(self, people, origin):
        category = CategoryFactory()
        segment = SegmentFactory(criteria=[crit.category("opted_out", category)])
        category.delete()

        with pytest.raises(InvalidChange):
            services.add_to_segment(people[0], fresh(segment), origin)
        assert not segment.inclusions.exists()
        assert member_ids(segment) == set()

    def test_a_valid_segment_has_no_problems(self):
        segment = SegmentFactory(criteria=[crit.preferences("any", PreferenceFactory())])

        assert fresh(segment).criteria_problems() == []


class TestCycles:
    @pytest.fixture
    def chain(self):
        """C is defined by B, B by A."""
        a = SegmentFactory(name="A", criteria=[crit.locale("nl")])
        b = SegmentFactory(name="B", criteria=[crit.segment("member", a)])
        c = SegmentFactory(name="C", criteria=[crit.segment("not_member", b)])
        return a, b, c

    def assert_refused(self, segment):
        with pytest.raises(ValidationError) as error:
            segment.full_clean()

        assert error.value.message_dict["criteria"] == [
            "These criteria refer back to this segment: a segment cannot depend on itself."
        ]

    def test_a_segment_referring_to_itself(self):
        segment = SegmentFactory(name="Self")
        segment.criteria = [crit.segment("member", segment)]

        self.assert_refused(segment)

    def test_two_segments_referring_to_each_other(self, chain):
        a, b, _ = chain
        a.criteria = [crit.locale("nl"), crit.segment("not_member", b)]

        self.assert_refused(a)

    def test_a_longer_cycle(self, chain):
        a, _, c = chain
        a.criteria = [crit.segment("member", c)]

        self.assert_refused(a)

    def test_a_shared_dependency_is_no_cycle(self, chain):
        a, b, c = chain
        d = SegmentFactory(
            name="D", criteria=[crit.segment("member", b), crit.segment("member", c)]
        )
        d.full_clean()
        a.full_clean()

    def test_a_new_segment_referring_to_others(self, chain):
        _, b, c = chain
        segment = Segment(
            name="New", criteria=[crit.segment("member", b), crit.segment("member", c)]
        )

        segment.full_clean()

        assert segment.segments_reached() == {s.pk for s in chain}


class TestCriteriaFromSettings:
    def test_a_criterion_type_no_longer_installed_makes_the_segment_invalid(self):
        segment = Segment.objects.create(
            name="Old", criteria=[{"type": "status", "value": {"status": "confirmed"}}]
        )
        Segment.objects.filter(pk=segment.pk).update(
            criteria=[{"type": "retired_kind", "value": {}, "id": "x"}]
        )
        segment.refresh_from_db()

        assert segment.criteria_problems() == [
            "The criterion type “retired_kind” is no longer installed."
        ]

    @pytest.mark.parametrize(
        ("criteria", "message"),
        [
            ({"status": "wagtail_preferences.audience.criteria.LocaleCriterion"}, "'status'"),
            ({"mine": "collections.OrderedDict"}, "must be a Criterion subclass"),
        ],
    )
    def test_a_bad_extra_criterion_names_the_setting(self, settings, criteria, message):
        from wagtail_preferences.audience.criteria import criteria_block
        from wagtail_preferences.exceptions import ConfigurationError

        settings.WAGTAIL_PREFERENCES = {"SEGMENT_CRITERIA": criteria}

        with pytest.raises(ConfigurationError, match=message):
            criteria_block()
