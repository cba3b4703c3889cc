"""Contacts as rows of the import format, for CSV and XLSX files, and the log of exports.

``export_rows`` merges four streams read a chunk at a time, each ordered by contact id: the
contacts, and for each contact the ids of its preferences, opted-out categories and manual
segments, aggregated in SQL as one text. A small cache keyed by that text turns it into
names, as most contacts share a few combinations. On PostgreSQL this reads each table once
in index order, which is about twice as fast for large exports as looking the ids up per
contact, and the contacts of a filtered export are still found through the indexes. An
export in another order (the contact list's) looks the ids up a chunk of contacts at a time.
"""

import json
import math
from collections.abc import Iterator

from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..db.aggregates import JoinedText
from ..db.batches import any_of, batched
from ..models import (
    Category,
    CategoryChoice,
    ContactExport,
    ContactPreference,
    Preference,
    Segment,
    SegmentInclusion,
)
from .imports.columns import COLUMNS
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
# Whose ids each contact's row lists: its preferences, opted-out categories, manual segments.
HOLDINGS = (
    (ContactPreference.objects.all(), "preference_id"),
    (CategoryChoice.objects.filter(subscribed=False), "category_id"),
    (SegmentInclusion.objects.all(), "segment_id"),
)


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
    """The rows of ``contacts`` (a queryset) in ``COLUMNS`` order, as text cells.

    In the queryset's order if it was given one (``order_by``), else by id. By id, seven
    queries whatever the number of contacts: the names of preferences, categories and
    segments, then the four streams; in another order, three more queries per chunk of
    contacts, for the ids of that chunk.
    """
    names = (NameCells(Preference), NameCells(Category), NameCells(Segment))
    if contacts.query.order_by and contacts.query.order_by not in (("pk",), ("id",)):
        return _rows(names, _in_chunks(contacts))
    return _rows(names, _merged(contacts.order_by("pk")))


def _details(contacts):
    return (
        contacts.prefetch_related(None)
        .values_list("pk", *DETAILS, Cast("data", TextField()))
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _merged(contacts) -> Iterator[tuple]:
    """(details, preference ids, opted-out category ids, segment ids) of each contact, the
    four streams merged on the contacts' ids."""
    held, opted_out, added = (
        ids_by_contact(holdings, field, contacts) for holdings, field in HOLDINGS
    )
    (held_pk, held_ids), (opted_pk, opted_ids), (added_pk, added_ids) = (
        next(held, END),
        next(opted_out, END),
        next(added, END),
    )
    for details in _details(contacts):
        pk = details[0]
        # Catch each stream up with this contact (inline: this loop is the hot path).
        while held_pk < pk:
            held_pk, held_ids = next(held, END)
        while opted_pk < pk:
            opted_pk, opted_ids = next(opted_out, END)
        while added_pk < pk:
            added_pk, added_ids = next(added, END)
        yield (
            details,
            held_ids if held_pk == pk else None,
            opted_ids if opted_pk == pk else None,
            added_ids if added_pk == pk else None,
        )


def _in_chunks(contacts) -> Iterator[tuple]:
    """As ``_merged``, in the order of ``contacts``: the ids looked up a chunk at a time."""
    for chunk in batched(_details(contacts), CHUNK_SIZE):
        pks = [details[0] for details in chunk]
        held, opted_out, added = (
            dict(
                holdings.filter(contact_id__in=any_of(holdings.model, "contact_id", pks))
                .order_by()
                .values("contact")
                .annotate(ids=JoinedText(field))
                .values_list("contact", "ids")
            )
            for holdings, field in HOLDINGS
        )
        for details in chunk:
            pk = details[0]
            yield details, held.get(pk), opted_out.get(pk), added.get(pk)


def _rows(names, contacts) -> Iterator[list[str]]:
    preferences, categories, segments = names
    for details, held_ids, opted_ids, added_ids in contacts:
        _pk, email, first_name, last_name, phone, locale, status, data = details
        yield [
            email,
            first_name,
            last_name,
            phone,
            locale,
            status,
            preferences[held_ids] if held_ids is not None else "",
            categories[opted_ids] if opted_ids is not None else "",
            segments[added_ids] if added_ids is not None else "",
            "" if data == "{}" else data_cell(data),
        ]


def csv_blocks(contacts, *, formula_guard: bool = True) -> Iterator[str]:
    """The CSV file of ``contacts`` in blocks of about ``BLOCK_SIZE`` characters."""
    block, size = [], 0
    lines = csv_lines(list(COLUMNS), export_rows(contacts), formula_guard=formula_guard)
    for line in lines:
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
