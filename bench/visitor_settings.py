"""Settings for serving the app to the visitor load benchmark (``bench/visitor_load.py``): the
click benchmark's server settings, with the limits of a load test (rate limits raised, no
minimum time to fill a form) and email kept in memory. With ``VISITOR_LOAD_TASKS=db``, tasks
go to the database backend, for a ``db_worker`` process."""

import os

from bench.click_settings import *  # noqa: F403
from wagtail_preferences.conf import RATE_LIMIT_KINDS

WAGTAIL_PREFERENCES = {  # noqa: F405
    **WAGTAIL_PREFERENCES,  # noqa: F405
    "MIN_FILL_SECONDS": 0,
    "RATE_LIMITS": dict.fromkeys(RATE_LIMIT_KINDS, "1000000/hour"),
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if os.environ.get("VISITOR_LOAD_TASKS") == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
