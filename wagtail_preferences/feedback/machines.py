"""Telling opens and clicks made by machines from those made by people.

Mail-client proxies (Apple Mail Privacy Protection fetches every image of every email it
receives) and security scanners (which follow every link before the recipient sees it) make
opens and clicks no person made. They are recorded apart (``machine``) and never count as
engagement.

The signs, any of which makes a request a machine's:

- the address is in Apple's network (17.0.0.0/8), where Mail Privacy Protection fetches
  images from, or the User-Agent is the bare ``Mozilla/5.0`` that its proxies send (no
  browser sends only that);
- the User-Agent is empty or names a proxy, scanner, bot or script (``MACHINE_AGENTS``);
- the request is a ``HEAD`` (scanners check a link without loading it; a browser never
  follows a link with one);
- it comes within ``SECONDS_AFTER_SENDING`` of the message being sent: scanners of the
  receiving server follow links and fetch images as the message arrives, before any person
  could have read it.
"""

import datetime
import ipaddress

#: Apple's network, from which Mail Privacy Protection fetches images.
APPLE_NETWORKS = (ipaddress.ip_network("17.0.0.0/8"),)
#: The whole User-Agent of Apple's Mail Privacy Protection proxies (lower case).
APPLE_PROXY_AGENT = "mozilla/5.0"
#: Parts of the User-Agent of proxies, scanners and scripts (lower case).
MACHINE_AGENTS = (
    "bot",
    "crawler",
    "spider",
    "scanner",
    "preview",
    "barracuda",
    "proofpoint",
    "mimecast",
    "safelinks",
    "symantec",
    "trendmicro",
    "fireeye",
    "forcepoint",
    "sophos",
    "zscaler",
    "facebookexternalhit",
    "python-requests",
    "python-urllib",
    "curl/",
    "wget/",
    "go-http-client",
    "headlesschrome",
)
#: Opens and clicks this soon after sending are a scanner's.
SECONDS_AFTER_SENDING = datetime.timedelta(seconds=10)


def is_machine(user_agent: str, ip_address: str | None) -> bool:
    """Whether a request with this User-Agent, from this address, comes from a machine."""
    agent = (user_agent or "").strip().lower()
    if not agent or agent == APPLE_PROXY_AGENT or any(part in agent for part in MACHINE_AGENTS):
        return True
    if ip_address:
        try:
            address = ipaddress.ip_address(ip_address)
        except ValueError:
            return False
        return any(address in network for network in APPLE_NETWORKS)
    return False


def is_machine_request(
    user_agent: str,
    ip_address: str | None,
    *,
    method: str = "GET",
    sent_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> bool:
    """``is_machine``, and the signs of the request itself: a ``HEAD``, or a request at
    ``now`` within ``SECONDS_AFTER_SENDING`` of ``sent_at``."""
    if method == "HEAD" or is_machine(user_agent, ip_address):
        return True
    return sent_at is not None and now is not None and now - sent_at < SECONDS_AFTER_SENDING
