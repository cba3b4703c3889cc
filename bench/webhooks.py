"""Benchmark: provider webhooks: receiving 10,000 events, then processing them.

A campaign sent to ``--contacts`` generated contacts (addresses under
``webhooks.bench.example``, made and removed by this script), then ``--events`` webhook posts
as Postmark sends them, one event per request, through Django's test ``Client`` to anymail's
URL ``/anymail/postmark/tracking/``. The mix: mostly deliveries, some opens and clicks
(tracking on for the site and the campaign), 2% soft bounces, 1% hard bounces, 0.1%
complaints, 0.5% unsubscribes, and a share of posts sent twice (``--duplicates``, 5%), in a
shuffled order, so some bounces arrive before their delivery report.

Two phases, timed apart:

- **ingest**: every post with processing held back (the receiver only stores), timing each
  request: median, 95th and 99th percentile, total;
- **process**: ``feedback.rules.process()`` over everything stored, as a worker runs it:
  events per second.

Then the same posts once more with the immediate task backend (processing inline, after each
request's commit, as on a site without a worker) for the time per request in that set-up.

    export DATABASE_URL='postgres://USER:PASSWORD@127.0.0.1:5432/wp_bench_webhooks'
    .venv/bin/python bench/webhooks.py --events 10000

Results are also written to ``bench/results/webhooks-<events>.json``.
"""

import argparse
import datetime
import json
import os
import random
import resource
import statistics
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.environment import BENCH_DIR

DOMAIN = "webhooks.bench.example"
#: Kinds of event and their shares of the unique events.
MIX = {
    "delivered": 0.834,
    "open": 0.09,
    "click": 0.04,
    "soft_bounce": 0.02,
    "hard_bounce": 0.01,
    "unsubscribe": 0.005,
    "complaint": 0.001,
}
PROVIDER = "postmark"


def clear() -> None:
    from wagtail_preferences.models import Campaign, Contact, ProviderEvent, Suppression

    ProviderEvent.objects.all().delete()
    Suppression.objects.filter(address__endswith=DOMAIN).delete()
    Campaign.objects.filter(slug="bench-webhooks").delete()
    Contact.objects.filter(email__endswith=DOMAIN).delete()


def sent_campaign(n_contacts: int):
    """A campaign with a sent delivery to each of ``n_contacts`` new contacts."""
    from django.utils import timezone
    from wagtail.models import Site

    from bench.campaigns import published_message, sent_deliveries
    from wagtail_preferences.models import (
        Campaign,
        CampaignLink,
        Contact,
        ContactStatus,
        Delivery,
        PreferencePageSettings,
    )

    site = Site.objects.get(is_default_site=True)
    settings = PreferencePageSettings.for_site(site)
    settings.track_opens = settings.track_clicks = True
    settings.save()
    message = published_message("Bench webhooks")
    campaign = Campaign.objects.create(
        name="bench-webhooks",
        slug="bench-webhooks",
        message=message,
        track_opens=True,
        track_clicks=True,
    )
    CampaignLink.objects.create(campaign=campaign, number=1, url="https://example.com/o")
    Contact.objects.bulk_create(
        [
            Contact(email=f"reader{n}@{DOMAIN}", status=ContactStatus.CONFIRMED)
            for n in range(n_contacts)
        ],
        batch_size=2000,
    )
    readers = Contact.objects.filter(email__endswith=DOMAIN).values_list("pk", "email")
    sent_deliveries(campaign, readers, timezone.now())
    return list(Delivery.objects.filter(campaign=campaign).values_list("pk", "address"))


def posts(deliveries: list, n_events: int, duplicates: float, seed: int = 1) -> list:
    """The webhook posts: unique events in the ``MIX``, plus re-sent ones, shuffled."""
    from tests.feedback import payloads

    rng = random.Random(seed)
    unique = round(n_events * (1 - duplicates))
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=unique)
    made = []
    for number, kind in enumerate(kinds):
        pk, address = deliveries[number % len(deliveries)]
        if kind != "delivered":
            pk, address = rng.choice(deliveries)
        at = payloads.DEFAULT_AT + datetime.timedelta(seconds=number)
        made.append(payloads.event(PROVIDER, kind, address, pk, event_id=f"bench-{number}", at=at))
    made += rng.choices(made, k=n_events - unique)
    rng.shuffle(made)
    return made


def post_all(client, made: list) -> list[float]:
    times = []
    for post in made:
        started = time.perf_counter()
        response = post.send(client)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"{post.url} answered {response.status_code}: {response.content}")
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def report(results: list, name: str, value: float, unit: str) -> None:
    results.append({"measurement": name, "value": round(value, 3), "unit": unit})
    print(f"{name:<58} {value:>12,.2f} {unit}")


def report_requests(results: list, label: str, times: list[float]) -> None:
    ms = [t * 1000 for t in times]
    report(results, f"{label}: median per request", statistics.median(ms), "ms")
    report(results, f"{label}: 95th percentile per request", percentile(ms, 0.95), "ms")
    report(results, f"{label}: 99th percentile per request", percentile(ms, 0.99), "ms")
    report(results, f"{label}: total", sum(times), "s")
    report(results, f"{label}: requests per second", len(times) / sum(times), "req/s")


def run(n_contacts: int, n_events: int, duplicates: float) -> list:
    from unittest import mock

    from django.db import connection
    from django.test import Client

    from wagtail_preferences.feedback import events, rules
    from wagtail_preferences.models import (
        Engagement,
        ProviderEvent,
        Suppression,
    )

    clear()
    deliveries = sent_campaign(n_contacts)
    made = posts(deliveries, n_events, duplicates)
    client = Client()
    results = []
    print(f"{connection.vendor}, {len(deliveries):,} deliveries, {len(made):,} posts ({PROVIDER})")

    with mock.patch.object(events, "_enqueue", lambda pk: None):
        times = post_all(client, made)
    stored = ProviderEvent.objects.count()
    report_requests(results, "ingest (store only)", times)
    report(results, "events stored (duplicates refused)", stored, "events")

    started = time.perf_counter()
    processed = rules.process()
    seconds = time.perf_counter() - started
    report(results, "process: total", seconds, "s")
    report(results, "process: events per second", processed / seconds, "events/s")
    blocked = Suppression.objects.filter(address__endswith=DOMAIN).count()
    report(results, "addresses blocked", blocked, "addresses")
    report(results, "opens and clicks recorded", Engagement.objects.count(), "rows")

    clear()
    deliveries = sent_campaign(n_contacts)
    made = posts(deliveries, n_events, duplicates)
    times = post_all(client, made)
    report_requests(results, "ingest and process inline (immediate backend)", times)
    left = ProviderEvent.objects.filter(processed_at__isnull=True).count()
    report(results, "events left unprocessed", left, "events")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(results, "peak memory of the process", peak, "MB")
    clear()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=8000)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--duplicates", type=float, default=0.05)
    options = parser.parse_args()

    from bench.environment import setup

    setup()
    import warnings

    warnings.simplefilter("ignore")  # anymail's notices about unsupported providers
    results = run(options.contacts, options.events, options.duplicates)
    path = os.path.join(BENCH_DIR, "results", f"webhooks-{options.events}.json")
    with open(path, "w") as file:
        json.dump(results, file, indent=2)


if __name__ == "__main__":
    main()
