"""Running the same work in a few threads at once, each with its own database connections."""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import connections


def in_parallel(work: Callable[[], None], count: int) -> None:
    """Call ``work()`` ``count`` times at once: here and in ``count - 1`` threads, which
    close the database connections they opened. An error in any of them is raised here,
    once all have finished."""
    if count <= 1:
        work()
        return
    with ThreadPoolExecutor(count - 1) as pool:
        others = [pool.submit(_closing_connections, work) for _ in range(count - 1)]
        work()
        for other in others:
            other.result()


def _closing_connections(work: Callable[[], None]) -> None:
    try:
        work()
    finally:
        connections.close_all()
