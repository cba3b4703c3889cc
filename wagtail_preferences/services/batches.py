import json
from collections.abc import Iterable, Iterator
from itertools import islice
from operator import itemgetter

from django.db import connections, models, router, transaction
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL

from ..exceptions import InvalidChange
from ..models import ConsentEvent, Contact

BATCH_SIZE = 2000
# Ids per INSERT ... SELECT on PostgreSQL: the ids go as one array parameter.
INSERT_CHUNK = 100_000
# Past this many rows changed at once, a table's planner statistics are refreshed on commit.
ANALYZE_AFTER = 10_000


def any_of(model, attname: str, values: Iterable):
    """``values`` for ``model``'s ``attname__in=``, sent as one parameter, not one per value.

    Thousands of values in a list make thousands of parameters, which Django compiles and
    the database parses one by one: PostgreSQL takes them as one array, SQLite as one JSON
    text; other databases get the list.
    """
    values = list(values)
    connection = connections[router.db_for_read(model)]
    if connection.vendor == "postgresql":
        field = model._meta.get_field(attname)
        target = field.target_field if isinstance(field, models.ForeignKey) else field
        kind = "text" if isinstance(target, models.CharField) else target.db_type(connection)
        return RawSQL(f"SELECT unnest(CAST(%s AS {kind}[]))", [values])  # noqa: S611
    if connection.vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])  # noqa: S611
    return values


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
    """Insert the unsaved ``events`` (any number, with values of their own)."""
    names = [field.attname for field in _inserted_fields(ConsentEvent)]
    insert_rows(ConsentEvent, {name: [getattr(e, name) for e in events] for name in names})


def record_rows(event: ConsentEvent, **columns: list) -> None:
    """Record a copy of ``event`` per position in ``columns`` (``contact_id=[...]``, ...)."""
    same = {
        field.attname: getattr(event, field.attname)
        for field in ConsentEvent._meta.concrete_fields
        if not field.primary_key and field.attname not in columns
    }
    insert_rows(ConsentEvent, columns, **same)


def insert_rows(
    model, columns: dict[str, list], *, ignore_conflicts=False, returning=(), **same
) -> list[tuple] | None:
    """Insert one ``model`` row per position in ``columns``, every other column the same.

    ``columns`` maps attribute names (``contact_id``) to equally long lists of values;
    ``same`` gives other attributes once. Fields given neither take their default,
    ``auto_now_add`` ones the current time. No model instance is made per row: on
    PostgreSQL each chunk of rows is one ``INSERT ... SELECT ... FROM unnest(...)``,
    elsewhere one ``executemany``.

    With ``returning`` (attribute names), PostgreSQL returns those columns of the rows it
    inserted; elsewhere the result is ``None`` and the caller reads them back.
    """
    connection = connections[router.db_for_write(model)]
    columns = {
        name: _prepared(model._meta.get_field(name), values, connection)
        for name, values in columns.items()
    }
    rows = list(zip(*columns.values(), strict=True))
    if connection.vendor == "postgresql":
        return _insert_unnest(
            connection, model, list(columns), rows, ignore_conflicts, returning, same
        )
    _insert_many(connection, model, list(columns), rows, ignore_conflicts, same)
    return None


#: Fields whose plain values every database driver takes as they are.
PLAIN_FIELDS = (models.IntegerField, models.CharField, models.TextField, models.BooleanField)


def _prepared(field, values: list, connection) -> list:
    """``values`` of ``field`` as the driver takes them: JSON as its text (NULL for None)."""
    if isinstance(field, models.JSONField):
        return [None if v is None else json.dumps(v, cls=field.encoder) for v in values]
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if connection.vendor == "postgresql" or isinstance(field, PLAIN_FIELDS):
        return values
    return [field.get_db_prep_save(value, connection) for value in values]


def _inserted_fields(model):
    return [field for field in model._meta.concrete_fields if not field.primary_key]


def _insert_unnest(connection, model, names, rows, ignore_conflicts, returning, same) -> list:
    def cast_type(field) -> str:
        # Text, not varchar(n): a value too long for the column then fails as in a plain
        # INSERT instead of being cut short by the cast.
        return "text" if isinstance(field, models.CharField) else field.db_type(connection)

    template = model(**same)
    qn = connection.ops.quote_name
    inserted, selected, params, arrays = [], [], [], []
    for field in _inserted_fields(model):
        inserted.append(qn(field.column))
        if field.attname in names:
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
    if returning:
        sql += " RETURNING " + ", ".join(
            qn(model._meta.get_field(name).column) for name in returning
        )
    inserted_rows = []
    with connection.cursor() as cursor:
        for chunk in batched(rows, INSERT_CHUNK):
            cursor.execute(sql, [*params, *(list(values) for values in zip(*chunk, strict=True))])
            if returning:
                inserted_rows.extend(cursor.fetchall())
    return inserted_rows


def _insert_many(connection, model, names, rows, ignore_conflicts, same) -> None:
    if not rows:
        return
    template = model(**same)
    fields = _inserted_fields(model)
    constants = tuple(
        field.get_db_prep_save(field.pre_save(template, add=True), connection)
        for field in fields
        if field.attname not in names
    )
    # Each row is its values followed by the constants; one getter puts them in order.
    positions, next_constant = [], len(names)
    for field in fields:
        if field.attname in names:
            positions.append(names.index(field.attname))
        else:
            positions.append(next_constant)
            next_constant += 1
    in_order = itemgetter(*positions)
    ops, qn = connection.ops, connection.ops.quote_name
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    sql = " ".join(
        part
        for part in (
            ops.insert_statement(on_conflict=on_conflict),
            f"{qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)})",
            f"VALUES ({', '.join(['%s'] * len(fields))})",
            ops.on_conflict_suffix_sql(fields, on_conflict, None, None),
        )
        if part
    )
    with connection.cursor() as cursor:
        for chunk in batched(rows, INSERT_CHUNK):
            cursor.executemany(sql, [in_order(row + constants) for row in chunk])


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
