"""Rate limits: every attempt counted exactly once on each cache the docs offer, also when many
arrive at once, and ``429`` with ``Retry-After`` on every endpoint they guard."""

import os
import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from tests.link_fixtures import link_request_data, pending_submission
from tests.threads import at_once
from tests.visitor_helpers import VisitorForm, form_page, manage_path
from wagtail_preferences import services
from wagtail_preferences.exceptions import RateLimited
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import ChangePath, ContactStatus, RateLimitCounter
from wagtail_preferences.visitors import ratelimit

pytestmark = pytest.mark.django_db

KINDS = ("form_per_ip", "form_per_email", "link_per_ip", "link_per_email")
LIMIT = 5
THREADS = 50
#: 2030-01-02 12:20:00 UTC: 40 minutes are left in the hour's window.
FROZEN = datetime(2030, 1, 2, 12, 20, tzinfo=UTC)
DATABASE_CACHE = {
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "wagtail_preferences_rate_limits",
}
LOCAL_MEMORY_CACHE = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "rate-limit-tests",
}


def use_cache(settings, backend: dict, rate: str = f"{LIMIT}/hour") -> None:
    settings.CACHES = {**settings.CACHES, "rate_limits": backend}
    settings.WAGTAIL_PREFERENCES = {
        "RATE_LIMIT_CACHE": "rate_limits",
        "RATE_LIMITS": {"form_per_email": rate},
    }
    if backend is not DATABASE_CACHE:  # which counts in a table of the app's own
        caches["rate_limits"].clear()


def passed(attempts: int, key: str = "ann@example.com") -> int:
    """How many of ``attempts`` sequential attempts pass."""
    count = 0
    for _ in range(attempts):
        try:
            ratelimit.hit("form_per_email", key)
            count += 1
        except RateLimited:
            pass
    return count


def passed_at_once(key: str = "race@example.com") -> int:
    """How many of ``THREADS`` attempts started at the same moment pass."""

    def attempt():
        try:
            ratelimit.hit("form_per_email", key)
        except RateLimited:
            return False
        return True

    return at_once(lambda: attempt, THREADS).count(True)


class CounterContract:
    """What every cache backend must do; subclasses choose the backend."""

    backend: dict

    @pytest.fixture(autouse=True)
    def cache_backend(self, settings):
        use_cache(settings, self.backend)

    def test_exactly_the_limit_passes(self):
        assert passed(LIMIT + 3) == LIMIT

    def test_keys_count_apart_and_addresses_are_normalised(self):
        assert passed(LIMIT, " Ann@Example.com") == LIMIT
        assert passed(1, "ann@example.com") == 0
        assert passed(1, "bob@example.com") == 1

    def test_a_new_window_starts_from_nothing(self):
        with time_machine.travel(FROZEN, tick=False):
            assert passed(LIMIT + 1) == LIMIT
        with time_machine.travel(FROZEN + timedelta(minutes=40), tick=False):
            assert passed(LIMIT + 1) == LIMIT

    def test_retry_after_is_the_rest_of_the_window(self):
        with time_machine.travel(FROZEN, tick=False):
            passed(LIMIT)
            with pytest.raises(RateLimited) as limited:
                ratelimit.hit("form_per_email", "ann@example.com")

        assert limited.value.retry_after == 40 * 60


class TestLocalMemory(CounterContract):
    backend = LOCAL_MEMORY_CACHE

    def test_attempts_at_once_pass_exactly_the_limit(self):
        assert passed_at_once() == LIMIT


class TestDatabase(CounterContract):
    backend = DATABASE_CACHE

    def test_the_count_is_in_the_table_not_the_cache(self):
        passed(3)

        counter = RateLimitCounter.objects.get()
        assert counter.attempts == 3
        assert "ann@example.com" not in counter.key

    def test_expired_counters_are_deleted_when_a_new_one_starts(
        self, django_capture_on_commit_callbacks
    ):
        with time_machine.travel(FROZEN, tick=False):
            passed(2, "ann@example.com")
        assert RateLimitCounter.objects.get().expires_at == datetime(2030, 1, 2, 13, tzinfo=UTC)

        with (
            time_machine.travel(FROZEN + timedelta(hours=1), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            passed(1, "bob@example.com")

        assert RateLimitCounter.objects.get().attempts == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestDatabaseAtOnce:
    @pytest.mark.parametrize("round_", range(2))
    def test_attempts_at_once_pass_exactly_the_limit(self, settings, round_):
        use_cache(settings, DATABASE_CACHE)

        assert passed_at_once(f"race{round_}@example.com") == LIMIT
        assert RateLimitCounter.objects.get().attempts == THREADS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url():
    """A Redis server of the tests' own on a free port, stopped after the module.

    Without ``redis-server`` the tests are skipped, except on CI (CI=true), where they fail.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI runs the Redis tests, so this is an error there.")
        pytest.skip(reason)
    import redis

    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.redis
class TestRedis(CounterContract):
    @pytest.fixture(autouse=True)
    def cache_backend(self, settings, redis_url):
        self.backend = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
        }
        use_cache(settings, self.backend)

    def test_attempts_at_once_pass_exactly_the_limit(self):
        assert passed_at_once() == LIMIT


class TestTooManyAttemptsAnswer:
    """Each endpoint that counts attempts answers ``429`` with ``Retry-After``."""

    @pytest.fixture(autouse=True)
    def one_per_hour(self, settings):
        settings.WAGTAIL_PREFERENCES = {"RATE_LIMITS": dict.fromkeys(KINDS, "1/hour")}

    def assert_limited(self, first, second):
        assert first.status_code != 429
        assert second.status_code == 429
        assert second["Retry-After"] == str(40 * 60)
        assert "Too many attempts" in second.content.decode()

    def test_the_subscription_form(self, client):
        form = VisitorForm.of(client, form_page())
        with time_machine.travel(FROZEN, tick=False):
            self.assert_limited(form.post(), form.post())

    def test_asking_for_a_link(self, client):
        url = reverse("wagtail_preferences:request_link")
        with time_machine.travel(FROZEN, tick=False):
            data = link_request_data("ann@example.com")
            self.assert_limited(client.post(url, data), client.post(url, data))

    def test_resending_a_confirmation(self, client):
        token = tokens.confirmation_token(pending_submission())
        url = reverse("wagtail_preferences:resend_confirmation", args=[token])
        with time_machine.travel(FROZEN, tick=False):
            self.assert_limited(client.post(url), client.post(url))

    def test_subscribing_again(self, client):
        contact = pending_submission().contact
        services.set_status(
            contact, ContactStatus.UNSUBSCRIBED, services.Origin(path=ChangePath.UNSUBSCRIBE)
        )
        with time_machine.travel(FROZEN, tick=False):
            url = manage_path(contact)
            first = client.post(url, {"resubscribe": "1"})
            second = Client().post(url, {"resubscribe": "1"})
        self.assert_limited(first, second)
