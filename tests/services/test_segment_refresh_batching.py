"""Contacts changed wait for one segment refresh at commit, or at the end of a batch of work."""

import pytest

from wagtail_preferences.services import segments


@pytest.fixture
def due():
    """The contact ids of every refresh that comes due."""
    seen = []

    def on_due(sender, contact_ids, **kwargs):
        seen.append(contact_ids)

    segments.refresh_due.connect(on_due)
    yield seen
    segments.refresh_due.disconnect(on_due)


@pytest.mark.django_db
class TestRefreshBatching:
    def test_changes_before_a_commit_come_due_together_once(
        self, due, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            segments.defer_refresh([1, 2])
            segments.defer_refresh([3])
        assert due == [{1, 2, 3}]

    def test_changes_inside_refreshing_once_come_due_when_it_ends(
        self, due, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            segments.refreshing_once(),
        ):
            segments.defer_refresh([1])
            segments.defer_refresh([2])
            assert callbacks == []
        assert due == [{1, 2}]

    def test_more_changes_than_a_live_refresh_takes_refresh_everyone(
        self, due, settings, django_capture_on_commit_callbacks
    ):
        settings.WAGTAIL_PREFERENCES = {"LIVE_REFRESH_LIMIT": 2}
        with django_capture_on_commit_callbacks(execute=True):
            segments.defer_refresh([1, 2, 3])
        assert due == [segments.EVERYONE]

    def test_forgotten_changes_never_come_due(self, due, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            segments.defer_refresh([1])
            segments.forget_deferred_refresh()
        assert due == []
