"""Segment membership by hand: manual members, opt-outs, preferences added on joining."""

import pytest

from tests import segment_helpers as crit
from tests.audience.membership_helpers import segment_events, set_locale, summaries
from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory, SegmentFactory
from tests.segment_helpers import fresh, ids, member_ids
from wagtail_preferences import services
from wagtail_preferences.exceptions import InvalidChange
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    ContactPreference,
    SegmentInclusion,
    SegmentOptOut,
)
from wagtail_preferences.services import Origin

#: Every test fails if one of the app's tasks failed (see ``tasks_run``).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_run")]


class TestManualMembers:
    def test_added_by_hand_joins_without_matching(self, dutch, admin_origin, segment_signals):
        ann = ContactFactory(locale="en")

        assert services.add_to_segment([ann.pk], dutch, admin_origin) == {ann.pk}

        assert member_ids(dutch) == {ann.pk}
        assert SegmentInclusion.objects.get().source == ChangePath.ADMIN
        assert segment_events(dutch) == {(ann.pk, "member", False, True, ChangePath.ADMIN, "")}
        assert [name for name, _ in segment_signals] == ["segment_entered"]
        # A full refresh keeps them.
        services.refresh_segment(dutch)
        assert member_ids(dutch) == {ann.pk}

    def test_adding_someone_who_already_matches(self, dutch, admin_origin):
        ann = ContactFactory(locale="nl")
        services.refresh_segment(dutch)

        assert services.add_to_segment(ann, dutch, admin_origin) == frozenset()
        assert SegmentInclusion.objects.filter(contact=ann, segment=dutch).exists()
        assert member_ids(dutch) == {ann.pk}

    def test_removing_by_hand_keeps_those_who_still_match(self, dutch, admin_origin):
        matching, not_matching = ContactFactory(locale="nl"), ContactFactory(locale="en")
        services.add_to_segment([matching, not_matching], dutch, admin_origin)
        assert member_ids(dutch) == ids(matching, not_matching)

        left = services.remove_from_segment([matching, not_matching], dutch, admin_origin)

        assert left == {not_matching.pk}
        assert member_ids(dutch) == {matching.pk}
        assert not SegmentInclusion.objects.exists()
        assert summaries(not_matching) == ["Joined segment “Dutch”", "Left segment “Dutch”"]

    def test_adding_twice_adds_once(self, dutch, admin_origin):
        ann = ContactFactory(locale="en")
        services.add_to_segment(ann, dutch, admin_origin)

        assert services.add_to_segment(ann, dutch, admin_origin) == frozenset()
        assert SegmentInclusion.objects.count() == 1
        assert ConsentEvent.objects.count() == 1

    def test_unknown_contacts_are_refused(self, dutch, admin_origin):
        ann = ContactFactory(locale="en")

        with pytest.raises(InvalidChange):
            services.add_to_segment([ann.pk, ann.pk + 1000], dutch, admin_origin)
        assert not SegmentInclusion.objects.exists()
        assert member_ids(dutch) == set()


class TestOptOut:
    @pytest.fixture
    def opted_out(self, dutch, admin_origin):
        """Opt ``contact`` out of the Dutch segment; check it left and is logged."""

        def opt_out(contact):
            assert contact.pk in member_ids(dutch)
            assert services.opt_out_of_segment(contact, dutch, admin_origin) == {contact.pk}
            assert contact.pk not in member_ids(dutch)
            assert summaries(contact)[-2:] == [
                "Opted out of segment “Dutch”",
                "Left segment “Dutch”",
            ]
            assert SegmentOptOut.objects.get(contact=contact).source == ChangePath.ADMIN

        return opt_out

    def test_a_member_by_criteria_stays_out(self, dutch, opted_out):
        ann = ContactFactory(locale="nl")
        services.refresh_segment(dutch)

        opted_out(ann)

        services.refresh_segment(dutch)
        services.refresh_contacts([ann.pk])
        assert member_ids(dutch) == set()
        assert fresh(dutch).matching_contacts().get() == ann

    def test_a_member_by_hand_stays_out(self, dutch, admin_origin, opted_out):
        ann = ContactFactory(locale="en")
        services.add_to_segment(ann, dutch, admin_origin)

        opted_out(ann)

        services.refresh_segment(dutch)
        assert services.add_to_segment(ann, dutch, admin_origin) == frozenset()
        assert member_ids(dutch) == set()

    def test_a_member_by_import_stays_out(self, dutch, opted_out):
        ann = ContactFactory(locale="en")
        services.add_to_segment(ann, dutch, Origin(path=ChangePath.IMPORT, reference="run 7"))
        assert SegmentInclusion.objects.get().source == ChangePath.IMPORT

        opted_out(ann)

        services.refresh_segment(dutch)
        assert member_ids(dutch) == set()

    def test_opting_out_before_matching(self, dutch, admin_origin, segment_signals):
        ann = ContactFactory(locale="en")

        assert services.opt_out_of_segment(ann, dutch, admin_origin) == {ann.pk}
        set_locale(ann, "nl")
        services.refresh_segment(dutch)

        assert member_ids(dutch) == set()
        assert summaries(ann) == ["Opted out of segment “Dutch”"]
        assert segment_signals == []

    def test_opting_out_twice_is_logged_once(self, dutch, admin_origin):
        ann = ContactFactory(locale="nl")
        services.opt_out_of_segment(ann, dutch, admin_origin)

        assert services.opt_out_of_segment(ann, dutch, admin_origin) == frozenset()
        assert SegmentOptOut.objects.count() == 1
        assert summaries(ann) == ["Opted out of segment “Dutch”"]

    @pytest.mark.parametrize("joined", ["criteria", "hand"])
    def test_opting_in_again_brings_back_those_who_belong(
        self, dutch, admin_origin, opted_out, joined
    ):
        ann = ContactFactory(locale="nl" if joined == "criteria" else "en")
        if joined == "hand":
            services.add_to_segment(ann, dutch, admin_origin)
        else:
            services.refresh_segment(dutch)
        opted_out(ann)

        assert services.opt_in_to_segment(ann, dutch, admin_origin) == {ann.pk}

        assert member_ids(dutch) == {ann.pk}
        assert not SegmentOptOut.objects.exists()
        assert summaries(ann)[-2:] == [
            "Opted back in to segment “Dutch”",
            "Joined segment “Dutch”",
        ]

    def test_opting_in_again_without_belonging(self, dutch, admin_origin, opted_out):
        ann = ContactFactory(locale="nl")
        services.refresh_segment(dutch)
        opted_out(ann)
        set_locale(ann, "en")

        assert services.opt_in_to_segment(ann, dutch, admin_origin) == {ann.pk}

        assert member_ids(dutch) == set()
        assert summaries(ann)[-1] == "Opted back in to segment “Dutch”"

    def test_opting_in_without_an_opt_out_does_nothing(self, dutch, admin_origin):
        ann = ContactFactory(locale="en")

        assert services.opt_in_to_segment(ann, dutch, admin_origin) == frozenset()
        assert not ConsentEvent.objects.exists()

    def test_opting_out_of_a_segment_that_cannot_be_evaluated(self, admin_origin, segment_signals):
        """Whatever is wrong with the criteria, a contact can always opt out (and back in)."""
        category = CategoryFactory()
        segment = SegmentFactory(name="Broken", criteria=[crit.category("subscribed", category)])
        ann = ContactFactory()
        services.refresh_segment(segment)
        category.delete()
        segment = fresh(segment)
        segment_signals.clear()

        assert services.opt_out_of_segment(ann, segment, admin_origin) == {ann.pk}

        assert member_ids(segment) == set()
        assert summaries(ann)[-2:] == ["Opted out of segment “Broken”", "Left segment “Broken”"]
        assert [(n, kwargs["contact_ids"]) for n, kwargs in segment_signals] == [
            ("segment_left", {ann.pk})
        ]

        assert services.opt_in_to_segment(ann, segment, admin_origin) == {ann.pk}
        assert not SegmentOptOut.objects.exists()
        assert member_ids(segment) == set()  # back once the criteria can be evaluated

    def test_who_opted_out_and_later_matches_again_stays_out(self, dutch, origin, live):
        ann = ContactFactory(locale="nl")
        with live():
            services.refresh_segment(dutch)
        with live():
            services.opt_out_of_segment(ann, dutch, origin)

        with live():
            services.update_details(ann, {"locale": "en"}, origin)
        with live():
            services.update_details(ann, {"locale": "nl-BE"}, origin)

        assert member_ids(dutch) == set()
        assert fresh(dutch).matching_contacts().get() == ann
        with live():
            services.opt_in_to_segment(ann, dutch, origin)
        assert member_ids(dutch) == {ann.pk}


class TestPreferencesOnJoin:
    @pytest.fixture
    def prefs(self):
        return PreferenceFactory(name="Dutch news"), PreferenceFactory(name="Events")

    @pytest.fixture
    def segment(self, prefs):
        return SegmentFactory(
            name="Dutch", criteria=[crit.locale("nl")], preferences_on_join=list(prefs)
        )

    def test_joiners_get_them_through_the_service_layer(self, segment, prefs, sent_signals):
        news, events = prefs
        ann = ContactFactory(locale="nl")
        bob = ContactFactory(locale="nl", preferences=[news])
        ContactFactory(locale="en")

        services.refresh_segment(segment)

        added = {(ann.pk, news.pk), (ann.pk, events.pk), (bob.pk, events.pk)}
        assert set(
            ContactPreference.objects.values_list("contact_id", "preference_id")
        ) == added | {(bob.pk, news.pk)}
        assert {
            (e.contact_id, e.subject_id, e.new_value, e.path, e.reference)
            for e in ConsentEvent.objects.filter(subject=ConsentSubject.PREFERENCE)
        } == {(c, p, True, ChangePath.SEGMENT, "segment “Dutch”") for c, p in added}
        assert ContactPreference.objects.filter(source=ChangePath.SEGMENT).count() == 3
        assert [(name, kwargs["pairs"]) for name, kwargs in sent_signals] == [
            ("preferences_added", added)
        ]
        assert summaries(ann) == [
            "Joined segment “Dutch”",
            "Added preference “Dutch news”",
            "Added preference “Events”",
        ]

    def test_joining_by_hand_names_the_segment(self, segment, prefs, admin_origin, editor):
        ann = ContactFactory(locale="en")

        services.add_to_segment(ann, segment, admin_origin)

        events = ConsentEvent.objects.filter(subject=ConsentSubject.PREFERENCE)
        assert {(e.subject_id, e.path, e.reference, e.actor) for e in events} == {
            (p.pk, ChangePath.SEGMENT, "segment “Dutch”", editor) for p in prefs
        }

    def test_leaving_keeps_them(self, segment, prefs):
        ann = ContactFactory(locale="nl")
        services.refresh_segment(segment)
        set_locale(ann, "en")

        services.refresh_segment(segment)

        assert set(ann.preference_holdings.values_list("preference_id", flat=True)) == ids(*prefs)

    def test_members_who_stay_get_nothing_new(self, segment, prefs, sent_signals):
        ann = ContactFactory(locale="nl")
        services.refresh_segment(segment)
        services.remove_preferences(ann, prefs, services.Origin(path=ChangePath.FORM))
        sent_signals.clear()

        services.refresh_segment(segment)

        assert not ann.preference_holdings.exists()
        assert sent_signals == []
