"""Benchmark: what a hostile or careless import file costs before it is refused.

Each case runs in a process of its own, so that its peak memory (``ru_maxrss``) is its own:

1. an XLSX "zip bomb": a few megabytes that unpack to ``--bomb-mb`` megabytes of sheet;
2. a CSV header of 10,000 columns, and one of 1,000,000;
3. ``--commas-mb`` megabytes of commas without a newline;
4. the column mapping page of a file with as many columns as ``IMPORT_MAX_COLUMNS`` allows
   (1,000 by default): upload, then ``GET`` the page, with Django's test client.

Cases 1-3 go through the upload form's check (``ImportUploadForm``, which reads the header
with the limits of the settings); each prints the time until the answer, the peak memory of
its process over what it held before the check (the file itself is in memory already, as
Django's upload handler leaves it), and the message the editor sees.

    .venv/bin/python bench/upload_limits.py
    .venv/bin/python bench/upload_limits.py --bomb-mb 2000 --commas-mb 52

Results are also written to ``bench/results/upload_limits.json``.
"""

import argparse
import io
import json
import multiprocessing
import os
import resource
import sys
import time
import zipfile

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.environment import BENCH_DIR, setup

SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main"><sheetData>'
)
ROW = b'<row><c t="inlineStr"><is><t>ann@example.com</t></is></c></row>'


def zip_bomb(megabytes: int) -> bytes:
    """An XLSX file whose one sheet unpacks to ``megabytes`` MB of rows."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_START)
            chunk = ROW * (1024 * 1024 // len(ROW))
            for _ in range(megabytes):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def wide_header(columns: int) -> bytes:
    return ("email," + ",".join(f"column {n}" for n in range(columns)) + "\n").encode()


def commas(megabytes: int) -> bytes:
    return b"email" + b"," * (megabytes * 1024 * 1024)


def check_upload(name: str, content: bytes) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from wagtail_preferences.admin.import_forms import ImportUploadForm

    started = time.perf_counter()
    form = ImportUploadForm(data={"mode": "add"}, files={"file": SimpleUploadedFile(name, content)})
    valid = form.is_valid()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "answer": "accepted" if valid else form.errors["file"][0]}


def mapping_page() -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from wagtail_preferences.conf import get_setting
    from wagtail_preferences.models import ImportRun

    columns = get_setting("IMPORT_MAX_COLUMNS") - 1
    header = wide_header(columns)
    content = header + b"ann@example.com" + b",x" * columns + b"\n"
    client = Client()
    user, _ = get_user_model().objects.get_or_create(
        username="bench-importer", defaults={"is_staff": True, "is_superuser": True}
    )
    client.force_login(user)
    ImportRun.objects.all().delete()
    upload = io.BytesIO(content)
    upload.name = "wide.csv"
    client.post(reverse("preference_center_imports:upload"), {"file": upload, "mode": "add"})
    run = ImportRun.objects.latest("pk")
    started = time.perf_counter()
    response = client.get(reverse("preference_center_imports:mapping", args=[run.pk]))
    seconds = time.perf_counter() - started
    run.delete()
    return {"seconds": seconds, "answer": f"{response.status_code}, {columns + 1:,} columns"}


def run_case(case, arguments, queue) -> None:
    setup()
    content_maker, name, check = case
    content = content_maker(*arguments) if content_maker else None
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = check(name, content) if content is not None else check()
    result["added_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    result["input_mb"] = len(content) / 1024 / 1024 if content is not None else None
    queue.put(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bomb-mb", type=int, default=2000)
    parser.add_argument("--commas-mb", type=int, default=52)
    options = parser.parse_args()
    cases = {
        f"XLSX unpacking to {options.bomb_mb:,} MB": (
            (zip_bomb, "bomb.xlsx", check_upload),
            (options.bomb_mb,),
        ),
        "CSV, 10,000 columns": ((wide_header, "wide.csv", check_upload), (10_000,)),
        "CSV, 1,000,000 columns": ((wide_header, "wider.csv", check_upload), (1_000_000,)),
        f"CSV, {options.commas_mb} MB of commas, no newline": (
            (commas, "commas.csv", check_upload),
            (options.commas_mb,),
        ),
        "mapping page at the column limit": ((None, None, mapping_page), ()),
    }
    context = multiprocessing.get_context("fork")
    results = {}
    print(f"{'case':<44} {'input MB':>9} {'seconds':>8} {'added MB':>8}  answer")
    for label, (case, arguments) in cases.items():
        queue = context.Queue()
        process = context.Process(target=run_case, args=(case, arguments, queue))
        process.start()
        process.join()
        if process.exitcode:
            sys.exit(f"{label}: the case failed (exit code {process.exitcode}).")
        result = queue.get()
        results[label] = result
        size = f"{result['input_mb']:.1f}" if result["input_mb"] is not None else "-"
        print(
            f"{label:<44} {size:>9} {result['seconds']:>8.3f} {result['added_mb']:>8.0f}  "
            f"{result['answer']}"
        )
    with open(os.path.join(BENCH_DIR, "results", "upload_limits.json"), "w") as output:
        json.dump(results, output, indent=2)


if __name__ == "__main__":
    main()
