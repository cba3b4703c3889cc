import json
from collections.abc import Iterable, Iterator
from itertools import islice

from django.db import connections, models, router, transaction

from ..exceptions import InvalidChange
from ..models import ConsentEvent, Contact

BATCH_SIZE = 2000
# Ids per INSERT ... SELECT on PostgreSQL: the ids go as one array parameter.
INSERT_CHUNK = 100_000
# Past this many rows changed at once, a table's planner statistics are refreshed on commit.
ANALYZE_AFTER = 10_000


def batched(items: Iterable, size: int) -> Iterator[tuple]:
    iterator = iter(items)
    while batch := tuple(islice(iterator, size)):
        yield batch


def contact_id_batches(contacts, *, must_exist: bool = False) -> Iterator[list[int]]:
    """Contact ids in batches, from a contact, a queryset, or an iterable of contacts or ids.

    With ``must_exist``, ids given directly that are not a contact's raise ``InvalidChange``
    (a contact instance or a queryset needs no such check).
    """
    if isinstance(contacts, models.Model):
        # A contact instance was read from the table: no need to look it up again.
        contacts, must_exist = [contacts], False
    elif isinstance(contacts, models.QuerySet):
        if not contacts.query.is_sliced:
            contacts = contacts.order_by()
        contacts = contacts.values_list("pk", flat=True).iterator(BATCH_SIZE)
        must_exist = False
    ids: Iterable[int] = (getattr(c, "pk", c) for c in contacts)
    for batch in batched(ids, BATCH_SIZE):
        batch = list(dict.fromkeys(batch))
        if must_exist:
            _require_contacts(batch)
        yield batch


def contact_ids(contacts, *, must_exist: bool = False) -> list[int]:
    """All the ids ``contact_id_batches`` gives, as one list."""
    return [pk for batch in contact_id_batches(contacts, must_exist=must_exist) for pk in batch]


def _require_contacts(ids: list[int]) -> None:
    found = set(Contact.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise InvalidChange(f"Not contacts: {', '.join(map(repr, missing))}.")


def record(events: list[ConsentEvent]) -> None:
    ConsentEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)


def record_rows(event: ConsentEvent, **columns: list) -> None:
    """Record a copy of ``event`` per position in ``columns`` (``contact_id=[...]``, ...)."""
    same = {
        field.attname: getattr(event, field.attname)
        for field in ConsentEvent._meta.concrete_fields
        if not field.primary_key and field.attname not in columns
    }
    insert_rows(ConsentEvent, columns, **same)


def insert_rows(model, columns: dict[str, list], *, ignore_conflicts: bool = False, **same):
    """Insert one ``model`` row per position in ``columns``, every other column the same.

    ``columns`` maps attribute names (``contact_id``) to equally long lists of plain values
    (ids, text); ``same`` gives other attributes once. Fields given neither take their
    default, ``auto_now_add`` ones the current time. On PostgreSQL each chunk of rows is one
    ``INSERT ... SELECT ... FROM unnest(...)``, with no model instance per row; elsewhere
    the rows go through ``bulk_create``.
    """
    names = list(columns)
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql":
        # JSON values travel as their text, cast to jsonb[] with the rest.
        columns = {
            name: [json.dumps(value, cls=field.encoder) for value in values]
            if isinstance(field := model._meta.get_field(name), models.JSONField)
            else values
            for name, values in columns.items()
        }
    rows = list(zip(*columns.values(), strict=True))
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**same, **dict(zip(names, row, strict=True))) for row in rows],
            batch_size=BATCH_SIZE,
            ignore_conflicts=ignore_conflicts,
        )
        return

    def cast_type(field) -> str:
        # Text, not varchar(n): a value too long for the column then fails as in a plain
        # INSERT instead of being cut short by the cast.
        return "text" if isinstance(field, models.CharField) else field.db_type(connection)

    template = model(**same)
    qn = connection.ops.quote_name
    inserted, selected, params, arrays = [], [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        inserted.append(qn(field.column))
        if field.attname in columns:
            selected.append(f"r.c{names.index(field.attname)}")
        else:
            selected.append(f"CAST(%s AS {cast_type(field)})")
            value = field.pre_save(template, add=True)
            params.append(field.get_db_prep_save(value, connection))
    for name in names:
        arrays.append(f"CAST(%s AS {cast_type(model._meta.get_field(name))}[])")
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    # Only names and types from the model go into the text; every value is a parameter.
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(inserted)}) "  # noqa: S608
        f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS r({aliases})"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        for chunk in batched(rows, INSERT_CHUNK):
            cursor.execute(sql, [*params, *(list(values) for values in zip(*chunk, strict=True))])


def analyze_on_commit(model, changed: int) -> None:
    """After a change of ``changed`` rows of ``model``, refresh its statistics on commit.

    PostgreSQL only, and only past ``ANALYZE_AFTER`` rows. Queries right after a large
    change (such as the refresh that follows one) would otherwise be planned for the old
    row counts until autovacuum catches up: a nested loop over a segment's members planned
    for one row and run for a million. Call it before anything that registers such work.
    """
    connection = connections[router.db_for_write(model)]
    if changed < ANALYZE_AFTER or connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(model._meta.db_table)

    def analyze():
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")

    transaction.on_commit(analyze, using=connection.alias)
