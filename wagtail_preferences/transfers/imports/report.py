"""The error report of an import run: the file's failing rows as they were, and why."""

import csv
from collections.abc import Iterator
from itertools import groupby

from ...models import ImportRun
from ..spreadsheets import Echo, neutralise, open_table, restore

ERROR_COLUMN = "error"


def error_report_lines(run: ImportRun) -> Iterator[str]:
    """The CSV text of the run's failing rows, a line at a time, each with an error column.

    The rows are read again from the run's file and joined, in order, with the errors the
    last check or import stored; neither is held in memory whole, so a file of a million
    failing rows streams like one of ten. Cells come out as the file had them (and safe to
    open in a spreadsheet), so that the report, once corrected, can be imported again.
    """
    writer = csv.writer(Echo())
    errors = (
        run.row_errors.order_by("row", "pk")
        .values_list("row", "column", "message")
        .iterator(chunk_size=2000)
    )
    with run.open_file() as file:
        table = open_table(file)
        width = len(table.header)
        error_column = ERROR_COLUMN
        while error_column in table.header:
            error_column = f"import {error_column}"
        yield "\ufeff" + writer.writerow([*map(neutralise, table.header), error_column])
        rows = iter(table.rows)
        row = next(rows, None)
        for line, of_line in groupby(errors, key=lambda error: error[0]):
            while row is not None and row[0] < line:
                row = next(rows, None)
            if row is None:
                return
            if row[0] != line:  # not a line of this file (it was replaced): left out
                continue
            message = " ".join(
                f"{column}: {message}" if column else message for _, column, message in of_line
            )
            cells = row[1]
            # The error stays in its column when a row has more cells than the header.
            shown = [*cells[:width], *[""] * (width - len(cells))]
            yield writer.writerow(
                [*map(_cell, shown), neutralise(message), *map(_cell, cells[width:])]
            )


def _cell(value: str) -> str:
    # Read as an import reads it, written as an export writes it.
    return neutralise(restore(value))
