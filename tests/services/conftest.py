"""Fixtures shared by the service tests."""

import pytest

from tests.factories import UserFactory
from wagtail_preferences.models import ChangePath
from wagtail_preferences.services import Origin


@pytest.fixture
def editor():
    return UserFactory(username="editor", staff=True)


@pytest.fixture
def form_origin(editor):
    """An origin with every field set, to check that each one reaches the events."""
    return Origin(
        path=ChangePath.FORM,
        user=editor,
        reference="newsletter-signup",
        ip_address="203.0.113.9",
        user_agent="Mozilla/5.0 (tests)",
        wording="Yes, send me news about your products.",
    )


@pytest.fixture
def failing_receiver():
    """Connect a receiver that raises to a signal, as a broken downstream handler would."""
    connected = []

    def connect(signal):
        def receiver(**kwargs):
            raise RuntimeError("receiver failed")

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)
