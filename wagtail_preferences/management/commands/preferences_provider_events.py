"""Apply provider events left unprocessed: ``manage.py preferences_provider_events``."""

from django.core.management.base import BaseCommand

from ...feedback import rules
from ...feedback.tasks import process_provider_events


class Command(BaseCommand):
    help = (
        "Apply the email provider's events that are stored but not processed yet (a worker "
        "that was down, a task that could not be queued). Safe beside running workers."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--background",
            action="store_true",
            help="Enqueue the process_provider_events task instead of processing here.",
        )

    def handle(self, *args, background=False, **options):
        if background:
            process_provider_events.enqueue()
            self.stdout.write("Enqueued the processing of stored provider events.")
            return
        done = rules.process()
        self.stdout.write(f"Applied {done} provider events.")
