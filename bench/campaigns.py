"""Benchmark: campaigns: counting, the skip breakdown and planning at scale; sending.

``plan`` (on a database of generated contacts, ``bench.generate``): a campaign to every
contact, of a message in the Promotions category, times

- the eligibility count: who may be emailed now (``eligibility.eligible``), one query;
- the skip breakdown the admin shows before sending (``planning.breakdown``), one query per
  channel, for an email-only message and for one with an SMS version (two channels);
- planning: freezing the audience into deliveries with each reason (``planning.plan``),
  for the email-only message.

``send``: a campaign of a message with dynamic sections (a Dynamic content and a First
matching variant block) sent end to end by two ``db_worker`` processes to a local
``aiosmtpd`` server in another process: from the start to the last delivery recorded, with
the peak memory of each worker. Beside it, in the same run, the naive path on a sample of the
same recipients: the body rendered in full for each recipient and one ``send_mail`` each.

    export DATABASE_URL='postgres://USER:PASSWORD@127.0.0.1:5432/wp_bench_{contacts}'
    .venv/bin/python bench/campaigns.py plan --contacts 1000000
    .venv/bin/python bench/campaigns.py send --contacts 135000

Results are also written to ``bench/results/campaigns-<part>-<contacts>.json``.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.environment import BENCH_DIR, ROOT_DIR

FAST_START = ["--no-startup-delay"]
TARGETS = {"count": 1, "plan": 60, "rate": 1000, "worker_mb": 200}
EVERYONE = [{"type": "created", "value": {"mode": "within", "days": 100_000, "date": None}}]


def campaign_of(message, slug: str):
    from wagtail_preferences.models import Campaign

    Campaign.objects.filter(slug=slug).delete()
    return Campaign.objects.create(
        name=slug, slug=slug, message=message, criteria=EVERYONE, match="all"
    )


def published_message(name: str, **fields):
    from wagtail_preferences.models import Message

    Message.objects.filter(name=name).delete()
    message = Message.objects.create(name=name, subject="Hello {{ first_name }}", **fields)
    message.save_revision().publish()
    message.refresh_from_db()
    return message


def sent_deliveries(campaign, contacts, sent_at) -> None:
    """One sent email of ``campaign`` to each of ``contacts`` (pairs of id and address)."""
    from wagtail_preferences.models import Delivery, DeliveryStatus

    Delivery.objects.bulk_create(
        (
            Delivery(
                campaign=campaign,
                contact_id=pk,
                channel="email",
                status=DeliveryStatus.SENT,
                address=address,
                sent_at=sent_at,
            )
            for pk, address in contacts
        ),
        batch_size=5000,
    )


def clear_bench_campaigns() -> None:
    from wagtail_preferences.models import Campaign, Message

    Campaign.objects.filter(slug__startswith="bench-").delete()
    Message.objects.filter(name__startswith="Bench ").delete()


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def report(results: list, name: str, seconds: float, rows=None, target=None, unit="s"):
    results.append({"measurement": name, "value": round(seconds, 3), "rows": rows, "unit": unit})
    slow = target is not None and (seconds > target if unit == "s" else seconds < target)
    rows_text = f"{rows:>12,}" if rows is not None else " " * 12
    print(f"{name:<62} {rows_text} {seconds:>10.2f} {unit}" + ("  SLOW" if slow else ""))


def run_plan(n_contacts: int) -> list:
    from django.db import connection

    from wagtail_preferences.messaging import eligibility, planning
    from wagtail_preferences.models import Category, Contact, Delivery

    promotions = Category.objects.get(name="Promotions")
    email_only = published_message("Bench email", category=promotions, body=_body())
    both = published_message(
        "Bench email and SMS", category=promotions, body=_body(), sms_text="Hello!"
    )
    results = []
    campaign = campaign_of(email_only, "bench-plan")
    sending = planning.sending_of(campaign)
    audience = planning.audience(campaign)
    eligible = Contact.objects.filter(audience & eligibility.eligible("email", sending))
    eligible.count()  # warm up
    count, seconds = timed(eligible.count)
    report(results, "eligibility count (email)", seconds, count, TARGETS["count"])
    breakdown, seconds = timed(lambda: planning.breakdown(campaign))
    report(results, "skip breakdown, email only", seconds, breakdown.audience, TARGETS["plan"])
    print(
        f"    receiving {breakdown.receiving:,}; by reason: {dict(breakdown.channels[0].skipped)}"
    )
    two = campaign_of(both, "bench-plan-2")
    breakdown, seconds = timed(lambda: planning.breakdown(two))
    report(results, "skip breakdown, email and SMS", seconds, breakdown.audience)
    made, seconds = timed(lambda: planning.plan(campaign, email_only))
    report(results, "plan (INSERT … SELECT, each row's reason)", seconds, made, TARGETS["plan"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE wagtail_preferences_delivery")
    eligible.count()
    count, seconds = timed(eligible.count)
    report(
        results,
        "eligibility count with 1 campaign's deliveries",
        seconds,
        count,
        TARGETS["count"],
    )
    Delivery.objects.filter(campaign__slug__startswith="bench-").delete()
    return results


def _body() -> list:
    from wagtail_preferences.models import Preference

    products = Preference.objects.get(name="Products")
    events = Preference.objects.get(name="Events")
    trainings = Preference.objects.get(name="Trainings")

    def condition(preference):
        return {"rule": "any", "preferences": [str(preference.pk)], "category": "", "segment": ""}

    def section(heading, text):
        return [
            {"type": "heading", "value": heading},
            {"type": "paragraph", "value": f"<p>{text}</p>"},
        ]

    return [
        {"type": "heading", "value": "Hello {{ first_name }}"},
        {"type": "paragraph", "value": "<p>Our news of the month, picked for you.</p>"},
        {
            "type": "dynamic",
            "value": {
                "condition": condition(products),
                "content": section("Version 5 is out", "A shared inbox and dark mode."),
                "fallback": section("Curious?", "Tick Products to hear about launches."),
            },
        },
        {
            "type": "variants",
            "value": {
                "variants": [
                    {"condition": condition(events), "content": section("Customer day", "")},
                    {"condition": condition(trainings), "content": section("Webinars", "")},
                ],
                "default": section("Meet us", "Trainings and events all year round."),
            },
        },
        {"type": "button", "value": {"text": "Read more", "url": "https://example.com/news"}},
    ]


SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller

class Count:
    received = 0
    async def handle_DATA(self, server, session, envelope):
        Count.received += len(envelope.rcpt_tos)
        return "250 OK"

controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
print(Count.received, flush=True)
"""


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_send(n_contacts: int, naive_sample: int, workers: int, connections: int) -> list:
    from django.test.utils import override_settings

    from tests.channels.smtp_server import free_port
    from wagtail_preferences.messaging import planning
    from wagtail_preferences.messaging.tasks import send_campaign
    from wagtail_preferences.models import Delivery, DeliveryStatus

    results = []
    message = published_message("Bench dynamic", body=_body())
    campaign = campaign_of(message, "bench-send")
    port = free_port()
    sink = subprocess.Popen(  # noqa: S603 (our own script, run by this Python)
        [sys.executable, "-c", SINK, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout.readline().strip() == "ready"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.worker_settings",
        "WP_BENCH_SMTP_PORT": str(port),
        "WP_BENCH_SEND_CONNECTIONS": str(connections),
    }
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "django",
                "db_worker",
                "--interval",
                "0.1",
                "--no-startup-delay",
            ],
            cwd=ROOT_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    workers_backend = override_settings(
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    )
    workers_backend.enable()
    try:
        planned, plan_seconds = timed(lambda: planning.begin(campaign))
        queued = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.QUEUED).count()
        report(results, "plan", plan_seconds, planned)
        started = time.perf_counter()
        for _ in range(workers):
            send_campaign.enqueue(campaign.pk)
        # Done when nothing is due any more (deliveries held by a pause wait for its end).
        due = Delivery.objects.filter(
            campaign=campaign,
            status__in=[DeliveryStatus.QUEUED, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING],
        )
        while due.exists():
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        sent = Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.SENT).count()
        report(
            results,
            f"send end to end, {workers} workers x {connections} connections",
            seconds,
            sent,
        )
        report(results, "  rate", sent / seconds, sent, TARGETS["rate"], unit="msg/s")
        for n, proc in enumerate(procs):
            report(results, f"  worker {n + 1} peak memory", peak_mb(proc.pid), unit="MB")
            report(results, f"  worker {n + 1} CPU time", cpu_seconds(proc.pid))
        report(results, "  SMTP server CPU time", cpu_seconds(sink.pid))
        assert sent == queued, f"{queued - sent} queued deliveries were not sent"
    finally:
        workers_backend.disable()
        for proc in procs:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    sample = list(
        Delivery.objects.filter(campaign=campaign, status=DeliveryStatus.SENT).select_related(
            "contact"
        )[:naive_sample]
    )
    seconds = naive(message, [d.contact for d in sample], port)
    report(results, f"naive: render whole + send_mail each ({len(sample)})", seconds, len(sample))
    report(results, "  naive rate", len(sample) / seconds, unit="msg/s")
    sink.stdin.close()
    print(f"    the SMTP server received {sink.stdout.read().strip()} messages")
    return results


def naive(message, contacts, port) -> float:
    """Each recipient's email rendered in full (a renderer of its own: no variant shared)
    and sent with ``send_mail`` on a connection of its own."""
    from django.core.mail import send_mail
    from django.test.utils import override_settings

    from wagtail_preferences.messaging.rendering import MessageRenderer

    started = time.perf_counter()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
    ):
        for contact in contacts:
            email = MessageRenderer(message).render_one("email", contact)
            send_mail(email.subject, email.text, None, [contact.email], html_message=email.html)
    return time.perf_counter() - started


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=["plan", "send"])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--connections", type=int, default=2, help="SMTP connections per worker (threads)"
    )
    parser.add_argument("--naive-sample", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    if not args.database_url or not args.database_url.startswith("postgres"):
        parser.error("set DATABASE_URL or --database-url to a PostgreSQL database")

    from bench.contact_list import machine, prepare_data
    from bench.environment import setup

    setup(args.database_url.replace("{contacts}", str(args.contacts)))
    prepare_data(args.contacts, args.seed, args.regenerate)
    clear_bench_campaigns()
    print(f"\n{args.contacts:,} contacts")
    try:
        if args.part == "plan":
            results = run_plan(args.contacts)
        else:
            results = run_send(args.contacts, args.naive_sample, args.workers, args.connections)
    finally:
        clear_bench_campaigns()
    about = machine()
    print(f"\n{about['cpu']}, {about['cores']} cores, {about['database']}, {about['date']}")
    path = os.path.join(BENCH_DIR, "results", f"campaigns-{args.part}-{args.contacts}.json")
    with open(path, "w") as out:
        json.dump({"machine": about, "targets": TARGETS, "results": results}, out, indent=2)
    print(f"Written to {os.path.relpath(path, ROOT_DIR)}")


if __name__ == "__main__":
    main()
