"""Benchmark: importing and exporting contacts, ours beside the ORM and django-import-export.

One run generates a CSV file of ``--rows`` contacts (email, names, phone, locale, status,
1-3 preferences, opted-out categories for some rows), then, each step in a process of its own
so that its peak memory is its own:

1. ``bad-row``: the file with the address of one row near its end made invalid, imported (mode
   add, all or nothing) into an empty contacts table: the run must fail on that row alone and
   store nothing;
2. ``ours``: an ``ImportRun`` of the file applied by ``ImportRunner`` (mode add, all or nothing)
   into an empty contacts table;
3. ``export``: every contact it wrote, through ``exports.export_rows`` and ``csv_lines`` into a
   file;
4. ``iex-export``: django-import-export's ``ContactResource().export()`` of the same contacts;
5. ``round-trip``: the exported file imported again in add mode (nothing new, nothing updated);
6. ``orm``: a per-row Django ORM loop (``get_or_create``, ``save``, ``preferences.add``) over the
   first ``--orm-rows`` rows, into an emptied database;
7. ``iex``: django-import-export's ``import_data`` of the first ``--iex-rows`` rows.

    .venv/bin/python bench/imports_exports.py   # SQLite, 100,000 rows
    DATABASE_URL=postgres://user:password@127.0.0.1:5432/wp_bench_import \\
        .venv/bin/python bench/imports_exports.py   # PostgreSQL, 1,000,000 rows

The database is emptied of contacts, consent events and import runs before each import: use
a database of its own. Results go to ``bench/results/imports_exports-<database>-<rows>.json``.
"""

import argparse
import cProfile
import csv
import json
import os
import pstats
import random
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from itertools import islice

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.environment import BENCH_DIR, ROOT_DIR

RESULTS_DIR = os.path.join(BENCH_DIR, "results")
# The import runs' files live in the storage of bench.settings (MEDIA_ROOT).
MEDIA_DIR = os.path.join(RESULTS_DIR, "media")
FILES = "bench/imports_exports"


def generated_header() -> list[str]:
    """The import format's columns up to the opted-out categories: what the file holds."""
    from wagtail_preferences.transfers.columns import column_names

    columns = column_names()
    return list(columns[: columns.index("categories") + 1])


# Preferences a row may hold (by weight), 1-3 of them; opted-out categories for some rows.
PREFERENCES = [
    ("Newsletter", 40),
    ("Products", 25),
    ("Trainings", 10),
    ("Events", 8),
    ("Webinars", 6),
    ("Partner offers", 5),
    ("Job openings", 3),
    ("Beta programme", 3),
]
PREFERENCE_COUNTS = [(1, 55), (2, 30), (3, 15)]
CATEGORIES = ["Promotions", "Surveys", "Partner news", "Product updates", "Event invitations"]
OPT_OUT_SHARE = 0.15

STEPS = ("bad-row", "ours", "export", "iex-export", "round-trip", "orm", "iex")
LABELS = {
    "bad-row": "ours: one bad row near the end",
    "ours": "ours: ImportRunner.apply",
    "orm": "per-row Django ORM",
    "iex": "django-import-export",
    "export": "ours: export_rows + csv_lines",
    "iex-export": "django-import-export export",
    "round-trip": "ours: re-import of the export",
}
# Targets of the issue: seconds and MB of an import of `rows`; rows/s and MB of an export.
TARGETS = {
    "postgresql": {"import": (1_000_000, 60, 300), "export": (100_000, 150)},
    "sqlite": {"import": (100_000, 10, None), "export": (100_000, 150)},
}


# The file ------------------------------------------------------------------------------------


def write_csv(path: str, n_rows: int, seed: int) -> dict:
    """Write the benchmark file; returns what importing all of it must store."""
    from bench.generate import _Generator, _Target

    rng = random.Random(f"wagtail-preferences-bench:import-export:{seed}")
    names, weights = zip(*PREFERENCES, strict=True)
    counts, count_weights = zip(*PREFERENCE_COUNTS, strict=True)
    people = _Generator(n_rows, seed, _Target("", True, False, ""), {"contact": 1}, set())
    holdings = opt_outs = 0
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(generated_header())
        for chunk in people.contacts():
            lines = []
            for _, email, first, last, phone, locale, status, *_ in chunk:
                wanted = rng.choices(counts, count_weights)[0]
                chosen: list[str] = []
                while len(chosen) < wanted:
                    name = rng.choices(names, weights)[0]
                    if name not in chosen:
                        chosen.append(name)
                holdings += len(chosen)
                categories = []
                if rng.random() < OPT_OUT_SHARE:
                    categories = rng.sample(CATEGORIES, 1 if rng.random() < 0.8 else 2)
                    opt_outs += len(categories)
                lines.append(
                    [email, first, last, phone, locale, status, ", ".join(chosen)]
                    + [", ".join(categories)]
                )
            writer.writerows(lines)
    return {"rows": n_rows, "holdings": holdings, "opt_outs": opt_outs, "seed": seed}


def expected_of(path: str, n_rows: int) -> dict:
    """What importing the first ``n_rows`` rows of ``path`` must store."""
    holdings = opt_outs = 0
    with open(path, encoding="utf-8", newline="") as file:
        for row in islice(csv.DictReader(file), n_rows):
            holdings += len(split(row["preferences"]))
            opt_outs += len(split(row["categories"]))
    return {"rows": n_rows, "holdings": holdings, "opt_outs": opt_outs}


def split(cell: str) -> list[str]:
    return [name.strip() for name in cell.split(",") if name.strip()]


# The database --------------------------------------------------------------------------------


def empty_database() -> None:
    """Delete every contact, consent event and import run (and what hangs off them)."""
    from django.db import connection, transaction

    from wagtail_preferences.models import ConsentEvent, Contact, ContactExport, ImportRun

    models = [ConsentEvent, ImportRun, ContactExport, Contact]
    related = [rel.related_model for rel in Contact._meta.related_objects]
    related += [rel.related_model for rel in ImportRun._meta.related_objects]
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = ", ".join(qn(model._meta.db_table) for model in models)
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        else:
            for model in [*dict.fromkeys(related), *models]:
                cursor.execute(f"DELETE FROM {qn(model._meta.db_table)}")  # noqa: S608
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for model in [*dict.fromkeys(related), *models]:
                cursor.execute(f"VACUUM ANALYZE {qn(model._meta.db_table)}")
        else:
            cursor.execute("VACUUM")


def stored() -> dict:
    from wagtail_preferences.models import CategoryChoice, ConsentEvent, Contact, ContactPreference

    return {
        "contacts": Contact.objects.count(),
        "holdings": ContactPreference.objects.count(),
        "opt_outs": CategoryChoice.objects.filter(subscribed=False).count(),
        "consent_events": ConsentEvent.objects.count(),
    }


# Measuring -----------------------------------------------------------------------------------


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory (``VmRSS``) or its peak (``VmHWM``), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"No {field} in /proc/self/status.")


def reset_peak() -> bool:
    """Start the peak (``VmHWM``) again from the current size; False where Linux cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def normalised(sql: str) -> str:
    """A statement with its variable-length lists folded, to add up its kind."""
    sql = re.sub(r"%s(?:, %s)+", "%s…", sql)
    sql = re.sub(r"\(%s…\)(?:, \(%s…\))+", "(%s…)…", sql)
    sql = re.sub(r"\(%s\)(?:, \(%s\))+", "(%s)…", sql)
    sql = re.sub(r"'[^']*'", "'…'", sql)
    return sql


class Measure:
    """Wall and CPU time, statements and their time by kind, peak memory of a block."""

    def __init__(self, profile_path: str | None = None):
        self.profile_path = profile_path
        self.statements: dict[str, list] = defaultdict(lambda: [0, 0.0])
        self.queries = 0

    def _wrap(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = self.statements[normalised(sql)]
            entry[0] += 1
            entry[1] += time.perf_counter() - started
            self.queries += 1

    def __enter__(self):
        from django.db import connection

        self._wrapper = connection.execute_wrapper(self._wrap)
        self._wrapper.__enter__()
        self.rss_before = rss_mb()
        # Not getrusage's ru_maxrss: after a fork and exec it also holds the parent's peak.
        self.peak_reset = reset_peak()
        self.profiler = cProfile.Profile() if self.profile_path else None
        self.started, self.cpu_started = time.perf_counter(), time.process_time()
        if self.profiler:
            self.profiler.enable()
        return self

    def __exit__(self, *exc):
        if self.profiler:
            self.profiler.disable()
        self.seconds = time.perf_counter() - self.started
        self.cpu = time.process_time() - self.cpu_started
        self.peak = rss_mb("VmHWM")
        self._wrapper.__exit__(*exc)
        if self.profiler:
            self.profiler.dump_stats(self.profile_path + ".prof")
            with open(self.profile_path + ".txt", "w") as out:
                stats = pstats.Stats(self.profiler, stream=out).strip_dirs()
                stats.sort_stats("cumulative").print_stats(60)
                stats.sort_stats("tottime").print_stats(40)
        return False

    def figures(self, rows: int) -> dict:
        slowest = sorted(self.statements.items(), key=lambda item: -item[1][1])[:8]
        return {
            "rows": rows,
            "seconds": round(self.seconds, 2),
            "cpu_seconds": round(self.cpu, 2),
            "rows_per_second": round(rows / self.seconds) if self.seconds else None,
            "rss_before_mb": round(self.rss_before, 1),
            "peak_mb": round(self.peak, 1),
            "growth_mb": round(self.peak - self.rss_before, 1),
            "peak_since_start": self.peak_reset,
            "queries": self.queries,
            "sql_seconds": round(sum(t for _, t in self.statements.values()), 2),
            "statements": [
                {"count": count, "seconds": round(seconds, 3), "sql": sql[:400]}
                for sql, (count, seconds) in slowest
            ],
        }


# The steps, each in a process of its own ------------------------------------------------------


def editor():
    """The staff user an import started in the admin belongs to (``--as-editor``)."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench-editor", defaults={"is_staff": True}
    )
    return user


def new_run(path: str, name: str, args):
    from wagtail_preferences.models import ImportMode, ImportRun, LegalBasis
    from wagtail_preferences.transfers.imports.columns import default_mapping
    from wagtail_preferences.transfers.spreadsheets import open_table

    with open(path, "rb") as file:
        header = open_table(file).header
    run = ImportRun(
        file_name=os.path.basename(name),
        file_size=os.path.getsize(path),
        columns=header,
        mapping=default_mapping(header),
        mode=ImportMode.ADD,
        legal_basis=LegalBasis.CONSENT,
        permission_confirmed=True,
        created_by=editor() if args.as_editor else None,
        created_by_label="bench/imports_exports.py",
    )
    run.file.name = name  # the file is already in the storage: no copy
    run.save()
    return run


def run_ours(args, measure: Measure) -> dict:
    from wagtail_preferences.transfers.imports.runner import ImportRunner

    empty_database()
    run = new_run(args.file, args.file_name, args)
    with measure:
        ImportRunner(run).apply()
    run.refresh_from_db()
    expected = args.expected
    found = stored()
    wanted = {
        "contacts": expected["rows"],
        "holdings": expected["holdings"],
        "opt_outs": expected["opt_outs"],
        # One event per new contact, per preference given, per category opted out.
        "consent_events": expected["rows"] + expected["holdings"] + expected["opt_outs"],
    }
    searches = search_names(args.file, expected["rows"])
    return {
        **measure.figures(expected["rows"]),
        "run": run_counts(run),
        "stored": found,
        "searches": searches,
        "verified": (
            found == wanted
            and run.status == "done"
            and run.new_rows == expected["rows"]
            and all(search["found"] for search in searches)
        ),
        "expected": wanted,
    }


#: Where in the file the people searched for after an import are (shares of its rows).
SEARCHED_ROWS = (0.1, 0.5, 0.9)
SEARCH_REQUESTS = 5


def search_names(path: str, rows: int) -> list[dict]:
    """Search the admin's contact list, as a superuser, for people of the file by "first
    last", "last, first", the start of the address and the last name: the median of
    ``SEARCH_REQUESTS`` requests each (after one not timed), how many contacts the search
    matches, whether the person is among them and whether on the first page."""
    from django.urls import reverse

    from bench.contact_list import admin_client
    from wagtail_preferences.audience.search import matching
    from wagtail_preferences.models import Contact

    wanted = {int(rows * share) for share in SEARCHED_ROWS}
    with open(path, encoding="utf-8", newline="") as file:
        people = [row for number, row in enumerate(csv.DictReader(file)) if number in wanted]
    client = admin_client()
    url = reverse("preference_center_contacts:index")
    searches = []
    for person in people:
        email, first, last = person["email"].lower(), person["first_name"], person["last_name"]
        for query in (f"{first} {last}", f"{last}, {first}", email.split("@")[0], last):
            on_page = email in client.get(url, {"q": query}).text
            matches = Contact.objects.filter(matching(query))
            timings = []
            for _ in range(SEARCH_REQUESTS):
                started = time.perf_counter()
                client.get(url, {"q": query})
                timings.append((time.perf_counter() - started) * 1000)
            ms = round(statistics.median(timings), 1)
            searches.append(
                {
                    "q": query,
                    "email": email,
                    "median_ms": ms,
                    "matches": matches.count(),
                    "found": matches.filter(email=email).exists(),
                    "on_first_page": on_page,
                }
            )
    return searches


#: The bad row of ``bad-row`` is this many rows before the end of the file.
BAD_ROW_FROM_END = 10


def write_bad_row(source: str, target: str, rows: int) -> int:
    """Copy ``source`` with the address of one row near its end made invalid; returns that
    row's line in the file (the header is line 1)."""
    bad = rows + 1 - BAD_ROW_FROM_END
    with (
        open(source, encoding="utf-8", newline="") as file,
        open(target, "w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out)
        for line, row in enumerate(csv.reader(file), start=1):
            if line == bad:
                row[0] = "no-at-sign.example"
            writer.writerow(row)
    return bad


def run_bad_row(args, measure: Measure) -> dict:
    """The file with one invalid address near its end: the import stops, storing nothing."""
    from wagtail_preferences.transfers.imports.runner import ImportRunner

    empty_database()
    name = args.file_name.replace(".csv", "-bad-row.csv")
    line = write_bad_row(args.file, os.path.join(MEDIA_DIR, name), args.rows)
    run = new_run(os.path.join(MEDIA_DIR, name), name, args)
    with measure:
        ImportRunner(run).apply()
    run.refresh_from_db()
    errors = list(run.row_errors.values_list("row", "column", "message"))
    found = stored()
    return {
        **measure.figures(args.rows),
        "run": run_counts(run),
        "bad_line": line,
        "errors": errors[:5],
        "stored": found,
        "verified": (
            run.status == "failed"
            and [row for row, *_ in errors] == [line]
            and not any(found.values())
        ),
    }


def run_counts(run) -> dict:
    fields = ("status", "message", "processed_rows", "new_rows", "updated_rows")
    fields += ("unchanged_rows", "skipped_rows", "failed_rows")
    return {name: getattr(run, name) for name in fields}


def run_round_trip(args, measure: Measure) -> dict:
    from wagtail_preferences.transfers.imports.runner import ImportRunner

    before = stored()
    run = new_run(export_path(args), export_name(args), args)
    with measure:
        ImportRunner(run).apply()
    run.refresh_from_db()
    after = stored()
    rows = before["contacts"]
    return {
        **measure.figures(rows),
        "run": run_counts(run),
        "stored": after,
        "verified": (
            run.status == "done"
            and run.new_rows == 0
            and run.updated_rows == 0
            and run.unchanged_rows == rows
            and after == before
        ),
    }


def export_name(args) -> str:
    return f"{FILES}/export-{args.vendor}-{args.rows}.csv"


def export_path(args) -> str:
    return os.path.join(MEDIA_DIR, export_name(args))


def run_export(args, measure: Measure) -> dict:
    from wagtail_preferences.models import Contact
    from wagtail_preferences.transfers import exports
    from wagtail_preferences.transfers.columns import column_names
    from wagtail_preferences.transfers.spreadsheets import csv_lines

    header = getattr(exports, "HEADER", None) or list(column_names())
    lines = 0
    with measure, open(export_path(args), "w", encoding="utf-8", newline="") as out:
        for line in csv_lines(list(header), exports.export_rows(Contact.objects.all())):
            out.write(line)
            lines += 1
    rows = lines - 1
    contacts = Contact.objects.count()
    return {
        **measure.figures(rows),
        "bytes": os.path.getsize(export_path(args)),
        "verified": rows == contacts,
    }


def contact_resource(*, bulk: bool = False):
    """A ``ModelResource`` for contacts as a Django team would write one."""
    from import_export import fields, resources
    from import_export.instance_loaders import CachedInstanceLoader
    from import_export.widgets import ManyToManyWidget

    from wagtail_preferences.models import Category, CategoryChoice, Contact, Preference

    categories = {}

    class ContactResource(resources.ModelResource):
        preferences = fields.Field(
            attribute="preferences",
            column_name="preferences",
            widget=ManyToManyWidget(Preference, field="name", separator=","),
        )

        class Meta:
            model = Contact
            fields = ("email", "first_name", "last_name", "phone", "locale", "status")
            fields += ("preferences",)
            import_id_fields = ("email",)
            # The library's documented speed-ups that keep many-to-many fields working:
            # one query for the rows' existing contacts, no per-row diff.
            instance_loader_class = CachedInstanceLoader
            skip_diff = True
            use_bulk = bulk
            batch_size = 1000

        def after_save_instance(self, instance, row, **kwargs):
            # Opted-out categories are not a field of Contact: a hook writes them.
            if not categories:
                categories.update(Category.objects.in_bulk(field_name="name"))
            for name in split(row.get("categories") or ""):
                CategoryChoice.objects.get_or_create(
                    contact=instance,
                    category=categories[name],
                    defaults={"subscribed": False, "source": "import"},
                )

    return ContactResource


def run_iex_export(args, measure: Measure) -> dict:
    from wagtail_preferences.models import Contact

    rows = min(args.iex_rows, Contact.objects.count())
    queryset = Contact.objects.order_by("pk")[:rows]
    path = os.path.join(MEDIA_DIR, FILES, f"iex-export-{args.vendor}-{args.rows}.csv")
    with measure:
        dataset = contact_resource()().export(queryset)
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.write(dataset.csv)
    return {**measure.figures(rows), "verified": len(dataset) == rows, "sample": rows < args.rows}


def run_orm(args, measure: Measure) -> dict:
    from django.db import transaction

    from wagtail_preferences.models import Category, CategoryChoice, Contact, Preference

    empty_database()
    rows = min(args.orm_rows, args.rows)
    with measure:
        preferences = Preference.objects.in_bulk(field_name="name")
        categories = Category.objects.in_bulk(field_name="name")
        with open(args.file, encoding="utf-8", newline="") as file, transaction.atomic():
            for row in islice(csv.DictReader(file), rows):
                contact, _ = Contact.objects.get_or_create(email=row["email"].strip().lower())
                for name in ("first_name", "last_name", "phone", "locale", "status"):
                    setattr(contact, name, row[name].strip())
                contact.save()
                contact.preferences.add(
                    *[preferences[name] for name in split(row["preferences"])],
                    through_defaults={"source": "import"},
                )
                for name in split(row["categories"]):
                    CategoryChoice.objects.get_or_create(
                        contact=contact,
                        category=categories[name],
                        defaults={"subscribed": False, "source": "import"},
                    )
    return sample_result(args, measure, rows)


def sample_result(args, measure: Measure, rows: int) -> dict:
    expected = expected_of(args.file, rows)
    found = stored()
    # No consent log: neither writes any event.
    wanted = {"contacts": expected.pop("rows"), **expected, "consent_events": 0}
    return {
        **measure.figures(rows),
        "stored": found,
        "verified": found == wanted,
        "sample": rows < args.rows,
    }


def run_iex(args, measure: Measure) -> dict:
    import tablib

    empty_database()
    rows = min(args.iex_rows, args.rows)
    with measure:
        with open(args.file, encoding="utf-8", newline="") as file:
            text = "".join(islice(file, rows + 1))
        dataset = tablib.Dataset().load(text, format="csv")
        result = contact_resource()().import_data(dataset, dry_run=False, use_transactions=True)
    outcome = sample_result(args, measure, rows)
    outcome["errors"] = result.has_errors() or result.has_validation_errors()
    outcome["totals"] = dict(result.totals)
    outcome["verified"] = outcome["verified"] and not outcome["errors"]
    return outcome


STEP_FUNCTIONS = {
    "bad-row": run_bad_row,
    "ours": run_ours,
    "export": run_export,
    "iex-export": run_iex_export,
    "round-trip": run_round_trip,
    "orm": run_orm,
    "iex": run_iex,
}


def run_step(args) -> None:
    from bench.environment import setup

    setup(args.database_url, create=False, migrate=False)
    from django.db import connection

    args.vendor = connection.vendor
    with open(args.file + ".json") as meta:
        args.expected = json.load(meta)
    profile = None
    if args.step in args.profile:
        profile = os.path.join(RESULTS_DIR, f"imports_exports-profile-{args.step}-{args.vendor}")
    outcome = STEP_FUNCTIONS[args.step](args, Measure(profile))
    outcome["profiled"] = bool(profile)
    with open(args.out, "w") as out:
        json.dump(outcome, out, indent=2, default=str)


# The whole run -------------------------------------------------------------------------------


def target_of(step: str, vendor: str, result: dict) -> tuple[str, bool | None]:
    """The target that applies to ``result`` as text, and whether it was met."""
    targets = TARGETS.get(vendor, TARGETS["sqlite"])
    if step == "ours":
        rows, seconds, megabytes = targets["import"]
        text = f"{rows:,} rows < {seconds} s" + (f", < {megabytes} MB" if megabytes else "")
        if result["rows"] != rows:
            return text + " (other size)", None
        met = result["seconds"] < seconds and (not megabytes or result["peak_mb"] < megabytes)
        return text, met
    if step == "export":
        rate, megabytes = targets["export"]
        met = result["rows_per_second"] > rate and result["peak_mb"] < megabytes
        return f"> {rate:,} rows/s, < {megabytes} MB", met
    return "", None


def print_table(vendor: str, rows: int, results: dict) -> None:
    header = (
        f"{'contender':<36} {'rows':>10} {'seconds':>9} {'rows/s':>9} {'peak MB':>8} "
        f"{'growth':>7} {'queries':>9} {'vs ours':>8}  target"
    )
    print(f"\n{vendor}, {rows:,} rows in the file")
    print(header)
    print("-" * len(header))
    ours = {
        "import": results.get("ours", {}).get("rows_per_second"),
        "export": results.get("export", {}).get("rows_per_second"),
    }
    for step in STEPS:
        result = results.get(step)
        if not result:
            continue
        if "error" in result:
            print(f"{LABELS[step]:<36} failed: {result['error']}")
            continue
        kind = "export" if "export" in step else "import"
        reference = ours[kind] if step in ("orm", "iex", "iex-export") else None
        ratio = f"{reference / result['rows_per_second']:.0f}x" if reference else ""
        target, met = target_of(step, vendor, result)
        flag = "" if met is not False else "  SLOW"
        notes = []
        if result.get("sample"):
            notes.append(f"sample; {rows:,} rows ≈ {rows / result['rows_per_second']:,.0f} s")
        if not result.get("verified"):
            notes.append("NOT VERIFIED")
        if result.get("profiled"):
            notes.append("profiled")
        print(
            f"{LABELS[step]:<36} {result['rows']:>10,} {result['seconds']:>9.2f} "
            f"{result['rows_per_second']:>9,} {result['peak_mb']:>8.0f} "
            f"{result['growth_mb']:>7.0f} {result['queries']:>9,} {ratio:>8}  "
            f"{target}{flag}" + (f"  [{'; '.join(notes)}]" if notes else "")
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, help="rows in the file (100,000; 1,000,000 on PG)")
    parser.add_argument("--orm-rows", type=int, help="rows of the ORM loop (20,000)")
    parser.add_argument("--iex-rows", type=int, help="rows of django-import-export (20,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument(
        "--profile", nargs="*", choices=STEPS, default=[], help="run these steps under cProfile"
    )
    parser.add_argument("--regenerate", action="store_true", help="write the file again")
    parser.add_argument(
        "--as-editor",
        action="store_true",
        help="import as a staff user, as from the admin: every consent event names the user",
    )
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--file-name", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.step:
        run_step(args)
        return

    from bench.environment import setup

    setup(args.database_url)
    from django.db import connection

    from bench.contact_list import machine
    from bench.generate import _interests

    vendor = connection.vendor
    postgres = vendor == "postgresql"
    args.rows = args.rows or (1_000_000 if postgres else 100_000)
    args.orm_rows = min(args.orm_rows or 20_000, args.rows)
    args.iex_rows = min(args.iex_rows or 20_000, args.rows)
    load_before = os.getloadavg()[0]
    _interests()  # the preferences and categories the file names

    name = f"{FILES}/contacts-{args.rows}-{args.seed}.csv"
    path = os.path.join(MEDIA_DIR, name)
    if args.regenerate or not os.path.exists(path + ".json"):
        print(f"Writing {args.rows:,} rows to {os.path.relpath(path, ROOT_DIR)}...", flush=True)
        started = time.perf_counter()
        expected = write_csv(path, args.rows, args.seed)
        with open(path + ".json", "w") as meta:
            json.dump(expected, meta)
        print(f"  {time.perf_counter() - started:.1f} s, {os.path.getsize(path) / 2**20:.0f} MB")
    with open(path + ".json") as meta:
        expected = json.load(meta)
    print(
        f"File: {expected['rows']:,} rows, {expected['holdings']:,} preferences, "
        f"{expected['opt_outs']:,} category opt-outs"
    )

    results = {}
    for step in STEPS:
        if step not in args.steps:
            continue
        print(f"{LABELS[step]}...", flush=True)
        out = os.path.join(RESULTS_DIR, f"imports_exports-step-{step}.json")
        command = [sys.executable, os.path.abspath(__file__), "--step", step, "--file", path]
        command += ["--file-name", name, "--out", out, "--rows", str(args.rows)]
        command += ["--orm-rows", str(args.orm_rows), "--iex-rows", str(args.iex_rows)]
        command += ["--seed", str(args.seed), "--profile", *args.profile]
        command += ["--as-editor"] if args.as_editor else []
        if args.database_url:
            command += ["--database-url", args.database_url]
        # The command is this script with parsed options, not outside input.
        done = subprocess.run(command, cwd=ROOT_DIR, check=False)  # noqa: S603
        if done.returncode:
            results[step] = {"error": f"exit status {done.returncode}"}
            continue
        with open(out) as result:
            results[step] = json.load(result)
        os.remove(out)
        result = results[step]
        print(
            f"  {result['rows']:,} rows in {result['seconds']:.2f} s "
            f"({result['rows_per_second']:,} rows/s), peak {result['peak_mb']:.0f} MB, "
            f"{result['queries']:,} queries, verified: {result['verified']}",
            flush=True,
        )
        for search in result.get("searches", []):
            found = "found" if search["found"] else "NOT FOUND"
            page = "on the first page" if search["on_first_page"] else "past the first page"
            print(
                f"    search {search['q']!r}: {search['median_ms']} ms, "
                f"{search['matches']:,} matches, {found} ({page})"
            )

    print_table(vendor, args.rows, results)
    about = machine()
    about["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(f"\n{about['cpu']}, {about['cores']} cores, {about['database']}, {about['date']}")
    print("1-minute load average before and after: {}, {}".format(*about["load_average"]))
    vendor_name = about["database"].split()[0].lower()
    report = os.path.join(RESULTS_DIR, f"imports_exports-{vendor_name}-{args.rows}.json")
    with open(report, "w") as out:
        json.dump(
            {
                "rows": args.rows,
                "as_editor": args.as_editor,
                "file": expected,
                "machine": about,
                "results": results,
            },
            out,
            indent=2,
            default=str,
        )
    print(f"Written to {os.path.relpath(report, ROOT_DIR)}")


if __name__ == "__main__":
    main()
