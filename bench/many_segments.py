"""Benchmark: fifty segments on a large database, after a change to 100,000 contacts.

On a database of generated contacts (``bench.generate``), the script creates fifty segments
of a realistic mix (below), fills their members straight from their criteria (no consent
events), then gives ``--changed`` contacts (100,000) who lack it the preference Beta
programme with ``services.add_preferences`` and times, apart:

- the change itself, up to its commit;
- what follows on commit: more than ``LIVE_REFRESH_LIMIT`` contacts changed, so whole
  segments are refreshed (inline with the bench settings' immediate task backend), with
  every segment that follows them.

The mix: one segment per preference (holds it, confirmed); opted out of each category;
subscribed to each category with email enabled and confirmed; statuses; locales; channels
(email or SMS disabled, SMS enabled, email paused today); created within or before given
dates; email domains, names and custom data; holds all / none of pairs of preferences;
segments whose criteria name other segments (member, not a member); and segments that give
a preference on joining (Beta programme holders get Local meetups; Trainings holders get
Research panel), which segments over those preferences read.

At the end the bench segments, the holdings and the consent events written since the start
go (the database is the bench's own). One run; the result is also written to
``bench/results/many-segments-<contacts>.json``.

    DATABASE_URL='postgres://postgres:postgres@127.0.0.1:5432/wp_bench_{contacts}' \\
        .venv/bin/python bench/many_segments.py --contacts 1000000
"""

import argparse
import json
import os
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.environment import BENCH_DIR, ROOT_DIR

CHANGED_PREFERENCE = "Beta programme"
TARGET = 60


def preferences(mode, *ids):
    return {"type": "preferences", "value": {"mode": mode, "preferences": list(ids)}}


def category(state, pk):
    return {"type": "category", "value": {"state": state, "category": pk}}


def channel(key, state):
    return {"type": "channel", "value": {"channel": key, "state": state}}


def status(value):
    return {"type": "status", "value": {"status": value}}


def simple(kind, **value):
    return {"type": kind, "value": value}


def segment_ref(mode, pk):
    return {"type": "segment", "value": {"mode": mode, "segment": pk}}


def mix(p: dict, c: dict) -> list[tuple[str, list, str, list]]:
    """(name, criteria, match, preferences given on joining) of the fifty segments, in
    creation order: a segment named by another comes first; ``@name`` stands for the id of
    the bench segment ``name``."""
    confirmed = status("confirmed")
    segments = []
    givers = {"Beta programme": "Local meetups", "Trainings": "Research panel"}
    for name in p:  # 10
        segments.append((f"holds {name}", [preferences("any", p[name]), confirmed], "all", []))
    for name, given in givers.items():  # 2
        segments.append(
            (f"gives {given}", [preferences("any", p[name]), confirmed], "all", [p[given]])
        )
    for name in c:  # 10
        segments.append((f"opted out of {name}", [category("opted_out", c[name])], "all", []))
        segments.append(
            (
                f"receives {name} by email",
                [category("subscribed", c[name]), channel("email", "enabled"), confirmed],
                "all",
                [],
            )
        )
    for value in ("confirmed", "pending", "unsubscribed"):  # 3
        segments.append((f"status {value}", [status(value)], "all", []))
    for code in ("en", "nl", "fr", "de"):  # 4
        segments.append((f"locale {code}", [simple("locale", locale=code)], "all", []))
    for key, state in (("email", "disabled"), ("sms", "disabled"), ("sms", "enabled")):  # 3
        segments.append((f"{key} {state}", [channel(key, state), confirmed], "all", []))
    segments.append(("email paused", [channel("email", "paused")], "all", []))  # 1
    for days in (30, 365):  # 2
        created = simple("created", mode="within", days=days, date=None)
        segments.append((f"new in {days} days", [created, confirmed], "all", []))
    before = simple("created", mode="before", date="2024-01-01", days=None)
    segments.append(("created before 2024", [before], "all", []))  # 1
    segments.append(("example.com", [simple("email_domain", domain="example.com")], "all", []))
    segments.append(("named Anna", [simple("name", text="Anna")], "all", []))
    segments.append(
        (
            "companies",
            [simple("custom_data", key="company", operator="contains", value="a")],
            "all",
            [],
        )
    )  # 3
    pairs = (("Newsletter", "Products"), ("Trainings", "Events"), ("Webinars", "Job openings"))
    for first, second in pairs:  # 6
        segments.append(
            (f"{first} and {second}", [preferences("all", p[first], p[second])], "all", [])
        )
        segments.append(
            (
                f"neither {first} nor {second}",
                [preferences("none", p[first], p[second]), confirmed],
                "all",
                [],
            )
        )
    # Segments over others (5)
    segments.append(
        (
            "Beta, promotions",
            [
                segment_ref("member", "@holds Beta programme"),
                category("subscribed", c["Promotions"]),
            ],
            "all",
            [],
        )
    )
    segments.append(
        (
            "meetups, not Beta",
            [
                segment_ref("member", "@holds Local meetups"),
                segment_ref("not_member", "@holds Beta programme"),
            ],
            "all",
            [],
        )
    )
    segments.append(
        (
            "trainings or events",
            [segment_ref("member", "@holds Trainings"), segment_ref("member", "@holds Events")],
            "any",
            [],
        )
    )
    segments.append(
        (
            "newsletter by email",
            [
                segment_ref("member", "@holds Newsletter"),
                segment_ref("member", "@receives Promotions by email"),
            ],
            "all",
            [],
        )
    )
    segments.append(
        (
            "research, not new",
            [
                segment_ref("member", "@holds Research panel"),
                segment_ref("not_member", "@new in 30 days"),
            ],
            "all",
            [],
        )
    )
    return segments


def create_segments(p, c) -> list:
    from wagtail_preferences.models import Segment

    by_name = {}
    for name, criteria, match, on_join in mix(p, c):
        for criterion in criteria:
            value = criterion["value"]
            if isinstance(value.get("segment"), str):
                value["segment"] = by_name[value["segment"][1:]].pk
        # bulk_create sends no post_save, so nothing is refreshed on commit.
        (segment,) = Segment.objects.bulk_create(
            [
                Segment(
                    name=f"Bench: {name}",
                    slug=f"bench-{len(by_name)}",
                    criteria=criteria,
                    match=match,
                )
            ]
        )
        segment.preferences_on_join.set(on_join)
        by_name[name] = segment
    return list(by_name.values())


def fill(segments) -> None:
    """Members as the criteria say, and the preferences given on joining, with no events."""
    from django.db.models import DateTimeField, F, Value
    from django.utils import timezone

    from wagtail_preferences.audience import compiler
    from wagtail_preferences.db.insert_select import insert_from
    from wagtail_preferences.models import Contact, ContactPreference, Segment, SegmentMember
    from wagtail_preferences.services.segments import in_refresh_order, target_condition

    now = Value(timezone.now(), DateTimeField())
    for segment in in_refresh_order(Segment.objects.filter(pk__in=[s.pk for s in segments])):
        matching = Contact.objects.filter(target_condition(segment))
        insert_from(
            SegmentMember,
            matching,
            {"segment_id": Value(segment.pk), "contact_id": F("pk"), "joined_at": now},
        )
        analyze(SegmentMember)  # so that segments read after this one are planned well
        for preference in segment.preferences_on_join.all():
            insert_from(
                ContactPreference,
                Contact.objects.filter(compiler.member_of(segment)).exclude(
                    compiler.holds_any([preference.pk])
                ),
                {
                    "contact_id": F("pk"),
                    "preference_id": Value(preference.pk),
                    "source": Value("segment"),
                    "created_at": now,
                },
            )
    Segment.objects.filter(pk__in=[s.pk for s in segments]).update(refreshed_at=timezone.now())


def analyze(model) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def clean_up(started) -> None:
    from django.db import connection

    from wagtail_preferences.models import ConsentEvent, ContactPreference, Segment, SegmentMember

    qn = connection.ops.quote_name
    ids = list(Segment.objects.filter(slug__startswith="bench-").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        if ids:
            cursor.execute(
                f"DELETE FROM {qn(SegmentMember._meta.db_table)} WHERE segment_id = ANY(%s)", [ids]
            )
        if started is not None:
            for model in (ContactPreference, ConsentEvent):
                cursor.execute(
                    f"DELETE FROM {qn(model._meta.db_table)} WHERE created_at >= %s", [started]
                )
    Segment.objects.filter(pk__in=ids).delete()
    with connection.cursor() as cursor:
        for model in (SegmentMember, ContactPreference, ConsentEvent):
            cursor.execute(f"VACUUM ANALYZE {qn(model._meta.db_table)}")


def run(n_contacts: int, changed: int, seed: int) -> dict:
    from django.utils import timezone

    from bench.contact_list import prepare_data
    from bench.segments import committed
    from wagtail_preferences import services
    from wagtail_preferences.audience import compiler
    from wagtail_preferences.models import Category, ChangePath, Contact, Preference, Segment

    prepare_data(n_contacts, seed, False)
    clean_up(None)
    p = dict(Preference.objects.values_list("name", "pk"))
    c = dict(Category.objects.values_list("name", "pk"))
    started = timezone.now()
    try:
        segments = create_segments(p, c)
        assert Segment.objects.count() == 50, "the bench segments must be the only ones"
        began = time.perf_counter()
        fill(segments)
        clean_up_stats()
        filled_at = timezone.now()
        print(f"{len(segments)} segments filled in {time.perf_counter() - began:.1f} s")
        contacts = Contact.objects.exclude(compiler.holds_any([p[CHANGED_PREFERENCE]])).order_by(
            "pk"
        )[:changed]
        origin = services.Origin(path=ChangePath.ADMIN, reference="bench: many segments")
        added, seconds, follow_up, meter = committed(
            lambda: services.add_preferences(contacts, [p[CHANGED_PREFERENCE]], origin)
        )
        refreshed = Segment.objects.filter(
            pk__in=[s.pk for s in segments], refreshed_at__gt=filled_at
        )
        result = {
            "changed": len(added),
            "change_s": round(seconds, 2),
            "follow_up_s": round(follow_up, 2),
            "target_s": TARGET,
            "segments_refreshed": refreshed.count(),
        }
        print(
            f"give {CHANGED_PREFERENCE} to {len(added):,} contacts: {seconds:.1f} s; "
            f"then on commit, refresh of the segments: {follow_up:.1f} s "
            f"(target {TARGET} s; {result['segments_refreshed']} segments refreshed)"
        )
        return result
    finally:
        clean_up(started)


def clean_up_stats() -> None:
    from django.db import connection

    from wagtail_preferences.models import ContactPreference, SegmentMember

    with connection.cursor() as cursor:
        for model in (SegmentMember, ContactPreference):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or --database-url (PostgreSQL)")

    from bench.contact_list import machine
    from bench.environment import setup

    setup(args.database_url.replace("{contacts}", str(args.contacts)))
    load_before = os.getloadavg()[0]
    result = run(args.contacts, args.changed, args.seed)
    about = machine()
    about["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(f"{about['cpu']}, {about['cores']} cores, {about['database']}, {about['date']}")
    print("1-minute load average before and after: {}, {}".format(*about["load_average"]))
    path = os.path.join(BENCH_DIR, "results", f"many-segments-{args.contacts}.json")
    with open(path, "w") as out:
        json.dump({"contacts": args.contacts, "machine": about, "result": result}, out, indent=2)
    print(f"Written to {os.path.relpath(path, ROOT_DIR)}")


if __name__ == "__main__":
    main()
