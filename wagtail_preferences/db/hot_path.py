"""SQL for the few requests that must answer in a millisecond or two (a tracked click, an
open): a query compiled once and run again with new values, and an insert that does not wait
for the disk.

Compiling a query of several joins costs Django more than PostgreSQL takes to run it;
waiting for a commit to reach the disk (``fsync``) costs more than both.
"""

from django.db import connections, models, router


class CompiledQuery:
    """A ``values()`` queryset compiled to SQL once per database, then run with new values.

    ``placeholders`` name the values that change from run to run, each by the sentinel the
    queryset was built with (a number that occurs nowhere else in its parameters). Rows come
    back converted as Django would convert them (booleans, dates on SQLite).
    """

    def __init__(self, queryset: models.QuerySet, **placeholders: int):
        self.queryset = queryset
        self.placeholders = placeholders
        self._compiled: dict[str, tuple] = {}

    def one(self, **values) -> dict | None:
        """The query's first row for ``values`` (one per placeholder) as a dict, or None."""
        alias = self.queryset.db
        compiled = self._compiled.get(alias) or self._compile(alias)
        compiler, sql, params, slots, converters, names = compiled
        params = list(params)
        for name, index in slots.items():
            params[index] = values[name]
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if converters:
            [row] = compiler.apply_converters([row], converters)
        return dict(zip(names, row, strict=True))

    def _compile(self, alias: str) -> tuple:
        query = self.queryset.query
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = {}
        for name, sentinel in self.placeholders.items():
            if list(params).count(sentinel) != 1:
                raise ValueError(f"The sentinel of {name!r} must occur once in the parameters.")
            slots[name] = list(params).index(sentinel)
        fields = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(fields)
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        compiled = (compiler, sql, tuple(params), slots, converters, names)
        self._compiled[alias] = compiled
        return compiled


def insert_unsynced(model, values: dict) -> None:
    """Insert one row of ``model`` (``values`` by field name).

    On PostgreSQL, outside a transaction, the commit does not wait for the disk
    (``synchronous_commit`` off for this one statement): a crash of the database server may
    lose the last moment's rows, as it may lose requests in flight. For rows that record what
    visitors did, never for consent.
    """
    alias = router.db_for_write(model)
    connection = connections[alias]
    fields = [model._meta.get_field(name) for name in values]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values.values(), strict=True)
    ]
    placeholders = ", ".join(["%s"] * len(params))
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # SET LOCAL for the statement's own transaction; the subquery runs once. Only
        # quoted names and placeholders go into the statement.
        unsynced = "(SELECT set_config('synchronous_commit', 'off', true)) AS unsynced"
        sql += f"SELECT {placeholders} FROM {unsynced}"  # noqa: S608
    else:
        sql += f"VALUES ({placeholders})"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
