"""Settings of the db_worker processes bench/campaigns.py starts: the bench's database
(``DATABASE_URL``), the database task backend, the bench's SMTP server and the connections
each worker sends over (``--connections``)."""

import os

from bench.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["WP_BENCH_SMTP_PORT"])
WAGTAIL_PREFERENCES = {  # noqa: F405
    **WAGTAIL_PREFERENCES,  # noqa: F405
    "BASE_URL": "https://www.example.com",
    "SEND_CONNECTIONS": int(os.environ["WP_BENCH_SEND_CONNECTIONS"]),
}
