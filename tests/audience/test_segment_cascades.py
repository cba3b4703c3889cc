"""A change refreshes the contact's segments on commit, and segments built on others follow."""

import pytest

from tests import segment_helpers as crit
from tests.audience.membership_helpers import segment_events
from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory, SegmentFactory
from tests.segment_helpers import fresh, ids, member_ids
from wagtail_preferences import services, tasks
from wagtail_preferences.models import ChangePath, Contact, ContactStatus, Segment
from wagtail_preferences.services import ChannelSettings

#: Every test fails if one of the app's tasks failed (see ``tasks_run``).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tasks_run")]


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
        contacts = ContactFactory.create_batch(3, locale="en")
        bystander = ContactFactory(locale="nl")

        with live():
            services.update_contacts({c.pk: {"locale": "nl"} for c in contacts}, origin)

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
