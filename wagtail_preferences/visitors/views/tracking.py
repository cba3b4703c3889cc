"""The tracked links and the open pixel of campaign emails.

Both answer at once from one query and write at most one row. A click goes only to a link of
the delivery's own campaign, found by its number: a token or a number that was altered gives
404, never a redirect to anything the address holds. The pixel is always the same image,
whatever the token, so it tells nothing. Where tracking is not (or no longer) allowed for the
contact, the click still leads on and the pixel still shows, but nothing is stored.
"""

import base64

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from ...exceptions import InvalidLink
from ...feedback import tracking
from ...identity import tokens
from ...models import EngagementKind

#: A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _delivery(token: str) -> int | None:
    try:
        return tokens.delivery_from_token(token)
    except InvalidLink:
        return None


@require_safe
def click(request, token: str, number: int):
    delivery_id = _delivery(token)
    hit = tracking.click_of(delivery_id, number) if delivery_id is not None else None
    if hit is None:
        raise Http404
    tracking.record(hit, EngagementKind.CLICK, request)
    response = HttpResponseRedirect(hit.url)
    add_never_cache_headers(response)  # every click comes back here
    return response


@require_safe
def open_pixel(request, token: str):
    delivery_id = _delivery(token)
    hit = tracking.open_of(delivery_id) if delivery_id is not None else None
    if hit is not None:
        tracking.record(hit, EngagementKind.OPEN, request)
    response = HttpResponse(PIXEL, content_type="image/gif")
    add_never_cache_headers(response)
    return response
