"""Benchmark: tracked click links under load (``GET /preferences/t/c/<token>/<number>/``).

The requirement: the click redirect answers in at most 5 ms of server time at the median,
on PostgreSQL, with 20 clients clicking at once.

The script fills the database with generated contacts (``--contacts``), makes a campaign that
tracks clicks, sent to all of them (one ``Delivery`` each, sent an hour ago, so no click is
taken for a scanner's), registers ``--links`` links for it and allows tracking on the default
site. It writes the click link of every delivery and link to a file, serves the app with
gunicorn (``--workers`` sync workers, persistent database connections) and runs locust
headless: ``--users`` users clicking random links of random deliveries, without waiting and
without following the redirect, for ``--duration``. Every click is recorded (an ``INSERT``).

Two times are reported: locust's response time (the client's: network, gunicorn's queue and
the server's work) and the server time, from a middleware put first in the stack
(``bench/click_settings.py``: the ``Server-Timing`` header of each answer). At the end the
campaign, its deliveries, links and clicks are deleted again (bench fixture data).

    pip install -e ".[bench]"   # gunicorn and locust, for benchmarks only
    export DATABASE_URL=postgres://wagtail_preferences:wagtail_preferences@127.0.0.1:5432/wp_bench_clicks
    .venv/bin/python bench/clicks.py --contacts 100000

Results are also written to ``bench/results/clicks-<contacts>.json``, locust's own tables to
``bench/results/clicks_*.csv``.
"""

import argparse
import csv
import datetime
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.environment import BENCH_DIR, ROOT_DIR

SLUG = "bench-clicks"
TARGET_MEDIAN_MS = 5
RESULTS = os.path.join(BENCH_DIR, "results")
BIN = os.path.dirname(sys.executable)


def prepare(n_links: int) -> list[str]:
    """The bench campaign, sent to every contact, with ``n_links`` links; its click paths."""
    from django.urls import reverse
    from django.utils import timezone
    from wagtail.models import Site

    from bench.campaigns import (
        campaign_of,
        clear_bench_campaigns,
        published_message,
        sent_deliveries,
    )
    from wagtail_preferences.feedback.tracking import register_links
    from wagtail_preferences.identity import tokens
    from wagtail_preferences.models import Contact, Delivery, PreferencePageSettings

    clear_bench_campaigns()
    site = Site.objects.get(is_default_site=True)
    page_settings = PreferencePageSettings.for_site(site)
    page_settings.track_opens = page_settings.track_clicks = True
    page_settings.save()
    campaign = campaign_of(published_message("Bench clicks"), SLUG)
    campaign.track_clicks = True
    campaign.save(update_fields=["track_clicks"])
    sent_at = timezone.now() - datetime.timedelta(hours=1)
    sent_deliveries(campaign, Contact.objects.order_by("pk").values_list("pk", "email"), sent_at)
    urls = [f"https://shop.example/product/{n}?utm_source=news" for n in range(n_links)]
    numbers = list(register_links(campaign.pk, urls).values())
    paths = []
    for delivery_id in Delivery.objects.filter(campaign=campaign).values_list("pk", flat=True):
        token = tokens.delivery_token(delivery_id)
        for number in numbers:
            paths.append(reverse("wagtail_preferences:tracked_click", args=[token, number]))
    return paths


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(
    port: int, workers: int, database_url: str, *, settings: str = "bench.click_settings"
) -> subprocess.Popen:
    gunicorn = shutil.which("gunicorn", path=BIN) or shutil.which("gunicorn")
    if gunicorn is None:
        sys.exit("gunicorn is not installed: pip install gunicorn (for the bench only)")
    env = {**os.environ, "DATABASE_URL": database_url}
    env["DJANGO_SETTINGS_MODULE"] = settings
    server = subprocess.Popen(  # noqa: S603 (our own commands)
        [
            gunicorn,
            "django.core.wsgi:get_wsgi_application()",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--worker-class=sync",
            "--log-level=warning",
            f"--chdir={ROOT_DIR}",
        ],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("gunicorn did not start")


def load(port: int, users: int, duration: str, paths_file: str, times_file: str) -> None:
    env = {**os.environ, "CLICK_PATHS": paths_file, "CLICK_SERVER_TIMES": times_file}
    subprocess.run(  # noqa: S603 (our own command)
        [
            shutil.which("locust", path=BIN) or "locust",
            "-f",
            os.path.join(BENCH_DIR, "clicks_locust.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            duration,
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            os.path.join(RESULTS, "clicks"),
            "--only-summary",
        ],
        env=env,
        check=True,
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def locust_row(request_type: str) -> dict:
    with open(os.path.join(RESULTS, "clicks_stats.csv")) as stats:
        for row in csv.DictReader(stats):
            if row["Type"] == request_type and row["Name"] == "click":
                return row
    raise LookupError(request_type)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--links", type=int, default=8)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", default="60s")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    if not args.database_url or not args.database_url.startswith("postgres"):
        parser.error("set DATABASE_URL or --database-url to a PostgreSQL database")

    from bench.contact_list import prepare_data, save_results
    from bench.environment import setup

    setup(args.database_url)
    prepare_data(args.contacts, args.seed, args.regenerate)

    from bench.campaigns import clear_bench_campaigns
    from wagtail_preferences.models import Engagement

    paths = prepare(args.links)
    paths_file = os.path.join(RESULTS, "clicks-paths.txt")
    times_file = os.path.join(RESULTS, "clicks-server-times.json")
    with open(paths_file, "w") as out:
        out.write("\n".join(paths))
    print(f"{len(paths):,} click links ({args.contacts:,} deliveries × {args.links} links)")
    port = free_port()
    server = serve(port, args.workers, args.database_url)
    try:
        load(port, args.users, args.duration, paths_file, times_file)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    with open(times_file) as file:
        server_ms = json.load(file)
    client = locust_row("GET")
    recorded = Engagement.objects.filter(campaign__slug=SLUG).count()
    results = {
        "clicks": int(client["Request Count"]),
        "failures": int(client["Failure Count"]),
        "requests_per_second": round(float(client["Requests/s"]), 1),
        "client_median_ms": float(client["50%"]),
        "client_p95_ms": float(client["95%"]),
        "server_median_ms": round(statistics.median(server_ms), 2),
        "server_p95_ms": round(percentile(server_ms, 0.95), 2),
        "server_max_ms": round(max(server_ms), 2),
        "clicks_recorded": recorded,
        "users": args.users,
        "workers": args.workers,
        "duration": args.duration,
        "target_median_ms": TARGET_MEDIAN_MS,
    }
    clear_bench_campaigns()
    print()
    for name, value in results.items():
        print(f"{name:>22}  {value}")
    save_results(f"clicks-{args.contacts}.json", results)


if __name__ == "__main__":
    main()
