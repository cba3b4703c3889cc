"""``INSERT INTO … SELECT …``: rows made by the database from a query, none by Python."""

from django.db import connections, router

from .batches import cast_type, constants_of


def insert_from(
    model, queryset, columns: dict, *, ignore_conflicts: bool = False, returning: str = ""
):
    """Insert into ``model``'s table one row per row of ``queryset``, whose values are the
    expressions in ``columns`` (attribute name -> expression over the queryset's rows).

    With ``ignore_conflicts``, rows that would break a unique constraint are left out, so
    running the same insert twice adds nothing the second time. Returns the rows inserted,
    or with ``returning`` (an attribute name) that column of each row inserted, where the
    database can say (``returns_inserted_rows``).

    Rows go in the order the queryset asks for with ``order_by()``, if it does (the model's
    default ordering is left out): rows inserted in the order of an index they share go
    through its pages once.
    """
    aliases = {f"wp_insert_{name}": expression for name, expression in columns.items()}
    select = queryset.order_by(*queryset.query.order_by).annotate(**aliases).values_list(*aliases)
    alias = router.db_for_write(model)
    connection = connections[alias]
    sql, params = select.query.get_compiler(alias).as_sql()
    quote = connection.ops.quote_name
    names = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    table = quote(model._meta.db_table)
    if connection.vendor == "sqlite":
        verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
        statement = f"{verb} INTO {table} ({names}) {sql}"  # noqa: S608
    else:
        conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        statement = f"INSERT INTO {table} ({names}) {sql}{conflict}"  # noqa: S608
    if returning:
        statement += f" RETURNING {quote(model._meta.get_field(returning).column)}"
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [value for (value,) in cursor.fetchall()] if returning else cursor.rowcount


def returns_inserted_rows(model) -> bool:
    """Whether ``insert_from(..., returning=...)`` works on ``model``'s database."""
    return connections[router.db_for_write(model)].features.can_return_rows_from_bulk_insert


def insert_select(model, columns: dict[str, str], from_sql: str, params=(), **same) -> int:
    """Insert into ``model``'s table one row per row of ``from_sql`` (SQL from ``FROM`` on),
    whose values are the SQL expressions in ``columns`` (attribute name -> expression); other
    fields take ``same``'s value, or their default. ``params`` are those of the expressions,
    then of ``from_sql``.
    Returns the number of rows inserted.
    """
    alias = router.db_for_write(model)
    connection = connections[alias]
    quote = connection.ops.quote_name
    constants = constants_of(connection, model, list(columns), same)
    # The constants come first, so that ``params`` follow in the order of the text.
    names = [field.column for field, _ in constants]
    names += [model._meta.get_field(name).column for name in columns]
    selected = [_parameter(field, connection) for field, _ in constants] + list(columns.values())
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, names))}) "  # noqa: S608
        f"SELECT {', '.join(selected)} {from_sql}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*(value for _, value in constants), *params])
        return cursor.rowcount


def _parameter(field, connection) -> str:
    """A parameter for a value of ``field``, typed where the database needs it."""
    if connection.vendor != "postgresql":
        return "%s"
    return f"CAST(%s AS {cast_type(field, connection)})"
