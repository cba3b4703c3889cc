"""The request and page being rendered, for blocks rendered without a template context.

``{% include_block page.body %}`` hands each block the template's context, request and page
included. ``{{ page.body }}`` and ``{{ block }}`` hand it nothing, so the page being served
(set by the app's ``on_serve_page`` hook, and by its preview as a visitor) and the current
request (set by ``PersonalisationMiddleware``) are kept here until the response has
rendered. A context variable keeps them apart between threads and between ASGI requests.
"""

import logging
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.utils.html import format_html

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendering:
    request: object
    page: object = None


_current: ContextVar[Rendering | None] = ContextVar("wagtail_preferences_rendering", default=None)


def request_and_page(context) -> tuple:
    """The request and the Wagtail page a block renders for: from its template context,
    else from the response being rendered; None for what neither knows."""
    from wagtail.models import Page

    context = context or {}
    request, page = context.get("request"), context.get("page")
    if not isinstance(page, Page):
        page = None  # a site's own "page", such as a paginator's
    current = _current.get()
    if current is not None and request in (None, current.request):
        request, page = current.request, page or current.page
    return request, page


def while_rendering(request, page, respond):
    """``respond()``, with ``request`` and ``page`` kept for blocks until its response has
    rendered: a ``TemplateResponse`` renders after the view has returned it."""
    previous = _current.get()
    _current.set(Rendering(request, page))

    def restore(response=None):
        _current.set(previous)

    try:
        response = respond()
    except BaseException:
        restore()
        raise
    if hasattr(response, "add_post_render_callback") and not response.is_rendered:
        response.add_post_render_callback(restore)
    else:
        restore()
    return response


def keep_for_blocks(serve):
    """An ``on_serve_page`` hook: blocks of the served page find it and its request."""

    def serve_kept(page, request, args, kwargs):
        return while_rendering(request, page, lambda: serve(page, request, args, kwargs))

    return serve_kept


def previewing(page):
    """``page``, whose previews keep their request and ``page`` for blocks; Wagtail's
    preview runs no serve hooks."""
    serve_preview = page.serve_preview

    def serve_preview_kept(request, mode_name):
        return while_rendering(request, page, lambda: serve_preview(request, mode_name))

    page.serve_preview = serve_preview_kept
    return page


def forget(**kwargs) -> None:
    """A ``request_started`` receiver: a response that failed to render leaves nothing
    behind for the next request on the same thread."""
    _current.set(None)


def unavailable(message: str) -> str:
    """Say to developers that a block cannot work where it is rendered: a logged warning
    always, and ``message`` in the page when ``DEBUG`` is on."""
    logger.warning(message)
    if not settings.DEBUG:
        return ""
    return format_html('<p class="wp-notice wp-notice--developer" role="note">{}</p>', message)
