"""Reading contact tables: CSV in every encoding and separator, XLSX, and what cells hold."""

import codecs
import datetime
import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from wagtail_preferences.exceptions import InvalidFile
from wagtail_preferences.transfers.spreadsheets import (
    SAMPLE_SIZE,
    csv_lines,
    join_names,
    neutralise,
    open_table,
    read_header,
    restore,
    split_names,
    xlsx_bytes,
)

HEADER = ["email", "first_name", "last_name"]
ROWS = [
    ["zoe@example.com", "Zoë", "Ångström"],
    ["francois@example.com", "François", "Œuvre €"],
]


def read(data: bytes):
    """The header, the rows (line, cells) and the description of the table in ``data``."""
    table = open_table(io.BytesIO(data))
    return table.header, list(table.rows), table.description


def text(rows, delimiter=",", newline="\r\n") -> str:
    return "".join(delimiter.join(row) + newline for row in rows)


def xlsx(*rows, title="Contacts") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# CSV: encodings and separators ------------------------------------------------------------

ENCODINGS = [
    ("utf-8", b"", "UTF-8"),
    ("utf-8", codecs.BOM_UTF8, "UTF-8 with BOM"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "UTF-16"),
    ("cp1252", b"", "Windows-1252"),
]
DELIMITERS = [(",", "commas"), (";", "semicolons"), ("\t", "tabs")]


@pytest.mark.parametrize(("encoding", "bom", "name"), ENCODINGS)
@pytest.mark.parametrize(("delimiter", "separated_by"), DELIMITERS)
def test_csv_in_every_encoding_and_separator(encoding, bom, name, delimiter, separated_by):
    data = bom + text([HEADER, *ROWS], delimiter).encode(encoding)

    header, rows, description = read(data)

    assert header == HEADER
    assert rows == [(2, ROWS[0]), (3, ROWS[1])]
    assert description == f"CSV, {name}, separated by {separated_by}"


def test_the_separator_is_the_one_the_header_uses_most():
    # Commas in the values do not count: only the header line decides.
    data = text([["email", "name"], ["a@example.com", "Doe, Jane"]], ";").encode()

    header, rows, description = read(data)

    assert header == ["email", "name"]
    assert rows == [(2, ["a@example.com", "Doe, Jane"])]
    assert description.endswith("semicolons")


def test_a_single_column_is_separated_by_commas():
    assert read(b"email\na@example.com\n")[:2] == (["email"], [(2, ["a@example.com"])])


def test_utf8_cut_by_the_sample_in_the_middle_of_a_character_is_still_utf8():
    filler = "a@example.com,x\n"
    start = "email,name\n" + filler * ((SAMPLE_SIZE - 100) // len(filler))
    # "é" is two bytes in UTF-8: its first byte is the last of the sample.
    start += "b" * (SAMPLE_SIZE - 1 - len(start))
    data = (start + "é@example.com,é\n").encode()
    assert data[SAMPLE_SIZE - 1 : SAMPLE_SIZE + 1] == "é".encode()

    header, rows, description = read(data)

    assert description == "CSV, UTF-8, separated by commas"
    last_email, last_name = rows[-1][1]
    assert last_email.endswith("bé@example.com") and last_name == "é"


def test_windows_1252_when_the_start_is_not_utf8():
    data = "email;name\r\nz@example.com;Zoë\r\n".encode("cp1252")

    header, rows, description = read(data)

    assert rows == [(2, ["z@example.com", "Zoë"])]
    assert description == "CSV, Windows-1252, separated by semicolons"


def test_line_endings_of_old_macs_and_of_unix():
    assert read(b"email,name\ra@example.com,A\rb@example.com,B\r")[1] == [
        (2, ["a@example.com", "A"]),
        (3, ["b@example.com", "B"]),
    ]
    assert read(b"email,name\na@example.com,A")[1] == [(2, ["a@example.com", "A"])]


def test_quoted_values_hold_separators_quotes_and_line_breaks():
    data = b'email,note\r\na@example.com,"one, ""two""\r\nthree"\r\nb@example.com,x\r\n'

    header, rows, _ = read(data)

    # A row is numbered by the line it starts on, where a person finds it in the file.
    assert rows == [(2, ["a@example.com", 'one, "two"\r\nthree']), (4, ["b@example.com", "x"])]


def test_header_cells_are_stripped():
    assert read(b" email , First name \nx@example.com,X\n")[0] == ["email", "First name"]


def test_header_only_file_has_no_rows():
    header, rows, _ = read(b"email,first_name\r\n")

    assert header == ["email", "first_name"]
    assert rows == []


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", codecs.BOM_UTF8, codecs.BOM_UTF16_LE])
def test_empty_file(data):
    with pytest.raises(InvalidFile, match="empty"):
        read(data)


def test_empty_header():
    with pytest.raises(InvalidFile, match="header, is empty"):
        read(b",,\na@example.com,,\n")


# CSV: files that cannot be read --------------------------------------------------------------


def test_a_header_holding_nul_is_refused():
    with pytest.raises(InvalidFile, match="header holds NUL characters"):
        read(b"email,na\x00me\na@example.com,A\n")


def test_utf16_without_bom_is_refused_with_a_reason():
    data = text([HEADER, *ROWS]).encode("utf-16-le")

    with pytest.raises(InvalidFile, match="UTF-16 without a byte order mark"):
        read(data)


def test_an_old_excel_workbook_is_refused_with_a_reason():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512

    with pytest.raises(InvalidFile, match=r"Excel 97-2003 workbook \(\.xls\)"):
        read(data)


def test_bytes_windows_1252_does_not_define_name_their_line():
    # 0x81 has no character in Windows-1252; 0xE9 (é) makes the file Windows-1252.
    lines = [b"email,name", b"a@example.com,Ren\xe9", b"b@example.com,B", b"c@example.com,\x81"]
    data = b"\r\n".join(lines) + b"\r\n"

    # Decoded ahead of the rows, a small file fails as it opens.
    with pytest.raises(InvalidFile) as error:
        list(open_table(io.BytesIO(data)).rows)

    assert str(error.value).startswith("Line 4 is not valid Windows-1252 (byte 0x81).")


def test_a_byte_that_is_not_utf8_past_the_sample_names_its_line():
    # The sample is plain ASCII, so the file is read as UTF-8; the text wrapper decodes
    # ahead of the rows, and the line is still the right one.
    lines = ["email,name"] + [f"c{n}@example.com,Name {n}" for n in range(8000)]
    data = "\n".join(lines).encode() + b"\nlast@example.com,Ren\xe9\n" + b"x@example.com,X\n" * 500
    assert len(data) > SAMPLE_SIZE * 2

    table = open_table(io.BytesIO(data))
    with pytest.raises(InvalidFile) as error:
        list(table.rows)

    assert str(error.value).startswith("Line 8002 is not valid UTF-8 (byte 0xE9).")
    assert "Save the file as UTF-8 CSV" in str(error.value)


def test_an_unclosed_quote_names_the_line_it_opens_on():
    data = b'email,name\na@example.com,A\nb@example.com,"B\nc@example.com,C\nd@example.com,D\n'

    table = open_table(io.BytesIO(data))
    with pytest.raises(InvalidFile) as error:
        list(table.rows)

    message = str(error.value)
    assert message.startswith("Line 3: the file is not valid CSV")
    assert "runs on to line 5" in message and "double quote" in message


def test_an_unclosed_quote_in_the_header():
    with pytest.raises(InvalidFile, match="^Line 1: the file is not valid CSV"):
        read(b'email,"name\na@example.com,A\n')


def test_text_after_a_closing_quote_is_invalid_on_its_line():
    table = open_table(io.BytesIO(b'email,name\na@example.com,"A"x\n'))

    with pytest.raises(InvalidFile, match="^Line 2: the file is not valid CSV"):
        list(table.rows)


def test_read_header_leaves_the_file_open_at_its_start():
    upload = io.BytesIO(text([HEADER, *ROWS]).encode())

    assert read_header(upload) == HEADER
    assert not upload.closed and upload.tell() == 0


# XLSX -----------------------------------------------------------------------------------------


def test_xlsx_cells_as_text():
    data = xlsx(
        ["email", "phone", "score", "born", "seen", "member", "note", None, None],
        [
            "a@example.com",
            32470123456,
            1.5,
            datetime.date(1990, 5, 17),
            datetime.datetime(2025, 6, 2, 14, 30),
            True,
            None,
        ],
        ["b@example.com", 32470123456.0, 2, None, None, False, "'=1+1"],
        title="Leads",
    )

    header, rows, description = read(data)

    # Columns without a name at the end of the header are not columns.
    assert header == ["email", "phone", "score", "born", "seen", "member", "note"]
    # Rows are as wide as the sheet.
    assert rows[0] == (
        2,
        ["a@example.com", "32470123456", "1.5", "1990-05-17", "2025-06-02T14:30:00", "true"]
        + [""] * 3,
    )
    assert rows[1] == (3, ["b@example.com", "32470123456", "2", "", "", "false", "'=1+1", "", ""])
    assert description == "XLSX, sheet “Leads”"


def test_xlsx_header_only_and_blank_rows_keep_their_numbers():
    header, rows, _ = read(xlsx(["email"]))
    assert (header, rows) == (["email"], [])

    header, rows, _ = read(xlsx(["email"], [None], ["a@example.com"]))
    assert rows == [(2, [""]), (3, ["a@example.com"])]


def test_a_damaged_xlsx_file():
    data = xlsx(["email"], ["a@example.com"])[:300]

    with pytest.raises(InvalidFile, match="looks like XLSX but cannot be read"):
        read(data)


def test_a_zip_that_is_no_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")

    with pytest.raises(InvalidFile, match="looks like XLSX"):
        read(buffer.getvalue())


HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+32470123456",
    "-5",
    "@sum",
    "'=quoted",
    "plain, text",
    '\x01=HYPERLINK("http://evil.example","x")',
    "\u200b=1+1",
    "\ufeff@SUM(A1)",
    " =1+1",
    "#N/A",
]


def test_what_an_export_writes_an_import_reads_unchanged():
    header = [f"c{i}" for i in range(len(HOSTILE))]

    read_header_, read_rows, _ = read("".join(csv_lines(header, [HOSTILE])).encode())

    assert read_header_ == header
    cells = read_rows[0][1]
    assert [restore(cell) for cell in cells] == HOSTILE
    # Opened in a spreadsheet, no cell is a formula, even past invisible characters; a
    # phone number is left as it is.
    assert [cell[:1] == "'" for cell in cells] == [
        True,
        False,
        *[True] * 3,
        False,
        *[True] * 4,
        False,
    ]


def test_xlsx_cells_are_text_never_formulas():
    header = [f"c{i}" for i in range(len(HOSTILE))]

    data = xlsx_bytes(header, [HOSTILE])

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    assert 't="e"' not in sheet
    _, read_rows, _ = read(data)
    cells = read_rows[0][1]
    # No apostrophe is added; the control characters XLSX cannot hold are gone.
    assert cells[1] == "+32470123456"
    assert cells[6] == '=HYPERLINK("http://evil.example","x")'
    assert [restore(cell) for cell in cells] == [*HOSTILE[:6], cells[6], *HOSTILE[7:]]


def test_an_unguarded_csv_writes_cells_as_they_are():
    lines = "".join(csv_lines(["a", "b"], [["=1+1", "+32 470 12 34 56"]], formula_guard=False))

    assert lines == "\ufeffa,b\r\n=1+1,+32 470 12 34 56\r\n"


# Formula cells ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+32 (0)470-123.456", "+32 (0)470-123.456"),  # a phone number: no formula to fear
        ("+32470123456", "+32470123456"),
        ("'+32470123456", "''+32470123456"),
        ("+1+A1", "'+1+A1"),
        ("+", "'+"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\x01=1+1", "'\x01=1+1"),
        ("\u200b\ufeff=1+1", "'\u200b\ufeff=1+1"),
        ("'=1+1", "''=1+1"),
        ("''+1", "'''+1"),
        ("O'Brien", "O'Brien"),
        ("'quoted'", "'quoted'"),
        ("'", "'"),
        ("", ""),
        ("a=b", "a=b"),
        ("\u200bAnn", "\u200bAnn"),
    ],
)
def test_neutralise_and_restore(value, safe):
    assert neutralise(value) == safe
    assert restore(safe) == value


@pytest.mark.parametrize(
    ("value", "written"),
    [("=1+1", "=1+1"), ("+32 470", "+32 470"), ("'=1+1", "''=1+1"), ("'a", "'a")],
)
def test_without_the_guard_only_a_guard_lookalike_is_escaped(value, written):
    assert neutralise(value, guard=False) == written
    assert restore(written) == value


def test_an_old_export_of_a_phone_number_imports_without_its_apostrophe():
    assert restore("'+32 470 12 34 56") == "+32 470 12 34 56"


@given(st.text(), st.booleans())
def test_restore_undoes_neutralise(value, guard):
    assert restore(neutralise(value, guard=guard)) == value


# Names in a cell -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "cell"),
    [
        (["Products", "Trainings"], "Products, Trainings"),
        (["Sales, EMEA", "Products"], '"Sales, EMEA", Products'),
        (['The "best" offers'], '"The ""best"" offers"'),
        (["O'Brien's club"], "O'Brien's club"),
        (["Products"], "Products"),
        ([], ""),
    ],
)
def test_join_and_split_names(names, cell):
    assert join_names(names) == cell
    assert split_names(cell) == names


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("Products,Trainings", ["Products", "Trainings"]),
        (" Products ,  Trainings ,", ["Products", "Trainings"]),
        ("Products\nTrainings\r\nEvents", ["Products", "Trainings", "Events"]),
        ('"Sales, EMEA",Products', ["Sales, EMEA", "Products"]),
        ('"Sales, EMEA"\nProducts', ["Sales, EMEA", "Products"]),
        ('The "best" offers, Products', ['The "best" offers', "Products"]),
        (", ,", []),
    ],
)
def test_split_names_written_by_hand(cell, names):
    assert split_names(cell) == names


@given(st.lists(st.text().map(str.strip).filter(bool)))
def test_split_undoes_join(names):
    names = [name for name in names if not set(name) & {"\r", "\n"}]
    assert split_names(join_names(names)) == [name.strip() for name in names]
