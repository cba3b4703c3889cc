"""Which opens and clicks are a machine's: Apple's proxies, scanners, HEAD, too soon."""

import datetime

import pytest
from django.utils import timezone

from wagtail_preferences.feedback.machines import is_machine, is_machine_request

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
PERSON = "198.51.100.7"


@pytest.mark.parametrize(
    ("agent", "address"),
    [
        ("Mozilla/5.0", "17.58.101.12"),  # Apple Mail Privacy Protection
        ("Mozilla/5.0", PERSON),
        (BROWSER, "17.0.0.1"),
        ("", PERSON),
        ("Mozilla/5.0 (compatible; Barracuda Sentinel)", PERSON),
        ("Mozilla/5.0 (compatible; bingbot/2.0)", PERSON),
        ("python-requests/2.32", PERSON),
        ("curl/8.5.0", PERSON),
    ],
)
def test_machines(agent, address):
    assert is_machine(agent, address) is True


@pytest.mark.parametrize("address", [PERSON, "2001:db8::1", "not an address", None])
def test_people(address):
    assert is_machine(BROWSER, address) is False


class TestRequests:
    now = timezone.now()

    def test_a_head_request_is_a_machines(self):
        assert is_machine_request(BROWSER, PERSON, method="HEAD") is True

    def test_seconds_after_sending_is_a_machines_and_later_a_persons(self):
        soon = self.now - datetime.timedelta(seconds=3)
        later = self.now - datetime.timedelta(minutes=5)

        assert is_machine_request(BROWSER, PERSON, sent_at=soon, now=self.now) is True
        assert is_machine_request(BROWSER, PERSON, sent_at=later, now=self.now) is False

    def test_a_browsers_get_without_a_sending_time_is_a_persons(self):
        assert is_machine_request(BROWSER, PERSON, sent_at=None, now=self.now) is False
