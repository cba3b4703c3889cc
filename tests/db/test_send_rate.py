"""The send rate limit: slots per window counted in the database, for every sender at once."""

import random
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.threads import at_once
from wagtail_preferences.db.send_rate import reserve, wait_for_slots, window_of
from wagtail_preferences.models import RateLimitCounter

NOW = 1_800_000_000.25  # a quarter of a second into a window


@pytest.fixture
def limit(settings):
    settings.WAGTAIL_PREFERENCES = {"SEND_RATE_LIMITS": {"sms": 5}}
    return 5


def taken() -> dict[str, int]:
    return dict(RateLimitCounter.objects.values_list("key", "attempts"))


def test_without_a_limit_there_is_no_wait_and_no_query(limit):
    # Without the django_db mark, any query fails the test.
    assert reserve("email", 1000, now=NOW) == 0.0


@pytest.mark.django_db
def test_slots_within_the_limit_go_now(limit):
    assert reserve("sms", 2, now=NOW) == 0.0
    assert reserve("sms", 3, now=NOW + 0.5) == 0.0
    assert taken() == {"send:sms:1800000000": 5}


@pytest.mark.django_db
def test_slots_past_the_limit_wait_for_the_next_second(limit):
    reserve("sms", 4, now=NOW)

    assert reserve("sms", 2, now=NOW) == pytest.approx(0.75)
    assert reserve("sms", 1, now=NOW) == 0.0, "the slot left in this second is still free"
    assert taken() == {"send:sms:1800000000": 5, "send:sms:1800000001": 2}


@pytest.mark.django_db
def test_a_full_window_sends_later_senders_further_on(limit):
    for _sender in range(3):
        reserve("sms", 5, now=NOW)

    assert reserve("sms", 1, now=NOW) == pytest.approx(2.75)


@pytest.mark.django_db
def test_a_big_batch_takes_whole_windows_and_waits_for_the_last(limit):
    assert reserve("sms", 12, now=NOW) == pytest.approx(1.75)
    assert taken() == {
        "send:sms:1800000000": 2,
        "send:sms:1800000001": 5,
        "send:sms:1800000002": 5,
    }
    assert reserve("sms", 3, now=NOW) == 0.0, "the batch left room in this second"


@pytest.mark.django_db
def test_channels_are_counted_apart(settings):
    settings.WAGTAIL_PREFERENCES = {"SEND_RATE_LIMITS": {"sms": 1, "email": 1}}
    reserve("sms", 1, now=NOW)

    assert reserve("email", 1, now=NOW) == 0.0


@pytest.mark.parametrize(
    ("rate", "window"),
    [(5, (1, 5)), (2.5, (1, 2)), (0.5, (2, 1)), (0.3, (4, 1)), (1 / 3, (3, 1))],
)
def test_a_window_never_holds_more_than_the_rate(rate, window):
    assert window_of(rate) == window
    seconds, slots = window
    assert slots / seconds <= rate


@pytest.mark.django_db
def test_a_rate_under_one_per_second_spaces_the_messages(settings):
    settings.WAGTAIL_PREFERENCES = {"SEND_RATE_LIMITS": {"sms": 0.5}}

    assert [reserve("sms", 1, now=NOW) for _message in range(3)] == [0.0, 1.75, 3.75]


@pytest.mark.django_db
def test_expired_windows_are_deleted_when_a_new_one_opens(limit):
    reserve("sms", 6, now=NOW)
    assert len(taken()) == 2

    reserve("sms", 1, now=NOW + 60)
    assert taken() == {"send:sms:1800000060": 1}


@pytest.mark.django_db
def test_a_window_is_one_statement(limit):
    with CaptureQueriesContext(connection) as queries:
        reserve("sms", 1, now=NOW)  # opens the window: one statement, then the tidy-up
        reserve("sms", 1, now=NOW)
    assert len(queries) == 3


@pytest.mark.django_db
def test_waiting_sleeps_until_the_slots_are_free(limit):
    slept = []
    wait_for_slots("sms", 5, sleep=slept.append)
    wait = wait_for_slots("sms", 1, sleep=slept.append)

    assert 0 < wait <= 1
    assert slept == [wait]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_senders_at_once_never_overfill_a_window(limit, round_):
    """Each of 24 threads, with its own connection, reserves 1 to 3 slots at the same moment."""
    counts = [random.randint(1, 3) for _thread in range(24)]  # noqa: S311
    pending = list(counts)

    def ready():
        count = pending.pop()
        return lambda: (count, reserve("sms", count, now=NOW))

    reservations = at_once(ready, len(counts))

    per_window = Counter()
    for count, wait in reservations:
        per_window[int(NOW + wait)] += count
    assert max(per_window.values()) <= limit
    assert sum(per_window.values()) == sum(counts)
    assert taken() == {f"send:sms:{second}": slots for second, slots in per_window.items()}
