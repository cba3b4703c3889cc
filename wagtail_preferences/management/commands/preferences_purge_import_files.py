"""Delete import files no longer needed: ``manage.py preferences_purge_import_files``."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from ...transfers.imports.files import purge_files


class Command(BaseCommand):
    help = (
        "Delete the files of import runs that ended longer ago than IMPORT_FILE_RETENTION, "
        "and of runs uploaded but never imported. Run it daily, from cron or a scheduler."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--abandoned-after",
            type=int,
            default=7,
            metavar="DAYS",
            help="Delete the file of a run uploaded this many days ago that was never imported "
            "(default: 7).",
        )

    def handle(self, *args, **options):
        deleted = purge_files(abandoned_after=timedelta(days=options["abandoned_after"]))
        message = ngettext(
            "Deleted %(count)s import file.", "Deleted %(count)s import files.", deleted
        )
        self.stdout.write(message % {"count": deleted})
