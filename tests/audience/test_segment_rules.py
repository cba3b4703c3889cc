"""The all/any rule, segments of segments, deleted references, cycles, criteria from settings."""

import pytest
from django.core.exceptions import ValidationError

from tests import segment_helpers as crit
from tests.audience.criteria_helpers import matches
from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory, SegmentFactory
from tests.segment_helpers import fresh, matching_ids, member_ids
from wagtail_preferences import services, tasks
from wagtail_preferences.audience.criteria import SegmentCriteriaBlock
from wagtail_preferences.exceptions import InvalidChange
from wagtail_preferences.models import ChangePath, Contact, ContactStatus, MatchRule, Segment

pytestmark = pytest.mark.django_db


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
