"""For a site's own views: what Wagtail's serve hooks do for pages, on every response."""

from ..blocks.rendering_context import while_rendering
from . import resolvers
from .caching import protect_when_rendered


class PersonalisationMiddleware:
    """Links from emails recognise their reader on any URL, responses that used the
    visitor's profile (through the template tags) are kept out of shared caches, and
    dynamic content rendered with ``{{ block }}`` in the site's own views and in previews
    finds the request.

    Wagtail pages need no middleware: the app's serve hooks do the same for them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        redirect = resolvers.redirect_from_link(request)
        if redirect is not None:
            return redirect
        response = while_rendering(request, None, lambda: self.get_response(request))
        return protect_when_rendered(request, response)
