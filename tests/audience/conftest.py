"""Fixtures of the audience tests: tasks run, signals sent, a segment, an origin; the moment
the property tests are frozen at."""

import pytest
from django_tasks.signals import task_finished

from tests import segment_helpers as crit
from tests.audience.membership_helpers import SUCCEEDED
from tests.audience.property_helpers import NOW
from tests.factories import SegmentFactory, UserFactory
from wagtail_preferences import signals, tasks
from wagtail_preferences.models import ChangePath
from wagtail_preferences.services import Origin


def _tracebacks(result) -> list[str]:
    errors = getattr(result, "errors", None)
    return [error.traceback for error in errors] if errors is not None else [result.traceback]


@pytest.fixture
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


@pytest.fixture
def frozen_now(time_machine):
    time_machine.move_to(NOW, tick=False)
