"""Settings for the benchmarks: the test settings, pointed at ``DATABASE_URL``.

Without ``DATABASE_URL`` the benchmarks use a SQLite file in ``bench/results/`` (ignored
by git). The figures in ``bench/README.md`` were measured on PostgreSQL.
"""

import datetime
import os

import dj_database_url

from tests.settings import *  # noqa: F403

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
RESULTS_DIR = os.path.join(BENCH_DIR, "results")

DATABASES = {
    "default": dj_database_url.config(
        default="sqlite:///" + os.path.join(RESULTS_DIR, "bench.sqlite3"), conn_max_age=0
    )
}
DEBUG = False
# Files the benchmarks store (import runs' uploads) stay next to their results.
MEDIA_ROOT = os.path.join(RESULTS_DIR, "media")

# Import runs read the files the benchmark writes where it writes them, and keep them for the
# next step (the re-import) and the next run.
WAGTAIL_PREFERENCES = {
    "IMPORT_FILE_ROOT": MEDIA_ROOT,
    "IMPORT_FILE_RETENTION": datetime.timedelta(days=365),
}
