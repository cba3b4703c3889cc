"""Benchmark: the admin contact list (Preference center > Contacts) on a large database.

For each database size, the script makes sure the database holds exactly that many
generated contacts (creating, migrating and filling it with ``bench.generate`` if needed),
logs in a superuser with Django's test client and requests the list in several shapes:
filtered by a popular and by a rare preference, first page and a deep page, ordered by a
column, searched, and filtered by status, category opt-out and disabled channel. Each shape is
warmed up, then timed over ``--requests`` requests; the median and p95 in milliseconds and
the SQL queries of one request are reported. ``--explain`` prints ``EXPLAIN ANALYZE`` for the
slowest queries of each shape.

    DATABASE_URL='postgres://postgres:postgres@127.0.0.1:5432/wp_bench_{contacts}' \\
        .venv/bin/python bench/contact_list.py --contacts 100000 1000000

``{contacts}`` in the database URL gives each size a database of its own, so both stay filled
between runs. Results are also written to ``bench/results/contact_list-<contacts>.json``.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.environment import BENCH_DIR, ROOT_DIR

TARGET_MS = 300
DEEP_PAGE = 50
SEARCH_TERM = "peeters"
BENCH_USERNAME = "bench-admin"


def variants(preferences: dict, categories: dict, per_page: int, rare_count: int, person):
    """The list requests to time: (label, query parameters). ``person`` is a contact whose
    name and address are searched for."""
    popular = preferences["Newsletter"]
    rare = preferences["Local meetups"]
    rare_pages = max(1, -(-rare_count // per_page))
    rare_deep = min(DEEP_PAGE, rare_pages)
    rare_deep_label = f"page {rare_deep}" + (" (last)" if rare_deep == rare_pages else "")
    return [
        ("all contacts, page 1", {}),
        ("popular preference, page 1", {"preference": popular}),
        (f"popular preference, page {DEEP_PAGE}", {"preference": popular, "p": DEEP_PAGE}),
        ("rare preference, page 1", {"preference": rare}),
        (f"rare preference, {rare_deep_label}", {"preference": rare, "p": rare_deep}),
        ("popular, ordering=-created_at", {"preference": popular, "ordering": "-created_at"}),
        (
            f"popular, ordering=-created_at, page {DEEP_PAGE}",
            {"preference": popular, "ordering": "-created_at", "p": DEEP_PAGE},
        ),
        ("popular, ordering=last_name", {"preference": popular, "ordering": "last_name"}),
        ("rare, ordering=-created_at", {"preference": rare, "ordering": "-created_at"}),
        (f"search q={SEARCH_TERM}", {"q": SEARCH_TERM}),
        (f"popular + search q={SEARCH_TERM}", {"preference": popular, "q": SEARCH_TERM}),
        ("rare + search q=a", {"preference": rare, "q": "a"}),
        ("search first last", {"q": f"{person.first_name} {person.last_name}"}),
        ("search last, first", {"q": f"{person.last_name}, {person.first_name}"}),
        (
            "popular + search first last",
            {"preference": popular, "q": f"{person.first_name} {person.last_name}"},
        ),
        ("search email prefix", {"q": person.email[:12]}),
        ("status=unsubscribed", {"status": "unsubscribed"}),
        ("category_opt_out=Promotions", {"category_opt_out": categories["Promotions"]}),
        ("channel_disabled=sms", {"channel_disabled": "sms"}),
    ]


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def prepare_data(n_contacts: int, seed: int, regenerate: bool) -> None:
    from django.db import connection

    from bench.generate import generate, generated_contacts_sql

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({generated_contacts_sql(connection)}) generated")
        present = cursor.fetchone()[0]
    if present == n_contacts and not regenerate:
        print(f"Reusing {present:,} generated contacts.")
        return
    print(f"Generating {n_contacts:,} contacts (found {present:,})...", flush=True)
    report = generate(n_contacts, seed=seed, wipe_first=True)
    print(f"  generated in {report.seconds:.1f}s")


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        prefix = "EXPLAIN (ANALYZE, BUFFERS)" if connection.vendor == "postgresql" else "EXPLAIN"
        cursor.execute(f"{prefix} {sql}")
        return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())


def admin_client():
    """A test client logged in as the benchmarks' superuser (created if missing)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_USERNAME,
        defaults={"is_superuser": True, "is_staff": True, "email": "bench@admin.example"},
    )
    client = Client()
    client.force_login(user)
    return client


def run(
    n_contacts: int,
    *,
    requests: int,
    warmup: int,
    seed: int,
    regenerate: bool,
    show_explain: bool,
    only: str = "",
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse

    from wagtail_preferences.audience import compiler
    from wagtail_preferences.conf import get_setting
    from wagtail_preferences.models import Category, Contact, Preference

    try:
        url = reverse("preference_center_contacts:index")
    except NoReverseMatch:
        sys.exit("The contact list (preference_center_contacts:index) does not exist yet.")

    prepare_data(n_contacts, seed, regenerate)
    client = admin_client()

    preferences = dict(Preference.objects.values_list("name", "pk"))
    categories = dict(Category.objects.values_list("name", "pk"))
    per_page = get_setting("CONTACTS_PER_PAGE")
    rare_count = Contact.objects.filter(compiler.holds_any([preferences["Local meetups"]])).count()

    results = []
    header = f"{'variant':<44} {'median':>8} {'p95':>8} {'queries':>8} {'sql ms':>8}"
    print(f"\n{n_contacts:,} contacts, {per_page} per page, {url}")
    print(header)
    print("-" * len(header))
    person = Contact.objects.order_by("pk")[Contact.objects.count() // 2]
    for label, params in variants(preferences, categories, per_page, rare_count, person):
        if only not in label:
            continue
        for _ in range(warmup):
            response = client.get(url, params)
            if response.status_code != 200:
                sys.exit(f"{label}: HTTP {response.status_code} for {url} {params}")
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, params)
        queries = captured.captured_queries
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            client.get(url, params)
            timings.append((time.perf_counter() - started) * 1000)
        median, p95 = statistics.median(timings), percentile(timings, 0.95)
        sql_ms = sum(float(query["time"]) for query in queries) * 1000
        slowest = sorted(queries, key=lambda query: float(query["time"]), reverse=True)
        result = {
            "variant": label,
            "params": params,
            "median_ms": round(median, 1),
            "p95_ms": round(p95, 1),
            "queries": len(queries),
            "sql_ms": round(sql_ms, 1),
            "slowest_queries": [
                {"ms": round(float(query["time"]) * 1000, 1), "sql": query["sql"]}
                for query in slowest[:3]
            ],
        }
        results.append(result)
        flag = "  SLOW" if p95 > TARGET_MS else ""
        print(f"{label:<44} {median:>8.1f} {p95:>8.1f} {len(queries):>8} {sql_ms:>8.1f}{flag}")
        if show_explain:
            for query in slowest[:2]:
                if float(query["time"]) * 1000 < 5:
                    continue
                print(f"\n  {float(query['time']) * 1000:.1f} ms: {query['sql']}\n")
                print("    " + explain(query["sql"]).replace("\n", "\n    ") + "\n")
    return results


def request_figures(timings, cpu, queries, sql_ms, *, digits: int = 1) -> dict:
    """Median, p95 and the rest of timed requests (ms), their CPU time, queries and SQL time."""
    return {
        "requests": len(timings),
        "median_ms": round(statistics.median(timings), digits),
        "p95_ms": round(percentile(timings, 0.95), digits),
        "mean_ms": round(statistics.fmean(timings), digits),
        "min_ms": round(min(timings), digits),
        "max_ms": round(max(timings), digits),
        "cpu_median_ms": round(statistics.median(cpu), digits),
        "queries": statistics.median_low(queries),
        "queries_range": [min(queries), max(queries)],
        "sql_ms": round(statistics.median(sql_ms), digits),
    }


def report_on_database(
    name: str, contacts: int, generated: int, load_before: float, outcome: dict, target: str
) -> None:
    """Print the run's machine and ``target`` line; write the results to
    ``bench/results/<name>-<database>-<contacts>.json``."""
    about = machine()
    about["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(f"\n{contacts:,} contacts ({generated:,} generated) on {about['database']}")
    print(f"{about['cpu']}, {about['cores']} cores, {about['date']}")
    print("1-minute load average before and after: {}, {}".format(*about["load_average"]))
    print(target)
    vendor = about["database"].split()[0].lower()
    path = os.path.join(BENCH_DIR, "results", f"{name}-{vendor}-{contacts}.json")
    with open(path, "w") as out:
        json.dump(
            {"contacts": contacts, "generated": generated, "machine": about, **outcome},
            out,
            indent=2,
            default=str,
        )
    print(f"Written to {os.path.relpath(path, ROOT_DIR)}")


def machine() -> dict:
    from django.db import connection

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line)
    except (OSError, StopIteration):
        pass
    with connection.cursor() as cursor:
        server = connection.vendor
        if server == "postgresql":
            cursor.execute("SHOW server_version")
            server = f"PostgreSQL {cursor.fetchone()[0]}"
    import django
    import wagtail

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "wagtail": wagtail.__version__,
        "database": server,
        "date": time.strftime("%Y-%m-%d"),
    }


def save_results(filename: str, results: dict) -> None:
    """Print the machine, and write it with ``results`` to ``bench/results/<filename>``."""
    about = machine()
    print(f"\n{about['cpu']}, {about['cores']} cores, {about['database']}, {about['date']}")
    path = os.path.join(BENCH_DIR, "results", filename)
    with open(path, "w") as out:
        json.dump({"machine": about, "results": results}, out, indent=2)
    print(f"Written to {os.path.relpath(path, ROOT_DIR)}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="defaults to $DATABASE_URL; {contacts} is replaced by the size",
    )
    parser.add_argument("--requests", type=int, default=20, help="timed requests per variant")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per variant")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true", help="refill even if filled")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    parser.add_argument("--only", default="", help="run the variants whose label contains this")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or --database-url (PostgreSQL for meaningful figures)")

    if len(args.contacts) > 1:
        # One process per size: Django is configured once per process.
        for n_contacts in args.contacts:
            command = [sys.executable, os.path.abspath(__file__), "--contacts", str(n_contacts)]
            command += ["--database-url", args.database_url, "--requests", str(args.requests)]
            command += ["--warmup", str(args.warmup), "--seed", str(args.seed)]
            command += ["--regenerate"] * args.regenerate + ["--explain"] * args.explain
            command += ["--only", args.only]
            # The command is this script with parsed options, not outside input.
            subprocess.run(command, check=True, cwd=ROOT_DIR)  # noqa: S603
        return

    n_contacts = args.contacts[0]
    from bench.environment import setup

    setup(args.database_url.replace("{contacts}", str(n_contacts)))
    load_before = os.getloadavg()[0]
    results = run(
        n_contacts,
        requests=args.requests,
        warmup=args.warmup,
        seed=args.seed,
        regenerate=args.regenerate,
        show_explain=args.explain,
        only=args.only,
    )
    about = machine()
    about["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(f"\n{about['cpu']}, {about['cores']} cores, {about['database']}, {about['date']}")
    print("1-minute load average before and after: {}, {}".format(*about["load_average"]))
    path = os.path.join(BENCH_DIR, "results", f"contact_list-{n_contacts}.json")
    with open(path, "w") as out:
        json.dump({"contacts": n_contacts, "machine": about, "results": results}, out, indent=2)
    print(f"Written to {os.path.relpath(path, ROOT_DIR)}")


if __name__ == "__main__":
    main()
