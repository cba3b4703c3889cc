"""The life of an import file: kept while its run may need it, deleted after.

An import file holds personal data. It is deleted when its run ends (done or failed), or,
with ``IMPORT_FILE_RETENTION``, that long after; ``purge_files`` deletes what is left.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from ...conf import get_setting
from ...models import ImportRun, ImportStatus

ENDED = (ImportStatus.DONE, ImportStatus.FAILED)
RUNNING = (ImportStatus.CHECKING, ImportStatus.IMPORTING)


def delete_file(run: ImportRun) -> None:
    """Delete the run's file; the run keeps its counts, errors and file name."""
    if run.file:
        run.file.delete(save=False)
    ImportRun.objects.filter(pk=run.pk).update(file="")


def release_file(run: ImportRun, *, ended: bool | None = None) -> None:
    """Delete the file of a run that ended, unless ``IMPORT_FILE_RETENTION`` keeps it.

    ``ended`` says whether the run is over whatever its status (the command line's runs,
    which nothing continues).
    """
    over = run.status in ENDED if ended is None else ended
    if over and not get_setting("IMPORT_FILE_RETENTION"):
        delete_file(run)


def purge_files(*, abandoned_after: timedelta, now=None) -> int:
    """Delete the files of runs that ended longer ago than ``IMPORT_FILE_RETENTION``, and
    of runs not running that were uploaded longer ago than ``abandoned_after`` and never
    imported; returns how many files were deleted."""
    now = now or timezone.now()
    ended = Q(status__in=ENDED, finished_at__lte=now - get_setting("IMPORT_FILE_RETENTION"))
    abandoned = ~Q(status__in=(*ENDED, *RUNNING)) & Q(created_at__lte=now - abandoned_after)
    runs = list(ImportRun.objects.exclude(file="").filter(ended | abandoned))
    for run in runs:
        delete_file(run)
    return len(runs)
