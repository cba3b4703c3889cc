import datetime
import json
from collections.abc import Iterable, Iterator
from itertools import islice
from operator import itemgetter

from django.db import connections, models, router, transaction
from django.db.models.constants import OnConflict
from django.db.models.expressions import RawSQL

try:
    from django.db.backends.postgresql.psycopg_any import is_psycopg3
except ImportError:  # no PostgreSQL driver installed
    is_psycopg3 = False


BATCH_SIZE = 2000
# Ids per INSERT ... SELECT on PostgreSQL: the ids go as one array parameter.
INSERT_CHUNK = 100_000
# From this many rows on, PostgreSQL takes them by COPY, so many rows of text at a time.
COPY_AFTER = 1000
COPY_CHUNK = 10_000
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


def insert_rows(
    model, columns: dict[str, list], *, ignore_conflicts=False, with_ids=False, **same
) -> list[int] | None:
    """Insert one ``model`` row per position in ``columns``, every other column the same.

    ``columns`` maps attribute names (``contact_id``) to equally long lists of values;
    ``same`` gives other attributes once. Fields given neither take their default,
    ``auto_now_add`` ones the current time. No model instance is made per row: on
    PostgreSQL many rows go in by ``COPY``, a few by one ``INSERT ... SELECT ... FROM
    unnest(...)``; elsewhere by one ``executemany``.

    With ``with_ids``, PostgreSQL takes the new rows' ids from the table's sequence first and
    returns them in row order; elsewhere the result is ``None`` and the caller reads them back.
    """
    connection = connections[router.db_for_write(model)]
    columns = {
        name: _prepared(model._meta.get_field(name), values, connection)
        for name, values in columns.items()
    }
    count = len(next(iter(columns.values()), ()))
    if connection.vendor != "postgresql":
        rows = list(zip(*columns.values(), strict=True))
        _insert_many(connection, model, list(columns), rows, ignore_conflicts, same)
        return None
    ids = _new_ids(connection, model, count) if with_ids else None
    if ids is not None:
        columns[model._meta.pk.attname] = ids
    if count >= COPY_AFTER and is_psycopg3:
        _insert_copy(connection, model, columns, ignore_conflicts, same)
    else:
        rows = list(zip(*columns.values(), strict=True))
        _insert_unnest(connection, model, list(columns), rows, ignore_conflicts, same)
    return ids


def _new_ids(connection, model, count: int) -> list[int]:
    """``count`` ids taken from the sequence of ``model``'s table (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


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


def inserted_fields(model, names=()):
    """The fields an insert writes: all but the primary key, unless ``names`` holds it."""
    return [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key or field.attname in names
    ]


def constants_of(connection, model, names, same) -> list[tuple]:
    """(field, value as the database takes it) of the fields not among ``names``."""
    template = model(**same)
    return [
        (field, field.get_db_prep_save(field.pre_save(template, add=True), connection))
        for field in inserted_fields(model, names)
        if field.attname not in names
    ]


def _in_field_order(model, names):
    """A function of (row values + constant values) that gives the values in field order."""
    positions, next_constant = [], len(names)
    for field in inserted_fields(model, names):
        if field.attname in names:
            positions.append(names.index(field.attname))
        else:
            positions.append(next_constant)
            next_constant += 1
    return itemgetter(*positions)


def cast_type(field, connection) -> str:
    """The type to cast a parameter of ``field`` to in PostgreSQL.

    Text, not varchar(n): a value too long for the column then fails as in a plain INSERT
    instead of being cut short by the cast.
    """
    return "text" if isinstance(field, models.CharField) else field.db_type(connection)


def _insert_unnest(connection, model, names, rows, ignore_conflicts, same) -> None:
    if not rows:
        return
    qn = connection.ops.quote_name
    constants = dict(constants_of(connection, model, names, same))
    inserted, selected, params, arrays = [], [], [], []
    for field in inserted_fields(model, names):
        inserted.append(qn(field.column))
        if field.attname in names:
            selected.append(f"r.c{names.index(field.attname)}")
        else:
            selected.append(f"CAST(%s AS {cast_type(field, connection)})")
            params.append(constants[field])
    for name in names:
        arrays.append(f"CAST(%s AS {cast_type(model._meta.get_field(name), connection)}[])")
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


def _insert_copy(connection, model, columns: dict[str, list], ignore_conflicts, same) -> None:
    """``COPY`` the rows in; with ``ignore_conflicts``, through a temporary table."""
    qn = connection.ops.quote_name
    names = list(columns)
    fields = inserted_fields(model, names)
    constants = tuple(
        _copy_text(value) for _, value in constants_of(connection, model, names, same)
    )
    in_order = _in_field_order(model, names)
    # Column by column, each with the fastest conversion its type allows.
    texts = [_copy_column(model._meta.get_field(name), values) for name, values in columns.items()]
    table = qn(model._meta.db_table)
    column_names = ", ".join(qn(field.column) for field in fields)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        target = table
        if ignore_conflicts:
            target = qn(f"{model._meta.db_table}_copy")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {target} ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {column_names} FROM {table} WITH NO DATA"
            )
        # Names from the model only; the rows travel as COPY data, in its text format.
        with cursor.cursor.copy(f"COPY {target} ({column_names}) FROM STDIN") as copy:
            for chunk in batched(zip(*texts, strict=True), COPY_CHUNK):
                text = "\n".join("\t".join(in_order(row + constants)) for row in chunk)
                copy.write(text.encode() + b"\n")
        if ignore_conflicts:
            cursor.execute(
                f"INSERT INTO {table} ({column_names}) "  # noqa: S608
                f"SELECT {column_names} FROM {target} ON CONFLICT DO NOTHING; DROP TABLE {target}"
            )


COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_NULL = "\\N"


def _copy_text(value) -> str:
    """``value`` as a field of COPY's text format."""
    if value is None:
        return COPY_NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    if hasattr(value, "obj") and hasattr(value, "dumps"):  # psycopg's Json and Jsonb
        return value.dumps(value.obj).translate(COPY_ESCAPES)
    return str(value).translate(COPY_ESCAPES)


def _copy_column(field, values: list) -> list[str]:
    """``values`` of ``field`` in COPY's text format."""
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if None not in values:
        if isinstance(field, models.IntegerField):
            return list(map(str, values))
        if isinstance(field, models.CharField | models.TextField | models.JSONField):
            return [value.translate(COPY_ESCAPES) for value in values]
    return list(map(_copy_text, values))


def _insert_many(connection, model, names, rows, ignore_conflicts, same) -> None:
    if not rows:
        return
    fields = inserted_fields(model, names)
    constants = tuple(value for _, value in constants_of(connection, model, names, same))
    in_order = _in_field_order(model, names)
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


def update_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Set ``fields`` (attribute names) of many ``model`` rows, each to values of its own.

    ``rows`` hold the values in the order of ``fields``, then the primary key. One statement,
    sent once per row in one batch (``executemany``): no query is compiled per row, as
    ``bulk_update``'s ``CASE`` expressions are.
    """
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{qn(field.column)} = %s" for field in columns)
    # Only names from the model go into the text; every value is a parameter.
    sql = (
        f"UPDATE {qn(model._meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {qn(model._meta.pk.column)} = %s"
    )
    prepared = [
        [
            *(
                field.get_db_prep_save(value, connection)
                for field, value in zip(columns, row[:-1], strict=True)
            ),
            row[-1],
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)
