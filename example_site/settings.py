"""Settings of the example site: a local demo, not a production configuration.

SQLite in example_site/db.sqlite3 by default; set DATABASE_URL to use another database,
for example ``postgres://user:password@127.0.0.1:5432/example``.
"""

import os
from pathlib import Path

import dj_database_url

SITE_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-site-only-not-secret")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "example_site.home",
    "wagtail_preferences",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "example_site.urls"
WSGI_APPLICATION = "example_site.wsgi.application"

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
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{SITE_DIR / 'db.sqlite3'}", conn_max_age=600
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en"
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = SITE_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = SITE_DIR / "media"

# Large page forms in Wagtail's editor go past Django's default of 1,000 fields.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# Every email the site sends, one .eml file each, in example_site/sent_emails/.
EMAIL_BACKEND = "example_site.home.mail.EmlFolderBackend"
EMAIL_FILE_PATH = SITE_DIR / "sent_emails"
DEFAULT_FROM_EMAIL = "Example Company <hello@example.com>"
# Email providers report bounces and complaints to /anymail/<provider>/tracking/ with this
# basic-auth secret (docs/provider-feedback.md); Mailgun signs its posts with its own key.
ANYMAIL = {
    "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", "example:not-secret"),
    "MAILGUN_WEBHOOK_SIGNING_KEY": os.environ.get("MAILGUN_WEBHOOK_SIGNING_KEY", ""),
}

# Background work runs inline; a real site points this at a worker backend.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

WAGTAIL_SITE_NAME = "Example Company"
# `make demo PORT=8080` sets it to where the demo runs.
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "txt", "xlsx"]

# Some settings of the preference center, shown with their defaults; docs/settings.md
# lists every setting.
WAGTAIL_PREFERENCES = {
    "CHANNELS": [
        "wagtail_preferences.channels.email.EmailChannel",
        "wagtail_preferences.channels.sms.SMSChannel",
    ],
    "CONTACTS_PER_PAGE": 50,
    "HISTORY_PANEL_LIMIT": 50,
    # Where links in emails point: campaigns are sent in the background, without a request.
    "BASE_URL": WAGTAILADMIN_BASE_URL.rstrip("/"),
}
