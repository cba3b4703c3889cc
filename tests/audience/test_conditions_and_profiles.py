"""Conditions decided from profiles, and profiles read from the database in one query."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactFactory,
    ContactPreferenceFactory,
    PreferenceFactory,
    SegmentFactory,
)
from wagtail_preferences.audience.conditions import Condition, Rule, first_match
from wagtail_preferences.audience.profiles import (
    Profile,
    contact_with_profile,
    profile_of,
    profiles_of,
)
from wagtail_preferences.identity import resolvers, tokens
from wagtail_preferences.identity.resolvers import current_profile
from wagtail_preferences.models import Preference, SegmentMember

pytestmark = pytest.mark.django_db


def ids(*interests) -> frozenset[int]:
    return frozenset(interest.pk for interest in interests)


@pytest.fixture
def segment(db):
    return SegmentFactory(name="Customers")


@pytest.fixture
def holder(products, events, promotions, segment):
    """A contact holding Products (not Events), receiving Promotions, in the segment."""
    contact = ContactFactory(confirmed=True, preferences=[products])
    SegmentMember.objects.create(segment=segment, contact=contact)
    return contact


class TestPreferencesRule:
    @pytest.mark.parametrize(
        ("rule", "held", "expected"),
        [
            (Rule.ANY, {"products"}, True),
            (Rule.ANY, {"events"}, True),
            (Rule.ANY, {"products", "events"}, True),
            (Rule.ANY, set(), False),
            (Rule.ANY, {"trainings"}, False),
            (Rule.ALL, {"products", "events"}, True),
            (Rule.ALL, {"products", "events", "trainings"}, True),
            (Rule.ALL, {"products"}, False),
            (Rule.ALL, set(), False),
            (Rule.NONE, set(), True),
            (Rule.NONE, {"trainings"}, True),
            (Rule.NONE, {"products"}, False),
            (Rule.NONE, {"products", "events"}, False),
        ],
    )
    def test_rule_over_products_and_events(self, products, events, trainings, rule, held, expected):
        interests = {"products": products, "events": events, "trainings": trainings}
        contact = ContactFactory(preferences=[interests[name] for name in held])
        condition = Condition(rule=rule, preferences=ids(products, events))

        assert condition.matches(profile_of(contact)) is expected

    @pytest.mark.parametrize("rule", [Rule.ANY, Rule.ALL, Rule.NONE])
    def test_an_unknown_visitor_meets_no_rule(self, products, rule):
        assert Condition(rule=rule, preferences=ids(products)).matches(None) is False

    @pytest.mark.parametrize("rule", [Rule.ANY, Rule.ALL, Rule.NONE])
    def test_no_preferences_ticked_means_they_do_not_matter(self, products, rule):
        holder, other = ContactFactory(preferences=[products]), ContactFactory()

        assert Condition(rule=rule).matches(profile_of(holder))
        assert Condition(rule=rule).matches(profile_of(other))

    def test_an_unknown_rule_reads_as_any(self, products, events):
        contact = ContactFactory(preferences=[products])

        assert Condition(rule="bogus", preferences=ids(products, events)).matches(
            profile_of(contact)
        )


class TestDeletedPreferences:
    def test_a_deleted_preference_is_held_by_nobody(self, products, events):
        contact = ContactFactory(preferences=[products, events])
        gone = events.pk
        Preference.objects.filter(pk=gone).delete()
        profile = profile_of(contact)

        assert Condition(rule=Rule.ANY, preferences=frozenset({gone})).matches(profile) is False
        assert (
            Condition(rule=Rule.ALL, preferences=frozenset({products.pk, gone})).matches(profile)
            is False
        )
        assert Condition(rule=Rule.NONE, preferences=frozenset({gone})).matches(profile)
        # "any of" still matches on the preferences that remain.
        assert Condition(rule=Rule.ANY, preferences=frozenset({products.pk, gone})).matches(profile)

    def test_a_deleted_category_or_segment_is_received_by_nobody(self, holder, promotions, segment):
        category, segment_pk = promotions.pk, segment.pk
        promotions.delete()
        segment.delete()
        profile = profile_of(holder)

        assert not Condition(category=category).matches(profile)
        assert not Condition(segment=segment_pk).matches(profile)
        assert Condition().matches(profile)


class TestCategoryAndSegment:
    def test_a_contact_receives_every_category_they_did_not_opt_out_of(self, promotions):
        news = CategoryFactory(name="News")
        contact = ContactFactory(confirmed=True)
        CategoryChoiceFactory(contact=contact, category=news, subscribed=False)
        CategoryChoiceFactory(
            contact=contact, category=CategoryFactory(name="Tips"), subscribed=True
        )

        profile = profile_of(contact)

        assert Condition(category=promotions.pk).matches(profile)
        assert not Condition(category=news.pk).matches(profile)
        assert profile.subscribed_to("tips")
        assert set(profile.categories.values()) == {"promotions", "tips"}

    @pytest.mark.parametrize("status", ["unsubscribed", "blocked"])
    def test_unsubscribed_and_blocked_contacts_receive_no_category(self, promotions, status):
        contact = ContactFactory(**{status: True})
        CategoryChoiceFactory(contact=contact, category=promotions, subscribed=True)

        profile = profile_of(contact)

        assert profile.categories == {}
        assert not profile.subscribed_to(promotions)
        assert not Condition(category=promotions.pk).matches(profile)
        # Not receiving categories does not hide what the contact holds.
        assert Condition().matches(profile)

    @pytest.mark.parametrize("status", ["pending", "confirmed"])
    def test_pending_and_confirmed_contacts_receive_categories(self, promotions, status):
        contact = ContactFactory(status=status)

        assert profile_of(contact).subscribed_to(promotions)

    def test_segment_membership(self, holder, segment):
        outsider = ContactFactory()

        assert Condition(segment=segment.pk).matches(profile_of(holder))
        assert not Condition(segment=segment.pk).matches(profile_of(outsider))
        assert not Condition(segment=segment.pk).matches(None)

    def test_category_and_segment_for_an_unknown_visitor(self, promotions, segment):
        assert not Condition(category=promotions.pk).matches(None)
        assert not Condition(segment=segment.pk).matches(None)


class TestCombinations:
    def test_every_part_must_be_met(self, holder, products, events, promotions, segment):
        profile = profile_of(holder)
        full = {"category": promotions.pk, "segment": segment.pk}

        assert Condition(preferences=ids(products), **full).matches(profile)
        assert not Condition(preferences=ids(events), **full).matches(profile)
        assert not Condition(rule=Rule.NONE, preferences=ids(products), **full).matches(profile)
        assert Condition(rule=Rule.NONE, preferences=ids(events), **full).matches(profile)

    def test_a_failing_category_fails_the_whole_condition(self, holder, products, promotions):
        CategoryChoiceFactory(contact=holder, category=promotions, subscribed=False)
        profile = profile_of(holder)

        assert not Condition(preferences=ids(products), category=promotions.pk).matches(profile)

    def test_a_failing_segment_fails_the_whole_condition(self, products, promotions, segment):
        contact = ContactFactory(preferences=[products])
        condition = Condition(preferences=ids(products), category=promotions.pk, segment=segment.pk)

        assert not condition.matches(profile_of(contact))
        SegmentMember.objects.create(segment=segment, contact=contact)
        assert condition.matches(profile_of(contact))

    def test_the_empty_condition_is_every_recognised_visitor_and_no_unknown_one(self):
        assert Condition().matches(profile_of(ContactFactory()))
        assert Condition().matches(profile_of(ContactFactory(unsubscribed=True)))
        assert Condition().matches(Profile())
        assert not Condition().matches(None)


class TestFromValue:
    def test_ids_stored_as_text(self, products, events, promotions, segment):
        value = {
            "rule": "all",
            "preferences": [str(products.pk), str(events.pk)],
            "category": str(promotions.pk),
            "segment": str(segment.pk),
        }

        assert Condition.from_value(value) == Condition(
            rule=Rule.ALL,
            preferences=ids(products, events),
            category=promotions.pk,
            segment=segment.pk,
        )

    @pytest.mark.parametrize(
        "value",
        [
            {},
            {"rule": "", "preferences": None, "category": "", "segment": None},
            {"rule": None, "preferences": ["", "x", None], "category": "x", "segment": "1.5"},
        ],
    )
    def test_empty_and_garbled_parts_are_left_out(self, value):
        assert Condition.from_value(value) == Condition()


class TestFirstMatch:
    def test_the_first_met_condition_wins(self, holder, products, events, promotions):
        conditions = [
            Condition(preferences=ids(events)),
            Condition(preferences=ids(products)),
            Condition(category=promotions.pk),
        ]

        assert first_match(conditions, profile_of(holder)) == 1

    def test_none_met_or_unknown_visitor(self, holder, events):
        assert first_match([Condition(preferences=ids(events))], profile_of(holder)) is None
        assert first_match([Condition(), Condition()], None) is None
        assert first_match([], profile_of(holder)) is None


class TestProfile:
    def test_asked_by_instance_pk_slug_and_digit_string(self, holder, products, events, segment):
        profile = profile_of(holder)

        for asked in (products, products.pk, products.slug, str(products.pk)):
            assert profile.holds(asked), asked
        for asked in (events, events.pk, events.slug, str(events.pk)):
            assert not profile.holds(asked), asked
        for asked in (segment, segment.pk, segment.slug, str(segment.pk)):
            assert profile.in_segment(asked), asked

    @pytest.mark.parametrize("asked", ["no-such-slug", "", None, True, 1.0, [], object()])
    def test_anything_else_is_not_held(self, holder, asked):
        profile = profile_of(holder)

        assert not profile.holds(asked)
        assert not profile.subscribed_to(asked)
        assert not profile.in_segment(asked)

    def test_ids_and_slugs(self, holder, products, promotions, segment):
        assert profile_of(holder) == Profile(
            preferences={products.pk: products.slug},
            categories={promotions.pk: promotions.slug},
            segments={segment.pk: segment.slug},
        )


class TestProfilesOf:
    def test_several_contacts_in_one_query(
        self, django_assert_num_queries, products, events, promotions, segment
    ):
        news = CategoryFactory(name="News")
        first = ContactFactory(preferences=[products, events])
        second = ContactFactory(preferences=[events])
        third = ContactFactory(blocked=True, preferences=[products])
        fourth = ContactFactory()
        SegmentMember.objects.create(segment=segment, contact=second)
        CategoryChoiceFactory(contact=second, category=news)
        ContactPreferenceFactory(contact=ContactFactory(), preference=products)

        with django_assert_num_queries(1):
            profiles = profiles_of([first, second, third, fourth])

        all_categories = {promotions.pk: "promotions", news.pk: "news"}
        assert profiles == {
            first.pk: Profile(
                preferences={products.pk: products.slug, events.pk: events.slug},
                categories=all_categories,
            ),
            second.pk: Profile(
                preferences={events.pk: events.slug},
                categories={promotions.pk: "promotions"},
                segments={segment.pk: segment.slug},
            ),
            third.pk: Profile(preferences={products.pk: products.slug}),
            fourth.pk: Profile(categories=all_categories),
        }

    def test_one_query_for_many_contacts(self, django_assert_num_queries, products):
        contacts = [ContactFactory(preferences=[products]) for _ in range(30)]

        with django_assert_num_queries(1):
            profiles = profiles_of(contacts)

        assert all(profile.holds(products) for profile in profiles.values())
        assert len(profiles) == 30

    def test_a_queryset_of_contacts(self, products):
        contact = ContactFactory(preferences=[products])

        from wagtail_preferences.models import Contact

        assert profiles_of(Contact.objects.filter(pk=contact.pk))[contact.pk].holds(products)

    def test_no_contacts(self, django_assert_max_num_queries):
        with django_assert_max_num_queries(1):
            assert profiles_of([]) == {}


class TestCurrentProfile:
    def request(self, contact=None):
        from django.contrib.auth.models import AnonymousUser

        request = RequestFactory().get("/")
        request.user = AnonymousUser()
        if contact is not None:
            request.COOKIES["wagtail_preferences"] = tokens.contact_token(contact, "cookie")
        return request

    def test_contact_and_profile_in_one_query_once_per_request(
        self, django_assert_num_queries, products
    ):
        contact = ContactFactory(preferences=[products])
        request = self.request(contact)

        with django_assert_num_queries(1):
            for _ in range(5):
                assert current_profile(request).holds(products)
                assert resolvers.current_contact(request) == contact

    def test_a_signed_in_user_linked_to_a_contact_in_one_query(
        self, django_assert_num_queries, django_user_model, products, promotions, segment
    ):
        user = django_user_model.objects.create_user("reader")
        contact = ContactFactory(user=user, preferences=[products])
        SegmentMember.objects.create(segment=segment, contact=contact)
        request = self.request()
        request.user = user

        with django_assert_num_queries(1):
            profile = current_profile(request)

        assert resolvers.current_contact(request) == contact
        assert profile == Profile(
            preferences={products.pk: products.slug},
            categories={promotions.pk: promotions.slug},
            segments={segment.pk: segment.slug},
        )

    def test_a_contact_remembered_during_the_request_is_profiled_once(
        self, django_assert_num_queries, products
    ):
        contact = ContactFactory(preferences=[products])
        request = self.request()
        resolvers.remember(request, HttpResponse(), contact)

        with django_assert_num_queries(1):
            for _ in range(3):
                assert current_profile(request).holds(products)

    def test_an_unknown_visitor_has_none_and_costs_no_query(self, django_assert_num_queries):
        request = self.request()

        with django_assert_num_queries(0):
            assert current_profile(request) is None
            assert current_profile(request) is None

    def test_the_preview_profile_replaces_the_visitor(self, products, events):
        request = self.request(ContactFactory(preferences=[products]))
        setattr(request, resolvers.PREVIEW_ATTRIBUTE, Profile(preferences={events.pk: "x"}))

        assert current_profile(request).holds(events)
        assert not current_profile(request).holds(products)
        assert resolvers.current_contact(request) is None

    def test_an_unknown_visitor_in_preview(self, products):
        request = self.request(ContactFactory(preferences=[products]))
        setattr(request, resolvers.PREVIEW_ATTRIBUTE, None)

        assert current_profile(request) is None


def test_a_preference_made_after_the_condition_is_not_held_by_accident(products):
    later = PreferenceFactory()
    contact = ContactFactory(preferences=[later])

    assert not Condition(preferences=ids(products)).matches(profile_of(contact))


class TestContactWithProfile:
    def test_the_contact_and_its_profile_in_one_query(
        self, django_assert_num_queries, products, promotions, segment
    ):
        contact = ContactFactory(preferences=[products])
        SegmentMember.objects.create(segment=segment, contact=contact)

        with django_assert_num_queries(1):
            found = contact_with_profile(pk=contact.pk)
            profile = profile_of(found)

        assert found == contact and found.email == contact.email
        assert profile == profile_of(ContactFactory.build(pk=contact.pk))

    def test_read_afresh_each_time_though_compiled_once(self, products, events):
        contact = ContactFactory(preferences=[products])
        assert not profile_of(contact_with_profile(pk=contact.pk)).holds(events)

        ContactPreferenceFactory(contact=contact, preference=events)
        news = CategoryFactory(name="News")

        profile = profile_of(contact_with_profile(pk=contact.pk))
        assert profile.holds(events) and profile.subscribed_to(news)

    def test_no_such_contact(self, django_assert_num_queries):
        with django_assert_num_queries(1):
            assert contact_with_profile(pk=10**9) is None

    def test_by_user(self, django_user_model, products):
        user = django_user_model.objects.create_user("reader")
        contact = ContactFactory(user=user, preferences=[products])
        ContactFactory(preferences=[products])

        assert contact_with_profile(user_id=user.pk) == contact
        assert contact_with_profile(user_id=user.pk + 1) is None
