"""Fixtures shared by the admin tests."""

import pytest


@pytest.fixture
def admin_client(client, superuser):
    """The test client signed in as ``superuser``, in place of pytest-django's own admin."""
    client.force_login(superuser)
    return client
