"""Settings for serving the app to the click benchmark (``bench/clicks.py``): the bench
settings with persistent database connections, as a production server keeps them, and a
middleware that reports each request's server time in a ``Server-Timing`` header."""

from bench.settings import *  # noqa: F403

DATABASES["default"]["CONN_MAX_AGE"] = 600  # noqa: F405
MIDDLEWARE = ["bench.click_settings.ServerTiming", *MIDDLEWARE]  # noqa: F405


class ServerTiming:
    """``Server-Timing: app;dur=<ms>``: the time from the first middleware in to the
    response out, in this process (no network, no queueing in the server)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import time

        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.3f}"
        return response
