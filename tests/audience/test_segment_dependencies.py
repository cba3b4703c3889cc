"""Segments are refreshed only after changes to what their criteria read."""

import pytest
from wagtail import blocks

from tests import segment_helpers as crit
from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory, SegmentFactory
from tests.segment_helpers import fresh, ids, member_ids
from wagtail_preferences import services
from wagtail_preferences.audience import dependencies as needs
from wagtail_preferences.audience.criteria import Criterion
from wagtail_preferences.services import segments


def reads(*criteria, **kwargs):
    return SegmentFactory(criteria=list(criteria), **kwargs).dependencies()


@pytest.mark.django_db
class TestDeclarations:
    def test_each_criterion_names_what_it_reads(self):
        products, promotions = PreferenceFactory(), CategoryFactory()
        other = SegmentFactory()
        assert reads(crit.preferences("any", products)) == {f"preference:{products.pk}"}
        assert reads(crit.category("opted_out", promotions)) == {f"category:{promotions.pk}"}
        assert reads(crit.channel("email", "enabled")) == {"channel:email"}
        assert reads(crit.channel("email", "paused")) == {"channel:email", "time"}
        assert reads(crit.status("confirmed")) == {"status"}
        assert reads(crit.email_domain("example.com")) == {"details:email"}
        assert reads(crit.locale("nl")) == {"details:locale"}
        assert reads(crit.name_contains("an")) == {"details:first_name", "details:last_name"}
        assert reads(crit.created("within", days=3)) == {"details:created_at", "time"}
        assert reads(crit.custom_data("plan", "equals", "pro")) == {"details:data"}
        assert reads(crit.segment("not_member", other)) == {f"segment:{other.pk}"}
        assert reads(crit.form_submitted()) == {"form"}
        assert reads(crit.form_submitted(days=7)) == {"form", "time"}

    def test_a_segment_reads_what_all_its_criteria_read(self):
        products = PreferenceFactory()
        assert reads(crit.preferences("all", products), crit.status("confirmed"), match="any") == {
            f"preference:{products.pk}",
            "status",
        }

    def test_a_criterion_that_declares_nothing_reads_everything(self):
        class Undeclared(Criterion):
            text = blocks.CharBlock()

        assert Undeclared().dependencies({"text": "x"}) is None


class TestMeet:
    def test_tags_meet_on_kind_and_key(self):
        assert needs.meet({"preference:1"}, {"preference:1", "status"})
        assert not needs.meet({"preference:1"}, {"preference:2", "category:1"})

    def test_a_tag_without_key_meets_every_key_of_its_kind(self):
        assert needs.meet({"preference"}, {"preference:2"})
        assert needs.meet({"details:locale"}, {"details"})

    def test_everything_meets_everything(self):
        assert needs.meet(None, {"status"})
        assert needs.meet({"status"}, None)

    def test_time_is_met_by_no_change(self):
        assert not needs.meet({"status", "details:created_at"}, {"time"})


@pytest.fixture
def setup():
    """Segments over a preference, over a category, and one following the first."""
    products, promotions = PreferenceFactory(), CategoryFactory()
    over_products = SegmentFactory(criteria=[crit.preferences("any", products)])
    over_category = SegmentFactory(criteria=[crit.category("subscribed", promotions)])
    follower = SegmentFactory(criteria=[crit.segment("member", over_products)])
    return products, promotions, over_products, over_category, follower


@pytest.mark.django_db
class TestWholeRefresh:
    def test_a_change_to_a_preference_leaves_a_segment_over_a_category(self, setup, origin):
        products, promotions, over_products, over_category, follower = setup
        ann = ContactFactory()
        services.add_preferences([ann], [products], origin)

        joined, _ = segments.refresh_segments(changes=[f"preference:{products.pk}"])

        assert joined == 2
        assert member_ids(over_products) == member_ids(follower) == ids(ann)
        # Ann receives the category, but the segment over it was not looked at.
        assert member_ids(over_category) == set()
        assert fresh(over_category).refreshed_at is None

    def test_a_segment_reading_another_follows_it(self, setup, origin):
        products, _, over_products, over_category, follower = setup
        ann = ContactFactory()
        services.add_preferences([ann], [products], origin)

        assert segments.affected(
            segments.in_refresh_order([follower, over_category, over_products]),
            [f"preference:{products.pk}"],
        ) == [over_products, follower]

    def test_preferences_given_on_joining_are_followed(self, origin):
        products, webinars = PreferenceFactory(), PreferenceFactory()
        giver = SegmentFactory(
            criteria=[crit.preferences("any", products)], preferences_on_join=[webinars]
        )
        # Refreshed before the giver in the order: it needs a second pass.
        reader = SegmentFactory(criteria=[crit.preferences("any", webinars)])
        ann = ContactFactory()
        services.add_preferences([ann], [products], origin)

        segments.refresh_segments(changes=[f"preference:{products.pk}"])

        assert member_ids(giver) == member_ids(reader) == ids(ann)

    def test_unknown_changes_refresh_every_segment(self, setup):
        *_, over_category, follower = setup
        ann = ContactFactory()

        segments.refresh_segments(changes=None)

        assert member_ids(over_category) == ids(ann)
        assert all(fresh(segment).refreshed_at for segment in setup[2:])

    def test_given_segments_are_refreshed_with_those_that_follow(self, setup, origin):
        products, _, over_products, over_category, follower = setup
        ann = ContactFactory()
        services.add_preferences([ann], [products], origin)

        segments.refresh_segments([over_products.pk])

        assert member_ids(follower) == ids(ann)
        assert fresh(over_category).refreshed_at is None


@pytest.mark.django_db
class TestLiveRefresh:
    def test_segments_the_change_cannot_affect_are_skipped(self, setup):
        products, promotions, over_products, over_category, follower = setup
        ann = ContactFactory()  # matches the segment over the category, not stored yet

        services.refresh_contacts([ann.pk], changes=[f"preference:{products.pk}"])
        assert member_ids(over_category) == set()

        services.refresh_contacts([ann.pk])
        assert member_ids(over_category) == ids(ann)

    def test_changes_are_reported_with_the_refresh(self, setup, origin, live, tasks_run):
        products, *_ = setup
        ann = ContactFactory()

        with live():
            services.add_preferences([ann], [products], origin)

        assert tasks_run == [("refresh_contacts", [[ann.pk]])]
        assert member_ids(setup[2]) == member_ids(setup[4]) == ids(ann)

    @pytest.mark.parametrize("unknown", [False, True])
    def test_refresh_due_carries_the_changes(
        self, setup, origin, django_capture_on_commit_callbacks, unknown
    ):
        products, *_ = setup
        ann = ContactFactory()
        due = []

        def on_due(sender, contact_ids, changes, **kwargs):
            due.append(changes)

        segments.refresh_due.connect(on_due)
        try:
            with django_capture_on_commit_callbacks(execute=True):
                services.add_preferences([ann], [products], origin)
                if unknown:
                    segments.defer_refresh([ann.pk])
        finally:
            segments.refresh_due.disconnect(on_due)
        assert due == [None if unknown else [f"preference:{products.pk}"]]


@pytest.mark.django_db
def test_a_large_change_refreshes_only_the_segments_it_can_affect(
    setup, origin, live, settings, tasks_run
):
    settings.WAGTAIL_PREFERENCES = {"LIVE_REFRESH_LIMIT": 2}
    products, _, over_products, over_category, follower = setup
    contacts = ContactFactory.create_batch(3)

    with live():
        services.add_preferences(contacts, [products], origin)

    assert [name for name, _ in tasks_run] == ["refresh_segments"]
    assert member_ids(over_products) == member_ids(follower) == ids(*contacts)
    assert fresh(over_category).refreshed_at is None
