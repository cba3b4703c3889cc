"""The send rate limit of each channel (``SEND_RATE_LIMITS``), counted in the database so that
it holds across every worker on every machine that shares it.

Time is cut into fixed windows: one second, or as many as a rate under one per second needs
for one message. A window of a channel is a ``RateLimitCounter`` row keyed
``send:<channel>:<window start, epoch seconds>`` counting the slots taken in it. Slots are
taken with one statement per window that adds them only if they fit (an upsert, atomic on
SQLite and PostgreSQL alike), so senders racing for a window never overfill it.
"""

import math
import time
from datetime import UTC, datetime

from django.db import connections, router

from ..conf import get_setting
from ..models import RateLimitCounter

KEY_PREFIX = "send:"


def window_of(rate: float) -> tuple[int, int]:
    """(length in seconds, slots) of the windows of ``rate`` messages per second.

    One second, unless the rate is under one; the slots never exceed what the rate allows.
    """
    seconds = max(1, math.ceil(1 / rate))
    return seconds, max(1, math.floor(rate * seconds))


def portions(count: int, slots: int) -> list[int]:
    """``count`` slots as the windows take them: what does not fill a window, then full ones."""
    full, rest = divmod(count, slots)
    return ([rest] if rest else []) + [slots] * full


def reserve(channel: str, count: int, now: float | None = None) -> float:
    """Take ``count`` sending slots on ``channel`` under ``SEND_RATE_LIMITS``; return how many
    seconds to wait before sending them (0.0 when they may go now). Without a limit for the
    channel: 0.0, no query.

    Slots go to the earliest windows, from ``now`` on, with room for them. A batch of more
    than a window's slots takes several whole windows, and the wait is until the last of them
    starts: on average the rate holds, though the batch then leaves at once. Call it outside
    a transaction, or the window stays locked for other senders until the commit.
    """
    rate = get_setting("SEND_RATE_LIMITS").get(channel)
    if rate is None or count < 1:
        return 0.0
    now = time.time() if now is None else now
    seconds, slots = window_of(rate)
    window = int(now // seconds)
    for portion in portions(count, slots):
        while not _take(channel, window, seconds, portion, slots, now):
            window += 1
    return max(0.0, window * seconds - now)


def wait_for_slots(channel: str, count: int, sleep=time.sleep) -> float:
    """Reserve ``count`` slots on ``channel``, then ``sleep`` until they may be used.

    Returns the seconds waited.
    """
    wait = reserve(channel, count)
    if wait:
        sleep(wait)
    return wait


def _take(channel: str, window: int, seconds: int, portion: int, slots: int, now: float) -> bool:
    """Add ``portion`` to the slots taken in ``window`` if they stay within ``slots``."""
    connection = connections[router.db_for_write(RateLimitCounter)]
    meta = RateLimitCounter._meta
    table, key, attempts, expires_at = (
        connection.ops.quote_name(name)
        for name in (
            meta.db_table,
            meta.get_field("key").column,
            meta.get_field("attempts").column,
            meta.get_field("expires_at").column,
        )
    )
    ends = datetime.fromtimestamp((window + 1) * seconds, UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key}, {attempts}, {expires_at}) VALUES (%s, %s, %s) "  # noqa: S608
            f"ON CONFLICT ({key}) DO UPDATE SET {attempts} = {table}.{attempts} + %s "
            f"WHERE {table}.{attempts} + %s <= %s "
            f"RETURNING {attempts}",
            [
                f"{KEY_PREFIX}{channel}:{window * seconds}",
                portion,
                meta.get_field("expires_at").get_db_prep_value(ends, connection),
                portion,
                portion,
                slots,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return False
    if row[0] == portion:  # this reservation opened the window: a moment to tidy up
        _delete_expired(now)
    return True


def _delete_expired(now: float) -> None:
    RateLimitCounter.objects.filter(
        key__startswith=KEY_PREFIX, expires_at__lte=datetime.fromtimestamp(now, UTC)
    ).delete()
