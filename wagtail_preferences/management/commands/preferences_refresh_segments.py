"""Refresh segment memberships: ``manage.py preferences_refresh_segments [--segment SLUG ...]``."""

import time

from django.core.management.base import BaseCommand, CommandError

from ... import services
from ...models import Segment
from ...services.segments import in_refresh_order
from ...tasks import refresh_segments


class Command(BaseCommand):
    help = (
        "Refresh segment memberships (all segments, or those named), in dependency order. "
        "Run it regularly when segments use dates (created within N days, paused today)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--segment",
            action="append",
            dest="slugs",
            metavar="SLUG",
            help="Only this segment (repeat for more).",
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help="Enqueue the refresh_segments task instead of refreshing here.",
        )

    def handle(self, *args, slugs=None, background=False, **options):
        segments = Segment.objects.prefetch_related("preferences_on_join")
        if slugs:
            segments = segments.filter(slug__in=slugs)
            unknown = set(slugs) - {segment.slug for segment in segments}
            if unknown:
                raise CommandError(f"No segment with the slug: {', '.join(sorted(unknown))}.")
        valid = []
        for segment in segments:
            if problems := segment.criteria_problems():
                self.stderr.write(
                    self.style.WARNING(f"Skipped “{segment.name}”: {' '.join(problems)}")
                )
            else:
                valid.append(segment)
        if background:
            refresh_segments.enqueue([segment.pk for segment in valid])
            self.stdout.write(f"Enqueued the refresh of {len(valid)} segments.")
            return
        joined = left = 0
        ordered = in_refresh_order(valid)
        for number, segment in enumerate(ordered, start=1):
            started = time.monotonic()
            segment_joined, segment_left = services.refresh_segment(segment)
            joined, left = joined + len(segment_joined), left + len(segment_left)
            self.stdout.write(
                f"[{number}/{len(ordered)}] {segment.name}: {len(segment_joined):,} joined, "
                f"{len(segment_left):,} left ({time.monotonic() - started:.1f} s)"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Refreshed {len(ordered)} segments: {joined:,} joined, {left:,} left."
            )
        )
