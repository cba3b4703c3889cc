"""An import's rows in a staging table: read from the file once, then checked and applied
there with SQL (addresses given twice, contacts that exist, contacts to create)."""

import json
from collections.abc import Iterator

from ...db.staging import StagingTable, json_list
from ...models import Contact, ImportMode, ImportRun, Suppression
from ...models.contacts import new_secrets
from ...services.staged_contacts import new_contact_id
from .rows import DETAILS, LIST_CACHE_SIZE, Row

COLUMNS = {
    "line": "int",
    "email": "text",
    # False for a row with errors, staged only so that its address counts as given.
    "valid": "bool",
    "creates": "bool",
    "contact_id": "int",
    "secret": "text",
    **dict.fromkeys(DETAILS, "text"),
    "status": "text",
    "data": "text",
    "preferences": "text",
    "categories": "text",
    "segments": "text",
}
READ_BACK = ("line", "email", *DETAILS, "status", "data", "preferences", "categories", "segments")


class ImportStage(StagingTable):
    def __init__(self, run: ImportRun):
        super().__init__(f"wagtail_preferences_import_{run.pk}", COLUMNS)
        self.run = run
        self._lists: dict[tuple | None, str | None] = {}

    def add(self, rows: list[Row], invalid: list[tuple[int, str]]) -> None:
        """Stage the valid ``rows``, and the (line, address) of rows with errors."""
        none = (None,) * (len(COLUMNS) - 3)
        self.append(
            [
                (
                    row.line,
                    row.email,
                    True,
                    False,
                    None,
                    secret,
                    *(row.details.get(name) for name in DETAILS),
                    row.status,
                    json.dumps(row.data) if row.data else None,
                    self._json(row.preferences),
                    self._json(row.categories),
                    self._json(row.segments),
                )
                for row, secret in zip(rows, new_secrets(len(rows)), strict=True)
            ]
            + [(line, email, False, *none) for line, email in invalid]
        )

    def _json(self, values: tuple | None) -> str | None:
        """``json_list`` of ``values``, remembered: most rows repeat a few lists."""
        text = self._lists.get(values)
        if text is None:
            if len(self._lists) >= LIST_CACHE_SIZE:
                self._lists.clear()
            text = self._lists[values] = json_list(values)
        return text

    def duplicates(self) -> Iterator[tuple[int, str, int, bool]]:
        """(line, address, first line, valid) of each row whose address an earlier row gives;
        those rows are no longer valid after."""
        later = (
            f"FROM {self.name} s JOIN (SELECT email, MIN(line) AS first "  # noqa: S608
            f"FROM {self.name} GROUP BY email HAVING COUNT(*) > 1) f "
            "ON f.email = s.email WHERE s.line > f.first"
        )
        found = self.fetch(f"SELECT s.line, s.email, f.first, s.valid {later} ORDER BY s.line")  # noqa: S608
        if found:
            self.execute(
                f"UPDATE {self.name} SET valid = FALSE "  # noqa: S608
                f"WHERE line IN (SELECT s.line {later})"
            )
        return found

    def match(self) -> None:
        """Find the contact of each valid row's address, and mark the rows that create one."""
        table = Contact._meta.db_table
        if self.vendor == "postgresql":
            self.execute(
                f"UPDATE {self.name} s SET contact_id = c.id FROM {table} c "  # noqa: S608
                "WHERE s.valid AND c.email = s.email"
            )
        else:
            self.execute(
                f"UPDATE {self.name} SET contact_id = (SELECT c.id FROM {table} c "  # noqa: S608
                f"WHERE c.email = {self.name}.email) WHERE valid"
            )
        if self.run.mode != ImportMode.UPDATE_ONLY:
            new_id = new_contact_id(self)
            take = f", contact_id = {new_id}" if new_id else ""
            self.execute(
                f"UPDATE {self.name} SET creates = TRUE{take} "  # noqa: S608
                "WHERE valid AND contact_id IS NULL"
            )

    def count(self, condition: str, params=()) -> int:
        return self.fetch(f"SELECT COUNT(*) FROM {self.name} s WHERE {condition}", params)[0][0]  # noqa: S608

    def skipped(self) -> int:
        """Valid rows the run's mode leaves alone: new ones when updating only, and so on."""
        if self.run.mode == ImportMode.UPDATE_ONLY:
            return self.count("s.valid AND s.contact_id IS NULL")
        if self.run.mode == ImportMode.CREATE_ONLY:
            return self.count("s.valid AND NOT s.creates")
        return 0

    def blocked_new(self) -> int:
        """Rows that create a contact of a suppressed address (it stays suppressed)."""
        return self.count(
            f"s.creates AND s.email IN (SELECT address FROM {Suppression._meta.db_table} "  # noqa: S608
            "WHERE channel = %s)",
            ["email"],
        )

    def names_to_create(self) -> set[str]:
        """The preference names that rows creating contacts give."""
        elements = self.json_elements("s.preferences", "e")
        return {
            name
            for (name,) in self.fetch(
                f"SELECT DISTINCT e.value FROM {self.name} s CROSS JOIN {elements} "  # noqa: S608
                "WHERE s.creates"
            )
        }

    def existing(self, size: int) -> Iterator[list[Row]]:
        """The valid rows of existing contacts, in order, ``size`` at a time."""
        if self.run.mode == ImportMode.CREATE_ONLY:
            return
        # Only now: an index makes every update of the rows before cost more.
        self.index("line", unique=True)
        columns = ", ".join(READ_BACK)
        last = 0
        while batch := self.fetch(
            f"SELECT {columns} FROM {self.name} WHERE valid AND contact_id IS NOT NULL "  # noqa: S608
            "AND NOT creates "
            "AND line > %s ORDER BY line LIMIT %s",
            [last, size],
        ):
            yield [_row(values) for values in batch]
            last = batch[-1][0]


def _row(values: tuple) -> Row:
    line, email, *details, status, data, preferences, categories, segments = values
    return Row(
        line=line,
        email=email,
        details={
            name: value for name, value in zip(DETAILS, details, strict=True) if value is not None
        },
        status=status,
        preferences=_tuple(preferences),
        categories=_tuple(categories),
        segments=_tuple(segments),
        data=json.loads(data) if data else {},
    )


def _tuple(text: str | None) -> tuple | None:
    return None if text is None else tuple(json.loads(text))
