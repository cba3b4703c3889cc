"""Running the same work in a few threads at once."""

import threading

import pytest

from wagtail_preferences.messaging.parallel import in_parallel


def test_the_work_runs_count_times_in_as_many_threads_at_once():
    barrier = threading.Barrier(3, timeout=5)  # broken unless all three run at the same time
    threads = []

    def work():
        threads.append(threading.current_thread())
        barrier.wait()

    in_parallel(work, 3)

    assert len(set(threads)) == 3
    assert threading.current_thread() in threads


def test_one_runs_here_without_a_thread():
    threads = []

    in_parallel(lambda: threads.append(threading.current_thread()), 1)

    assert threads == [threading.current_thread()]


def test_an_error_in_a_thread_is_raised_once_all_have_finished():
    finished = []

    def work():
        if threading.current_thread() is not threading.main_thread():
            raise ValueError("lost connection")
        finished.append(True)

    with pytest.raises(ValueError, match="lost connection"):
        in_parallel(work, 2)
    assert finished == [True]
