"""Refreshing a segment's members: joiners and leavers, the refresh task, and its queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import segment_helpers as crit
from tests.audience.membership_helpers import SUCCEEDED, segment_events, set_locale, summaries
from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory, SegmentFactory
from tests.segment_helpers import fresh, ids, member_ids
from wagtail_preferences import services, tasks
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    Contact,
    MatchRule,
    Segment,
    SegmentMember,
)
from wagtail_preferences.services.segments import segment_origin

#: Every test fails if one of the app's tasks failed (see ``tasks_run``).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_run")]


class TestRefresh:
    def test_joiners_and_leavers(self, dutch):
        ann, bob, cat = (ContactFactory(locale=code) for code in ("nl", "nl-BE", "en"))

        assert services.refresh_segment(dutch) == ({ann.pk, bob.pk}, frozenset())
        assert member_ids(dutch) == ids(ann, bob)

        set_locale(ann, "en")
        set_locale(cat, "nl")

        assert services.refresh_segment(dutch) == ({cat.pk}, {ann.pk})
        assert member_ids(dutch) == ids(bob, cat)

    def test_a_second_refresh_changes_nothing(self, dutch, segment_signals):
        ContactFactory.create_batch(2, locale="nl")
        services.refresh_segment(dutch)
        events, sent = ConsentEvent.objects.count(), len(segment_signals)

        assert services.refresh_segment(dutch) == (frozenset(), frozenset())
        assert ConsentEvent.objects.count() == events
        assert len(segment_signals) == sent

    def test_joining_and_leaving_are_logged(self, dutch):
        ann, bob = ContactFactory(locale="nl"), ContactFactory(locale="nl")
        services.refresh_segment(dutch)
        set_locale(bob, "fr")

        services.refresh_segment(dutch)

        reference = "segment “Dutch”"
        assert segment_events(dutch) == {
            (ann.pk, "member", False, True, ChangePath.SEGMENT, reference),
            (bob.pk, "member", False, True, ChangePath.SEGMENT, reference),
            (bob.pk, "member", True, False, ChangePath.SEGMENT, reference),
        }
        assert summaries(bob) == ["Joined segment “Dutch”", "Left segment “Dutch”"]
        event = ConsentEvent.objects.filter(contact=ann).get()
        assert (event.subject, event.subject_label) == (ConsentSubject.SEGMENT, "Dutch")

    def test_signals_go_once_per_refresh_with_every_contact(self, dutch, segment_signals):
        stay, leave = ContactFactory(locale="nl"), ContactFactory(locale="nl")
        services.refresh_segment(dutch)
        joiners = ContactFactory.create_batch(3, locale="nl")
        set_locale(leave, "en")
        segment_signals.clear()

        services.refresh_segment(dutch)

        origin = segment_origin(dutch)
        assert segment_signals == [
            (
                "segment_entered",
                {
                    "sender": Segment,
                    "segment": dutch,
                    "contact_ids": frozenset(ids(*joiners)),
                    "origin": origin,
                },
            ),
            (
                "segment_left",
                {
                    "sender": Segment,
                    "segment": dutch,
                    "contact_ids": frozenset({leave.pk}),
                    "origin": origin,
                },
            ),
        ]
        assert stay.pk in member_ids(dutch)

    def test_for_some_contacts_only(self, dutch):
        ann, _ = ContactFactory(locale="nl"), ContactFactory(locale="nl")

        assert services.refresh_segment(dutch, contacts=[ann]) == ({ann.pk}, frozenset())
        assert member_ids(dutch) == {ann.pk}
        assert fresh(dutch).refreshed_at is None

    def test_a_full_refresh_is_dated(self, dutch, time_machine):
        moment = datetime.datetime(2025, 6, 15, 12, 0, tzinfo=datetime.UTC)
        time_machine.move_to(moment, tick=False)

        services.refresh_segment(dutch)

        assert fresh(dutch).refreshed_at == moment

    def test_the_origin_given_is_stamped(self, dutch, admin_origin, editor):
        ann = ContactFactory(locale="nl")

        services.refresh_segment(dutch, origin=admin_origin)

        event = ConsentEvent.objects.get(contact=ann)
        assert (event.path, event.actor, event.actor_label) == (ChangePath.ADMIN, editor, "editor")


class TestRefreshTask:
    def test_refreshes_every_segment_in_dependency_order(self):
        later = SegmentFactory(name="Later")
        earlier = SegmentFactory(name="Earlier", criteria=[crit.locale("nl")])
        Segment.objects.filter(pk=later.pk).update(criteria=[crit.segment("member", earlier)])
        contacts = ContactFactory.create_batch(2, locale="nl")

        result = tasks.refresh_segments.enqueue()

        assert result.status == SUCCEEDED
        assert result.return_value == {"joined": 4, "left": 0}
        assert member_ids(earlier) == member_ids(later) == ids(*contacts)
        assert Segment.objects.filter(refreshed_at__isnull=True).count() == 0

    def test_chosen_segments_only(self, dutch):
        other = SegmentFactory(criteria=[crit.locale("nl")])
        ann = ContactFactory(locale="nl")

        result = tasks.refresh_segments.enqueue([dutch.pk])

        assert result.return_value == {"joined": 1, "left": 0}
        assert member_ids(dutch) == {ann.pk}
        assert member_ids(other) == set()

    def test_counts_those_who_left(self, dutch):
        ann = ContactFactory(locale="nl")
        tasks.refresh_segments.enqueue()
        set_locale(ann, "en")

        assert tasks.refresh_segments.enqueue().return_value == {"joined": 0, "left": 1}

    def test_change_preference_for_segment(self, dutch, editor):
        products = PreferenceFactory(name="Products")
        members = ContactFactory.create_batch(2, locale="nl")
        ContactFactory(locale="en")
        services.refresh_segment(dutch)

        result = tasks.change_preference_for_segment.enqueue(
            dutch.pk, products.pk, remove=False, user_id=editor.pk
        )

        assert result.return_value == 2
        assert set(products.holdings.values_list("contact_id", flat=True)) == ids(*members)
        events = ConsentEvent.objects.filter(subject=ConsentSubject.PREFERENCE)
        assert {(e.contact_id, e.path, e.reference, e.actor) for e in events} == {
            (c.pk, ChangePath.ADMIN, "segment “Dutch”", editor) for c in members
        }

        result = tasks.change_preference_for_segment.enqueue(dutch.pk, products.pk, remove=True)

        assert result.return_value == 2
        assert not products.holdings.exists()


class TestQueries:
    @pytest.fixture
    def products(self):
        return PreferenceFactory()

    @pytest.fixture
    def five_segments(self, products):
        promotions = CategoryFactory()
        return [
            SegmentFactory(criteria=[crit.locale("nl")]),
            SegmentFactory(criteria=[crit.preferences("any", products)], match=MatchRule.ANY),
            SegmentFactory(criteria=[crit.category("subscribed", promotions)]),
            SegmentFactory(criteria=[crit.channel("email", "enabled"), crit.status("pending")]),
            SegmentFactory(criteria=[crit.custom_data("plan", "equals", "gold")]),
        ]

    @pytest.mark.parametrize("count", [1, 20])
    @pytest.mark.parametrize(("changes", "most"), [(False, 24), (True, 64)])
    def test_contacts_memberships_across_five_segments(
        self, five_segments, products, count, changes, most, django_assert_max_num_queries
    ):
        """A few queries per segment, however many contacts are refreshed."""
        contacts = ContactFactory.create_batch(
            count, locale="nl", data={"plan": "gold"}, preferences=[products]
        )
        if not changes:
            services.refresh_contacts(ids(*contacts))

        with django_assert_max_num_queries(most):
            services.refresh_contacts(ids(*contacts))

        assert all(member_ids(s) == ids(*contacts) for s in five_segments)

    def test_a_full_refresh_does_not_query_per_contact(self):
        segment = SegmentFactory(criteria=[crit.locale("nl")])
        Contact.objects.bulk_create(ContactFactory.build_batch(5, locale="nl"))
        with CaptureQueriesContext(connection) as few:
            services.refresh_segment(fresh(segment))
        SegmentMember.objects.all().delete()
        Contact.objects.bulk_create(ContactFactory.build_batch(495, locale="nl"))

        with CaptureQueriesContext(connection) as many:
            joined, _ = services.refresh_segment(fresh(segment))

        assert len(joined) == 500
        assert len(many) < 40

        def not_inserts(queries):
            return [q for q in queries if not q["sql"].startswith("INSERT")]

        # Only the batched inserts grow (SQLite caps the parameters of one statement).
        assert len(not_inserts(many)) == len(not_inserts(few))
