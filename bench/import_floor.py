"""Benchmark: the least time PostgreSQL takes to store what a large import stores.

An import of ``--rows`` new contacts must leave in the database the contacts, their
preferences and category opt-outs, and the consent events that prove them. This script
stores exactly those rows, for the file of ``bench/imports_exports.py``, without any of the
import's own work: the rows are prepared in temporary tables beforehand (not timed), then
copied into the real tables, with their real indexes and keys, in one timed transaction. No
file is read, nothing is checked, no signal is sent. Whatever an import does, it cannot take
less than this on the same machine; the import's figures are read beside it.

Each shape runs on a freshly emptied database:

- ``events-per-change``: one consent event per new contact, per preference given and per
  category opted out of, as imports record them (decision 0017);
- ``event-per-contact``: one consent event per new contact listing every change, the shape
  that decision declined.

The CPU time of this process, of the database's backend, and of the whole machine (with the
time it waited for the disk) is read from ``/proc`` around each statement. ``--without``
drops the foreign keys of the tables written to, or the search index, for the run (and puts
them back after it), to see what they cost; ``--backends N`` stores in N transactions at
once, each a share of the contacts, committed once all are done.

    DATABASE_URL=postgres://user:password@127.0.0.1:5432/wp_bench_import \\
        .venv/bin/python bench/import_floor.py --rows 1000000 --as-editor

Uses the database of ``bench/imports_exports.py`` (run that once to write the file); empties
it of contacts. Results go to ``bench/results/import_floor-<rows>[-without-…][-N-backends].json``.
"""

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.environment import setup
from bench.imports_exports import FILES, MEDIA_DIR, editor, empty_database, stored

SHAPES = ("events-per-change", "event-per-contact")
#: What ``--without`` can take away from the bench database to see what it costs.
WITHOUT = ("foreign-keys", "search-index")
SEARCH_INDEX = "wagtail_prefs_contact_search"
PREPARED = ("floor_file", "floor_contacts", "floor_holdings", "floor_opt_outs")
TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int | str = "self") -> float:
    """User and system CPU seconds of process ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_cpu() -> tuple[float, float]:
    """Busy and disk-waiting CPU seconds of the machine so far (every core)."""
    with open("/proc/stat") as stat:
        user, nice, system, _, iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / TICK, iowait / TICK


class Clock:
    """Wall time and CPU time (here, in the backend, on the machine) of each named step."""

    def __init__(self, backend_pid: int | None = None):
        self.backend_pid = backend_pid
        self.steps: list[dict] = []

    def _read(self) -> tuple:
        return (
            time.perf_counter(),
            process_cpu(),
            process_cpu(self.backend_pid) if self.backend_pid else 0.0,
            *machine_cpu(),
        )

    def step(self, name: str, work) -> object:
        before = self._read()
        result = work()
        wall, here, backend, busy, iowait = (
            after - start for after, start in zip(self._read(), before, strict=True)
        )
        self.steps.append(
            {
                "step": name,
                "seconds": round(wall, 2),
                "backend_cpu": round(backend, 2),
                "python_cpu": round(here, 2),
                "machine_busy": round(busy, 2),
                "machine_iowait": round(iowait, 2),
                "rows": result if isinstance(result, int) else None,
            }
        )
        return result

    def total(self) -> dict:
        keys = ("seconds", "backend_cpu", "python_cpu", "machine_busy", "machine_iowait")
        return {key: round(sum(step[key] for step in self.steps), 2) for key in keys}


def prepare(cursor, path: str, kind: str) -> None:
    """Tables of the rows to store, with ids taken: ``floor_contacts`` (with the lists of ids
    of the one event per contact), ``floor_holdings`` and ``floor_opt_outs``. ``kind`` is
    ``TEMPORARY``, as an import's staging table, or ``UNLOGGED``, which every backend of
    ``--backends`` can read (and which takes the database's shared buffers)."""
    from wagtail_preferences.models import Category, Contact, Preference

    cursor.execute(f"DROP TABLE IF EXISTS {', '.join(PREPARED)}")
    cursor.execute(
        f"CREATE {kind} TABLE floor_file (email text, first_name text, last_name text, "
        "phone text, locale text, status text, preferences text, categories text)"
    )
    with (
        open(path, "rb") as file,
        cursor.cursor.copy("COPY floor_file FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
    ):
        while block := file.read(1 << 20):
            copy.write(block)
    sequence = f"pg_get_serial_sequence('{Contact._meta.db_table}', 'id')"
    cursor.execute(
        f"CREATE {kind} TABLE floor_contacts AS "  # noqa: S608
        f"SELECT nextval({sequence}) AS contact_id, lower(email) AS email, first_name, "
        "last_name, phone, locale, status, preferences, categories, "
        "substr(md5(random()::text) || md5(random()::text), 1, 44) AS secret "
        "FROM floor_file ORDER BY email"
    )
    cursor.execute(
        f"CREATE {kind} TABLE floor_holdings AS "  # noqa: S608
        "SELECT f.contact_id, p.id AS preference_id, p.name AS preference_name "
        "FROM floor_contacts f CROSS JOIN unnest(string_to_array(f.preferences, ',')) AS n "
        f"JOIN {Preference._meta.db_table} p ON p.name = trim(n)"
    )
    cursor.execute(
        f"CREATE {kind} TABLE floor_opt_outs AS "  # noqa: S608
        "SELECT f.contact_id, c.id AS category_id, c.name AS category_name "
        "FROM floor_contacts f CROSS JOIN unnest(string_to_array(f.categories, ',')) AS n "
        f"JOIN {Category._meta.db_table} c ON c.name = trim(n)"
    )
    # What the one event per contact lists, made beforehand too.
    for column, table, key in (
        ("preference_ids", "floor_holdings", "preference_id"),
        ("category_ids", "floor_opt_outs", "category_id"),
    ):
        cursor.execute(f"ALTER TABLE floor_contacts ADD COLUMN {column} jsonb")
        cursor.execute(
            f"UPDATE floor_contacts f SET {column} = t.ids FROM "  # noqa: S608
            f"(SELECT contact_id, jsonb_agg({key}) AS ids FROM {table} GROUP BY contact_id) t "
            "WHERE t.contact_id = f.contact_id"
        )
    cursor.execute("ANALYZE floor_contacts; ANALYZE floor_holdings; ANALYZE floor_opt_outs")


def store(clock: Clock, shape: str, origin, share: tuple[int, int] = (0, 1)) -> None:
    """Copy the prepared rows into the real tables, one statement per kind of row, timing
    each: the rows of contacts whose id is ``i`` modulo ``n``, for ``share`` ``(i, n)``."""
    from wagtail_preferences.db.insert_select import insert_select
    from wagtail_preferences.models import (
        CategoryChoice,
        ConsentSubject,
        Contact,
        ContactPreference,
    )
    from wagtail_preferences.services.consent_log import record_selected

    i, n = share

    def rows(table: str, alias: str) -> str:
        share_of = f" WHERE mod({alias}.contact_id, {n}) = {i}" if n > 1 else ""
        return f"FROM {table} {alias}{share_of}"

    contacts = rows("floor_contacts", "f")
    created = {"email": "f.email", "status": "f.status"}
    if shape == "event-per-contact":
        created |= {"preferences": "f.preference_ids", "opted_out": "f.category_ids"}
    pairs = ", ".join(f"'{key}', {value}" for key, value in created.items())
    clock.step(
        "contacts",
        lambda: insert_select(
            Contact,
            {
                "id": "f.contact_id",
                "email": "f.email",
                "secret": "f.secret",
                **{
                    name: f"COALESCE(f.{name}, '')"
                    for name in ("first_name", "last_name", "phone", "locale")
                },
                "data": "CAST('{}' AS jsonb)",
                "status": "COALESCE(f.status, 'pending')",
            },
            contacts,
        ),
    )
    clock.step(
        "events: created",
        lambda: record_selected(
            origin.event(None, ConsentSubject.CONTACT, field="created"),
            {"contact_id": "f.contact_id", "new_value": f"jsonb_build_object({pairs})"},
            contacts,
        ),
    )
    holdings = rows("floor_holdings", "h")
    opt_outs = rows("floor_opt_outs", "o")
    for name, model, alias, key, source, same in (
        ("holdings", ContactPreference, "h", "preference_id", holdings, {}),
        ("opt-outs", CategoryChoice, "o", "category_id", opt_outs, {"subscribed": False}),
    ):
        columns = {"contact_id": f"{alias}.contact_id", key: f"{alias}.{key}"}
        clock.step(
            name,
            lambda m=model, c=columns, f=source, s=same: insert_select(
                m, c, f, source=origin.path, **s
            ),
        )
    if shape == "events-per-change":
        held = origin.event(
            None, ConsentSubject.PREFERENCE, field="held", old_value=False, new_value=True
        )
        clock.step(
            "events: held",
            lambda: record_selected(
                held,
                {
                    "contact_id": "h.contact_id",
                    "subject_id": "h.preference_id",
                    "subject_label": "h.preference_name",
                },
                holdings,
            ),
        )
        opted_out = origin.event(None, ConsentSubject.CATEGORY, field="subscribed", new_value=False)
        clock.step(
            "events: opted out",
            lambda: record_selected(
                opted_out,
                {
                    "contact_id": "o.contact_id",
                    "subject_id": "o.category_id",
                    "subject_label": "o.category_name",
                },
                opt_outs,
            ),
        )


@contextmanager
def removed(without: list[str]):
    """The bench database without the foreign keys of the tables an import writes to, or
    its search index, while the block runs; put back afterwards (not timed)."""
    from django.db import connection

    from wagtail_preferences.models import CategoryChoice, ConsentEvent, ContactPreference

    tables = [model._meta.db_table for model in (ContactPreference, CategoryChoice, ConsentEvent)]
    found = []  # (drop, create) statements
    # Emptied first: without the keys, emptying the contacts would not empty their holdings.
    empty_database()
    with connection.cursor() as cursor:
        if "foreign-keys" in without:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
                [tables],
            )
            found += [
                (
                    f"ALTER TABLE {table} DROP CONSTRAINT {name}",
                    f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}",
                )
                for table, name, definition in cursor.fetchall()
            ]
        if "search-index" in without:
            cursor.execute("SELECT pg_get_indexdef(%s::regclass)", [SEARCH_INDEX])
            found.append((f"DROP INDEX {SEARCH_INDEX}", cursor.fetchone()[0]))
        for drop, _ in found:
            cursor.execute(drop)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _, create in found:
                cursor.execute(create)


def run_shape(shape: str, path: str, as_editor: bool, backends: int) -> dict:
    from django.db import connection

    from wagtail_preferences.models import ChangePath
    from wagtail_preferences.services.origin import Origin

    empty_database()
    origin = Origin(
        path=ChangePath.IMPORT,
        user=editor() if as_editor else None,
        reference="bench/import_floor.py",
        # As long as the wording of an import's events (``ImportRunner.origin``).
        wording="Imported on the legal basis “Consent”; bench/imports_exports.py confirmed "
        "that the site may contact these people.",
    )
    with connection.cursor() as cursor:
        prepare(cursor, path, "TEMPORARY" if backends == 1 else "UNLOGGED")
    if backends == 1:
        clock = stored_by_backend(shape, origin, (0, 1), None)
        steps, total = clock.steps, clock.total()
    else:
        # Each backend stores a share in a transaction of its own, committed once all are
        # done: the most an import could gain from the machine's other core.
        barrier = threading.Barrier(backends)
        whole = Clock()
        with ThreadPoolExecutor(backends) as pool:
            clocks = whole.step(
                f"{backends} backends",
                lambda: list(
                    pool.map(
                        lambda i: stored_by_backend(shape, origin, (i, backends), barrier),
                        range(backends),
                    )
                ),
            )
        steps = {f"backend {i + 1}": clock.steps for i, clock in enumerate(clocks)}
        total = {
            **whole.steps[0],
            "backend_cpu": round(sum(clock.total()["backend_cpu"] for clock in clocks), 2),
        }
        del total["step"]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {', '.join(PREPARED)}")
    return {
        "shape": shape,
        "backends": backends,
        "steps": steps,
        "total": total,
        "stored": stored(),
    }


def stored_by_backend(shape: str, origin, share: tuple[int, int], barrier) -> Clock:
    """Store ``share`` of the rows in one transaction of this thread's connection; with a
    ``barrier``, commit only once every backend has stored its share."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        clock = Clock(cursor.fetchone()[0])
    atomic = transaction.atomic()
    clock.step("begin", atomic.__enter__)
    try:
        store(clock, shape, origin, share)
        if barrier is not None:
            clock.step("waiting for the others", barrier.wait)
    except BaseException as error:
        if barrier is not None:
            barrier.abort()
        atomic.__exit__(type(error), error, error.__traceback__)
        raise
    clock.step("commit", lambda: atomic.__exit__(None, None, None))
    if barrier is not None:
        connection.close()
    return clock


def print_steps(title: str, steps: list[dict]) -> None:
    print(f"{title:<24} {'s':>7} {'backend':>8} {'python':>7} {'busy':>7} {'iowait':>7}")
    for step in steps:
        print(
            f"{step['step']:<24} {step['seconds']:>7.2f} {step['backend_cpu']:>8.2f} "
            f"{step['python_cpu']:>7.2f} {step['machine_busy']:>7.2f} "
            f"{step['machine_iowait']:>7.2f}"
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--shapes", nargs="+", choices=SHAPES, default=list(SHAPES))
    parser.add_argument("--as-editor", action="store_true", help="events name a staff user")
    parser.add_argument(
        "--without",
        nargs="+",
        choices=WITHOUT,
        default=[],
        help="store without these (put back after each shape), to see what they cost",
    )
    parser.add_argument(
        "--backends",
        type=int,
        default=1,
        help="store in this many transactions at once, each a share of the contacts",
    )
    args = parser.parse_args(argv)

    setup(args.database_url)
    from django.db import connection

    if connection.vendor != "postgresql":
        parser.error("this benchmark measures PostgreSQL: set DATABASE_URL")
    from bench.generate import _interests

    _interests()
    path = os.path.join(MEDIA_DIR, f"{FILES}/contacts-{args.rows}-{args.seed}.csv")
    if not os.path.exists(path):
        parser.error(f"no file {path}: run bench/imports_exports.py --rows {args.rows} first")
    results = {"rows": args.rows, "as_editor": args.as_editor, "without": args.without}
    results |= {"backends": args.backends, "load": os.getloadavg()[0]}
    for shape in args.shapes:
        with removed(args.without):
            result = run_shape(shape, path, args.as_editor, args.backends)
        results[shape] = result
        without = f" without {', '.join(args.without)}" if args.without else ""
        print(f"\n{shape}{without}: stored {result['stored']}")
        parts = result["steps"] if args.backends > 1 else {"step": result["steps"]}
        for title, steps in parts.items():
            print_steps(title, steps)
        print_steps("", [{"step": "total", **result["total"]}])
    name = "-".join(
        ["import_floor", str(args.rows), *(f"without-{w}" for w in args.without)]
        + ([f"{args.backends}-backends"] if args.backends > 1 else [])
    )
    out = os.path.join(os.path.dirname(MEDIA_DIR), f"{name}.json")
    with open(out, "w") as file:
        json.dump(results, file, indent=1)
    print(f"\nResults: {out}")


if __name__ == "__main__":
    main()
