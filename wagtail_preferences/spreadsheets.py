"""Reading and writing contact tables: CSV in the encodings spreadsheets save, and XLSX.

Shared by import and export, so that a file exported can be imported unchanged.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from .exceptions import InvalidFile

# A spreadsheet reads a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISED_STARTS = frozenset((*FORMULA_STARTS, "'"))
SAMPLE_SIZE = 64 * 1024
XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DELIMITERS = (",", ";", "\t")
# Names in a cell are separated by commas or stand on lines of their own.
NAME_SEPARATORS = re.compile(r"[,\r\n]")
LINE_BREAKS = re.compile(r"\r\n?|\n")


def neutralise(value: str) -> str:
    """``value`` made safe to open in a spreadsheet: a leading apostrophe before a formula.

    Values that already start with apostrophes before such a character get one more, so that
    ``restore`` gives back exactly what was neutralised.
    """
    if value.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The inverse of ``neutralise``."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS):
        return value[1:]
    return value


def join_names(names: Iterable[str]) -> str:
    """Names in one cell, comma-separated, a name holding a comma or a quote in quotes."""
    return ", ".join(_quoted(name) for name in names)


def _quoted(name: str) -> str:
    if any(c in name for c in ',"\r\n'):
        return '"' + name.replace('"', '""') + '"'
    return name


def split_names(cell: str) -> list[str]:
    """The names of a cell written by ``join_names`` or by hand ("Products, Trainings").

    Names may also stand on lines of their own, as a spreadsheet cell shows them.
    """
    if '"' not in cell:
        return [name.strip() for name in NAME_SEPARATORS.split(cell) if name.strip()]
    try:
        row = next(csv.reader([LINE_BREAKS.sub(",", cell)], skipinitialspace=True), [])
    except csv.Error:  # a name longer than the csv module's field limit
        row = NAME_SEPARATORS.split(cell)
    return [name.strip() for name in row if name.strip()]


@dataclass
class Table:
    """A file's header and an iterator of (line number, cells) for the rows below it."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    description: str


def open_table(file) -> Table:
    """Read ``file`` (a binary file object) as XLSX or CSV, whichever it holds.

    Raises ``InvalidFile`` with a message for the person who made the file.
    """
    file.seek(0)
    start = file.read(SAMPLE_SIZE)
    file.seek(0)
    if not start.strip():
        raise InvalidFile("The file is empty.")
    table = _xlsx(file) if start.startswith(XLSX_MAGIC) else _csv(file, start)
    header = [cell.strip() for cell in table.header]
    if not any(header):
        raise InvalidFile("The file's first row, its header, is empty.")
    if any("\x00" in cell for cell in header):
        raise InvalidFile("The file's header holds NUL characters, which are not text.")
    table.header = header
    return table


def read_header(file) -> list[str]:
    """The header of ``file``, read without closing it (an upload is saved afterwards)."""
    file.seek(0)
    start = file.read(SAMPLE_SIZE)
    if start.startswith(XLSX_MAGIC):
        # openpyxl leaves open a file object it was given.
        header = open_table(file).header
    else:
        # A text wrapper closes the file it wraps when it goes: it gets a copy of the start.
        header = open_table(io.BytesIO(start + file.readline())).header
    file.seek(0)
    return header


def _encoding(start: bytes) -> str:
    if start.startswith(OLE2_MAGIC):
        raise InvalidFile(
            "This is an Excel 97-2003 workbook (.xls), which cannot be read: save it as XLSX "
            "or CSV and upload it again."
        )
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if start.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if start.count(b"\x00") > len(start) // 4:
        # Text has no NUL bytes, but UTF-16 (here without its BOM) has one in most characters.
        raise InvalidFile(
            "The file holds NUL bytes: it is not a CSV file, or it is UTF-16 without a byte "
            "order mark. Save it as UTF-8 CSV and upload it again."
        )
    try:
        # The sample may end inside a character: only the end may be cut short.
        codecs.getincrementaldecoder("utf-8")().decode(start, final=False)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


ENCODING_NAMES = {
    "utf-8-sig": "UTF-8 with BOM",
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252",
}


def _csv(file, start: bytes) -> Table:
    encoding = _encoding(start)
    text = io.TextIOWrapper(file, encoding=encoding, errors="strict", newline="")
    sample = start.decode(encoding, errors="ignore")
    delimiter = _delimiter(sample.lstrip("\ufeff").splitlines()[0] if sample else "")
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    name = ENCODING_NAMES[encoding]
    description = (
        f"CSV, {name}, separated by "
        + ({",": "commas", ";": "semicolons", "\t": "tabs"}[delimiter])
    )

    def read() -> Iterator[tuple[int, list[str]]]:
        starts = 1  # the line the next row starts on
        try:
            for cells in reader:
                # Rows are numbered by the line they start on, as people find them.
                yield starts, cells
                starts = reader.line_num + 1
        except UnicodeDecodeError as error:
            # Text is decoded ahead of the rows read: find the line of the first bad byte.
            line, byte = _undecodable(file, encoding) or (starts, error.object[error.start])
            raise InvalidFile(
                f"Line {line} is not valid {name} (byte 0x{byte:02X}). Save the file as "
                "UTF-8 CSV and upload it again."
            ) from None
        except csv.Error as error:
            hint = ""
            if reader.line_num > starts:
                hint = (
                    f" The row starting on line {starts} runs on to line {reader.line_num}: "
                    "is a double quote in it left unclosed?"
                )
            raise InvalidFile(
                f"Line {starts}: the file is not valid CSV ({error}).{hint}"
            ) from None

    rows = read()
    first = next(rows, None)
    if first is None:
        raise InvalidFile("The file is empty.")
    return Table(header=first[1], rows=rows, description=description)


# Bytes that cannot be decoded, as the "surrogateescape" error handler gives them.
ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _undecodable(file, encoding: str) -> tuple[int, int] | None:
    """The line and value of the first byte of ``file`` that ``encoding`` cannot decode."""
    file.seek(0)
    text = io.TextIOWrapper(file, encoding=encoding, errors="surrogateescape", newline="")
    try:
        for number, line in enumerate(text, start=1):
            if match := ESCAPED_BYTE.search(line):
                return number, ord(match.group()) - 0xDC00
    except UnicodeDecodeError:  # not one byte (UTF-16): the caller says where it noticed
        return None
    finally:
        text.detach()
    return None


def _xlsx(file) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise InvalidFile(f"The file looks like XLSX but cannot be read ({error}).") from None
    sheet = workbook.worksheets[0]
    lines = enumerate(sheet.iter_rows(values_only=True), start=1)

    def read() -> Iterator[tuple[int, list[str]]]:
        for number, values in lines:
            yield number, [_text(value) for value in values]
        workbook.close()

    rows = read()
    first = next(rows, None)
    if first is None:
        raise InvalidFile("The file is empty.")
    cells = first[1]
    while cells and not cells[-1]:
        cells.pop()
    return Table(header=cells, rows=rows, description=f"XLSX, sheet “{sheet.title}”")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0) and value.tzinfo is None:
        return value.date().isoformat()  # a spreadsheet's date is a datetime at midnight
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


class Echo:
    """A file-like object whose ``write`` returns what it was given, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def _neutralised(row: list[str]) -> list[str]:
    # Most cells start with a character ``neutralise`` leaves alone: no call for them.
    return [neutralise(cell) if cell[:1] in NEUTRALISED_STARTS else cell for cell in row]


def csv_lines(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    """The CSV text of ``header`` and ``rows``, neutralised, a line at a time."""
    writer = csv.writer(Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow(_neutralised(row))


def xlsx_bytes(header: list[str], rows: Iterable[list[str]], title: str = "Contacts") -> bytes:
    """An XLSX workbook of ``header`` and ``rows``, every cell text, neutralised."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        # Control characters (other than tab and line breaks) cannot be stored in XLSX.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in _neutralised(row)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
