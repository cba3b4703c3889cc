"""Runs an import and reads back what it counted, refused and changed."""

from tests.import_helpers import make_run
from wagtail_preferences.models import ImportRun, ImportStatus
from wagtail_preferences.transfers.imports.runner import ImportRunner


def imported(content, **fields) -> ImportRun:
    run = ImportRunner(make_run(content, **fields)).apply()
    assert run.status in (ImportStatus.DONE, ImportStatus.FAILED)
    return run


def counts(run) -> dict[str, int]:
    run.refresh_from_db()
    return {
        "new": run.new_rows,
        "updated": run.updated_rows,
        "unchanged": run.unchanged_rows,
        "skipped": run.skipped_rows,
        "failed": run.failed_rows,
    }


def held(contact) -> set[str]:
    return set(contact.preferences.values_list("name", flat=True))
