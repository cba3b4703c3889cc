"""Writing consent events in bulk: the log every service function appends to."""

from ..db.batches import insert_rows, inserted_fields
from ..db.insert_select import insert_select
from ..models import ConsentEvent


def record(events: list[ConsentEvent]) -> None:
    """Insert the unsaved ``events`` (any number, with values of their own)."""
    names = [field.attname for field in inserted_fields(ConsentEvent)]
    insert_rows(ConsentEvent, {name: [getattr(e, name) for e in events] for name in names})


def record_rows(event: ConsentEvent, **columns: list) -> None:
    """Record a copy of ``event`` per position in ``columns`` (``contact_id=[...]``, ...)."""
    insert_rows(ConsentEvent, columns, **_same(event, columns))


def record_selected(event: ConsentEvent, columns: dict[str, str], from_sql: str, params=()) -> int:
    """Record a copy of ``event`` per row of ``from_sql`` (SQL from ``FROM`` on), with the
    values of ``columns`` (attribute name -> SQL expression) of its own; see
    ``db.insert_select.insert_select``. Returns how many were recorded."""
    return insert_select(ConsentEvent, columns, from_sql, params, **_same(event, columns))


def _same(event: ConsentEvent, columns) -> dict:
    """The values of ``event`` that are not given per row."""
    return {
        field.attname: getattr(event, field.attname)
        for field in ConsentEvent._meta.concrete_fields
        if not field.primary_key and field.attname not in columns
    }
