"""Fixtures shared by the import tests."""

import pytest


@pytest.fixture
def batch_size(settings):
    def set_to(size: int):
        settings.WAGTAIL_PREFERENCES = {**settings.WAGTAIL_PREFERENCES, "IMPORT_BATCH_SIZE": size}

    settings.WAGTAIL_PREFERENCES = getattr(settings, "WAGTAIL_PREFERENCES", {})
    return set_to
