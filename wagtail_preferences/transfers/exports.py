"""Contacts as rows of the import format, for CSV and XLSX files, and the log of exports.

The columns are those of ``transfers.columns``. ``export_rows`` merges streams read a chunk
at a time, each ordered by contact id: the contacts, and for each list column the ids each
contact holds (its preferences, opted-out categories and manual segments), aggregated in SQL
as one text. A small cache keyed by that text turns it into
names, as most contacts share a few combinations. On PostgreSQL this reads each table once
in index order, which is about twice as fast for large exports as looking the ids up per
contact, and the contacts of a filtered export are still found through the indexes. An
export in another order (the contact list's) looks the ids up a chunk of contacts at a time.
"""

import math
from collections.abc import Iterator

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..db.aggregates import JoinedText
from ..db.batches import any_of, batched
from ..models import ContactExport
from .columns import column_names, registered
from .spreadsheets import csv_lines, join_names, xlsx_bytes

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK_SIZE = 5000
BLOCK_SIZE = 64 * 1024
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


def export_rows(contacts) -> Iterator[list[str]]:
    """The rows of ``contacts`` (a queryset), one cell per registered column, as text.

    In the queryset's order if it was given one (``order_by``), else by id. By id, the
    queries do not grow with the number of contacts: the names of each list column's
    objects, then one stream for the contacts and one per list column; in another order,
    one more query per list column and chunk of contacts, for the ids of that chunk.
    """
    columns = registered()
    listed = [column for column in columns if column.listed]
    names = [NameCells(column.holdings.model) for column in listed]
    if contacts.query.order_by and contacts.query.order_by not in (("pk",), ("id",)):
        merged = _in_chunks(contacts, columns, listed)
    else:
        merged = _merged(contacts.order_by("pk"), columns, listed)
    return _rows(columns, names, merged)


def _details(contacts, columns):
    return (
        contacts.prefetch_related(None)
        .values_list("pk", *(column.value for column in columns if not column.listed))
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _merged(contacts, columns, listed) -> Iterator[tuple]:
    """Chunks of the contacts' details, each with the ids every list column holds for them
    (``{contact id: ids}``), the streams merged on the contacts' ids."""
    streams = [
        ids_by_contact(column.holdings.rows, column.holdings.field, contacts) for column in listed
    ]
    heads = [next(stream, END) for stream in streams]
    for chunk in batched(_details(contacts, columns), CHUNK_SIZE):
        last, held = chunk[-1][0], []
        # Catch each stream up with the chunk's last contact (this loop is the hot path).
        for index, stream in enumerate(streams):
            head, ids = heads[index], {}
            while head[0] <= last:
                ids[head[0]] = head[1]
                head = next(stream, END)
            heads[index] = head
            held.append(ids)
        yield chunk, held


def _in_chunks(contacts, columns, listed) -> Iterator[tuple]:
    """As ``_merged``, in the order of ``contacts``: the ids looked up a chunk at a time."""
    for chunk in batched(_details(contacts, columns), CHUNK_SIZE):
        pks = [details[0] for details in chunk]
        held = [
            dict(
                rows.filter(contact_id__in=any_of(rows.model, "contact_id", pks))
                .order_by()
                .values("contact")
                .annotate(ids=JoinedText(column.holdings.field))
                .values_list("contact", "ids")
            )
            for column in listed
            for rows in (column.holdings.rows,)
        ]
        yield chunk, held


def _rows(columns, names, chunks) -> Iterator[list[str]]:
    row = _row_function(columns, names)
    for chunk, held in chunks:
        gets = [ids.get for ids in held]
        for details in chunk:
            yield row(details, details[0], *gets)


def _row_function(columns, names):
    """``row(details, pk, *gets)``: a contact's cells, from its details (the id first) and,
    for each list column, ``get(pk)``, the text of the ids it holds.

    The function is written out once for the registered columns, as a list of one expression
    per column: a loop over the columns for every contact would cost a third of an export.
    """
    namespace, cells, gets, detail, listed = {}, [], [], 1, 0
    for column in columns:
        if column.listed:
            namespace[f"names{listed}"] = names[listed].__getitem__
            gets.append(f"get{listed}")
            cells.append(f'("" if (ids := get{listed}(pk)) is None else names{listed}(ids))')
            listed += 1
        else:
            value = f"details[{detail}]"
            if column.cell is not None:
                namespace[f"cell{detail}"] = column.cell
                value = f"cell{detail}({value})"
            cells.append(value)
            detail += 1
    source = f"def row(details, pk, {', '.join(gets)}):\n    return [{', '.join(cells)}]\n"
    exec(source, namespace)  # noqa: S102 - the source is made of the columns' positions only
    return namespace["row"]


def csv_blocks(contacts, *, formula_guard: bool = True) -> Iterator[str]:
    """The CSV file of ``contacts`` in blocks of about ``BLOCK_SIZE`` characters."""
    block, size = [], 0
    lines = csv_lines(list(column_names()), export_rows(contacts), formula_guard=formula_guard)
    for line in lines:
        block.append(line)
        size += len(line)
        if size >= BLOCK_SIZE:
            yield "".join(block)
            block, size = [], 0
    yield "".join(block)


def xlsx_file(contacts) -> bytes:
    """The XLSX file of ``contacts``, built in memory: see ``xlsx_refusal``."""
    return xlsx_bytes(list(column_names()), export_rows(contacts))


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
