"""Settings of the db_worker processes bench/campaigns.py starts: the bench's database
(``DATABASE_URL``), the database task backend and the bench's SMTP server."""

import os

from bench.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["WP_BENCH_SMTP_PORT"])
WAGTAIL_PREFERENCES = {**WAGTAIL_PREFERENCES, "BASE_URL": "https://www.example.com"}  # noqa: F405
