"""Waiting for work a server does after it has answered the browser."""

import time

POLL_SECONDS = 0.05


def eventually(check, timeout: float = 10.0):
    """Call ``check`` until it returns something true, and return that; fail at ``timeout``.

    A sign-up is recorded and its email sent once the answer has gone to the browser, so the
    page the browser shows next may come before that work has ended.
    """
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{check.__doc__ or check} did not happen in {timeout} s")
        time.sleep(POLL_SECONDS)
    return result
