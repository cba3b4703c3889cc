"""Writing consent events in bulk: the log every service function appends to."""

from ..db.batches import insert_rows, inserted_fields
from ..models import ConsentEvent


def record(events: list[ConsentEvent]) -> None:
    """Insert the unsaved ``events`` (any number, with values of their own)."""
    names = [field.attname for field in inserted_fields(ConsentEvent)]
    insert_rows(ConsentEvent, {name: [getattr(e, name) for e in events] for name in names})


def record_rows(event: ConsentEvent, **columns: list) -> None:
    """Record a copy of ``event`` per position in ``columns`` (``contact_id=[...]``, ...)."""
    same = {
        field.attname: getattr(event, field.attname)
        for field in ConsentEvent._meta.concrete_fields
        if not field.primary_key and field.attname not in columns
    }
    insert_rows(ConsentEvent, columns, **same)
