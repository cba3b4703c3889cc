"""Contacts as rows of the import format, for CSV and XLSX files, and the log of exports.

``export_rows`` merges four streams read a chunk at a time, each ordered by contact id: the
contacts, and for each contact the ids of its preferences, opted-out categories and manual
segments, aggregated in SQL as one text. A small cache keyed by that text turns it into
names, as most contacts share a few combinations. On PostgreSQL this reads each table once
in index order, which is about twice as fast for large exports as looking the ids up per
contact, and the contacts of a filtered export are still found through the indexes.
"""

import json
import math
from collections.abc import Iterator

from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .aggregates import JoinedText
from .conf import get_setting
from .imports.columns import COLUMNS
from .models import (
    Category,
    CategoryChoice,
    ContactExport,
    ContactPreference,
    Preference,
    Segment,
    SegmentInclusion,
)
from .spreadsheets import csv_lines, join_names, xlsx_bytes

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK_SIZE = 5000
BLOCK_SIZE = 64 * 1024
DETAILS = ("email", "first_name", "last_name", "phone", "locale", "status")
END = (math.inf, None)


def ids_by_contact(rows, field: str, contacts) -> Iterator[tuple[int, str]]:
    """(contact id, its ``field`` ids as text) for each of ``contacts`` in ``rows``, by id."""
    if contacts.query.has_filters():
        rows = rows.filter(contact__in=contacts.values("pk"))
    return (
        rows.order_by("contact")
        .values("contact")
        .annotate(ids=JoinedText(field))
        .values_list("contact", "ids")
        .iterator(chunk_size=CHUNK_SIZE)
    )


class NameCells(dict):
    """The cell for a text of ids: their names, joined in the model's order, cached.

    An id not known yet (created since the export began) loads the names again.
    """

    MAX_SIZE = 10_000

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.load()

    def load(self) -> None:
        rows = self.model.objects.values_list("pk", "name")
        self.known = {str(pk): (rank, name) for rank, (pk, name) in enumerate(rows)}

    def __missing__(self, ids: str) -> str:
        keys = ids.split(",")
        if not self.known.keys() >= set(keys):
            self.load()
        names = sorted(self.known[key] for key in keys if key in self.known)
        if len(self) > self.MAX_SIZE:
            self.clear()
        self[ids] = cell = join_names(name for _rank, name in names)
        return cell


def data_cell(text: str | None) -> str:
    """The custom data as compact JSON, or an empty cell when there is none."""
    value = json.loads(text) if text else None
    if not value:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def export_rows(contacts) -> Iterator[list[str]]:
    """The rows of ``contacts`` (a queryset) in ``COLUMNS`` order, by id, as text cells.

    Seven queries whatever the number of contacts: the names of preferences, categories
    and segments, then the four streams.
    """
    preferences, categories, segments = (
        NameCells(Preference),
        NameCells(Category),
        NameCells(Segment),
    )
    rows = (
        contacts.order_by("pk")
        .prefetch_related(None)
        .values_list("pk", *DETAILS, Cast("data", TextField()))
        .iterator(chunk_size=CHUNK_SIZE)
    )
    held = ids_by_contact(ContactPreference.objects.all(), "preference_id", contacts)
    opted_out = ids_by_contact(
        CategoryChoice.objects.filter(subscribed=False), "category_id", contacts
    )
    added = ids_by_contact(SegmentInclusion.objects.all(), "segment_id", contacts)
    (held_pk, held_ids), (opted_pk, opted_ids), (added_pk, added_ids) = (
        next(held, END),
        next(opted_out, END),
        next(added, END),
    )
    for pk, email, first_name, last_name, phone, locale, status, data in rows:
        # Catch each stream up with this contact (inline: this loop is the hot path).
        while held_pk < pk:
            held_pk, held_ids = next(held, END)
        while opted_pk < pk:
            opted_pk, opted_ids = next(opted_out, END)
        while added_pk < pk:
            added_pk, added_ids = next(added, END)
        yield [
            email,
            first_name,
            last_name,
            phone,
            locale,
            status,
            preferences[held_ids] if held_pk == pk else "",
            categories[opted_ids] if opted_pk == pk else "",
            segments[added_ids] if added_pk == pk else "",
            "" if data == "{}" else data_cell(data),
        ]


def csv_blocks(contacts) -> Iterator[str]:
    """The CSV file of ``contacts`` in blocks of about ``BLOCK_SIZE`` characters."""
    block, size = [], 0
    for line in csv_lines(list(COLUMNS), export_rows(contacts)):
        block.append(line)
        size += len(line)
        if size >= BLOCK_SIZE:
            yield "".join(block)
            block, size = [], 0
    yield "".join(block)


def xlsx_file(contacts) -> bytes:
    """The XLSX file of ``contacts``, built in memory: see ``xlsx_refusal``."""
    return xlsx_bytes(list(COLUMNS), export_rows(contacts))


def xlsx_refusal(count: int) -> str | None:
    """Why ``count`` contacts are too many for an XLSX file, or ``None`` if they are not."""
    limit = get_setting("EXPORT_XLSX_MAX_ROWS")
    if count <= limit:
        return None
    return _(
        "These %(count)s contacts are more than an XLSX export holds (%(limit)s at most). "
        "Export them as CSV, which has no limit."
    ) % {"count": f"{count:,}", "limit": f"{limit:,}"}


def describe(parts: list[str]) -> str:
    """What an export holds, from the descriptions of its filters."""
    field = ContactExport._meta.get_field("description")
    return ("; ".join(parts) or _("All contacts"))[: field.max_length]


def file_name(parts: list[str], file_format: str) -> str:
    """Such as ``contacts-holds-preference-products-2026-01-31.csv``."""
    what = slugify(" ".join(parts))[:80].strip("-") or "all"
    return f"contacts-{what}-{timezone.localdate():%Y-%m-%d}.{file_format}"


def log_export(
    *, description: str, filters: dict, file_format: str, path: str, user=None, label: str = ""
) -> ContactExport:
    """Record who exported what; ``label`` names who did it when there is no ``user``."""
    return ContactExport.objects.create(
        created_by=user,
        created_by_label=user.get_username() if user is not None else label,
        description=description,
        filters=filters,
        file_format=file_format,
        path=path,
    )
