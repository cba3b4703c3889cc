"""Reading and writing contact tables: CSV in the encodings spreadsheets save, and XLSX.

Shared by import and export, so that a file exported can be imported unchanged.
"""

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from django.utils.translation import gettext as _

from ..conf import get_setting
from ..exceptions import InvalidFile

# A spreadsheet reads a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters a spreadsheet may skip or a reader not see before a formula: spaces, control
# characters, zero-width and direction marks, byte order marks.
INVISIBLE = (
    "".join(chr(c) for c in range(0x21) if chr(c) not in FORMULA_STARTS)
    + "\x7f\xa0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    + "\u200a\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e"
    + "\u202f\u205f\u2060\u2061\u2062\u2063\u2064\u3000\ufeff"
)
# The first characters of cells that ``neutralise`` may change; others it leaves at once.
GUARDED_STARTS = frozenset((*FORMULA_STARTS, "'", *INVISIBLE))
# A phone number in international form ("+32 470 12 34 56"): as a formula it holds no
# function, reference or link, so a spreadsheet can do no harm with it, and an apostrophe
# before it would only spoil it.
PHONE_NUMBER = re.compile(r"\+\d[\d ()./-]*")
SAMPLE_SIZE = 64 * 1024
XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DELIMITERS = (",", ";", "\t")
# Names in a cell are separated by commas or stand on lines of their own.
NAME_SEPARATORS = re.compile(r"[,\r\n]")
LINE_BREAKS = re.compile(r"\r\n?|\n")


def _formula_like(value: str) -> bool:
    """Whether a spreadsheet could read ``value``, past apostrophes and invisible
    characters, as a formula."""
    return value.lstrip(INVISIBLE + "'").startswith(FORMULA_STARTS)


def neutralise(value: str, *, guard: bool = True) -> str:
    """``value`` made safe to open in a spreadsheet: a leading apostrophe before a formula.

    Values that already start with an apostrophe before such a character get one more, so
    that ``restore`` gives back exactly what was neutralised; with ``guard`` off (a file
    whose cells are text, such as XLSX) only those do.
    """
    if not _formula_like(value):
        return value
    if value.startswith("'") or (guard and not PHONE_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The inverse of ``neutralise``."""
    if value.startswith("'") and _formula_like(value):
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


@dataclass(frozen=True)
class Limits:
    """What reading a file may cost; a file past any of them is refused, unread."""

    columns: int
    header_length: int
    row_length: int
    rows: int
    xlsx_size: int
    xlsx_members: int

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            columns=get_setting("IMPORT_MAX_COLUMNS"),
            header_length=get_setting("IMPORT_MAX_HEADER_LENGTH"),
            row_length=get_setting("IMPORT_MAX_ROW_LENGTH"),
            rows=get_setting("IMPORT_MAX_ROWS"),
            xlsx_size=get_setting("IMPORT_XLSX_MAX_SIZE"),
            xlsx_members=get_setting("IMPORT_XLSX_MAX_MEMBERS"),
        )


def open_table(file, limits: Limits | None = None) -> Table:
    """Read ``file`` (a binary file object) as XLSX or CSV, whichever it holds.

    Raises ``InvalidFile`` with a message for the person who made the file, also as soon as
    the file goes past ``limits`` (by default those of the settings).
    """
    limits = limits or Limits.from_settings()
    file.seek(0)
    start = file.read(SAMPLE_SIZE)
    file.seek(0)
    if not start.strip():
        raise InvalidFile(_("The file is empty."))
    xlsx = start.startswith(XLSX_MAGIC)
    table = _xlsx(file, limits) if xlsx else _csv(file, start, limits)
    header = [cell.strip() for cell in table.header]
    if not any(header):
        raise InvalidFile(_("The file's first row, its header, is empty."))
    if any("\x00" in cell for cell in header):
        raise InvalidFile(_("The file's header holds NUL characters, which are not text."))
    if len(header) > limits.columns:
        raise InvalidFile(
            _("The file has %(count)s columns; files of up to %(limit)s columns can be imported.")
            % {"count": f"{len(header):,}", "limit": f"{limits.columns:,}"}
        )
    if sum(map(len, header)) > limits.header_length:
        raise InvalidFile(_header_too_long(limits))
    table.header = header
    return table


def _header_too_long(limits: Limits) -> str:
    return _(
        "The file's header, its first row, is longer than %(limit)s characters: is it the "
        "header of a contact table?"
    ) % {"limit": f"{limits.header_length:,}"}


def read_header(file) -> list[str]:
    """The header of ``file``, read without closing it (an upload is saved afterwards)."""
    limits = Limits.from_settings()
    file.seek(0)
    start = file.read(SAMPLE_SIZE)
    if start.startswith(XLSX_MAGIC):
        # openpyxl leaves open a file object it was given.
        header = open_table(file, limits).header
    else:
        # A text wrapper closes the file it wraps when it goes: it gets a copy of the start,
        # and of the rest of the first line as far as a header may go (4 bytes a character).
        rest = file.readline(4 * limits.header_length + 8)
        header = open_table(io.BytesIO(start + rest), limits).header
    file.seek(0)
    return header


def _encoding(start: bytes) -> str:
    if start.startswith(OLE2_MAGIC):
        raise InvalidFile(
            _(
                "This is an Excel 97-2003 workbook (.xls), which cannot be read: save it as "
                "XLSX or CSV and upload it again."
            )
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
            _(
                "The file holds NUL bytes: it is not a CSV file, or it is UTF-16 without a "
                "byte order mark. Save it as UTF-8 CSV and upload it again."
            )
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


def _csv(file, start: bytes, limits: Limits) -> Table:
    encoding = _encoding(start)
    text = io.TextIOWrapper(file, encoding=encoding, errors="strict", newline="")
    sample = start.decode(encoding, errors="ignore")
    delimiter = _delimiter(sample.lstrip("\ufeff").splitlines()[0] if sample else "")
    reader = csv.reader(_lines(text, limits), delimiter=delimiter, strict=True)
    name = ENCODING_NAMES[encoding]
    description = (
        f"CSV, {name}, separated by "
        + ({",": "commas", ";": "semicolons", "\t": "tabs"}[delimiter])
    )

    def read() -> Iterator[tuple[int, list[str]]]:
        starts = 1  # the line the next row starts on
        try:
            for count, cells in enumerate(reader):  # the header is row 0
                if count > limits.rows:
                    raise InvalidFile(_too_many_rows(limits))
                # Rows are numbered by the line they start on, as people find them.
                yield starts, cells
                starts = reader.line_num + 1
        except UnicodeDecodeError as error:
            # Text is decoded ahead of the rows read: find the line of the first bad byte.
            line, byte = _undecodable(file, encoding) or (starts, error.object[error.start])
            raise InvalidFile(
                _(
                    "Line %(line)s is not valid %(encoding)s (byte %(byte)s). Save the file as "
                    "UTF-8 CSV and upload it again."
                )
                % {"line": line, "encoding": name, "byte": f"0x{byte:02X}"}
            ) from None
        except csv.Error as error:
            hint = ""
            if reader.line_num > starts:
                hint = " " + _(
                    "The row starting on line %(start)s runs on to line %(end)s: is a double "
                    "quote in it left unclosed?"
                ) % {"start": starts, "end": reader.line_num}
            raise InvalidFile(
                _("Line %(line)s: the file is not valid CSV (%(error)s).")
                % {"line": starts, "error": error}
                + hint
            ) from None

    rows = read()
    first = next(rows, None)
    if first is None:
        raise InvalidFile(_("The file is empty."))
    return Table(header=first[1], rows=rows, description=description)


def _lines(text, limits: Limits) -> Iterator[str]:
    """The lines of ``text``, refused as soon as one is longer than a row (or header) may be.

    Never more than a line's limit is read, so a file without line breaks costs no more
    than a long line.
    """
    limit, number = limits.header_length, 1
    while line := text.readline(limit + 2):  # room for a line break, "\r\n" included
        if len(line) > limit and len(line.rstrip("\r\n")) > limit:
            if number == 1:
                raise InvalidFile(_header_too_long(limits))
            raise InvalidFile(
                _(
                    "Line %(line)s is longer than %(limit)s characters, the most a row may "
                    "hold. Is the file a CSV file with a line for each contact?"
                )
                % {"line": f"{number:,}", "limit": f"{limit:,}"}
            )
        yield line
        limit, number = limits.row_length, number + 1


def _too_many_rows(limits: Limits) -> str:
    return _(
        "The file has more than %(limit)s rows, the most a file may hold: split it into "
        "smaller files."
    ) % {"limit": f"{limits.rows:,}"}


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


def _xlsx(file, limits: Limits) -> Table:
    from openpyxl import load_workbook

    _check_archive(file, limits)
    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise InvalidFile(
            _("The file looks like XLSX but cannot be read (%(error)s).") % {"error": error}
        ) from None
    sheet = workbook.worksheets[0]
    lines = enumerate(sheet.iter_rows(values_only=True), start=1)

    def read() -> Iterator[tuple[int, list[str]]]:
        for number, values in lines:
            if number > limits.rows + 1:
                raise InvalidFile(_too_many_rows(limits))
            yield number, [_text(value) for value in values]
        workbook.close()

    rows = read()
    first = next(rows, None)
    if first is None:
        raise InvalidFile(_("The file is empty."))
    cells = first[1]
    while cells and not cells[-1]:
        cells.pop()
    return Table(header=cells, rows=rows, description=f"XLSX, sheet “{sheet.title}”")


def _too_many_parts(count: int, limits: Limits) -> str:
    return _(
        "The XLSX file holds %(count)s parts; files of up to %(limit)s can be imported. Save "
        "the contacts as CSV and upload that."
    ) % {"count": f"{count:,}", "limit": f"{limits.xlsx_members:,}"}


# The end of a zip archive's central directory, and where it says how many members it has.
END_OF_DIRECTORY = b"PK\x05\x06"
END_OF_DIRECTORY_SIZE = 22
MAX_COMMENT_SIZE = 0xFFFF


def _check_archive(file, limits: Limits) -> None:
    """Refuse an XLSX file (a zip archive) that unpacks to more than ``limits`` allow.

    Read from the archive's directory, before anything is unpacked: a "zip bomb" of a few
    megabytes can unpack to gigabytes. The count comes from the directory's last record, so
    that a directory of a million members is not read either.
    """
    file.seek(0, io.SEEK_END)
    end = file.tell()
    file.seek(max(0, end - END_OF_DIRECTORY_SIZE - MAX_COMMENT_SIZE))
    tail = file.read()
    at = tail.rfind(END_OF_DIRECTORY)
    members = int.from_bytes(tail[at + 10 : at + 12], "little") if at >= 0 else None
    if members is not None and members > limits.xlsx_members:
        raise InvalidFile(_too_many_parts(members, limits))
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise InvalidFile(
            _("The file looks like XLSX but cannot be read (%(error)s).") % {"error": error}
        ) from None
    finally:
        file.seek(0)
    if len(infos) > limits.xlsx_members:  # a count the last record did not tell
        raise InvalidFile(_too_many_parts(len(infos), limits))
    size = sum(info.file_size for info in infos)
    if size > limits.xlsx_size:
        raise InvalidFile(
            _(
                "The XLSX file unpacks to %(size)s bytes; files that unpack to up to "
                "%(limit)s bytes can be imported. Save the contacts as CSV and upload that."
            )
            % {"size": f"{size:,}", "limit": f"{limits.xlsx_size:,}"}
        )


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


def _neutralised(row: list[str], guard: bool) -> list[str]:
    # Most cells start with a character ``neutralise`` leaves alone: no call for them.
    return [neutralise(cell, guard=guard) if cell[:1] in GUARDED_STARTS else cell for cell in row]


def csv_lines(
    header: list[str], rows: Iterable[list[str]], *, formula_guard: bool = True
) -> Iterator[str]:
    """The CSV text of ``header`` and ``rows``, a line at a time.

    With ``formula_guard`` cells are neutralised for a spreadsheet; without, cells are
    written as they are, for a program that reads them as text.
    """
    writer = csv.writer(Echo())
    if not formula_guard:
        yield "\ufeff" + writer.writerow(header)
        yield from map(writer.writerow, rows)
        return
    yield "\ufeff" + writer.writerow(_neutralised(header, True))
    for row in rows:
        yield writer.writerow(_neutralised(row, True))


def xlsx_bytes(header: list[str], rows: Iterable[list[str]], title: str = "Contacts") -> bytes:
    """An XLSX workbook of ``header`` and ``rows``, every cell a text cell.

    A text cell is never a formula, so no apostrophe is needed: cells are written as they
    are, but for the control characters XLSX cannot hold, and ``restore`` reads them back.
    """
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append([_text_cell(sheet, cell) for cell in header])
    for row in rows:
        sheet.append([_text_cell(sheet, cell) for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet, value: str):
    """``value`` as a cell of ``sheet`` that holds text, whatever the text looks like."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    # Cleaned first, then guarded: what is left is what a spreadsheet reads.
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value[:1] not in GUARDED_STARTS and value[:1] != "#":
        return value  # openpyxl writes it as text
    cell = WriteOnlyCell(sheet, value=neutralise(value, guard=False))
    cell.data_type = "s"  # not a formula ("=...") nor an error ("#N/A")
    return cell
