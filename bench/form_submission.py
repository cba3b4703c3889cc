"""Benchmark: visitors sending a preference form (``POST /preferences/forms/submit/``).

The requirement: a form submission stays under 50 ms of server time at the median with the
immediate task backend, so the confirmation email of a double opt-in is built and sent inside
the request.

The script publishes two pages with a preference form (first and last name, 4 preferences,
2 categories; one form with double opt-in, one without) and creates four segments, filled
once, so that the live refresh after every change to a contact runs as on a real site. It
then posts with Django's test client, which runs the whole middleware stack and the view;
server time is the time around ``client.post``. Scenarios, a fresh address each submission:

1. a new address, double opt-in: a pending submission, the confirmation email;
2. a new address, no double opt-in: applied at once (contact, preferences, category choices,
   consent events, live segment refresh);
3. a known address, double opt-in: a pending submission, the email (a confirmed generated
   contact; without generated contacts, one that scenario 2 created);
4. the confirmation POST (the button behind the emailed link) of a submission of 1;
5. a validation error (an invalid address): the page is rendered again with the errors.

Each scenario has ``--warmup`` untimed requests, then ``--requests`` timed ones; after every
tenth timed request, one more runs under ``CaptureQueriesContext`` (reported: its queries and
SQL time, not its time). Besides median, p95, mean and max, the table gives the median CPU
time of this process (no database server, no waiting for it). Rate limits are raised and
``MIN_FILL_SECONDS`` is 0 (a load test); email goes to Django's locmem backend. At the end,
the pages, segments, contacts, submissions and consent events the bench made are deleted
again (directly, as bench fixture data; no service layer).

    .venv/bin/python bench/form_submission.py --contacts 100000
    DATABASE_URL=postgres://wagtail_preferences:wagtail_preferences@127.0.0.1:5432/wp_bench_forms \\
        .venv/bin/python bench/form_submission.py --contacts 100000

Without ``--contacts`` the database is used as it is; with it, a database that does not hold
exactly that many generated contacts is (re)filled first. ``--profile N`` runs scenario N's
timed requests under pyinstrument (not a project dependency: ``pip install pyinstrument``);
``--queries N`` prints the statements of one request of scenario N.
Results are also written to ``bench/results/form_submission-<database>-<contacts>.json``.
"""

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass, field

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.contact_list import request_figures
from bench.environment import BENCH_DIR, ROOT_DIR

TARGET_MS = 50
CAPTURE_EVERY = 10
EMAIL_DOMAIN = "form-bench.test"  # RFC 2606: never delivered; not a generated address
PAGE_SLUG = "bench-form-submission-"
SEGMENT_SLUG = "bench-forms-"
OFFERED_PREFERENCES = ["Newsletter", "Products", "Trainings", "Events"]
OFFERED_CATEGORIES = ["Promotions", "Surveys"]
FIRST_NAMES = ["Emma", "Lucas", "Noor", "Liam", "Sofia", "Jules", "Hanna", "Mateo"]
LAST_NAMES = ["Peeters", "Walker", "Dubois", "Schmidt", "García", "Rossi", "Janssens"]
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"

SCENARIOS = {
    1: "new address, double opt-in (pending, email)",
    2: "new address, no double opt-in (applied)",
    3: "known address, double opt-in (pending, email)",
    4: "confirmation POST of a pending submission",
    5: "validation error (page shown again)",
}


def bench_settings() -> dict:
    """The settings the bench runs with, on top of ``bench.settings``."""
    from django.conf import settings

    from wagtail_preferences.conf import RATE_LIMIT_KINDS

    own = dict(getattr(settings, "WAGTAIL_PREFERENCES", {}))
    own["MIN_FILL_SECONDS"] = 0
    own["RATE_LIMITS"] = dict.fromkeys(RATE_LIMIT_KINDS, "1000000/hour")
    return {
        "WAGTAIL_PREFERENCES": own,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


def criteria(*items) -> list[dict]:
    return [{"type": kind, "value": value} for kind, value in items]


class Fixtures:
    """The bench's pages and segments, and deleting everything the bench wrote."""

    def __init__(self):
        from bench.generate import _interests
        from wagtail_preferences.models import Category, Preference

        _interests()  # the generated data's preferences and categories, if not there yet
        self.preferences = {p.name: p for p in Preference.objects.all()}
        self.categories = {c.name: c for c in Category.objects.all()}
        self.close()  # what an interrupted run left
        self.pages = {double_opt_in: self.page(double_opt_in) for double_opt_in in (True, False)}
        self.segments = self.create_segments()

    def page(self, double_opt_in: bool):
        from tests.visitor_helpers import form_page, form_value

        kind = "double" if double_opt_in else "direct"
        value = form_value(
            preferences=[self.preferences[name] for name in OFFERED_PREFERENCES],
            categories=[self.categories[name] for name in OFFERED_CATEGORIES],
            double_opt_in=double_opt_in,
            heading=f"Bench: sign up ({kind})",
        )
        return form_page(value, title=f"Bench form submission ({kind})", slug=PAGE_SLUG + kind)

    def create_segments(self) -> list:
        """Four segments (one built on another), created unrefreshed, then filled at once."""
        from django.db import transaction

        from wagtail_preferences import services
        from wagtail_preferences.models import Segment

        p, c = self.preferences, self.categories

        def segment(slug, name, *items):
            (created,) = Segment.objects.bulk_create(
                [Segment(name=name, slug=SEGMENT_SLUG + slug, criteria=criteria(*items))]
            )
            return created

        email_enabled = ("channel", {"channel": "email", "state": "enabled"})
        promotions = ("category", {"state": "subscribed", "category": c["Promotions"].pk})
        broad = segment(
            "broad",
            "Bench forms: Newsletter or Products, Promotions, email",
            ("preferences", {"mode": "any", "preferences": [p["Newsletter"].pk, p["Products"].pk]}),
            promotions,
            email_enabled,
        )
        segments = [
            broad,
            segment(
                "narrow",
                "Bench forms: Trainings, Promotions, email",
                ("preferences", {"mode": "any", "preferences": [p["Trainings"].pk]}),
                promotions,
                email_enabled,
            ),
            segment(
                "recent",
                "Bench forms: confirmed, sent a form in the last 30 days",
                ("status", {"status": "confirmed"}),
                ("form_submitted", {"pages": [], "days": 30}),
            ),
            segment(
                "nested",
                "Bench forms: in the broad segment, holds Events",
                ("segment", {"mode": "member", "segment": broad.pk}),
                ("preferences", {"mode": "any", "preferences": [p["Events"].pk]}),
            ),
        ]
        started = time.perf_counter()
        # One transaction: one follow-up refresh on commit, not one per segment.
        with transaction.atomic():
            ordered = services.segments.in_refresh_order(
                Segment.objects.filter(pk__in=[s.pk for s in segments]).prefetch_related(
                    "preferences_on_join"
                )
            )
            for each in ordered:
                services.refresh_segment(each)
        print(f"Segments filled in {time.perf_counter() - started:.1f}s.")
        return segments

    def members(self) -> dict[str, int]:
        from wagtail_preferences import services

        return {s.name: services.members(s).count() for s in self.segments}

    @staticmethod
    def close() -> None:
        """Delete the bench pages, segments, contacts, submissions and their consent events."""
        from django.db import transaction
        from wagtail.models import Page

        from wagtail_preferences.models import (
            ConsentEvent,
            Contact,
            FormSubmission,
            Segment,
            SegmentMember,
        )
        from wagtail_preferences.services.segments import segment_origin

        with transaction.atomic():
            segments = list(Segment.objects.filter(slug__startswith=SEGMENT_SLUG))
            # Members first, so that deleting a segment has no one to log as leaving.
            SegmentMember.objects.filter(segment__in=segments).delete()
            references = [segment_origin(segment).reference for segment in segments]
            ConsentEvent.objects.filter(reference__in=references).delete()
            for segment in segments:
                segment.delete()
            pages = list(Page.objects.filter(slug__startswith=PAGE_SLUG))
            FormSubmission.objects.filter(page__in=pages).delete()
            Contact.objects.filter(email__endswith="@" + EMAIL_DOMAIN).delete()
            for page in pages:
                page.delete()


@dataclass
class Scenario:
    number: int
    make: object  # index -> (path, data)
    status: int
    emails: int = 0  # emails each request sends
    after: object = None  # (response, new emails) -> None
    timings: list = field(default_factory=list)
    cpu: list = field(default_factory=list)  # this process's CPU time: not SQL, not waiting
    queries: list = field(default_factory=list)
    sql_ms: list = field(default_factory=list)
    statements: list = field(default_factory=list)  # of the last captured request
    profile: str = ""

    @property
    def label(self) -> str:
        return SCENARIOS[self.number]


def captures(requests: int) -> int:
    return max(1, requests // CAPTURE_EVERY)


def measure(client, scenario: Scenario, *, warmup: int, requests: int, profile: bool) -> None:
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    index = 0

    def send(*, timed: bool, capture: bool = False) -> None:
        nonlocal index
        path, data = scenario.make(index)
        index += 1
        client.cookies.clear()  # every submission is another visitor
        sent = len(mail.outbox)
        if capture:
            with CaptureQueriesContext(connection) as captured:
                response = client.post(path, data)
            scenario.queries.append(len(captured))
            scenario.statements = captured.captured_queries
            sql = sum(float(query["time"]) for query in captured.captured_queries)
            scenario.sql_ms.append(sql * 1000)
        else:
            started, cpu = time.perf_counter(), time.process_time()
            response = client.post(path, data)
            if timed:
                scenario.timings.append((time.perf_counter() - started) * 1000)
                scenario.cpu.append((time.process_time() - cpu) * 1000)
        if response.status_code != scenario.status:
            body = response.content.decode(errors="replace")[:2000]
            sys.exit(f"Scenario {scenario.number}: HTTP {response.status_code}\n{body}")
        new = mail.outbox[sent:]
        if len(new) != scenario.emails:
            sys.exit(f"Scenario {scenario.number}: {len(new)} emails, not {scenario.emails}")
        if scenario.after:
            scenario.after(response, new)

    for _ in range(warmup):
        send(timed=False)
    every = requests // captures(requests)
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    for number in range(1, requests + 1):
        send(timed=True)
        if number % every == 0 and len(scenario.queries) < captures(requests):
            if profiler:
                profiler.stop()
            send(timed=False, capture=True)
            if profiler:
                profiler.start()
    if profiler:
        profiler.stop()
        path = os.path.join(BENCH_DIR, "results", f"form_submission-profile-{scenario.number}")
        with open(path + ".txt", "w") as out:
            out.write(profiler.output_text(unicode=True, show_all=False))
        with open(path + ".html", "w") as out:
            out.write(profiler.output_html())
        scenario.profile = profiler.output_text(unicode=True, color=False)
        scenario.profile += f"\nWritten to {os.path.relpath(path, ROOT_DIR)}.txt and .html"
    mail.outbox.clear()


def known_addresses(count: int, seed: int) -> list[str]:
    """Addresses of ``count`` confirmed generated contacts, spread over the table."""
    from bench.generate import GENERATED_DOMAIN_SUFFIX
    from wagtail_preferences.models import Contact, ContactStatus

    generated = Contact.objects.filter(
        email__endswith=GENERATED_DOMAIN_SUFFIX, status=ContactStatus.CONFIRMED
    )
    ids = list(generated.order_by().values_list("pk", flat=True))
    if len(ids) < count:
        return []
    chosen = random.Random(seed).sample(ids, count)
    emails = dict(Contact.objects.filter(pk__in=chosen).values_list("pk", "email"))
    return [emails[pk] for pk in chosen]


def run(*, requests: int, warmup: int, seed: int, profile: int | None, queries: int | None) -> dict:
    from django.core import mail
    from django.test import Client
    from django.test.utils import override_settings
    from django_tasks import task_backends
    from django_tasks.backends.immediate import ImmediateBackend

    from tests.visitor_helpers import SUBMIT_URL, VisitorForm, confirmation_path
    from wagtail_preferences.models import Contact, ContactStatus, FormSubmission

    backend = task_backends["default"]
    if not isinstance(backend, ImmediateBackend):
        sys.exit(f"The task backend is {type(backend).__name__}, not the immediate one.")
    overrides = bench_settings()
    with override_settings(**overrides):
        mail.outbox = []
        fixtures = Fixtures()
        try:
            client = Client(HTTP_USER_AGENT=USER_AGENT)
            forms = {key: VisitorForm.of(client, page) for key, page in fixtures.pages.items()}
            rng = random.Random(seed)
            run_tag = f"{int(time.time()):x}"
            preferences = [fixtures.preferences[name] for name in OFFERED_PREFERENCES]
            categories = [fixtures.categories[name] for name in OFFERED_CATEGORIES]
            total = warmup + requests + captures(requests)

            def filled(form, email):
                return form.data(
                    email=email,
                    preferences=rng.sample(preferences, rng.randint(1, len(preferences))),
                    categories=rng.sample(categories, rng.randint(0, len(categories))),
                    first_name=rng.choice(FIRST_NAMES),
                    last_name=rng.choice(LAST_NAMES),
                )

            def new_address(scenario: int, index: int) -> str:
                return f"visitor.{run_tag}.{scenario}.{index}@{EMAIL_DOMAIN}"

            confirmations, direct_addresses = [], []
            known = known_addresses(total, seed)
            known_from = "generated contacts"
            if not known:
                known, known_from = direct_addresses, "contacts of scenario 2"

            def direct(i):
                direct_addresses.append(new_address(2, i))
                return SUBMIT_URL, filled(forms[False], direct_addresses[-1])

            def shows_error(response, new):
                if b"Enter a valid email address" not in response.content:
                    sys.exit("Scenario 5: the page shows no error.")

            scenarios = [
                Scenario(
                    1,
                    lambda i: (SUBMIT_URL, filled(forms[True], new_address(1, i))),
                    303,
                    emails=1,
                    after=lambda response, new: confirmations.append(confirmation_path(new[0])),
                ),
                Scenario(2, direct, 303),
                Scenario(3, lambda i: (SUBMIT_URL, filled(forms[True], known[i])), 303, emails=1),
                Scenario(4, lambda i: (confirmations[i], {}), 302),
                Scenario(
                    5,
                    lambda i: (SUBMIT_URL, filled(forms[True], f"visitor {i} at {EMAIL_DOMAIN}")),
                    200,
                    after=shows_error,
                ),
            ]
            header = (
                f"{'scenario':<48} {'median':>7} {'p95':>7} {'mean':>7} {'max':>7}"
                f" {'cpu':>6} {'queries':>8} {'sql ms':>7}"
            )
            print(f"\n{requests} timed requests per scenario after {warmup} warm-up; ms")
            print(header)
            print("-" * len(header))
            results = []
            for scenario in scenarios:
                measure(
                    client,
                    scenario,
                    warmup=warmup,
                    requests=requests,
                    profile=profile == scenario.number,
                )
                result = summary(scenario)
                results.append(result)
                print_row(result)
            for scenario in scenarios:
                if scenario.number == queries:
                    print(f"\nStatements of one request of scenario {queries}, ms:")
                    for query in scenario.statements:
                        print(f"{float(query['time']) * 1000:6.2f}  {query['sql'][:300]}")
                if scenario.profile:
                    print(f"\nProfile of scenario {scenario.number}:\n{scenario.profile}")
            bench_pages = list(fixtures.pages.values())
            statuses = dict.fromkeys(["pending", "applied", "confirmed"], 0)
            for status in FormSubmission.objects.filter(page__in=bench_pages).values_list(
                "status", flat=True
            ):
                statuses[status] = statuses.get(status, 0) + 1
            confirmed = Contact.objects.filter(
                email__endswith="@" + EMAIL_DOMAIN, status=ContactStatus.CONFIRMED
            ).count()
            print(f"\nSubmissions: {statuses}; confirmed bench contacts: {confirmed}")
            print(f"Known addresses: {known_from}")
            members = fixtures.members()
            print("Segment members after the run: " + ", ".join(f"{v:,}" for v in members.values()))
            return {
                "results": results,
                "submissions": statuses,
                "known_addresses": known_from,
                "segment_members": members,
                "settings": overrides,
            }
        finally:
            Fixtures.close()


def summary(scenario: Scenario) -> dict:
    return {
        "scenario": scenario.number,
        "label": scenario.label,
        **request_figures(scenario.timings, scenario.cpu, scenario.queries, scenario.sql_ms),
        "target_ms": TARGET_MS,
    }


def print_row(result: dict) -> None:
    low, high = result["queries_range"]
    queries = str(low) if low == high else f"{low}-{high}"
    slow = "  SLOW" if result["median_ms"] > TARGET_MS else ""
    print(
        f"{result['scenario']}. {result['label']:<45} {result['median_ms']:>7.1f}"
        f" {result['p95_ms']:>7.1f} {result['mean_ms']:>7.1f} {result['max_ms']:>7.1f}"
        f" {result['cpu_median_ms']:>6.1f} {queries:>8} {result['sql_ms']:>7.1f}{slow}",
        flush=True,
    )


def count_contacts() -> tuple[int, int]:
    from django.db import connection

    from bench.generate import generated_contacts_sql
    from wagtail_preferences.models import Contact

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({generated_contacts_sql(connection)}) generated")
        generated = cursor.fetchone()[0]
    return generated, Contact.objects.count()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--contacts", type=int, help="fill the database with this many generated contacts first"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="defaults to $DATABASE_URL, else the SQLite file bench/results/bench.sqlite3",
    )
    parser.add_argument("--requests", type=int, default=300, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests per scenario")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true", help="refill even if filled")
    parser.add_argument(
        "--profile", type=int, choices=sorted(SCENARIOS), help="profile this scenario"
    )
    parser.add_argument(
        "--queries", type=int, choices=sorted(SCENARIOS), help="print this scenario's SQL"
    )
    args = parser.parse_args(argv)

    from bench.contact_list import prepare_data, report_on_database
    from bench.environment import setup

    setup(args.database_url)
    if args.contacts is not None:
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
    slow = [r["scenario"] for r in outcome["results"] if r["median_ms"] > TARGET_MS]
    report_on_database(
        "form_submission",
        contacts,
        generated,
        load_before,
        outcome,
        f"Target (median under {TARGET_MS} ms): "
        + (f"missed by scenario {', '.join(map(str, slow))}" if slow else "met by every scenario"),
    )


if __name__ == "__main__":
    main()
