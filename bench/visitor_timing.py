"""Benchmark: can a visitor tell a known address from an unknown one by the time an answer takes?

The requirement: for the sign-up form (``POST /preferences/forms/submit/``) and "email me a
link" (``POST /preferences/link/``), the median time to the answer differs by less than 2 ms
between a known and an unknown address, with the immediate task backend and with a worker
backend (django-tasks-db's ``DatabaseBackend``, when installed: the "bench" extra).

Each request is served as a WSGI server serves it: Django's handler builds the response
(timed: the visitor gets the answer when it is ready), then the server closes it (timed
apart: the work that runs after the response, such as creating the contact and sending the
email with the immediate backend, or enqueueing the task with a worker backend; the visitor
no longer waits for it). Known and unknown requests alternate, in a random order per pair,
``--requests`` of each after ``--warmup`` untimed pairs. The known address is a confirmed
contact; each unknown request uses a new address. Rate limits are raised and
``MIN_FILL_SECONDS`` is 0; email goes to Django's locmem backend. The bench's page, contacts,
submissions and tasks are deleted at the end.

    .venv/bin/python bench/visitor_timing.py
    DATABASE_URL=postgres://wagtail_preferences:wagtail_preferences@127.0.0.1:5432/wp_timing \\
        .venv/bin/python bench/visitor_timing.py

Results are also written to ``bench/results/visitor_timing-<database>-<contacts>.json``.
"""

import argparse
import gc
import os
import random
import statistics
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.contact_list import percentile
from bench.form_submission import bench_settings

LIMIT_MS = 2.0
EMAIL_DOMAIN = "timing-bench.test"  # RFC 2606: never delivered; not a generated address
KNOWN = f"known@{EMAIL_DOMAIN}"
PAGE_SLUG = "bench-visitor-timing"
BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database worker": "django_tasks_db.DatabaseBackend",
}


def available_backends() -> dict[str, str]:
    from django.apps import apps

    return {
        name: path
        for name, path in BACKENDS.items()
        if not path.startswith("django_tasks_db") or apps.is_installed("django_tasks_db")
    }


def serve(request) -> tuple[float, float, float, object]:
    """Serve ``request`` as a WSGI server does: ms to the answer (wall and this process's
    CPU), ms of work after it, and the response."""
    from django.core.handlers.base import BaseHandler

    handler = BaseHandler()
    handler.load_middleware()
    request._dont_enforce_csrf_checks = True
    gc.collect()  # so that a collection of the previous request's garbage is not timed here
    started, cpu = time.perf_counter(), time.process_time()
    response = handler.get_response(request)
    answered, cpu = time.perf_counter(), time.process_time() - cpu
    response.close()
    return (
        (answered - started) * 1000,
        cpu * 1000,
        (time.perf_counter() - answered) * 1000,
        response,
    )


class Endpoints:
    """The two requests, for an address: the sign-up form and "email me a link"."""

    def __init__(self):
        from django.test import Client, RequestFactory

        from tests.link_fixtures import link_request_data
        from tests.visitor_helpers import SUBMIT_URL, VisitorForm, form_page, form_value
        from wagtail_preferences.models import Preference

        preferences = list(Preference.objects.order_by("pk")[:2])
        if len(preferences) < 2:
            sys.exit("The database holds fewer than two preferences (run bench/generate.py).")
        value = form_value(preferences=preferences, heading="Bench: timing")
        page = form_page(value, title="Bench visitor timing", slug=PAGE_SLUG)
        form = VisitorForm.of(Client(), page)
        factory = RequestFactory()
        link_url = "/preferences/link/"

        def sign_up(email):
            data = form.data(email=email, preferences=preferences[:1])
            return factory.post(SUBMIT_URL, data), 303

        def ask_for_link(email):
            return factory.post(link_url, link_request_data(email)), 200

        self.requests = {"sign-up form": sign_up, "email me a link": ask_for_link}


def measure(make, *, requests: int, warmup: int, rng, run_tag: str) -> dict:
    """Interleaved known and unknown requests of one endpoint; figures per kind."""
    times = {"known": [], "unknown": []}
    cpu = {"known": [], "unknown": []}
    after = {"known": [], "unknown": []}
    bodies = {}
    for number in range(warmup + requests):
        pair = ["known", "unknown"]
        rng.shuffle(pair)
        for kind in pair:
            email = KNOWN if kind == "known" else f"new.{run_tag}.{number}@{EMAIL_DOMAIN}"
            request, status = make(email)
            answer_ms, cpu_ms, after_ms, response = serve(request)
            if response.status_code != status:
                sys.exit(f"{kind}: HTTP {response.status_code}, not {status}")
            bodies.setdefault(kind, (response.status_code, response.content))
            if number >= warmup:
                times[kind].append(answer_ms)
                cpu[kind].append(cpu_ms)
                after[kind].append(after_ms)
    if bodies["known"] != bodies["unknown"]:
        sys.exit("The answers for a known and an unknown address differ.")
    figures = {
        kind: {
            "median_ms": round(statistics.median(times[kind]), 2),
            "p95_ms": round(percentile(times[kind], 0.95), 2),
            "cpu_median_ms": round(statistics.median(cpu[kind]), 2),
            "after_median_ms": round(statistics.median(after[kind]), 2),
        }
        for kind in times
    }
    difference = figures["unknown"]["median_ms"] - figures["known"]["median_ms"]
    return {**figures, "difference_ms": round(difference, 2), "within": abs(difference) < LIMIT_MS}


def run(*, requests: int, warmup: int, seed: int) -> dict:
    from django.core import mail
    from django.test.utils import override_settings

    from tests.factories import ContactFactory
    from wagtail_preferences.models import ContactStatus

    overrides = bench_settings()
    rng = random.Random(seed)
    run_tag = f"{int(time.time()):x}"
    results = []
    with override_settings(**overrides):
        mail.outbox = []
        close()
        try:
            ContactFactory(email=KNOWN, status=ContactStatus.CONFIRMED)
            endpoints = Endpoints()
            header = (
                f"{'task backend':<16} {'endpoint':<16} {'known':>7} {'unknown':>8}"
                f" {'diff':>6} {'p95 k/u':>13} {'cpu k/u':>11} {'after k/u':>13}"
            )
            print(f"\n{requests} interleaved requests of each kind after {warmup} warm-up pairs;")
            print("median ms to the answer (cpu: this process's); after: median ms after it\n")
            print(header)
            print("-" * len(header))
            for backend, path in available_backends().items():
                with override_settings(TASKS={"default": {"BACKEND": path}}):
                    for endpoint, make in endpoints.requests.items():
                        outcome = measure(
                            make,
                            requests=requests,
                            warmup=warmup,
                            rng=rng,
                            run_tag=f"{run_tag}.{len(results)}",
                        )
                        results.append({"backend": backend, "endpoint": endpoint, **outcome})
                        print_row(results[-1])
                mail.outbox.clear()
        finally:
            close()
    missing = sorted(set(BACKENDS) - set(available_backends()))
    if missing:
        print(f"\nNot measured: {', '.join(missing)} (pip install django-tasks-db)")
    return {"results": results, "settings": overrides}


def print_row(result: dict) -> None:
    known, unknown = result["known"], result["unknown"]
    print(
        f"{result['backend']:<16} {result['endpoint']:<16} {known['median_ms']:>7.2f}"
        f" {unknown['median_ms']:>8.2f} {result['difference_ms']:>+6.2f}"
        f" {known['p95_ms']:>6.1f}/{unknown['p95_ms']:<6.1f}"
        f" {known['cpu_median_ms']:>5.1f}/{unknown['cpu_median_ms']:<5.1f}"
        f" {known['after_median_ms']:>6.1f}/{unknown['after_median_ms']:<6.1f}"
        + ("" if result["within"] else "  OVER"),
        flush=True,
    )


def close() -> None:
    """Delete the bench's page, contacts (with their submissions) and enqueued tasks."""
    from django.apps import apps
    from django.db import transaction
    from wagtail.models import Page

    from wagtail_preferences.models import Contact, FormSubmission

    with transaction.atomic():
        pages = list(Page.objects.filter(slug=PAGE_SLUG))
        FormSubmission.objects.filter(page__in=pages).delete()
        Contact.objects.filter(email__endswith="@" + EMAIL_DOMAIN).delete()
        for page in pages:
            page.delete()
        if apps.is_installed("django_tasks_db"):
            from django_tasks_db.models import DBTaskResult

            DBTaskResult.objects.filter(task_path__startswith="wagtail_preferences.").delete()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="defaults to $DATABASE_URL, else the SQLite file bench/results/bench.sqlite3",
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per kind")
    parser.add_argument("--warmup", type=int, default=20, help="untimed pairs first")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from bench.contact_list import report_on_database
    from bench.environment import setup
    from bench.generate import _interests

    setup(args.database_url)
    _interests()
    from wagtail_preferences.models import Contact

    load_before = os.getloadavg()[0]
    contacts = Contact.objects.count()
    outcome = run(requests=args.requests, warmup=args.warmup, seed=args.seed)
    over = [f"{r['backend']} {r['endpoint']}" for r in outcome["results"] if not r["within"]]
    report_on_database(
        "visitor_timing",
        contacts,
        contacts,
        load_before,
        outcome,
        f"Requirement (medians within {LIMIT_MS:g} ms): "
        + (f"missed by {', '.join(over)}" if over else "met by every endpoint and backend"),
    )


if __name__ == "__main__":
    main()
