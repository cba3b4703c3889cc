"""Send and follow campaigns: ``manage.py preferences_campaign SUBCOMMAND [SLUG] [options]``."""

import threading
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tasks.backends.immediate import ImmediateBackend

from ...channels.registry import get_channel
from ...clock import local_time
from ...exceptions import IllegalTransition, InvalidChange
from ...messaging import campaigns, planning, reports
from ...messaging.tasks import send_campaign
from ...models import Campaign, DeliveryStatus, SkipReason
from ..progress import Progress

#: Seconds between two redraws of the progress bar.
REDRAW_EVERY = 0.5
SLUG_ACTIONS = {
    "unschedule": "Turn a scheduled campaign back into a draft.",
    "pause": "Stop sending for now; batches being sent finish.",
    "resume": "Go on sending a paused campaign.",
    "cancel": "Stop for good; messages not yet sent are cancelled.",
    "status": "Show the deliveries by status and reason, and the sending rate.",
}


class Command(BaseCommand):
    help = (
        "Send, schedule, pause, resume or cancel a campaign (named by its slug), show its "
        "progress, or do the periodic work of sending (tick, for cron)."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        send = commands.add_parser("send", help="Send the campaign now.")
        send.add_argument("slug")
        send.add_argument(
            "--dry-run",
            action="store_true",
            help="Show who would receive it, and why the others would not, changing nothing.",
        )
        send.add_argument(
            "--progress",
            action="store_true",
            help="Show a progress bar on stderr even when it is not a terminal.",
        )
        schedule = commands.add_parser("schedule", help="Send the campaign at a time.")
        schedule.add_argument("slug")
        schedule.add_argument(
            "--at",
            required=True,
            help='Such as "2026-12-24 09:00", in the site\'s time zone, or ISO 8601 with an '
            'offset ("2026-12-24T09:00+01:00").',
        )
        for name, text in SLUG_ACTIONS.items():
            commands.add_parser(name, help=text).add_argument("slug")
        commands.add_parser(
            "tick",
            help="Start due campaigns, take back expired leases and send what has come due. "
            "Run it every minute where the task backend cannot wait for a time.",
        )

    def handle(self, *args, subcommand, **options):
        if subcommand == "tick":
            return self.tick()
        campaign = self.find(options["slug"])
        try:
            getattr(self, subcommand)(campaign, **options)
        except (IllegalTransition, InvalidChange) as error:
            raise CommandError(str(error)) from None

    @staticmethod
    def find(slug: str) -> Campaign:
        try:
            return Campaign.objects.select_related("message").get(slug=slug)
        except Campaign.DoesNotExist:
            raise CommandError(f"No campaign with the slug “{slug}”.") from None

    def send(self, campaign, *, dry_run, progress, **options):
        if dry_run:
            return self.dry_run(campaign)
        shown = progress or self.stderr.isatty()
        bar = Progress(self.stderr, shown=shown, passes=["Sending"], unit="messages")
        # With the immediate backend the senders run inside start(): the bar follows them.
        follow = shown and isinstance(send_campaign.get_backend(), ImmediateBackend)
        with FollowedSending(campaign, bar if follow else None):
            planned = campaigns.start(campaign)
        self.stdout.write(
            self.style.SUCCESS(
                f"Sending “{campaign.name}” started: {planned:,} deliveries planned."
            )
        )
        self.status(campaign)

    def dry_run(self, campaign) -> None:
        breakdown = planning.breakdown(campaign)
        self.stdout.write(
            f"“{campaign.name}” would go to {breakdown.receiving:,} of an audience of "
            f"{breakdown.audience:,} contacts ({breakdown.not_receiving:,} would not receive it). "
            "Nothing was changed."
        )
        for row in breakdown.channels:
            self.stdout.write(f"{get_channel(row.channel).label}: {row.sending:,} now")
            for heading, counts in (("wait", row.waiting), ("not sent", row.skipped)):
                for reason, n in counts.most_common():
                    self.stdout.write(f"  {heading}: {SkipReason(reason).label}: {n:,}")

    def schedule(self, campaign, *, at, **options):
        when = self.moment(at)
        campaigns.schedule(campaign, when)
        self.stdout.write(
            self.style.SUCCESS(f"“{campaign.name}” will be sent on {local_time(when)}.")
        )

    @staticmethod
    def moment(text: str):
        value = parse_datetime(text.strip())
        if value is None:
            raise CommandError(
                f"--at takes a date and time such as “2026-12-24 09:00” (in the site's time "
                f"zone, {timezone.get_current_timezone_name()}) or ISO 8601 with an offset, "
                f"not “{text}”."
            )
        return timezone.make_aware(value) if timezone.is_naive(value) else value

    def unschedule(self, campaign, **options):
        campaigns.unschedule(campaign)
        self.stdout.write(f"“{campaign.name}” is a draft again.")

    def pause(self, campaign, **options):
        campaigns.pause(campaign)
        self.stdout.write(f"“{campaign.name}” is paused.")

    def resume(self, campaign, **options):
        campaigns.resume(campaign)
        self.stdout.write(f"Sending “{campaign.name}” resumed.")

    def cancel(self, campaign, **options):
        cancelled = campaigns.cancel(campaign)
        self.stdout.write(f"“{campaign.name}” is cancelled: {cancelled:,} deliveries cancelled.")

    def status(self, campaign, **options):
        campaign.refresh_from_db()
        counts = reports.delivery_counts(campaign)
        self.stdout.write(f"{campaign.name} ({campaign.slug}): {campaign.get_status_display()}")
        for label, at in (
            ("Scheduled for", campaign.scheduled_at),
            ("Started", campaign.started_at),
            ("Ended", campaign.finished_at),
        ):
            if at:
                self.stdout.write(f"{label}: {local_time(at)}")
        by_reason = {
            DeliveryStatus.SKIPPED: counts.skipped,
            DeliveryStatus.DEFERRED: counts.waiting,
        }
        for status, label in DeliveryStatus.choices:
            if counts.statuses[status]:
                self.stdout.write(f"  {label}: {counts.statuses[status]:,}")
                for reason, n in by_reason.get(status, Counter()).most_common():
                    self.stdout.write(f"    {SkipReason(reason).label}: {n:,}")
        self.stdout.write(
            f"Sent in the last minute: {counts.sent_last_minute:,} "
            f"({counts.per_second:.1f} per second)."
        )

    def tick(self):
        done = campaigns.tick()
        self.stdout.write(
            f"Started {len(done['started'])} scheduled campaigns; {done['requeued']:,} "
            f"deliveries queued again, {done['unknown']:,} marked unknown; "
            f"{len(done['sending'])} campaigns sending."
        )


class FollowedSending:
    """Draws ``bar`` (a ``Progress``, or ``None`` for no bar) from a thread of its own while
    the block sends the campaign: how many of its deliveries are done, of all."""

    def __init__(self, campaign: Campaign, bar: Progress | None):
        self.campaign, self.bar, self.drawn = campaign, bar, 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.follow, daemon=True)

    def __enter__(self):
        if self.bar:
            self.thread.start()
        return self

    def __exit__(self, *exc_info):
        if not self.bar:
            return
        self.stopped.set()
        self.thread.join()
        self.draw()
        self.bar.end()

    def follow(self) -> None:
        try:
            while not self.stopped.wait(REDRAW_EVERY):
                self.draw()
        finally:
            connection.close()

    def draw(self) -> None:
        try:
            counts = reports.delivery_counts(self.campaign)
        except DatabaseError:  # a writer holds the database (SQLite): draw next time
            return
        done = counts.total - counts.to_do
        if done > self.drawn:
            self.drawn = done
            self.bar(done, counts.total)
