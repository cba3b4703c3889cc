"""Running work in threads started at the same moment, for the race tests on PostgreSQL."""

import threading

from django.db import connection


def at_once(ready, count: int) -> list:
    """In each of ``count`` threads, call ``ready()``, wait for the others, then call what
    it returned, all at the same moment; return what each of those calls returned.

    Every thread closes its own database connection; an error in any of them fails the test.
    """
    barrier = threading.Barrier(count)
    lock = threading.Lock()
    results, errors = [], []

    def run():
        try:
            work = ready()
            barrier.wait(timeout=30)
            outcome = work()
            with lock:
                results.append(outcome)
        except Exception as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(results) == count
    return results
