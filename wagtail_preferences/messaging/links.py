"""The links every email carries: manage preferences, unsubscribe, and the headers that
let mail programs unsubscribe in one click.

Links are absolute, built on a base URL (such as ``https://www.example.com``): a worker
sending in the background has no request to take the host from.
"""

from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse

from ..conf import get_setting
from ..identity import tokens
from ..identity.tokens import UnsubscribeScope
from ..models import Contact


def site_base_url() -> str:
    """``BASE_URL``, else the root URL of the default Wagtail site (no trailing slash)."""
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).first()
    return get_setting("BASE_URL") or (site.root_url.rstrip("/") if site else "")


def site_name() -> str:
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).only("site_name").first()
    return (site and site.site_name) or getattr(settings, "WAGTAIL_SITE_NAME", "")


def link_maker(name: str, base_url: str) -> Callable[[str], str]:
    """A function from a token to the absolute URL of the view ``name`` for it: the URL is
    reversed once, for senders that make links for thousands of recipients."""
    marker = "wp-token-marker"
    prefix, suffix = (base_url + reverse(name, args=[marker])).split(marker)
    return lambda token: prefix + token + suffix


def manage_url(contact: Contact, base_url: str, *, message_id: int | None = None) -> str:
    """The contact's manage page; from a message's link, it shows what that message chose."""
    token = tokens.contact_token(contact, message_id=message_id)
    return base_url + reverse("wagtail_preferences:manage", args=[token])


def unsubscribe_url(contact: Contact, base_url: str, scope: UnsubscribeScope | None = None):
    token = tokens.unsubscribe_token(contact, scope)
    return base_url + reverse("wagtail_preferences:unsubscribe", args=[token])


def unsubscribe_headers(
    contact: Contact, base_url: str, scope: UnsubscribeScope | None = None
) -> dict[str, str]:
    """The ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` headers (RFC 2369, RFC 8058).

    Mail programs show an "Unsubscribe" button for them and, when the link is HTTPS, POST
    ``List-Unsubscribe=One-Click`` to it, which unsubscribes at once. ``scope`` limits
    the link to one category or preference (``UnsubscribeScope.of(category)``). With
    ``UNSUBSCRIBE_MAILTO`` set, a ``mailto:`` link with the same token follows the HTTPS one.
    """
    token = tokens.unsubscribe_token(contact, scope)
    url = base_url + reverse("wagtail_preferences:unsubscribe", args=[token])
    return list_unsubscribe(url, token)


def list_unsubscribe(url: str, token: str) -> dict[str, str]:
    """The headers of ``unsubscribe_headers`` for the unsubscribe link ``url`` and its
    ``token``."""
    links = [f"<{url}>"]
    mailto = get_setting("UNSUBSCRIBE_MAILTO")
    if mailto:
        links.append(f"<mailto:{mailto}?subject=unsubscribe%20{quote(token, safe='')}>")
    headers = {"List-Unsubscribe": ", ".join(links)}
    if url.startswith("https://"):
        # RFC 8058 offers one-click unsubscribing for an HTTPS link only.
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers
