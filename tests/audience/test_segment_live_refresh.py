import pytest
from django.db import transaction

from tests.factories import ContactFactory, PreferenceFactory
from wagtail_preferences import services
from wagtail_preferences.models import Segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def fans(django_capture_on_commit_callbacks):
    products = PreferenceFactory(name="Products")
    with django_capture_on_commit_callbacks(execute=True):
        segment = Segment.objects.create(
            name="Fans",
            criteria=[
                {"type": "preferences", "value": {"mode": "any", "preferences": [products.pk]}}
            ],
        )
    return segment, products


def test_a_change_refreshes_memberships_once_committed(
    fans, origin, django_capture_on_commit_callbacks
):
    segment, products = fans
    contact = ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.add_preferences(contact, [products], origin)
        assert not services.members(segment).exists()
    assert list(services.members(segment)) == [contact]


def test_a_rolled_back_change_does_not_stop_later_refreshes(
    fans, origin, django_capture_on_commit_callbacks
):
    segment, products = fans
    first, second = ContactFactory(), ContactFactory()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.add_preferences(first, [products], origin)
            raise RuntimeError("rolled back")
        services.add_preferences(second, [products], origin)
    assert list(services.members(segment)) == [second]


def test_a_large_change_refreshes_whole_segments(
    fans, origin, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_PREFERENCES = {"LIVE_REFRESH_LIMIT": 2}
    segment, products = fans
    contacts = ContactFactory.create_batch(3)
    Segment.objects.filter(pk=segment.pk).update(refreshed_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_preferences(contacts, [products], origin)
    assert set(services.members(segment)) == set(contacts)
    segment.refresh_from_db()
    assert segment.refreshed_at is not None  # only a whole-segment refresh sets it
