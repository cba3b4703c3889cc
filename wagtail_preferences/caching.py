"""Pages that show one visitor's data must never be handed to another by a cache."""

from django.utils.cache import patch_cache_control, patch_vary_headers

_FLAG = "wagtail_preferences_personalised"


def mark_personalised(request) -> None:
    """Say that the response to ``request`` shows something of the current visitor."""
    setattr(request, _FLAG, True)


def protect(request, response):
    """``Cache-Control: private`` and ``Vary: Cookie`` on a response that was personalised."""
    if getattr(request, _FLAG, False):
        patch_cache_control(response, private=True)
        patch_vary_headers(response, ["Cookie"])
    return response


def protect_after_render(serve):
    """An ``on_serve_page`` hook: protect page responses once their blocks have rendered."""

    def serve_protected(page, request, args, kwargs):
        response = serve(page, request, args, kwargs)
        if hasattr(response, "add_post_render_callback"):
            response.add_post_render_callback(lambda rendered: protect(request, rendered))
        else:
            protect(request, response)
        return response

    return serve_protected
