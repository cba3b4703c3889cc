"""Settings for the test suite. DATABASE_URL picks the database; SQLite by default."""

import os
from importlib.util import find_spec

import dj_database_url

BASE_DIR = os.path.dirname(os.path.abspath(__file__))

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "tests.testapp",
    "wagtail_preferences",
    "wagtail.contrib.forms",
    "wagtail.contrib.settings",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {"default": dj_database_url.config(default="sqlite:///:memory:", conn_max_age=0)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"

STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(BASE_DIR, "static")
MEDIA_ROOT = os.path.join(BASE_DIR, "media")
MEDIA_URL = "/media/"

WAGTAIL_SITE_NAME = "wagtail-preferences tests"
WAGTAILADMIN_BASE_URL = "http://testserver"

# Tasks run at once, also inside the test's transaction (django-tasks 0.7, pinned by
# Wagtail 7.0, would otherwise wait for a commit that never comes; later versions ignore it).
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "ENQUEUE_ON_COMMIT": False,
    }
}

# Database workers (the "workers" extra; not installable beside Wagtail 7.0's django-tasks),
# which tests/messaging/test_workers.py starts.
if find_spec("django_tasks_db"):
    INSTALLED_APPS.append("django_tasks_db")

# The tests answer any host (ALLOWED_HOSTS above) and build emailed links on the request's,
# which W001 warns a live site about; tests/app/test_conf_and_checks.py tests the check itself.
SILENCED_SYSTEM_CHECKS = ["wagtail_preferences.W001"]

# Email providers' webhooks (anymail): the basic-auth secret, and Mailgun's signing key.
ANYMAIL = {
    "WEBHOOK_SECRET": "webhook-user:webhook-password",
    "MAILGUN_WEBHOOK_SIGNING_KEY": "mailgun-test-signing-key",
}
