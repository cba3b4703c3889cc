"""Rate limits of the visitor forms, counted in the cache named by ``RATE_LIMIT_CACHE``.

Each limit is a fixed window: at most N attempts per period for one key (an IP address or
an email address). Keys are hashed before they reach the cache, so no address is stored.
With several server processes, the cache must be shared (Redis, Memcached, the database);
the default local-memory cache counts per process.
"""

import hashlib
import time

from django.core.cache import caches

from .conf import get_setting, parse_rate
from .exceptions import RateLimited


def hit(kind: str, key: str) -> None:
    """Count one attempt of ``kind`` (a ``RATE_LIMITS`` key) for ``key``.

    Raises ``RateLimited`` once the attempts in the current period pass the limit.
    """
    allowed, period = parse_rate(get_setting("RATE_LIMITS")[kind])
    cache = caches[get_setting("RATE_LIMIT_CACHE")]
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    cache_key = f"wagtail_preferences:rate:{kind}:{int(time.time() // period)}:{digest}"
    cache.add(cache_key, 0, timeout=period)
    try:
        attempts = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=period)
        attempts = 1
    if attempts > allowed:
        raise RateLimited(f"More than {allowed} attempts ({kind}) in {period} seconds.")


def client_ip(request) -> str:
    """The address rate limits count by: ``REMOTE_ADDR`` (behind a proxy, set it right)."""
    return request.META.get("REMOTE_ADDR") or "unknown"
