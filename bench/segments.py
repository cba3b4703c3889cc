"""Benchmark: segments on a large database: count, refresh, and a preference for all members.

On a database of generated contacts (``bench.generate``), the script creates segments of three
criteria each (the only segments in the database, since changes refresh every segment) and
times:

- counting the contacts that match the broad one (holds any of Newsletter, Products; subscribed
  to Promotions; email enabled: about 53% of contacts), after ``--warmup`` untimed counts;
- a full refresh of the broad segment from no members (every match joins: member rows, consent
  events, the signal), then a second refresh with nothing to change; once without and once with
  a preference to add on joining (Local meetups, held by 0.6%, so nearly every joiner gains
  it). The refresh is timed up to its commit; the work it leaves for the commit (statistics,
  and the refresh of every segment that follows a change to more than ``LIVE_REFRESH_LIMIT``
  contacts, inline with the test settings' immediate task backend) is timed apart;
- giving Webinars (held by 5%) to every member of the narrow segment (holds Trainings;
  subscribed to Promotions; email enabled: about 10% of contacts) with
  ``services.add_preferences(services.members(segment), ...)``, as the segment bulk action
  does, then taking it away again with ``services.remove_preferences``; the follow-up on
  commit is again timed apart.

Every timed run starts from the same state: before each run the bench segment's member rows,
the consent events the bench wrote and the preference holdings it changed are put back as
they were, and the touched tables vacuumed and analyzed on PostgreSQL. The median of
``--runs`` runs is reported. At the end the bench segments and everything they wrote go.

    DATABASE_URL='postgres://postgres:postgres@127.0.0.1:5432/wp_bench_{contacts}' \\
        .venv/bin/python bench/segments.py --contacts 1000000

``{contacts}`` in the database URL gives each size a database of its own; a database that does
not hold exactly that many generated contacts is (re)filled first. Results are also written to
``bench/results/segments-<contacts>.json``; ``--explain`` prints the plans of the slowest
queries (in the state the runs left).
"""

import argparse
import json
import os
import statistics
import sys
import time
from contextlib import contextmanager

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.environment import BENCH_DIR, ROOT_DIR

# Targets in seconds.
TARGETS = {"count": 1, "refresh": 30, "assign": 15}

BROAD = "Bench: Newsletter or Products, Promotions, email"
NARROW = "Bench: Trainings, Promotions, email"
ON_JOIN = "Local meetups"
ASSIGNED = "Webinars"


class QueryMeter:
    """Counts the SQL statements run while it is installed, their time, and the slowest."""

    def __init__(self, keep: int = 3):
        self.count, self.seconds, self.keep, self.slowest = 0, 0.0, keep, []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            self.count += 1
            self.seconds += seconds
            if len(self.slowest) < self.keep or seconds > self.slowest[-1][0]:
                # Only the statement's start is kept: bulk inserts carry thousands of rows.
                entry = (seconds, sql if len(sql) < 20_000 else sql[:2000], params, many)
                self.slowest = sorted([*self.slowest, entry], key=lambda e: -e[0])[: self.keep]


@contextmanager
def metered():
    from django.db import connection

    meter = QueryMeter()
    with connection.execute_wrapper(meter):
        yield meter


def criteria(preferences: list[int], category: int) -> list[dict]:
    return [
        {"type": "preferences", "value": {"mode": "any", "preferences": preferences}},
        {"type": "category", "value": {"state": "subscribed", "category": category}},
        {"type": "channel", "value": {"channel": "email", "state": "enabled"}},
    ]


class Fixtures:
    """The bench segments, and the state to restore between runs."""

    def __init__(self):
        from django.utils import timezone

        from wagtail_preferences.models import Category, Preference

        self.started = timezone.now()
        self.preferences = dict(Preference.objects.values_list("name", "pk"))
        self.promotions = Category.objects.get(name="Promotions").pk
        self.on_join = Preference.objects.get(name=ON_JOIN)
        self.assigned = Preference.objects.get(name=ASSIGNED)
        self.segments = []
        self.delete_segments()
        self.holdings = {p.pk: self.snapshot(p) for p in (self.on_join, self.assigned)}

    def segment(self, name: str, slug: str, preferences: list[str]):
        """A bench segment of three criteria, created without refreshing it."""
        from wagtail_preferences.models import Segment

        # bulk_create sends no post_save, so no refresh is started on commit.
        (segment,) = Segment.objects.bulk_create(
            [
                Segment(
                    name=name,
                    slug=slug,
                    criteria=criteria(
                        [self.preferences[name] for name in preferences], self.promotions
                    ),
                )
            ]
        )
        self.segments.append(segment)
        return segment

    @staticmethod
    def snapshot(preference) -> dict[int, tuple]:
        from wagtail_preferences.models import ContactPreference

        rows = ContactPreference.objects.filter(preference=preference).values_list(
            "contact_id", "preference_id", "created_at", "source"
        )
        return {row[0]: row for row in rows}

    def restore(self, *, members_of=()) -> None:
        """Put the state back: no members in ``members_of``, no bench events, holdings as found."""
        from django.db import connection, transaction

        from wagtail_preferences.models import ConsentEvent, ContactPreference, SegmentMember

        qn = connection.ops.quote_name
        table = qn(ContactPreference._meta.db_table)
        references = [self.reference(segment) for segment in self.segments] or [""]
        with transaction.atomic(), connection.cursor() as cursor:
            for segment in members_of:
                cursor.execute(
                    f"DELETE FROM {qn(SegmentMember._meta.db_table)} WHERE segment_id = %s",
                    [segment.pk],
                )
            cursor.execute(
                f"DELETE FROM {qn(ConsentEvent._meta.db_table)} WHERE created_at >= %s "
                f"AND reference IN ({', '.join(['%s'] * len(references))})",
                [self.started, *references],
            )
            for preference_id, rows in self.holdings.items():
                cursor.execute(
                    f"DELETE FROM {table} WHERE preference_id = %s AND created_at >= %s",
                    [preference_id, self.started],
                )
                cursor.execute(
                    f"SELECT contact_id FROM {table} WHERE preference_id = %s", [preference_id]
                )
                present = {contact_id for (contact_id,) in cursor.fetchall()}
                missing = [row for contact_id, row in rows.items() if contact_id not in present]
                if missing:
                    cursor.executemany(
                        f"INSERT INTO {table} (contact_id, preference_id, created_at, source) "
                        "VALUES (%s, %s, %s, %s)",
                        missing,
                    )
        self.vacuum()

    @staticmethod
    def vacuum() -> None:
        """Dead rows gone and statistics as after autovacuum, so every run starts alike."""
        from django.db import connection

        from wagtail_preferences.models import ConsentEvent, ContactPreference, SegmentMember

        if connection.vendor != "postgresql":
            return
        with connection.cursor() as cursor:
            for model in (SegmentMember, ContactPreference, ConsentEvent):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    @staticmethod
    def reference(segment) -> str:
        from wagtail_preferences.services.segments import segment_origin

        return segment_origin(segment).reference

    def delete_segments(self) -> None:
        from django.db import connection

        from wagtail_preferences.models import Segment, SegmentMember

        ids = list(Segment.objects.filter(slug__startswith="bench-").values_list("pk", flat=True))
        if not ids:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(SegmentMember._meta.db_table)} "
                f"WHERE segment_id IN ({', '.join(['%s'] * len(ids))})",
                ids,
            )
        Segment.objects.filter(pk__in=ids).delete()

    def close(self) -> None:
        self.restore(members_of=self.segments)
        self.delete_segments()


def fresh(segment):
    from wagtail_preferences.models import Segment

    return Segment.objects.prefetch_related("preferences_on_join").get(pk=segment.pk)


def committed(change):
    """Run ``change()`` in a transaction; time it and the work it leaves for the commit.

    Returns (result, seconds of the change and its commit, seconds of the on-commit
    callbacks: the refresh that follows a change to many contacts, statistics), and the
    ``QueryMeter`` of the change.
    """
    from django.db import connection, transaction

    started = time.perf_counter()
    with metered() as meter, transaction.atomic():
        result = change()
        # Taken out so that they run after the commit as Django would run them, timed apart.
        callbacks, connection.run_on_commit = connection.run_on_commit, []
    middle = time.perf_counter()
    for _, callback, _ in callbacks:
        callback()
    return result, middle - started, time.perf_counter() - middle, meter


def measure(label: str, runs: int, step, *, targets: dict, prepare=None) -> list[dict]:
    """Run ``step()`` ``runs`` times (``prepare()`` untimed before each); report medians.

    ``step`` returns (rows, {part label: seconds}, meter); the first part is the measurement
    itself, the others what followed it; the meter (None: the whole step) has the statements
    of the first part. ``targets`` maps part labels to seconds.
    """
    parts: dict[str, list[float]] = {}
    queries, sql_seconds, slowest, rows = [], [], [], None
    for _ in range(runs):
        if prepare:
            prepare()
        with metered() as whole:
            rows, seconds, meter = step()
        meter = meter or whole
        for part, value in seconds.items():
            parts.setdefault(part, []).append(value)
        queries.append(meter.count)
        sql_seconds.append(meter.seconds)
        slowest = meter.slowest
    results = []
    for index, (part, timings) in enumerate(parts.items()):
        result = {
            "measurement": part if index == 0 else f"{label}: {part}",
            "first": index == 0,
            "runs": [round(t, 3) for t in timings],
            "median_s": round(statistics.median(timings), 3),
            "target_s": targets.get(part),
        }
        if index == 0:
            result.update(
                rows=rows,
                queries=queries[-1],
                sql_s=round(statistics.median(sql_seconds), 3),
                slowest_queries=[
                    {"s": round(s, 3), "sql": sql[:2000], "many": many}
                    for s, sql, _, many in slowest
                ],
                _slowest=slowest,
            )
        print_row(result, part)
        results.append(result)
    return results


HEADER = f"{'measurement':<60} {'rows':>9} {'median':>8} {'min':>8} {'max':>8} {'queries':>8}"


def print_row(result: dict, part: str) -> None:
    runs = result["runs"]
    first = result["first"]
    name = part if first else f"  then {part}"
    rows = f"{result['rows']:,}" if first and result["rows"] is not None else ""
    queries = result["queries"] if first else ""
    slow = result["target_s"] is not None and result["median_s"] > result["target_s"]
    print(
        f"{name:<60} {rows:>9} {result['median_s']:>7.2f}s {min(runs):>7.2f}s"
        f" {max(runs):>7.2f}s {queries:>8}" + ("  SLOW" if slow else ""),
        flush=True,
    )


def explain(entry) -> str:
    from django.db import connection

    _, sql, params, many = entry
    if many or not sql.lstrip().upper().startswith("SELECT"):
        return "(not a SELECT: not explained)"
    with connection.cursor() as cursor:
        prefix = "EXPLAIN (ANALYZE, BUFFERS)" if connection.vendor == "postgresql" else "EXPLAIN"
        cursor.execute(f"{prefix} {sql}", params)
        return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())


FOLLOW_UP = "on commit: follow-up refresh of every segment"


def run(n_contacts: int, *, runs: int, warmup: int, seed: int, regenerate: bool, show: bool):
    from bench.contact_list import prepare_data
    from wagtail_preferences import services
    from wagtail_preferences.models import ChangePath, Segment

    prepare_data(n_contacts, seed, regenerate)
    fixtures = Fixtures()
    others = Segment.objects.count()
    if others:
        print(f"Note: {others} other segments; the refreshes that follow changes include them.")
    broad = fixtures.segment(BROAD, "bench-broad", ["Newsletter", "Products"])
    results = []
    print(f"\n{n_contacts:,} contacts, median of {runs} runs")
    print(HEADER)
    print("-" * len(HEADER))
    try:
        fixtures.restore(members_of=[broad])
        segment = fresh(broad)
        for _ in range(warmup):
            segment.matching_contacts().count()

        def count():
            started = time.perf_counter()
            rows = segment.matching_contacts().count()
            return rows, {"count: 3 criteria": time.perf_counter() - started}, None

        results += measure(
            "count", max(runs, 5), count, targets={"count: 3 criteria": TARGETS["count"]}
        )

        for on_join in (False, True):
            broad.preferences_on_join.set([fixtures.on_join] if on_join else [])
            full = "full refresh from empty" + (f", adding {ON_JOIN} on joining" if on_join else "")

            def refresh_twice(full=full):
                (joined, _), seconds, follow_up, meter = committed(
                    lambda: services.refresh_segment(fresh(broad))
                )
                started = time.perf_counter()
                again = services.refresh_segment(fresh(broad))
                assert not any(again), "a second refresh found changes"
                noop = time.perf_counter() - started
                timings = {full: seconds, FOLLOW_UP: follow_up, "no-op refresh": noop}
                return len(joined), timings, meter

            results += measure(
                full,
                runs,
                refresh_twice,
                targets={full: TARGETS["refresh"], "no-op refresh": TARGETS["refresh"]},
                prepare=lambda: fixtures.restore(members_of=[broad]),
            )
        broad.preferences_on_join.set([])

        narrow = fixtures.segment(NARROW, "bench-narrow", ["Trainings"])
        fixtures.restore(members_of=[broad, narrow])
        services.refresh_segment(fresh(narrow))  # on commit, the broad one is refreshed too
        fixtures.restore()  # the bench events only; the members stay
        sizes = [services.members(s).count() for s in (broad, narrow)]
        print("(members: broad {:,}, narrow {:,})".format(*sizes))
        origin = services.Origin(path=ChangePath.SEGMENT, reference=fixtures.reference(narrow))

        def change(label: str, function):
            changed, seconds, follow_up, meter = committed(
                lambda: function(services.members(narrow), [fixtures.assigned], origin)
            )
            return len(changed), {label: seconds, FOLLOW_UP: follow_up}, meter

        def assigned():
            fixtures.restore()
            services.add_preferences(services.members(narrow), [fixtures.assigned], origin)

        for label, function, prepare in (
            (f"assign {ASSIGNED} to every member", services.add_preferences, fixtures.restore),
            (f"remove {ASSIGNED} from every member", services.remove_preferences, assigned),
        ):
            results += measure(
                label,
                runs,
                lambda label=label, function=function: change(label, function),
                targets={label: TARGETS["assign"]},
                prepare=prepare,
            )
        if show:
            for result in results:
                for entry in result.get("_slowest", [])[:2]:
                    print(f"\n{result['measurement']}: {entry[0]:.3f} s: {entry[1][:600]}\n")
                    print("    " + explain(entry).replace("\n", "\n    "))
    finally:
        fixtures.close()
    for result in results:
        result.pop("_slowest", None)
        result.pop("first")
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="defaults to $DATABASE_URL; {contacts} is replaced by the size",
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measurement")
    parser.add_argument("--warmup", type=int, default=2, help="untimed counts before timing")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true", help="refill even if filled")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or --database-url (PostgreSQL for meaningful figures)")

    from bench.contact_list import machine
    from bench.environment import setup

    setup(args.database_url.replace("{contacts}", str(args.contacts)))
    load_before = os.getloadavg()[0]
    results = run(
        args.contacts,
        runs=args.runs,
        warmup=args.warmup,
        seed=args.seed,
        regenerate=args.regenerate,
        show=args.explain,
    )
    about = machine()
    about["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(f"\n{about['cpu']}, {about['cores']} cores, {about['database']}, {about['date']}")
    print("1-minute load average before and after: {}, {}".format(*about["load_average"]))
    path = os.path.join(BENCH_DIR, "results", f"segments-{args.contacts}.json")
    with open(path, "w") as out:
        json.dump(
            {"contacts": args.contacts, "machine": about, "targets_s": TARGETS, "results": results},
            out,
            indent=2,
            default=str,
        )
    print(f"Written to {os.path.relpath(path, ROOT_DIR)}")


if __name__ == "__main__":
    main()
