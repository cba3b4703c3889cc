"""Benchmark: rendering a page of dynamic content blocks, against the same page without them.

The requirement: **rendering a page with 50 dynamic blocks adds at most 3 queries and under
5 ms over the same page without the app's blocks**.

The script publishes three ``FormPage``s (the test app's page type) of 50 sections each, every
section the same rich text (two paragraphs, bold, a link):

- A, plain: 50 ``paragraph`` blocks, none of the app's blocks;
- B, dynamic: each section in a ``DynamicContentBlock`` (content: the section; fallback: another
  section, empty for a fifth of them), with a mix of conditions over the preferences (any, all,
  none), some with a category or a segment, and a few without any part;
- C, first match: 50 ``FirstMatchBlock``s of 3 variants each and a default.

It creates three segments with ``bulk_create`` and gives them members with ``bulk_create``
(40%, 15% and 2% of the generated contacts), so that the profile query reads tables of real
sizes: the generated data holds the preferences and the category opt-outs. Three visitors
request each page with Django's test client (``client.get``: the middleware, Wagtail's serve
view and its hooks; the time around that call is the server time):

1. unknown: no cookie;
2. recognised by the signed identity cookie (a confirmed generated contact);
3. signed in as a site user linked to a contact (``Contact.user``; another confirmed one).

For each visitor the pages are requested in turn, round after round, so that the load of the
machine falls alike on A, B and C: ``--warmup`` untimed rounds, then ``--requests`` timed ones;
after every tenth round, one more request per page runs under ``CaptureQueriesContext``
(reported: its queries and SQL time, not its time). The difference of B and C to A, in
queries and in median and p95 ms, is the figure the requirement is about. Every response is
checked (200, 50 sections on A, the same sections on every request of a case) and the
sections shown are counted; the ``Vary`` and ``Cache-Control`` headers go to the results. At the end
the pages, segments, members and the user go again (directly, as bench fixture data).

    .venv/bin/python bench/dynamic_content.py
    .venv/bin/python bench/dynamic_content.py --database-url \\
        postgres://wagtail_preferences:wagtail_preferences@127.0.0.1:5432/wp_bench_dynamic

A database that does not hold exactly ``--contacts`` generated contacts (100,000) is
(re)filled first. ``--profile CASE`` (``B:cookie``, ...) runs that case's timed requests
under pyinstrument (not a project dependency: ``pip install pyinstrument``); ``--queries
CASE`` prints the statements of one request of that case. Results are also written to
``bench/results/dynamic_content-<database>-<contacts>.json``.
"""

import argparse
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.contact_list import request_figures
from bench.environment import BENCH_DIR, ROOT_DIR

TARGET_QUERIES = 3
TARGET_MS = 5
SECTIONS = 50
CAPTURE_EVERY = 10
PAGE_SLUG = "bench-dynamic-"
SEGMENT_SLUG = "bench-dynamic-"
USERNAME = "bench-dynamic-visitor"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
# Segment slug -> share of the generated contacts in it.
SEGMENTS = {"engaged": 0.40, "customers": 0.15, "vip": 0.02}

PAGES = {"A": "plain sections", "B": "dynamic blocks", "C": "first-match, 3 variants"}
VISITORS = {
    "unknown": "unknown visitor (no cookie)",
    "cookie": "recognised by the identity cookie",
    "user": "signed-in user linked to a contact",
}
CASES = [f"{page}:{visitor}" for visitor in VISITORS for page in PAGES]
LITERAL = re.compile(r"'[^']*'|\b\d+\b")
SHOWN = re.compile(r"\[(content|fallback|variant \d|default) \d+\]")


def section(label: str, number: int) -> list:
    """A section stream of one paragraph block: two paragraphs of rich text."""
    return [
        {
            "type": "paragraph",
            "value": (
                f"<p>[{label} {number}] Our spring programme brings <b>new courses</b> and "
                "talks for everyone who wants to keep learning, with seats for members first "
                f'and a <a href="https://www.example.com/offers/{number}">full schedule</a> '
                "online.</p><p>Places are limited: sign up early, bring a colleague, and tell "
                "us what you would like to see next time.</p>"
            ),
        }
    ]


def conditions(preferences: dict, categories: dict, segments: dict) -> list[dict]:
    """Ten condition shapes, repeated over the sections."""
    from tests.dynamic_helpers import condition

    p, c, s = preferences, categories, segments
    return [
        condition("any", [p["Newsletter"], p["Products"]]),
        condition("all", [p["Newsletter"], p["Events"]]),
        condition("none", [p["Partner offers"]]),
        condition("any", [p["Trainings"]], category=c["Promotions"]),
        condition(category=c["Surveys"]),
        condition(segment=s["engaged"]),
        condition("any", [p["Webinars"], p["Newsletter"]], segment=s["customers"]),
        condition("none", [p["Newsletter"]], category=c["Product updates"]),
        condition(),
        condition("all", [p["Products"], p["Trainings"]], segment=s["vip"]),
    ]


def bodies(preferences: dict, categories: dict, segments: dict) -> dict[str, list]:
    """The raw StreamField data of pages A, B and C."""
    shapes = conditions(preferences, categories, segments)
    plain = [section("content", i)[0] for i in range(SECTIONS)]
    dynamic = [
        {
            "type": "dynamic",
            "value": {
                "condition": shapes[i % len(shapes)],
                "content": section("content", i),
                "fallback": [] if i % 5 == 4 else section("fallback", i),
            },
        }
        for i in range(SECTIONS)
    ]
    first_match = [
        {
            "type": "variants",
            "value": {
                "variants": [
                    {
                        "condition": shapes[(i + offset) % len(shapes)],
                        "content": section(f"variant {offset}", i),
                    }
                    for offset in range(3)
                ],
                "default": section("default", i),
            },
        }
        for i in range(SECTIONS)
    ]
    return {"A": plain, "B": dynamic, "C": first_match}


class Fixtures:
    """The bench's pages, segments and visitors, and deleting everything the bench wrote."""

    def __init__(self, seed: int):
        from bench.generate import _interests
        from wagtail_preferences.models import Category, Preference

        _interests()  # the generated data's preferences and categories, if not there yet
        self.close()  # what an interrupted run left
        self.rng = random.Random(seed)
        self.preferences = {p.name: p for p in Preference.objects.all()}
        self.categories = {c.name: c for c in Category.objects.all()}
        self.cookie_contact, self.user_contact = self.visitor_contacts()
        self.segments, self.members = self.create_segments()
        self.user = self.create_user()
        self.pages = {
            key: self.page(key, body)
            for key, body in bodies(self.preferences, self.categories, self.segments).items()
        }

    def visitor_contacts(self) -> list:
        """Two confirmed generated contacts holding Newsletter and Products, chosen by seed."""
        from bench.generate import GENERATED_DOMAIN_SUFFIX
        from wagtail_preferences.audience import compiler
        from wagtail_preferences.models import Contact, ContactStatus

        generated = Contact.objects.filter(
            email__endswith=GENERATED_DOMAIN_SUFFIX, status=ContactStatus.CONFIRMED
        )
        for name in ("Newsletter", "Products"):
            generated = generated.filter(compiler.holds_any([self.preferences[name]]))
        ids = list(generated.order_by("pk").values_list("pk", flat=True)[:5000])
        if len(ids) < 2:
            sys.exit("Too few generated contacts: run with --contacts (100,000 or more).")
        chosen = self.rng.sample(ids, 2)
        contacts = {contact.pk: contact for contact in Contact.objects.filter(pk__in=chosen)}
        return [contacts[pk] for pk in chosen]

    def create_segments(self) -> tuple[dict, dict[str, int]]:
        """The segments (without criteria: never refreshed) and their members, bulk-created.

        Both visitors are in ``engaged``, the cookie visitor in ``customers`` too; otherwise
        members are drawn at random from every contact.
        """
        from django.db import connection, transaction

        from wagtail_preferences.models import Contact, Segment, SegmentMember

        started = time.perf_counter()
        ids = list(Contact.objects.order_by().values_list("pk", flat=True))
        forced = {
            "engaged": {self.cookie_contact.pk, self.user_contact.pk},
            "customers": {self.cookie_contact.pk},
            "vip": set(),
        }
        segments, members = {}, {}
        with transaction.atomic():
            # bulk_create sends no post_save: nothing is refreshed.
            created = Segment.objects.bulk_create(
                [
                    Segment(name=f"Bench dynamic: {slug}", slug=SEGMENT_SLUG + slug, criteria=[])
                    for slug in SEGMENTS
                ]
            )
            for segment, (slug, share) in zip(created, SEGMENTS.items(), strict=True):
                chosen = set(self.rng.sample(ids, int(len(ids) * share))) | forced[slug]
                SegmentMember.objects.bulk_create(
                    (SegmentMember(segment=segment, contact_id=pk) for pk in sorted(chosen)),
                    batch_size=10_000,
                )
                segments[slug], members[slug] = segment, len(chosen)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(SegmentMember._meta.db_table)}")
        print(
            "Segment members: "
            + ", ".join(f"{slug} {count:,}" for slug, count in members.items())
            + f" ({time.perf_counter() - started:.1f}s)"
        )
        return segments, members

    def create_user(self):
        from django.contrib.auth import get_user_model

        from wagtail_preferences.models import Contact

        user = get_user_model().objects.create_user(username=USERNAME, email="visitor@bench.test")
        Contact.objects.filter(pk=self.user_contact.pk).update(user=user)
        return user

    def page(self, key: str, body: list):
        from tests.visitor_helpers import form_page

        label = PAGES[key]
        return form_page(
            body=body, title=f"Bench dynamic content {key} ({label})", slug=PAGE_SLUG + key.lower()
        )

    @staticmethod
    def close() -> None:
        """Delete the bench pages, segments, members and the user; unlink its contact."""
        from django.contrib.auth import get_user_model
        from django.contrib.sessions.models import Session
        from django.db import transaction
        from wagtail.models import Page

        from wagtail_preferences.models import Contact, Segment, SegmentMember

        with transaction.atomic():
            segments = list(Segment.objects.filter(slug__startswith=SEGMENT_SLUG))
            # Members first, so that deleting a segment has no one to log as leaving.
            SegmentMember.objects.filter(segment__in=segments).delete()
            for segment in segments:
                segment.delete()
            users = list(get_user_model().objects.filter(username=USERNAME))
            Contact.objects.filter(user__in=users).update(user=None)
            for session in Session.objects.all():
                if str(session.get_decoded().get("_auth_user_id")) in {str(u.pk) for u in users}:
                    session.delete()
            for user in users:
                user.delete()
            for page in Page.objects.filter(slug__startswith=PAGE_SLUG):
                page.delete()


@dataclass
class Case:
    page: str
    visitor: str
    timings: list = field(default_factory=list)
    cpu: list = field(default_factory=list)  # this process's CPU time: not SQL, not waiting
    queries: list = field(default_factory=list)
    sql_ms: list = field(default_factory=list)
    statements: list = field(default_factory=list)  # of the last captured request
    shown: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.page}:{self.visitor}"

    @property
    def label(self) -> str:
        return f"{self.page}. {PAGES[self.page]}, {self.visitor}"


def captures(requests: int) -> int:
    return max(1, requests // CAPTURE_EVERY)


def measure(client, url: str, cases: list[Case], *, warmup: int, requests: int, profile: str):
    """The visitor's requests of every page in turn; ``profile`` is a case key or ''."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    profiler = None
    if any(case.key == profile for case in cases):
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)

    def send(case: Case, *, timed: bool, capture: bool = False) -> None:
        if capture:
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url[case.page])
            case.queries.append(len(captured))
            case.statements = captured.captured_queries
            sql = sum(float(query["time"]) for query in captured.captured_queries)
            case.sql_ms.append(sql * 1000)
        else:
            profiling = timed and profiler is not None and case.key == profile
            if profiling:
                profiler.start()
            started, cpu = time.perf_counter(), time.process_time()
            response = client.get(url[case.page])
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            if profiling:
                profiler.stop()
            if timed:
                case.timings.append(elapsed * 1000)
                case.cpu.append(cpu * 1000)
        if response.status_code != 200:
            body = response.content.decode(errors="replace")[:2000]
            sys.exit(f"{case.label}: HTTP {response.status_code}\n{body}")
        shown = Counter(SHOWN.findall(response.content.decode()))
        total = sum(shown.values())
        if total > SECTIONS or (case.page == "A" and total != SECTIONS):
            sys.exit(f"{case.label}: {total} sections shown of {SECTIONS}")
        if case.shown and dict(shown) != case.shown:
            sys.exit(f"{case.label}: other sections shown than before: {dict(shown)}")
        case.shown = dict(shown)
        case.headers = {
            name: response.get(name, "") for name in ("Vary", "Cache-Control") if response.get(name)
        }

    def rounds(count: int, *, timed: bool) -> None:
        for number in range(1, count + 1):
            # Each round starts with another page: no page always follows the same one.
            turn = cases[number % len(cases) :] + cases[: number % len(cases)]
            for case in turn:
                send(case, timed=timed)
            if timed and number % every == 0 and len(cases[0].queries) < captures(requests):
                for case in turn:
                    send(case, timed=False, capture=True)

    every = requests // captures(requests)
    rounds(warmup, timed=False)
    rounds(requests, timed=True)
    if profiler is not None:
        name = "dynamic_content-profile-" + profile.replace(":", "-")
        path = os.path.join(BENCH_DIR, "results", name)
        with open(path + ".txt", "w") as out:
            out.write(profiler.output_text(unicode=True, show_all=False))
        with open(path + ".html", "w") as out:
            out.write(profiler.output_html())
        text = profiler.output_text(unicode=True, color=False)
        return text + f"\nWritten to {os.path.relpath(path, ROOT_DIR)}.txt and .html"
    return ""


def run(*, requests: int, warmup: int, seed: int, profile: str, queries: str) -> dict:
    from django.test import Client

    from tests.dynamic_helpers import visitor

    fixtures = Fixtures(seed)
    try:
        url = {key: page.url for key, page in fixtures.pages.items()}
        clients = {
            "unknown": Client(HTTP_USER_AGENT=USER_AGENT),
            "cookie": visitor(Client(HTTP_USER_AGENT=USER_AGENT), fixtures.cookie_contact),
            "user": Client(HTTP_USER_AGENT=USER_AGENT),
        }
        clients["user"].force_login(fixtures.user)
        header = (
            f"{'page, visitor':<40} {'median':>7} {'p95':>7} {'mean':>7} {'cpu':>6}"
            f" {'queries':>8} {'sql ms':>7}  shown"
        )
        print(f"\n{requests} timed requests per page and visitor after {warmup} warm-up; ms")
        print(header)
        print("-" * len(header))
        results, differences, profiled, extra_statements = [], [], "", {}
        everything = {}
        for visitor_key in VISITORS:
            cases = [Case(page, visitor_key) for page in PAGES]
            profiled += measure(
                clients[visitor_key],
                url,
                cases,
                warmup=warmup,
                requests=requests,
                profile=profile,
            )
            rows = {case.page: summary(case) for case in cases}
            for case in cases:
                print_row(rows[case.page])
                everything[case.key] = case
            results.extend(rows.values())
            for page in ("B", "C"):
                difference = compare(rows["A"], rows[page])
                differences.append(difference)
                print_difference(difference)
                extra = shapes(everything[f"{page}:{visitor_key}"].statements)
                extra -= shapes(everything[f"A:{visitor_key}"].statements)
                extra_statements[f"{page}:{visitor_key}"] = dict(extra.most_common())
        print("\nStatements of B and C that A does not make (one request each):")
        for key, statements in extra_statements.items():
            print(f"  {key}: {sum(statements.values())}")
            for sql, count in statements.items():
                print(f"    {count:>3} x {sql[:200]}")
        if queries:
            print(f"\nStatements of one request of {queries}, ms:")
            for query in everything[queries].statements:
                print(f"{float(query['time']) * 1000:6.2f}  {query['sql'][:300]}")
        if profiled:
            print(f"\nProfile of {profile}:\n{profiled}")
        return {
            "results": results,
            "differences": differences,
            "extra_statements": extra_statements,
            "segment_members": fixtures.members,
        }
    finally:
        Fixtures.close()


def shapes(statements: list[dict]) -> Counter:
    """The statements by their SQL with the literals taken out (page ids, paths, times)."""
    return Counter(LITERAL.sub("?", query["sql"]) for query in statements)


def summary(case: Case) -> dict:
    return {
        "case": case.key,
        "page": case.page,
        "visitor": case.visitor,
        "label": case.label,
        **request_figures(case.timings, case.cpu, case.queries, case.sql_ms, digits=2),
        "shown": case.shown,
        "headers": case.headers,
    }


def compare(plain: dict, other: dict) -> dict:
    extra_ms = other["median_ms"] - plain["median_ms"]
    extra_queries = other["queries"] - plain["queries"]
    return {
        "case": f"{other['page']} - A, {other['visitor']}",
        "queries": extra_queries,
        "median_ms": round(extra_ms, 2),
        "p95_ms": round(other["p95_ms"] - plain["p95_ms"], 2),
        "cpu_median_ms": round(other["cpu_median_ms"] - plain["cpu_median_ms"], 2),
        "met": extra_queries <= TARGET_QUERIES and extra_ms < TARGET_MS,
    }


def print_row(result: dict) -> None:
    low, high = result["queries_range"]
    queries = str(low) if low == high else f"{low}-{high}"
    shown = ", ".join(f"{kind} {n}" for kind, n in sorted(result["shown"].items()))
    print(
        f"{result['page']}. {PAGES[result['page']] + ', ' + result['visitor']:<37}"
        f" {result['median_ms']:>7.2f} {result['p95_ms']:>7.2f} {result['mean_ms']:>7.2f}"
        f" {result['cpu_median_ms']:>6.2f} {queries:>8} {result['sql_ms']:>7.2f}  {shown}",
        flush=True,
    )


def print_difference(difference: dict) -> None:
    missed = "" if difference["met"] else "  MISSED"
    print(
        f"   {difference['case']:<37} {difference['median_ms']:>+7.2f}"
        f" {difference['p95_ms']:>+7.2f} {'':>7} {difference['cpu_median_ms']:>+6.2f}"
        f" {difference['queries']:>+8}{missed}",
        flush=True,
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--contacts",
        type=int,
        default=100_000,
        help="generated contacts the database must hold (filled first if not)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="defaults to $DATABASE_URL, else the SQLite file bench/results/bench.sqlite3",
    )
    parser.add_argument("--requests", type=int, default=300, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests per case")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true", help="refill even if filled")
    parser.add_argument("--profile", choices=CASES, default="", help="profile this case")
    parser.add_argument("--queries", choices=CASES, default="", help="print this case's SQL")
    args = parser.parse_args(argv)

    from bench.contact_list import prepare_data, report_on_database
    from bench.environment import setup
    from bench.form_submission import count_contacts

    setup(args.database_url)
    prepare_data(args.contacts, args.seed, args.regenerate)
    generated, contacts = count_contacts()
    load_before = os.getloadavg()[0]
    outcome = run(
        requests=args.requests,
        warmup=args.warmup,
        seed=args.seed,
        profile=args.profile,
        queries=args.queries,
    )
    missed = [d["case"] for d in outcome["differences"] if not d["met"]]
    report_on_database(
        "dynamic_content",
        contacts,
        generated,
        load_before,
        outcome,
        f"Target (at most {TARGET_QUERIES} more queries and under {TARGET_MS} ms more than A): "
        + (f"missed by {'; '.join(missed)}" if missed else "met by every page and visitor"),
    )


if __name__ == "__main__":
    main()
