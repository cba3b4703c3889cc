"""Settings of the db_worker processes tests/messaging/test_workers.py starts: the test's
database, the database task backend and the test's SMTP server, from the environment."""

import datetime
import os

import dj_database_url

from tests.settings import *  # noqa: F403

DATABASES = {"default": dj_database_url.parse(os.environ["WP_WORKER_DATABASE_URL"])}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["WP_WORKER_SMTP_PORT"])

WAGTAIL_PREFERENCES = {
    "SEND_BATCH_SIZE": 20,
    "SEND_CHUNK_SIZE": 5,
    "SEND_LEASE": datetime.timedelta(seconds=3),
    # Slow enough for the test to kill a worker in the middle of the campaign.
    "SEND_RATE_LIMITS": {"email": 100},
}
