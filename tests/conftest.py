import os
from importlib.util import find_spec

import pytest
from django.core.cache import cache

from tests.factories import CategoryFactory, PreferenceFactory, UserFactory
from wagtail_preferences import signals
from wagtail_preferences.models import ChangePath
from wagtail_preferences.services import Origin, segments

SIGNAL_NAMES = (
    "contact_created",
    "contact_details_changed",
    "contact_status_changed",
    "preferences_added",
    "preferences_removed",
    "categories_changed",
    "channels_changed",
)


def pytest_runtest_setup(item):
    """Tests marked ``postgres`` need PostgreSQL, tests marked ``workers`` the database
    worker: skipped elsewhere, an error on CI."""
    if item.get_closest_marker("postgres") is not None:
        from django.db import connection

        if connection.vendor != "postgresql":
            _missing(
                f"needs PostgreSQL (DATABASE_URL=postgres://...), not {connection.vendor}: "
                "SQLite cannot run concurrent writers on its in-memory test database"
            )
    if item.get_closest_marker("workers") is not None and not find_spec("django_tasks_db"):
        _missing("needs django-tasks-db's worker (pip install -e '.[workers]')")


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI runs these tests, so this is an error there.")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate limits count in the cache: every test starts and ends with none counted."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files (import runs') go to a folder of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def no_pending_refresh():
    """Changes rolled back with a test leave no contacts waiting for the next test's commit."""
    yield
    segments.forget_deferred_refresh()


@pytest.fixture
def origin():
    return Origin(path=ChangePath.SYSTEM)


@pytest.fixture
def products(db):
    return PreferenceFactory(name="Products")


@pytest.fixture
def events(db):
    return PreferenceFactory(name="Events")


@pytest.fixture
def trainings(db):
    return PreferenceFactory(name="Trainings")


@pytest.fixture
def promotions(db):
    return CategoryFactory(name="Promotions")


@pytest.fixture
def superuser(db):
    return UserFactory(superuser=True)


@pytest.fixture
def sent_signals():
    """Every signal of ``wagtail_preferences.signals`` sent during the test, in order.

    Each entry is ``(name, kwargs)``, with ``sender`` included in kwargs.
    """
    sent = []
    receivers = {}
    for name in SIGNAL_NAMES:

        def receiver(name=name, **kwargs):
            kwargs.pop("signal")
            sent.append((name, kwargs))

        receivers[name] = receiver
        getattr(signals, name).connect(receiver, weak=False)
    yield sent
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)
