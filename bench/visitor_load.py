"""Benchmark: the visitor side of a site under sustained load, served by gunicorn.

The requirement: with a realistic mix of visitor requests, 4 gunicorn sync workers and
PostgreSQL with 100,000 contacts, at least 60 requests per second with a p95 of at most
150 ms, on a 2-core machine, and nothing recorded twice.

The mix (``bench/visitor_load_locust.py``), per request:

- 41% page views of a page with a preference form, 80% of them by recognised visitors (the
  signed identity cookie: the form is their update form, filled in);
- 20% sign-ups: the double opt-in form posted with a new address (a pending contact, a
  submission and a confirmation email);
- 20% views of the manage page from a signed link;
- 10% saves of the manage page (the same choices each time, so a contact's second save
  changes nothing);
- 10% one-click unsubscribes (RFC 8058 ``POST``) from a signed link.

Visitors are 20,000 confirmed generated contacts. Users wait 0.5-1.5 s between requests, so
the rate follows the number of users. The run steps the users up (``--steps``, each for
``--step-duration``), then holds ``--hold-users`` for ``--hold``. With ``--tasks db`` the
app's background work (recording sign-ups, confirmation emails, segment refreshes) goes to
the database task backend and a ``db_worker`` process beside gunicorn does it, as on a site
that has outgrown one process; with ``--tasks immediate`` (the default backend) it runs in the
gunicorn worker after each response. Email goes to Django's in-memory backend; rate limits
are raised and ``MIN_FILL_SECONDS`` is 0 (a load test).

Reported per step: requests per second, client median and p95 (locust: network, gunicorn's
queue and the server's work), failures. After the run an integrity check: no address with
two contacts, no change recorded twice in the consent log, every sign-up stored once, no
answer of 5xx. The bench's pages, segments and sign-ups are deleted at the end; contacts
who unsubscribed stay so (``--regenerate`` refills the database).

    pip install -e ".[bench]"   # gunicorn and locust, for benchmarks only
    export DATABASE_URL=postgres://wagtail_preferences:wagtail_preferences@127.0.0.1:5432/wp_bench_visitors
    .venv/bin/python bench/visitor_load.py --contacts 100000

Results go to ``bench/results/visitor_load-<contacts>.json``; locust's tables to
``bench/results/visitor_load_*.csv``.
"""

import argparse
import csv
import html.parser
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.environment import BENCH_DIR, ROOT_DIR

RESULTS = os.path.join(BENCH_DIR, "results")
BIN = os.path.dirname(sys.executable)
VISITORS = 20_000
TARGET_P95_MS = 150
TARGET_RATE = 60


class FormFields(html.parser.HTMLParser):
    """The fields a browser would post from the first form for which ``matches(attrs)``."""

    def __init__(self, matches):
        super().__init__()
        self.matches, self.inside, self.fields = matches, False, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = not self.fields and self.matches(attrs)
        elif self.inside and tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind != "submit":
                default = "on" if kind in ("checkbox", "radio") else ""  # what browsers send
                self.fields.append((attrs["name"], attrs.get("value", default) or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def form_fields(content: bytes, matches, name: str) -> list[tuple[str, str]]:
    """The fields of the form, without the CSRF token (the users send their own)."""
    parser = FormFields(matches)
    parser.feed(content.decode())
    if not parser.fields:
        sys.exit(f"No {name} form found.")
    return [field for field in parser.fields if field[0] != "csrfmiddlewaretoken"]


def prepare(seed: int) -> dict:
    """The pages and segments of the form bench, and what the locust users need."""
    import random

    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from bench.form_submission import Fixtures
    from wagtail_preferences.conf import get_setting
    from wagtail_preferences.identity import tokens
    from wagtail_preferences.models import Contact, ContactStatus

    page = Fixtures().pages[True]
    confirmed = Contact.objects.filter(status=ContactStatus.CONFIRMED).order_by("pk")
    ids = list(confirmed.values_list("pk", flat=True))
    contacts = list(confirmed.filter(pk__in=random.Random(seed).sample(ids, VISITORS)))
    submit = reverse("wagtail_preferences:submit")
    client = Client()
    sign_up = form_fields(
        client.get(page.url).content,
        lambda form: (form.get("action") or "").startswith(submit),
        "sign-up",
    )
    manage = client.get(
        reverse("wagtail_preferences:manage", args=[tokens.contact_token(contacts[0])])
    )
    save = form_fields(manage.content, lambda form: "wp-manage" in form.get("class", ""), "manage")
    return {
        "page": page.url,
        "submit": submit,
        "sign_up": sign_up,
        "save": save,
        "identity_cookie": get_setting("IDENTITY_COOKIE_NAME"),
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
        "visitors": [
            {
                "details": {
                    "email": contact.email,
                    "first_name": contact.first_name,
                    "last_name": contact.last_name,
                    "phone": contact.phone,
                },
                "cookie": tokens.contact_token(contact, purpose="cookie"),
                "manage": reverse(
                    "wagtail_preferences:manage", args=[tokens.contact_token(contact)]
                ),
                "unsubscribe": reverse(
                    "wagtail_preferences:unsubscribe", args=[tokens.unsubscribe_token(contact)]
                ),
            }
            for contact in contacts
        ],
    }


def start_worker(database_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "bench.visitor_settings",
        "VISITOR_LOAD_TASKS": "db",
    }
    return subprocess.Popen(  # noqa: S603 (our own command)
        [sys.executable, "-m", "django", "db_worker", "--interval", "0.2", "--no-startup-delay"],
        cwd=ROOT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def wait_for_tasks(timeout: float = 300) -> None:
    """Until the worker has done every task the run enqueued."""
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + timeout
    while DBTaskResult.objects.ready().exists() or DBTaskResult.objects.running().exists():
        if time.monotonic() > deadline:
            sys.exit("The worker did not finish its tasks.")
        time.sleep(0.5)


class CpuMeter:
    """CPU seconds used by the server's processes: gunicorn's workers, the task worker and
    the database's backends serving them (not the load generator)."""

    def __init__(self, server, worker):
        self.server, self.worker = server, worker

    def processes(self) -> dict[str, list]:
        import psutil
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
            backends = [row[0] for row in cursor.fetchall()]
        app = psutil.Process(self.server.pid).children(recursive=True)
        return {
            "app": app,
            "worker": [psutil.Process(self.worker.pid)] if self.worker else [],
            "database": [psutil.Process(pid) for pid in backends],
        }

    @staticmethod
    def seconds(processes) -> dict[int, float]:
        import psutil

        used = {}
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            used[process.pid] = times.user + times.system
        return used

    def __enter__(self):
        self.start = {part: self.seconds(ps) for part, ps in self.processes().items()}
        return self

    def __exit__(self, *exc):
        end = {part: self.seconds(ps) for part, ps in self.processes().items()}
        # Processes present at both ends (persistent connections, the same workers).
        self.used = {
            part: sum(end[part][pid] - self.start[part].get(pid, 0.0) for pid in end[part])
            for part in end
        }


def run_locust(port: int, users: int, duration: str, plan_file: str, label: str) -> dict:
    """One locust run of ``users`` visitors for ``duration``; its figures, per request kind."""
    prefix = os.path.join(RESULTS, f"visitor_load_{label}")
    env = {**os.environ, "VISITOR_LOAD_PLAN": plan_file, "VISITOR_LOAD_RUN": secrets.token_hex(4)}
    done = subprocess.run(  # noqa: S603 (our own command)
        [
            shutil.which("locust", path=BIN) or "locust",
            "-f",
            os.path.join(BENCH_DIR, "visitor_load_locust.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(max(1, users // 5)),
            "-t",
            duration,
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            prefix,
            "--only-summary",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 1):  # 1: some requests failed, counted below
        sys.exit(f"locust failed:\n{done.stderr[-3000:]}")
    with open(prefix + "_stats.csv") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    return {
        "users": users,
        "duration": duration,
        **{name: figures(row) for name, row in rows.items()},
    }


def figures(row: dict) -> dict:
    return {
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "requests_per_second": round(float(row["Requests/s"]), 1),
        "median_ms": float(row["50%"]),
        "p95_ms": float(row["95%"]),
    }


def integrity(started, answered_sign_ups: int) -> dict:
    """What the run recorded: nothing twice, nothing lost."""
    from django.db.models import Count

    from bench.form_submission import EMAIL_DOMAIN
    from wagtail_preferences.models import ConsentEvent, Contact, FormSubmission

    def repeated(queryset, *fields) -> int:
        return queryset.values(*fields).annotate(n=Count("pk")).filter(n__gt=1).count()

    sign_ups = FormSubmission.objects.filter(
        contact__email__endswith="@" + EMAIL_DOMAIN, created_at__gte=started
    )
    return {
        "addresses_with_two_contacts": repeated(Contact.objects.order_by(), "email"),
        "changes_recorded_twice": repeated(
            ConsentEvent.objects.filter(created_at__gte=started).order_by(),
            "contact_id",
            "subject",
            "subject_id",
            "subject_label",
            "field",
            "old_value",
            "new_value",
        ),
        "sign_ups_answered": answered_sign_ups,
        "sign_ups_stored": sign_ups.count(),
        "sign_ups_stored_twice": repeated(sign_ups.order_by(), "contact_id"),
        "sign_up_contacts": Contact.objects.filter(
            email__endswith="@" + EMAIL_DOMAIN, created_at__gte=started
        ).count(),
        "failed_tasks": failed_tasks(started),
    }


def failed_tasks(started) -> int | None:
    from django.conf import settings

    if "django_tasks_db" not in settings.INSTALLED_APPS:
        return None
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.failed().filter(enqueued_at__gte=started).count()


def print_step(step: dict) -> None:
    total = step["Aggregated"]
    print(
        f"{step['users']:>5} users  {total['requests_per_second']:>6.1f} req/s"
        f"  median {total['median_ms']:>5.0f} ms  p95 {total['p95_ms']:>5.0f} ms"
        f"  failures {total['failures']}  CPU ms per request: "
        + ", ".join(f"{part} {ms}" for part, ms in step["cpu_ms_per_request"].items())
        + ("" if total["p95_ms"] <= TARGET_P95_MS else "  (p95 above target)"),
        flush=True,
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--steps", default="20,40,60,80", help="users of each step")
    parser.add_argument("--step-duration", default="40s")
    parser.add_argument("--warmup", default="20s", help="an untimed run first")
    parser.add_argument("--hold-users", type=int, default=70)
    parser.add_argument("--hold", default="5m", help="0 to skip the hold")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--tasks", choices=["immediate", "db"], default="db")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--label", default="", help="a name for this run in the results file")
    args = parser.parse_args(argv)
    if not args.database_url or not args.database_url.startswith("postgres"):
        parser.error("set DATABASE_URL or --database-url to a PostgreSQL database")

    from bench.clicks import free_port, serve
    from bench.contact_list import prepare_data, save_results
    from bench.environment import setup

    setup(args.database_url)
    prepare_data(args.contacts, args.seed, args.regenerate)

    from django.utils import timezone

    from bench.form_submission import Fixtures

    plan_file = os.path.join(RESULTS, "visitor_load-plan.json")
    with open(plan_file, "w") as out:
        json.dump(prepare(args.seed), out)
    started = timezone.now()
    port = free_port()
    if args.tasks == "db":
        os.environ["VISITOR_LOAD_TASKS"] = "db"
    server = serve(port, args.workers, args.database_url, settings="bench.visitor_settings")
    worker = start_worker(args.database_url) if args.tasks == "db" else None
    steps = []
    try:
        # Each worker compiles its templates and URL patterns on its first requests.
        warmup = run_locust(port, 10, args.warmup, plan_file, "warmup")

        def measured(users: int, duration: str, label: str) -> dict:
            with CpuMeter(server, worker) as meter:
                result = run_locust(port, users, duration, plan_file, label)
            requests = max(1, result["Aggregated"]["requests"])
            result["cpu_ms_per_request"] = {
                part: round(seconds * 1000 / requests, 1) for part, seconds in meter.used.items()
            }
            print_step(result)
            return result

        for users in map(int, args.steps.split(",")):
            steps.append(measured(users, args.step_duration, f"step{users}"))
        hold = None
        if args.hold != "0":
            print(f"Holding {args.hold_users} users for {args.hold}...", flush=True)
            hold = measured(args.hold_users, args.hold, "hold")
        if worker is not None:
            wait_for_tasks()
    finally:
        for process in filter(None, (server, worker)):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    runs = [warmup, *steps, *filter(None, [hold])]
    answered = sum(run["sign-up"]["requests"] - run["sign-up"]["failures"] for run in runs)
    checked = integrity(started, answered)
    Fixtures.close()
    results = {
        "label": args.label,
        "tasks": args.tasks,
        "steps": steps,
        "hold": hold,
        "integrity": checked,
    }
    for name, value in checked.items():
        print(f"{name:>28}  {value}")
    suffix = f"-{args.label}" if args.label else ""
    save_results(f"visitor_load-{args.contacts}{suffix}.json", results)


if __name__ == "__main__":
    main()
