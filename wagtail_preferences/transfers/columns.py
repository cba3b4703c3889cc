"""The columns of the import and export format, each declared once.

Imports and exports both read this registry: an export writes one cell per registered column,
in registration order, and an import offers each of them as a target of a file's column. To
add a column, register one ``Column``::

    from django.db.models.fields.json import KT
    from wagtail_preferences.transfers.columns import Column, register

    register(
        Column(
            "club",
            label=_("Club"),
            value=KT("data__club"),
            read=lambda reader, row, cell: row.data.update(club=cell),
        )
    )
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..models import (
    Category,
    CategoryChoice,
    ContactPreference,
    Preference,
    Segment,
    SegmentInclusion,
)


def text_cell(value) -> str:
    return "" if value is None else str(value)


def data_cell(text: str | None) -> str:
    """The custom data as compact JSON, or an empty cell when there is none."""
    if not text or text == "{}":
        return ""
    value = json.loads(text)
    if not value:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Holdings:
    """What a list column names for each contact: the ``field`` ids of its ``rows``, whose
    names are those of ``model``."""

    rows: Any
    field: str
    model: Any


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the format.

    - ``name``: its header in exports, and the target a file's column is mapped to.
    - ``label``: how the mapping screen offers it.
    - ``aliases``: other headers read as this column, compared without case, spaces or
      punctuation.
    - ``value``: for exports, a field name or expression of the contact, written through
      ``cell`` (a function of the value to the cell's text; ``None`` for a value that is
      text already, never NULL); or ``holdings`` for a list of names held in another table.
    - ``read``: for imports, ``read(reader, row, cell)`` validates a non-empty cell (raising
      ``RowError``) and stores it on the ``Row``; ``reader`` is the ``RowReader``.
    - ``required``: every import maps a column to it, and every row fills it.
    """

    name: str
    label: str | Promise
    read: Callable[[Any, Any, str], None]
    value: Any = None
    cell: Callable[[Any], str] | None = text_cell
    holdings: Holdings | None = None
    aliases: tuple[str, ...] = ()
    required: bool = False

    @property
    def listed(self) -> bool:
        """Whether its cell names several objects, comma-separated."""
        return self.holdings is not None


_registry: dict[str, Column] = {}


def register(column: Column) -> Column:
    """Add ``column`` after the registered ones (exports write it last)."""
    if column.name in _registry:
        raise ValueError(f"There is already a column named {column.name!r}.")
    _registry[column.name] = column
    return column


def unregister(name: str) -> None:
    del _registry[name]


def registered() -> tuple[Column, ...]:
    """The columns, in the order exports write them."""
    return tuple(_registry.values())


def column_names() -> tuple[str, ...]:
    return tuple(_registry)


def get_column(name: str) -> Column | None:
    return _registry.get(name)


def _detail(name: str):
    def read(reader, row, cell: str) -> None:
        row.details[name] = reader.detail(name, cell)

    return read


def _read_email(reader, row, cell: str) -> None:
    row.email = reader.email(cell)


def _read_status(reader, row, cell: str) -> None:
    row.status = reader.status(cell)


def _read_preferences(reader, row, cell: str) -> None:
    row.preferences = reader.preference_names(cell)


def _read_categories(reader, row, cell: str) -> None:
    row.categories = reader.ids_of("categories", reader.categories, cell)


def _read_segments(reader, row, cell: str) -> None:
    row.segments = reader.segment_ids(cell)


def _read_data(reader, row, cell: str) -> None:
    row.data.update(reader.data(cell))


EMAIL = "email"

BUILT_IN = (
    Column(
        EMAIL,
        label=_("Email"),
        read=_read_email,
        value="email",
        cell=None,
        aliases=("Email address", "Mail"),
        required=True,
    ),
    Column(
        "first_name",
        label=_("First name"),
        read=_detail("first_name"),
        value="first_name",
        cell=None,
        aliases=("Given name",),
    ),
    Column(
        "last_name",
        label=_("Last name"),
        read=_detail("last_name"),
        value="last_name",
        cell=None,
        aliases=("Surname", "Family name"),
    ),
    Column(
        "phone",
        label=_("Phone"),
        read=_detail("phone"),
        value="phone",
        cell=None,
        aliases=("Telephone", "Phone number", "Mobile"),
    ),
    Column(
        "locale",
        label=_("Locale"),
        read=_detail("locale"),
        value="locale",
        cell=None,
        aliases=("Language",),
    ),
    Column("status", label=_("Status"), read=_read_status, value="status", cell=None),
    Column(
        "preferences",
        label=_("Preferences (names, comma-separated)"),
        read=_read_preferences,
        holdings=Holdings(ContactPreference.objects.all(), "preference_id", Preference),
        aliases=("Preference", "Interests"),
    ),
    Column(
        "categories",
        label=_("Opted-out categories (names, comma-separated)"),
        read=_read_categories,
        holdings=Holdings(CategoryChoice.objects.opt_outs(), "category_id", Category),
        aliases=("Category", "Opted-out categories"),
    ),
    Column(
        "segments",
        label=_("Segments, as a manual member (names, comma-separated)"),
        read=_read_segments,
        holdings=Holdings(SegmentInclusion.objects.all(), "segment_id", Segment),
        aliases=("Segment",),
    ),
    Column(
        "data",
        label=_("Custom data (a JSON object)"),
        read=_read_data,
        value=Cast("data", TextField()),
        cell=data_cell,
        aliases=("Custom data",),
    ),
)
for column in BUILT_IN:
    register(column)
