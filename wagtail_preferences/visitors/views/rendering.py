import copy

from django.http import HttpResponse
from django.template.loader import select_template
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from wagtail import hooks

from ...conf import get_setting

FALLBACK_BASE = "wagtail_preferences/visitor/fallback_base.html"


def visitor_page(request, template: str, context: dict | None = None, status: int = 200):
    """A visitor page inside the site's own base template (``BASE_TEMPLATE``).

    Such pages show one person's choices and carry tokens in their links: never cached,
    never indexed, and the address is not sent on to other sites.
    """
    base = select_template([get_setting("BASE_TEMPLATE"), FALLBACK_BASE])
    response = TemplateResponse(
        request,
        f"wagtail_preferences/visitor/{template}",
        {"base_template": getattr(base, "template", base), **(context or {})},
        status=status,
    )
    return private(response)


def rate_limited(request, error):
    """``429 Too many attempts``, with ``Retry-After``: when the limit's window ends."""
    response = visitor_page(request, "rate_limited.html", status=429)
    response["Retry-After"] = str(error.retry_after)
    return response


def private(response):
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    # Not "no-referrer": browsers then send "Origin: null" with the page's own forms, and
    # Django's CSRF check refuses every POST (confirm, save, forget).
    response["Referrer-Policy"] = "same-origin"
    # As the pages' robots <meta>, but whatever the site's base template does with it.
    response["X-Robots-Tag"] = "noindex"
    return response


def serve_page_with_forms(page, request, bound_forms: dict):
    """Serve ``page`` as Wagtail would, with the blocks in ``bound_forms`` showing those forms.

    Used to show a form's errors on its own page. The page sees a GET request, so that
    pages with forms of their own do not handle our POST as theirs; Wagtail's serve hooks
    (view restrictions, the site's own) run as for any page.
    """
    page_request = copy.copy(request)
    page_request.method = "GET"
    page_request.wagtail_preferences_forms = bound_forms

    def serve_chain(page, request, args, kwargs):
        return page.serve(request, *args, **kwargs)

    chain = serve_chain
    for fn in reversed(hooks.get_hooks("on_serve_page")):
        chain = fn(chain)
    for fn in hooks.get_hooks("before_serve_page"):
        result = fn(page, page_request, [], {})
        if isinstance(result, HttpResponse):
            return result
    return private(chain(page, page_request, [], {}))
