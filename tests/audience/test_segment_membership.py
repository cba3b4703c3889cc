"""Segment membership: refresh, opt-out, manual members, preferences added on joining,
consent events, signals, live refresh after changes, cascades, the refresh task, queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks.signals import task_finished

from tests import segment_helpers as crit
from tests.factories import (
    CategoryFactory,
    ContactFactory,
    PreferenceFactory,
    SegmentFactory,
    UserFactory,
)
from tests.segment_helpers import fresh, ids, member_ids
from wagtail_preferences import services, signals, tasks
from wagtail_preferences.admin.consent_text import describe
from wagtail_preferences.exceptions import InvalidChange
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    Contact,
    ContactPreference,
    ContactStatus,
    MatchRule,
    Segment,
    SegmentInclusion,
    SegmentMember,
    SegmentOptOut,
)
from wagtail_preferences.services import ChannelSettings, Origin
from wagtail_preferences.services.segments import segment_origin

try:  # django-tasks 0.8 and later
    from django_tasks.base import TaskResultStatus

    SUCCEEDED = TaskResultStatus.SUCCESSFUL
except ImportError:  # django-tasks 0.7, which Wagtail 7.0 pins
    from django_tasks import ResultStatus

    SUCCEEDED = ResultStatus.SUCCEEDED


def _tracebacks(result) -> list[str]:
    errors = getattr(result, "errors", None)
    return [error.traceback for error in errors] if errors is not None else [result.traceback]


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tasks_run():
    """(task name, args) of each of this app's tasks run during the test, which fails if any
    task failed: the immediate backend records the error and goes on."""
    ran, failed = [], []

    def receiver(sender, task_result, **kwargs):
        if task_result.task.func.__module__ == tasks.__name__:
            ran.append((task_result.task.name, task_result.args))
        if task_result.status != SUCCEEDED:
            failed.append(task_result)

    task_finished.connect(receiver, weak=False)
    yield ran
    task_finished.disconnect(receiver)
    assert not failed, "\n".join(tb for result in failed for tb in _tracebacks(result))


@pytest.fixture
def segment_signals():
    """``segment_entered`` and ``segment_left`` as sent during the test: (name, kwargs)."""
    sent = []
    names = {signals.segment_entered: "segment_entered", signals.segment_left: "segment_left"}

    def receiver(signal, **kwargs):
        sent.append((names[signal], kwargs))

    for signal in names:
        signal.connect(receiver, weak=False)
    yield sent
    for signal in names:
        signal.disconnect(receiver)


@pytest.fixture
def live(django_capture_on_commit_callbacks):
    """Run what the change leaves for the commit (the live refresh), as a commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def editor():
    return UserFactory(username="editor", staff=True)


@pytest.fixture
def admin_origin(editor):
    return Origin(path=ChangePath.ADMIN, user=editor)


@pytest.fixture
def dutch():
    return SegmentFactory(name="Dutch", criteria=[crit.locale("nl")])


def segment_events(segment, **filters):
    """(contact_id, field, old_value, new_value, path, reference) of the segment's events."""
    return {
        (e.contact_id, e.field, e.old_value, e.new_value, e.path, e.reference)
        for e in ConsentEvent.objects.for_subject(ConsentSubject.SEGMENT, segment.pk).filter(
            **filters
        )
    }


def summaries(contact) -> list[str]:
    return [describe(e) for e in ConsentEvent.objects.filter(contact=contact).order_by("pk")]


def set_locale(contact, code):
    """Change a contact's locale behind the service layer's back: no refresh follows."""
    Contact.objects.filter(pk=contact.pk).update(locale=code)


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


class TestLiveRefresh:
    """A change through the service layer refreshes the contact's segments on commit."""

    def test_nothing_before_the_commit(self, dutch, origin, django_capture_on_commit_callbacks):
        ann = ContactFactory(locale="en")

        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.update_details(ann, {"locale": "nl"}, origin)

        assert len(callbacks) == 1
        assert member_ids(dutch) == set()

    def test_details(self, dutch, origin, live):
        ann = ContactFactory(locale="en")

        with live():
            services.update_details(ann, {"locale": "nl"}, origin)
        assert member_ids(dutch) == {ann.pk}

        with live():
            services.update_details(ann, {"locale": "fr"}, origin)
        assert member_ids(dutch) == set()

    def test_status(self, origin, live):
        segment = SegmentFactory(criteria=[crit.status(ContactStatus.CONFIRMED)])
        contacts = ContactFactory.create_batch(3)

        with live():
            services.set_status(contacts[:2], ContactStatus.CONFIRMED, origin)

        assert member_ids(segment) == ids(*contacts[:2])

    def test_preferences(self, origin, live):
        products = PreferenceFactory()
        segment = SegmentFactory(criteria=[crit.preferences("any", products)])
        ann, bob = ContactFactory(), ContactFactory()

        with live():
            services.add_preferences([ann, bob], [products], origin)
        assert member_ids(segment) == ids(ann, bob)

        with live():
            services.remove_preferences([bob], [products], origin)
        assert member_ids(segment) == {ann.pk}

    def test_categories(self, origin, live):
        promotions = CategoryFactory()
        segment = SegmentFactory(criteria=[crit.category("opted_out", promotions)])
        ann = ContactFactory()

        with live():
            services.set_category_choices(ann, {promotions: False}, origin)
        assert member_ids(segment) == {ann.pk}

        with live():
            services.set_category_choices(ann, {promotions: None}, origin)
        assert member_ids(segment) == set()

    def test_channels(self, origin, live):
        segment = SegmentFactory(criteria=[crit.channel("sms", "disabled")])
        ann = ContactFactory()

        with live():
            services.update_channels(ann, {"sms": ChannelSettings(enabled=False)}, origin)

        assert member_ids(segment) == {ann.pk}

    def test_a_new_contact(self, dutch, origin, live):
        with live():
            ann, _ = services.get_or_create_contact("ann@example.com", origin, locale="nl")

        assert member_ids(dutch) == {ann.pk}

    def test_the_refresh_is_logged_as_the_segment(self, dutch, origin, live):
        ann = ContactFactory(locale="en")

        with live():
            services.update_details(ann, {"locale": "nl"}, origin)

        assert segment_events(dutch) == {
            (ann.pk, "member", False, True, ChangePath.SEGMENT, "segment “Dutch”")
        }

    def test_every_contact_changed_in_one_transaction_once(self, dutch, origin, live, tasks_run):
        ann, bob = ContactFactory(locale="en"), ContactFactory(locale="en")

        with live():
            services.update_details(ann, {"locale": "nl"}, origin)
            services.update_details(bob, {"locale": "nl"}, origin)

        assert tasks_run == [("refresh_contacts", [sorted(ids(ann, bob))])]
        assert member_ids(dutch) == ids(ann, bob)

    def test_more_changes_than_the_limit_refresh_whole_segments(
        self, dutch, origin, live, settings
    ):
        settings.WAGTAIL_PREFERENCES = {"LIVE_REFRESH_LIMIT": 2}
        contacts = ContactFactory.create_batch(3, locale="nl")
        bystander = ContactFactory(locale="nl")

        with live():
            services.set_status(contacts, ContactStatus.CONFIRMED, origin)

        assert member_ids(dutch) == ids(*contacts, bystander)
        assert fresh(dutch).refreshed_at is not None

    def test_saving_a_segment_refreshes_it(self, live):
        ann, _ = ContactFactory(locale="nl"), ContactFactory(locale="en")

        with live():
            segment = SegmentFactory(criteria=[crit.locale("nl")])
        assert member_ids(segment) == {ann.pk}

        segment.criteria = [crit.locale("en")]
        with live():
            segment.save()
        assert member_ids(segment) == ids(*Contact.objects.filter(locale="en"))

    def test_saving_an_invalid_segment_schedules_nothing(self, django_capture_on_commit_callbacks):
        category = CategoryFactory()
        segment = SegmentFactory(criteria=[crit.category("subscribed", category)])
        category.delete()

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            fresh(segment).save()

        assert callbacks == []

    def test_invalid_segments_are_passed_over(self, dutch, origin, live):
        category = CategoryFactory()
        SegmentFactory(criteria=[crit.category("subscribed", category)])
        category.delete()
        ann = ContactFactory(locale="en")

        with live():
            services.update_details(ann, {"locale": "nl"}, origin)

        assert member_ids(dutch) == {ann.pk}


class TestCascades:
    """Segments defined by other segments, or by what joining another segment gives."""

    @pytest.fixture
    def chain(self, dutch):
        """Confirmed Dutch = member of Dutch and confirmed; Outsiders = not in Confirmed Dutch."""
        confirmed = SegmentFactory(
            name="Confirmed Dutch",
            criteria=[crit.segment("member", dutch), crit.status(ContactStatus.CONFIRMED)],
        )
        outsiders = SegmentFactory(
            name="Outsiders", criteria=[crit.segment("not_member", confirmed)]
        )
        return dutch, confirmed, outsiders

    def test_joining_one_joins_the_next_in_the_same_refresh(self, chain, origin, live, tasks_run):
        ann = ContactFactory(locale="en", status=ContactStatus.CONFIRMED)
        with live():
            services.refresh_contacts([ann.pk])
        assert [member_ids(s) for s in chain] == [set(), set(), {ann.pk}]
        tasks_run.clear()

        with live():
            services.update_details(ann, {"locale": "nl"}, origin)

        assert tasks_run == [("refresh_contacts", [[ann.pk]])]
        assert [member_ids(s) for s in chain] == [{ann.pk}, {ann.pk}, set()]

        with live():
            services.update_details(ann, {"locale": "en"}, origin)
        assert [member_ids(s) for s in chain] == [set(), set(), {ann.pk}]

    def test_the_order_of_creation_does_not_matter(self, origin, live):
        later = SegmentFactory(name="Later")
        earlier = SegmentFactory(name="Earlier", criteria=[crit.locale("nl")])
        Segment.objects.filter(pk=later.pk).update(criteria=[crit.segment("member", earlier)])
        ann = ContactFactory(locale="en")

        with live():
            services.update_details(ann, {"locale": "nl"}, origin)

        assert member_ids(earlier) == member_ids(later) == {ann.pk}

    def test_adding_by_hand_cascades(self, chain, admin_origin, live):
        dutch, confirmed, outsiders = chain
        ann = ContactFactory(locale="en", status=ContactStatus.CONFIRMED)

        with live():
            services.add_to_segment(ann, dutch, admin_origin)

        assert [member_ids(s) for s in chain] == [{ann.pk}, {ann.pk}, set()]

    def test_opting_out_cascades(self, chain, origin, live):
        dutch, confirmed, _ = chain
        ann = ContactFactory(locale="nl", status=ContactStatus.CONFIRMED)
        with live():
            services.refresh_contacts([ann.pk])
        assert ann.pk in member_ids(confirmed)

        with live():
            services.opt_out_of_segment(ann, dutch, origin)

        assert [member_ids(s) for s in chain] == [set(), set(), {ann.pk}]

    def test_preferences_given_on_joining_count_at_once(self, origin, live):
        news = PreferenceFactory(name="Dutch news")
        readers = SegmentFactory(name="Readers", criteria=[crit.preferences("any", news)])
        SegmentFactory(name="Dutch", criteria=[crit.locale("nl")], preferences_on_join=[news])
        ann = ContactFactory(locale="en")

        with live():
            services.update_details(ann, {"locale": "nl"}, origin)

        assert member_ids(readers) == {ann.pk}

    def test_preferences_given_by_a_full_refresh_count_on_commit(self, live):
        news = PreferenceFactory(name="Dutch news")
        readers = SegmentFactory(name="Readers", criteria=[crit.preferences("any", news)])
        dutch = SegmentFactory(name="Dutch", criteria=[crit.locale("nl")])
        ann = ContactFactory(locale="nl")

        with live():
            dutch.preferences_on_join.set([news])
            services.refresh_segment(dutch)

        assert member_ids(readers) == {ann.pk}

    def test_a_saved_segment_updates_those_that_depend_on_it(self, chain, live):
        dutch, confirmed, _ = chain
        ann = ContactFactory(locale="fr", status=ContactStatus.CONFIRMED)
        with live():
            tasks.refresh_segments.enqueue()
        assert member_ids(confirmed) == set()

        dutch.criteria = [crit.locale("fr")]
        with live():
            dutch.save()

        assert member_ids(confirmed) == {ann.pk}


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
