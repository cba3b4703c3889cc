"""A temporary table that rows are streamed into, to be checked and applied with SQL.

On PostgreSQL rows go in by ``COPY``; elsewhere by one ``executemany`` per batch. The table
belongs to the connection (``CREATE TEMPORARY TABLE``), so runs in other processes never see
it, and is dropped when the ``with`` block ends.
"""

import json

from django.db import DatabaseError, connections

from .batches import is_psycopg3

#: Column types a staging table takes, by database vendor.
TYPES = {
    "postgresql": {"int": "bigint", "text": "text", "bool": "boolean"},
    "default": {"int": "integer", "text": "text", "bool": "integer"},
}


class StagingTable:
    """``columns`` maps column names to ``int``, ``text`` or ``bool``."""

    def __init__(self, name: str, columns: dict[str, str], using: str = "default"):
        self.connection = connections[using]
        self.vendor = self.connection.vendor
        self.name = self.connection.ops.quote_name(name)
        self.columns = list(columns)
        self._types = {c: self.type(kind) for c, kind in columns.items()}

    def type(self, kind: str) -> str:
        return TYPES.get(self.vendor, TYPES["default"])[kind]

    def __enter__(self) -> "StagingTable":
        definition = ", ".join(f"{column} {kind}" for column, kind in self._types.items())
        self.execute(f"DROP TABLE IF EXISTS {self.name}")
        self.execute(f"CREATE TEMPORARY TABLE {self.name} ({definition})")
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        try:
            self.execute(f"DROP TABLE IF EXISTS {self.name}")
        except DatabaseError:
            # The table goes with its connection; the error that ended the block is the news.
            if exc_type is None:
                raise

    def execute(self, sql: str, params=()) -> int:
        """Run ``sql`` (which names the table as ``self.name``); returns the rows it changed."""
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def fetch(self, sql: str, params=()) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def index(self, *columns: str, unique: bool = False) -> None:
        name = self.connection.ops.quote_name(f"{self.name.strip(chr(34))}_{'_'.join(columns)}")
        kind = "UNIQUE INDEX" if unique else "INDEX"
        self.execute(f"CREATE {kind} {name} ON {self.name} ({', '.join(columns)})")
        if self.vendor == "postgresql":
            # Temporary tables are never analyzed by autovacuum: plan with real counts.
            self.execute(f"ANALYZE {self.name}")

    def append(self, rows: list[tuple]) -> None:
        """Add ``rows``, each a tuple of values in the order of the columns."""
        if not rows:
            return
        names = ", ".join(self.columns)
        if self.vendor == "postgresql" and is_psycopg3:
            with (
                self.connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {self.name} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(self.columns))
        with self.connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {self.name} ({names}) VALUES ({placeholders})",  # noqa: S608
                rows,
            )

    # SQL of the vendor ----------------------------------------------------------------------

    def json_elements(self, column: str, alias: str) -> str:
        """A table expression of the elements of the JSON list in ``column``, as
        ``alias.value`` (text)."""
        if self.vendor == "postgresql":
            return f"jsonb_array_elements_text(CAST({column} AS jsonb)) AS {alias}(value)"
        return f"json_each({column}) AS {alias}"

    def json_value(self, expression: str) -> str:
        """``expression`` (JSON text) as the database stores a ``JSONField``."""
        return f"CAST({expression} AS jsonb)" if self.vendor == "postgresql" else expression

    def json_object(self, **values: str) -> str:
        """A JSON object of SQL expressions, keyed by the given names."""
        function = "jsonb_build_object" if self.vendor == "postgresql" else "json_object"
        pairs = ", ".join(f"'{key}', {expression}" for key, expression in values.items())
        return f"{function}({pairs})"


def json_list(values) -> str | None:
    """A list of values as the JSON text a staging column holds; ``None`` stays NULL."""
    return None if values is None else json.dumps(list(values))
