"""Rate limits of the visitor forms, counted in the cache named by ``RATE_LIMIT_CACHE``.

Each limit is a fixed window: at most N attempts per period for one key (an IP address or
an email address). Keys are hashed before they reach the cache, so no address is stored.
With several server processes, the cache must be shared (Redis, Memcached, the database);
the default local-memory cache counts per process.

Every attempt is counted exactly once, also when many arrive at the same moment: the count
is the result of an atomic increment, which Redis, Memcached and the local-memory cache
have. Django's database cache has none (its ``incr`` reads, then writes), so with it the
attempts are counted in a table of the app's own (``RateLimitCounter``) instead.
"""

import hashlib
import math
import time
from datetime import UTC, datetime

from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ..conf import get_setting, parse_rate
from ..exceptions import RateLimited
from ..models import RateLimitCounter


def hit(kind: str, key: str) -> None:
    """Count one attempt of ``kind`` (a ``RATE_LIMITS`` key) for ``key``.

    Raises ``RateLimited``, with the seconds left in the window, once the attempts in the
    current period pass the limit.
    """
    allowed, period = parse_rate(get_setting("RATE_LIMITS")[kind])
    cache = caches[get_setting("RATE_LIMIT_CACHE")]
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    now = time.time()
    window = int(now // period)
    ends = (window + 1) * period
    cache_key = f"wagtail_preferences:rate:{kind}:{window}:{digest}"
    if isinstance(cache, DatabaseCache):
        attempts = _count_in_table(cache_key, ends)
    else:
        attempts = _count_in_cache(cache, cache_key, period)
    if attempts > allowed:
        raise RateLimited(
            f"More than {allowed} attempts ({kind}) in {period} seconds.",
            retry_after=max(1, math.ceil(ends - now)),
        )


def _count_in_cache(cache, cache_key: str, period: int) -> int:
    cache.add(cache_key, 0, timeout=period)
    try:
        return cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=period)
        return 1


def _count_in_table(cache_key: str, ends: float) -> int:
    counters = RateLimitCounter.objects.filter(key=cache_key)
    with transaction.atomic():
        # The row stays locked until the commit: the count read below is this attempt's own.
        if not counters.update(attempts=F("attempts") + 1):
            try:
                with transaction.atomic():
                    RateLimitCounter.objects.create(
                        key=cache_key, attempts=1, expires_at=datetime.fromtimestamp(ends, UTC)
                    )
            except IntegrityError:  # created by a concurrent attempt since the update
                counters.update(attempts=F("attempts") + 1)
            else:
                transaction.on_commit(_delete_expired)
                return 1
        return counters.values_list("attempts", flat=True).get()


def _delete_expired() -> None:
    RateLimitCounter.objects.filter(expires_at__lte=timezone.now()).delete()


def client_ip(request) -> str:
    """The address rate limits count by: ``REMOTE_ADDR`` (behind a proxy, set it right)."""
    return request.META.get("REMOTE_ADDR") or "unknown"
