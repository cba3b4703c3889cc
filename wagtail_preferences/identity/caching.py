"""Pages that vary by visitor must never be handed to another visitor by a cache.

A response that rendered something chosen for the visitor gets ``Vary: Cookie``, so that a
shared cache keeps one copy per cookie; when the visitor was recognised it is also
``Cache-Control: private``, so that no shared cache keeps it at all.
"""

from django.utils.cache import patch_cache_control, patch_vary_headers

_FLAG = "wagtail_preferences_personalised"


def mark_personalised(request, *, private: bool = True) -> None:
    """Say that the response to ``request`` depends on who the visitor is.

    ``private`` says it shows something of a recognised visitor; an unknown visitor's
    version (the fallback content) may be cached, per cookie. Once private, the response
    stays private.
    """
    private = private or getattr(request, _FLAG, False) == "private"
    setattr(request, _FLAG, "private" if private else "vary")


def protect(request, response):
    """``Vary: Cookie``, and ``Cache-Control: private`` if need be, on a personalised response."""
    flag = getattr(request, _FLAG, False)
    if flag:
        patch_vary_headers(response, ["Cookie"])
    if flag == "private":
        patch_cache_control(response, private=True)
    return response


def protect_when_rendered(request, response):
    """Protect ``response`` once it is rendered: blocks and tags decide while rendering."""
    if hasattr(response, "add_post_render_callback") and not response.is_rendered:
        response.add_post_render_callback(lambda rendered: protect(request, rendered))
        return response
    return protect(request, response)


def protect_after_render(serve):
    """An ``on_serve_page`` hook: protect page responses once their blocks have rendered."""

    def serve_protected(page, request, args, kwargs):
        return protect_when_rendered(request, serve(page, request, args, kwargs))

    return serve_protected
