"""What the property tests of the audience rules share: a fixed moment (``frozen_now``, in
the folder's conftest) and Hypothesis settings for examples that build rows in the database."""

import datetime

from hypothesis import HealthCheck, settings

NOW = datetime.datetime(2025, 6, 15, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


def database_examples(max_examples: int):
    """Reproducible examples without a deadline; each builds, and rolls back, its own rows."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def day(offset: int | None) -> datetime.date | None:
    """The date ``offset`` days from today, or ``None`` for none."""
    return None if offset is None else TODAY + datetime.timedelta(offset)
