"""What an import file may cost: past a limit it is refused with a message, unread."""

import io
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.import_helpers import csv_text, make_run
from tests.transfers.test_import_files import xlsx
from wagtail_preferences.admin.import_forms import ImportUploadForm
from wagtail_preferences.exceptions import InvalidFile
from wagtail_preferences.models import ImportStatus
from wagtail_preferences.transfers.imports.columns import mapping_problems
from wagtail_preferences.transfers.imports.runner import ImportRunner
from wagtail_preferences.transfers.spreadsheets import open_table, read_header


@pytest.fixture
def limits(settings):
    """Set some import limits (the rest keep their defaults)."""

    def set_to(**values):
        settings.WAGTAIL_PREFERENCES = {f"IMPORT_{name.upper()}": v for name, v in values.items()}

    return set_to


def rows_of(data: bytes) -> list:
    table = open_table(io.BytesIO(data))
    return [table.header, *(cells for _, cells in table.rows)]


def with_padding(workbook: bytes, size: int) -> bytes:
    """``workbook`` with one more part: ``size`` zero bytes, which compress to almost nothing."""
    buffer = io.BytesIO(workbook)
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.bin", bytes(size))
    return buffer.getvalue()


class TestXlsx:
    def test_a_zip_bomb_is_refused_before_it_is_unpacked(self, limits, monkeypatch):
        limits(xlsx_max_size=1_000_000)
        data = with_padding(xlsx(["email"], ["ann@example.com"]), 2_000_000)
        assert len(data) < 50_000  # a few kilobytes that unpack to megabytes

        def never(*args, **kwargs):
            raise AssertionError("the workbook was opened")

        monkeypatch.setattr("openpyxl.load_workbook", never)
        with pytest.raises(InvalidFile, match=r"unpacks to 2,0\d\d,\d\d\d bytes; .* 1,000,000"):
            rows_of(data)

    def test_a_workbook_within_the_limit_is_read(self, limits):
        limits(xlsx_max_size=1_000_000)
        assert rows_of(xlsx(["email"], ["ann@example.com"])) == [["email"], ["ann@example.com"]]

    def test_too_many_members_are_refused(self, limits):
        limits(xlsx_max_members=5)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for number in range(6):
                archive.writestr(f"part{number}.xml", "<x/>")
        with pytest.raises(InvalidFile, match="holds 6 parts; files of up to 5 can be imported"):
            rows_of(buffer.getvalue())

    def test_too_many_rows(self, limits):
        limits(max_rows=2)
        assert len(rows_of(xlsx(["email"], ["a@example.com"], ["b@example.com"]))) == 3
        with pytest.raises(InvalidFile, match="more than 2 rows"):
            rows_of(xlsx(["email"], *([f"{n}@example.com"] for n in range(3))))

    def test_too_many_columns(self, limits):
        limits(max_columns=3)
        with pytest.raises(InvalidFile, match="has 4 columns; files of up to 3 columns"):
            rows_of(xlsx(["email", "a", "b", "c"]))


class TestCsv:
    def test_too_many_columns(self, limits):
        limits(max_columns=3)
        assert rows_of(b"email,a,b\n")[0] == ["email", "a", "b"]
        with pytest.raises(InvalidFile, match="has 4 columns; files of up to 3 columns"):
            rows_of(b"email,a,b,c\n")

    def test_a_header_too_long(self, limits):
        limits(max_header_length=20)
        with pytest.raises(InvalidFile, match="header, its first row, is longer than 20"):
            rows_of(b"email," + b"x" * 20 + b"\n")

    def test_a_row_too_long_names_its_line(self, limits):
        limits(max_row_length=30)
        data = csv_text("email,notes", "ann@example.com,short", f"bob@example.com,{'x' * 20}")
        with pytest.raises(InvalidFile, match="Line 3 is longer than 30 characters"):
            rows_of(data.encode())

    def test_a_row_at_the_limit_is_read_whatever_its_line_break(self, limits):
        limits(max_row_length=10)
        for newline in ("\n", "\r\n", "\r"):
            data = f"email{newline}0123456789{newline}".encode()
            assert rows_of(data) == [["email"], ["0123456789"]]

    def test_too_many_rows(self, limits):
        limits(max_rows=2)
        assert len(rows_of(b'email\na\n"b\nb"\n')) == 3  # a row over two lines is one
        with pytest.raises(InvalidFile, match="more than 2 rows"):
            rows_of(b"email\na\nb\nc\n")

    @pytest.mark.parametrize("read", [rows_of, lambda data: read_header(io.BytesIO(data))])
    def test_commas_without_a_line_break_cost_no_memory(self, read):
        data = b"," * 20_000_000

        tracemalloc.start()
        try:
            with pytest.raises(InvalidFile, match="header, its first row, is longer"):
                read(data)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        assert peak < 5_000_000  # the file is 20 MB; read whole it took gigabytes


@pytest.mark.django_db
def test_a_run_past_the_row_limit_fails_with_the_message(limits):
    limits(max_rows=2)
    run = make_run(csv_text("email", "a@example.com", "b@example.com", "c@example.com"))

    run = ImportRunner(run).check()

    assert run.status == ImportStatus.FAILED
    assert "more than 2 rows" in run.message


def test_the_upload_form_says_what_is_too_much(limits):
    limits(max_columns=2)
    file = SimpleUploadedFile("wide.csv", b"email,a,b\nann@example.com,1,2\n")

    form = ImportUploadForm(data={"mode": "add"}, files={"file": file})

    assert not form.is_valid()
    assert form.errors["file"] == [
        "The file has 3 columns; files of up to 2 columns can be imported."
    ]


def test_a_mapping_of_many_columns_is_checked_whole():
    # Quadratic work per column name took hours here; bench/upload_limits.py times it.
    header = ["email", *(f"column {n}" for n in range(200_000)), "column 7"]
    mapping = dict.fromkeys(header, "")
    mapping["email"] = "email"

    assert mapping_problems(header, mapping) == ["The header names column 7 more than once."]
