"""Telling opens and clicks made by machines from those made by people.

Mail-client proxies (Apple Mail Privacy Protection fetches every image of every email it
receives) and security scanners (which follow every link before the recipient sees it) make
opens and clicks no person made. They are recorded apart (``machine``) and never count as
engagement.
"""

import ipaddress

#: Apple's network, from which Mail Privacy Protection fetches images.
APPLE_NETWORKS = (ipaddress.ip_network("17.0.0.0/8"),)
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
    "python-requests",
    "curl/",
    "wget/",
    "go-http-client",
    "headlesschrome",
)


def is_machine(user_agent: str, ip_address: str | None) -> bool:
    """Whether a request with this User-Agent, from this address, comes from a machine."""
    agent = (user_agent or "").lower()
    if not agent or any(part in agent for part in MACHINE_AGENTS):
        return True
    if ip_address:
        try:
            address = ipaddress.ip_address(ip_address)
        except ValueError:
            return False
        return any(address in network for network in APPLE_NETWORKS)
    return False
