"""Import runs for the tests: a file's text stored as a run's file, as the admin stores it."""

import io
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile

from wagtail_preferences.models import ImportRun, LegalBasis
from wagtail_preferences.transfers.imports.columns import default_mapping
from wagtail_preferences.transfers.spreadsheets import open_table


def csv_text(*rows) -> str:
    """CSV text of ``rows`` (each a comma-separated string or a list of cells)."""
    return "".join((row if isinstance(row, str) else ",".join(row)) + "\r\n" for row in rows)


def make_run(content, *, name="contacts.csv", mapping=None, **fields) -> ImportRun:
    """A run of ``content`` (text, bytes or a file's path), mapped by its header and ``mapping``.

    Confirmed with the legal basis consent, so that it can be applied; ``fields`` override.
    """
    if isinstance(content, Path):
        with content.open("rb") as file:
            header = open_table(file).header
        size = content.stat().st_size
    else:
        data = content.encode() if isinstance(content, str) else content
        header = open_table(io.BytesIO(data)).header
        size = len(data)
    fields = {
        "legal_basis": LegalBasis.CONSENT,
        "permission_confirmed": True,
        "created_by_label": "tests",
        **fields,
    }
    run = ImportRun(
        file_name=name,
        file_size=size,
        columns=header,
        mapping={**default_mapping(header), **(mapping or {})},
        **fields,
    )
    if isinstance(content, Path):
        with content.open("rb") as file:
            run.file.save(name, File(file), save=False)
    else:
        run.file.save(name, ContentFile(data), save=False)
    run.save()
    return run
