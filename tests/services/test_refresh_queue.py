"""With a worker, changes queue their contacts and one task refreshes them together."""

import datetime

import pytest
from django.utils import timezone

from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory, SegmentFactory
from tests.segment_helpers import category, member_ids, preferences
from tests.task_backends import WORKER_BACKEND, default_backend, forget_backends, use_tasks
from tests.threads import at_once
from wagtail_preferences import services, tasks
from wagtail_preferences.models import (
    CategoryChoice,
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    ContactPreference,
    PendingRefresh,
    RefreshRequest,
    SegmentMember,
)
from wagtail_preferences.services import refresh_queue

ORIGIN = services.Origin(path=ChangePath.ADMIN)


@pytest.fixture
def on_worker(settings):
    use_tasks(settings, WORKER_BACKEND)
    yield default_backend()
    forget_backends()


@pytest.fixture
def products_segment(db):
    products = PreferenceFactory(name="Products")
    return products, SegmentFactory(criteria=[preferences("any", products)])


@pytest.fixture
def promotions_segment(db):
    promotions = CategoryFactory(name="Promotions")
    return promotions, SegmentFactory(criteria=[category("opted_out", promotions)])


def refresh_tasks(backend) -> int:
    """How many refresh tasks were asked for (Wagtail enqueues tasks of its own)."""
    return sum(result.task.name == "refresh_queued_contacts" for result in backend.results)


@pytest.mark.django_db
class TestQueuedRefresh:
    def test_a_change_queues_its_contact_for_one_task(
        self, on_worker, products_segment, django_capture_on_commit_callbacks
    ):
        products, segment = products_segment
        ada, bob = ContactFactory.create_batch(2)
        with django_capture_on_commit_callbacks(execute=True):
            services.add_preferences([ada.pk], [products], ORIGIN)
        with django_capture_on_commit_callbacks(execute=True):
            services.add_preferences([bob.pk], [products], ORIGIN)

        assert sorted(PendingRefresh.objects.values_list("contact_id", flat=True)) == sorted(
            [ada.pk, bob.pk]
        )
        assert refresh_tasks(on_worker) == 1
        assert member_ids(segment) == set()

    def test_the_task_waits_a_moment_for_more_changes(
        self, on_worker, products_segment, django_capture_on_commit_callbacks
    ):
        products, _ = products_segment
        before = timezone.now()
        with django_capture_on_commit_callbacks(execute=True):
            services.add_preferences([ContactFactory().pk], [products], ORIGIN)
        (result,) = [r for r in on_worker.results if r.task.name == "refresh_queued_contacts"]
        assert result.task.run_after >= before + refresh_queue.BATCH_WAIT

    def test_the_task_refreshes_every_queued_contact_once_and_empties_the_queue(
        self, on_worker, products_segment, django_capture_on_commit_callbacks
    ):
        products, segment = products_segment
        ada, bob = ContactFactory.create_batch(2)
        with django_capture_on_commit_callbacks(execute=True):
            services.add_preferences([ada.pk, bob.pk], [products], ORIGIN)
        refresh_queue.queue([ada.pk])  # queued twice

        assert tasks.refresh_queued_contacts.call() == 2
        assert member_ids(segment) == {ada.pk, bob.pk}
        assert not PendingRefresh.objects.exists()

    def test_after_the_task_started_a_change_asks_for_another(
        self, on_worker, products_segment, django_capture_on_commit_callbacks
    ):
        products, segment = products_segment
        ada, bob = ContactFactory.create_batch(2)
        with django_capture_on_commit_callbacks(execute=True):
            services.add_preferences([ada.pk], [products], ORIGIN)
        tasks.refresh_queued_contacts.call()
        with django_capture_on_commit_callbacks(execute=True):
            services.add_preferences([bob.pk], [products], ORIGIN)

        assert refresh_tasks(on_worker) == 2
        tasks.refresh_queued_contacts.call()
        assert member_ids(segment) == {ada.pk, bob.pk}

    def test_the_queue_keeps_what_changed_and_a_batch_refreshes_only_what_it_can_affect(
        self, on_worker, products_segment, promotions_segment, django_capture_on_commit_callbacks
    ):
        products, segment = products_segment
        promotions, opted_out = promotions_segment
        ada = ContactFactory()
        CategoryChoice.objects.create(contact=ada, category=promotions, subscribed=False)
        with django_capture_on_commit_callbacks(execute=True):
            services.add_preferences([ada.pk], [products], ORIGIN)

        assert PendingRefresh.objects.get().changes == [f"preference:{products.pk}"]
        tasks.refresh_queued_contacts.call()
        assert member_ids(segment) == {ada.pk}
        assert member_ids(opted_out) == set()  # matches, but nothing it reads changed

    def test_a_batch_with_a_change_of_anything_refreshes_every_segment(
        self, on_worker, products_segment, promotions_segment
    ):
        products, segment = products_segment
        promotions, opted_out = promotions_segment
        ada, bob = ContactFactory.create_batch(2)
        ContactPreference.objects.create(contact=ada, preference=products)
        CategoryChoice.objects.create(contact=bob, category=promotions, subscribed=False)
        refresh_queue.queue([ada.pk], [f"preference:{products.pk}"])
        refresh_queue.queue([bob.pk], None)

        tasks.refresh_queued_contacts.call()
        assert member_ids(segment) == {ada.pk}
        assert member_ids(opted_out) == {bob.pk}

    def test_a_request_whose_worker_died_no_longer_holds_changes_back(self, on_worker):
        contact = ContactFactory()
        assert refresh_queue.queue([contact.pk]) is True
        assert refresh_queue.queue([contact.pk]) is False
        long_ago = timezone.now() - refresh_queue.STALE_REQUEST - datetime.timedelta(seconds=1)
        RefreshRequest.objects.update(requested_at=long_ago)
        assert refresh_queue.queue([contact.pk]) is True

    def test_a_deleted_contact_leaves_the_queue(self, on_worker):
        contact = ContactFactory()
        refresh_queue.queue([contact.pk])
        contact.delete()
        assert tasks.refresh_queued_contacts.call() == 0

    def test_without_a_worker_contacts_are_refreshed_at_once(
        self, products_segment, django_capture_on_commit_callbacks
    ):
        products, segment = products_segment
        ada = ContactFactory()
        with django_capture_on_commit_callbacks(execute=True):
            services.add_preferences([ada.pk], [products], ORIGIN)
        assert member_ids(segment) == {ada.pk}
        assert not PendingRefresh.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestQueueRaces:
    def test_changes_at_once_ask_for_one_task(self):
        contacts = ContactFactory.create_batch(8)
        asked = at_once(lambda: lambda: refresh_queue.queue([contacts[0].pk]), 8)
        assert asked.count(True) == 1
        assert PendingRefresh.objects.count() == 8

    def test_two_workers_at_once_refresh_each_contact_once(self, settings, products_segment):
        settings.WAGTAIL_PREFERENCES = {"LIVE_REFRESH_LIMIT": 5}
        products, segment = products_segment
        contacts = ContactFactory.create_batch(40)
        services.add_preferences([c.pk for c in contacts], [products], ORIGIN)
        SegmentMember.objects.all().delete()  # the refresh at commit: undone, to be queued
        ConsentEvent.objects.filter(subject=ConsentSubject.SEGMENT).delete()
        refresh_queue.queue([c.pk for c in contacts])

        refreshed = at_once(lambda: refresh_queue.refresh_queued, 2)

        assert sum(refreshed) == 40
        assert member_ids(segment) == {c.pk for c in contacts}
        joined = ConsentEvent.objects.filter(subject=ConsentSubject.SEGMENT, field="member")
        assert joined.count() == 40
        assert not PendingRefresh.objects.exists()
