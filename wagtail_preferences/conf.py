"""The one place that reads ``settings.WAGTAIL_PREFERENCES``.

Every setting has its default here; ``get_setting`` validates the value it returns and
raises a ``ConfigurationError`` that names the setting when it is wrong.
"""

import os
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from .exceptions import ConfigurationError

SETTINGS_NAME = "WAGTAIL_PREFERENCES"


def _positive_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return "must be a positive integer"
    return None


def _dotted_paths(value: Any) -> str | None:
    if not isinstance(value, list | tuple) or not value:
        return "must be a non-empty list of dotted paths"
    for path in value:
        if not isinstance(path, str):
            return f"must hold dotted paths (strings), not {path!r}"
        try:
            import_string(path)
        except ImportError as error:
            return f"cannot import {path!r} ({error})"
    return None


def _dotted_path(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be a dotted path"
    return _dotted_paths([value])


def _criteria(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be a dict of block name to dotted path"
    return _dotted_paths(list(value.values())) if value else None


def _duration(value: Any) -> str | None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        return "must be a positive datetime.timedelta"
    return None


def _non_negative_duration(value: Any) -> str | None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        return "must be a datetime.timedelta, 0 or more"
    return None


def _optional_path(value: Any) -> str | None:
    if value is None or (isinstance(value, str | os.PathLike) and os.path.isabs(value)):
        return None
    return "must be None or an absolute path"


def _non_negative_number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return "must be a number of seconds, 0 or more"
    return None


def _rates_per_second(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be a dict of channel key to messages per second"
    for key, rate in value.items():
        if not isinstance(key, str) or isinstance(rate, bool) or not isinstance(rate, int | float):
            return f"must map channel keys to numbers, not {key!r}: {rate!r}"
        if rate <= 0:
            return f"must give a positive rate for {key!r}"
    return None


def _optional_email(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", value)):
        return None
    return "must be None or an email address"


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "must be a non-empty string"


def _parameter_name(value: Any) -> str | None:
    if not isinstance(value, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_-]*$", value):
        return "must be a query parameter name of letters, digits, '_' and '-'"
    return None


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _base_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.match(r"^https?://[^/\s]+$", value):
        return 'must be None or a scheme and host without a path, such as "https://example.com"'
    return None


def _service_url(value: Any) -> str | None:
    if isinstance(value, str) and re.match(r"^https?://[^/\s]+$", value):
        return None
    return 'must be a scheme and host without a path, such as "https://api.twilio.com"'


def _positive_seconds(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return "must be a positive number of seconds"
    return None


RATE = re.compile(r"^(\d+)/(second|minute|hour|day)$")
PERIOD_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/hour"`` as (5, 3600): at most 5 in any 3,600 seconds."""
    count, period = RATE.match(rate).groups()
    return int(count), PERIOD_SECONDS[period]


def _keyed(kinds: dict[str, Callable[[Any], str | None]]):
    def validate(value: Any) -> str | None:
        if not isinstance(value, dict):
            return "must be a dict"
        unknown = sorted(set(value) - set(kinds))
        if unknown:
            return f"has unknown keys {', '.join(map(repr, unknown))} (known: {', '.join(kinds)})"
        for key, item in value.items():
            problem = kinds[key](item)
            if problem:
                return f"for {key!r} {problem}"
        return None

    return validate


def _rate(value: Any) -> str | None:
    if not isinstance(value, str) or not RATE.match(value) or parse_rate(value)[0] < 1:
        return 'must be a rate such as "5/hour" (per second, minute, hour or day)'
    return None


def _contact_status(value: Any) -> str | None:
    from .models.contacts import ContactStatus

    if value not in ContactStatus.values:
        return f"must be one of {', '.join(ContactStatus.values)}"
    return None


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be True or False"


RATE_LIMIT_KINDS = ("form_per_ip", "form_per_email", "link_per_ip", "link_per_email")
MANAGE_PAGE_PARTS = (
    "channels",
    "frequency",
    "pause",
    "preferred_channel",
    "categories",
    "preferences",
    "segments",
    "on_unsubscribe",
)

DEFAULTS: dict[str, Any] = {
    # Channel classes a contact can be reached through, in display order.
    "CHANNELS": [
        "wagtail_preferences.channels.email.EmailChannel",
        "wagtail_preferences.channels.sms.SMSChannel",
    ],
    # What the SMS channel sends through: a development backend that writes each message to
    # the console or to a file in SMS_FILE_PATH (None: a folder in the temporary directory).
    "SMS_BACKEND": "wagtail_preferences.channels.sms.ConsoleBackend",
    "SMS_FILE_PATH": None,
    # The account TwilioBackend sends through (the sender: FROM or MESSAGING_SERVICE_SID), and
    # how long it waits for Twilio's answer to each message, in seconds.
    "SMS_TWILIO": {
        "ACCOUNT_SID": None,
        "AUTH_TOKEN": None,
        "FROM": None,
        "MESSAGING_SERVICE_SID": None,
        "API_URL": "https://api.twilio.com",
        "TIMEOUT": 10,
    },
    # How many consent events the contact edit view shows before linking to the rest.
    "HISTORY_PANEL_LIMIT": 50,
    # How many recent changes the Preference center overview lists.
    "OVERVIEW_RECENT_CHANGES": 15,
    # Rows per page in the admin contact list.
    "CONTACTS_PER_PAGE": 50,
    # Up to this many changed contacts, their segments are refreshed for them alone right
    # after the change; a larger change refreshes whole segments in the background.
    "LIVE_REFRESH_LIMIT": 1000,
    # Extra segment criteria: block name -> dotted path of a Criterion block class.
    "SEGMENT_CRITERIA": {},
    # The site template the visitor pages extend; it must have a "content" block.
    "BASE_TEMPLATE": "base.html",
    # How long the links sent by email work.
    "CONFIRMATION_LINK_MAX_AGE": timedelta(days=7),
    "MANAGE_LINK_MAX_AGE": timedelta(days=60),
    "UNSUBSCRIBE_LINK_MAX_AGE": timedelta(days=365),
    # Who the visitor is: functions taking a request and giving a Contact or None, tried in
    # order (see identity.py).
    "IDENTITY_RESOLVERS": [
        "wagtail_preferences.identity.resolvers.from_user",
        "wagtail_preferences.identity.resolvers.from_link_token",
        "wagtail_preferences.identity.resolvers.from_cookie",
    ],
    # The signed cookie that recognises a visitor after a confirmed or followed link.
    "IDENTITY_COOKIE_NAME": "wagtail_preferences",
    "IDENTITY_COOKIE_MAX_AGE": timedelta(days=180),
    # The query parameter of links in emails that recognise the reader, and how long they work.
    "LINK_TOKEN_PARAMETER": "wpt",
    "LINK_TOKEN_MAX_AGE": timedelta(days=60),
    # Spam protection of the visitor forms.
    "MIN_FILL_SECONDS": 2,
    "RATE_LIMITS": {
        "form_per_ip": "20/hour",
        "form_per_email": "5/hour",
        "link_per_ip": "10/hour",
        "link_per_email": "3/hour",
    },
    "RATE_LIMIT_CACHE": "default",
    # Confirmation emails sent for one form submission, the first included.
    "CONFIRMATION_EMAILS_PER_SUBMISSION": 3,
    # The sender of the app's emails; None means DEFAULT_FROM_EMAIL.
    "FROM_EMAIL": None,
    # Where links in emails point, such as "https://www.example.com"; None: the request's host.
    "BASE_URL": None,
    # Which parts of the manage-preferences page a site starts with (site settings decide).
    "MANAGE_PAGE": dict.fromkeys(MANAGE_PAGE_PARTS, True),
    # Whether a site starts by asking "why are you leaving?" after an unsubscribe.
    "ASK_UNSUBSCRIBE_REASON": True,
    # The largest import file the admin accepts, in bytes (the command line has no limit).
    "IMPORT_MAX_UPLOAD_SIZE": 1024**3,
    # Where import files are kept: an alias of Django's STORAGES, never served; None: the
    # alias "wagtail_preferences_imports" if STORAGES has it, else the folder IMPORT_FILE_ROOT.
    "IMPORT_STORAGE": None,
    # The folder of import files when no storage is named; None: a folder in the system's
    # temporary directory (see docs/import-export.md).
    "IMPORT_FILE_ROOT": None,
    # How long an import file is kept once its run ended; 0: deleted at once.
    "IMPORT_FILE_RETENTION": timedelta(0),
    # What an import file may hold; past any of these it is refused before it is read.
    "IMPORT_MAX_ROWS": 2_000_000,
    "IMPORT_MAX_COLUMNS": 1_000,
    "IMPORT_MAX_HEADER_LENGTH": 65_536,
    "IMPORT_MAX_ROW_LENGTH": 1_048_576,
    "IMPORT_XLSX_MAX_SIZE": 256 * 1024**2,
    "IMPORT_XLSX_MAX_MEMBERS": 1_000,
    # Rows read, checked and written together; each batch commits on its own.
    "IMPORT_BATCH_SIZE": 10_000,
    # Rows shown in the preview of an import.
    "IMPORT_PREVIEW_ROWS": 10,
    # The status of contacts an import creates when the file has no status for them.
    "IMPORT_DEFAULT_STATUS": "confirmed",
    # Above this many contacts an export offers CSV only: XLSX is built in memory.
    "EXPORT_XLSX_MAX_ROWS": 100_000,
    # Deliveries one send task claims; the provider gets them SEND_CHUNK_SIZE at a time, and
    # each chunk's results are recorded before the next is handed over.
    "SEND_BATCH_SIZE": 500,
    "SEND_CHUNK_SIZE": 25,
    # Connections (each in a thread) one send task hands its chunks over on at once.
    "SEND_CONNECTIONS": 1,
    # Send tasks queued at once for a campaign: as many as the workers that may share it.
    "SEND_TASKS": 4,
    # How long a claimed batch is a sender's; after it, the sweeper takes it back.
    "SEND_LEASE": timedelta(minutes=5),
    # Attempts at a delivery that keeps failing temporarily, and the wait after the first
    # failure (doubled after each further one).
    "SEND_MAX_ATTEMPTS": 5,
    "SEND_RETRY_DELAY": timedelta(minutes=1),
    # Messages per second per channel, across every worker: {"email": 50}. Absent: no limit.
    "SEND_RATE_LIMITS": {},
    # An address that unsubscribes by email, in List-Unsubscribe beside the HTTPS link.
    "UNSUBSCRIBE_MAILTO": None,
    # What the provider's bounces and complaints lead to: an address is blocked on its
    # channel after HARD_BOUNCES hard bounces, or SOFT_BOUNCES soft bounces within
    # SOFT_BOUNCE_WINDOW; after COMPLAINTS complaints the contact gets no more marketing.
    "BOUNCE_RULES": {
        "HARD_BOUNCES": 1,
        "SOFT_BOUNCES": 3,
        "SOFT_BOUNCE_WINDOW": timedelta(days=14),
        "COMPLAINTS": 1,
    },
    # A new site's tracking settings (Settings → Preference pages): off, private by default.
    "TRACKING": {"OPENS": False, "CLICKS": False},
}

VALIDATORS: dict[str, Callable[[Any], str | None]] = {
    "CHANNELS": _dotted_paths,
    "SMS_BACKEND": _dotted_path,
    "SMS_FILE_PATH": _optional_path,
    "SMS_TWILIO": _keyed(
        {
            "ACCOUNT_SID": _optional_text,
            "AUTH_TOKEN": _optional_text,
            "FROM": _optional_text,
            "MESSAGING_SERVICE_SID": _optional_text,
            "API_URL": _service_url,
            "TIMEOUT": _positive_seconds,
        }
    ),
    "HISTORY_PANEL_LIMIT": _positive_int,
    "OVERVIEW_RECENT_CHANGES": _positive_int,
    "CONTACTS_PER_PAGE": _positive_int,
    "LIVE_REFRESH_LIMIT": _positive_int,
    "SEGMENT_CRITERIA": _criteria,
    "BASE_TEMPLATE": _text,
    "CONFIRMATION_LINK_MAX_AGE": _duration,
    "MANAGE_LINK_MAX_AGE": _duration,
    "UNSUBSCRIBE_LINK_MAX_AGE": _duration,
    "IDENTITY_RESOLVERS": _dotted_paths,
    "IDENTITY_COOKIE_NAME": _text,
    "IDENTITY_COOKIE_MAX_AGE": _duration,
    "LINK_TOKEN_PARAMETER": _parameter_name,
    "LINK_TOKEN_MAX_AGE": _duration,
    "MIN_FILL_SECONDS": _non_negative_number,
    "RATE_LIMITS": _keyed(dict.fromkeys(RATE_LIMIT_KINDS, _rate)),
    "RATE_LIMIT_CACHE": _text,
    "CONFIRMATION_EMAILS_PER_SUBMISSION": _positive_int,
    "FROM_EMAIL": _optional_text,
    "BASE_URL": _base_url,
    "MANAGE_PAGE": _keyed(dict.fromkeys(MANAGE_PAGE_PARTS, _boolean)),
    "ASK_UNSUBSCRIBE_REASON": _boolean,
    "IMPORT_MAX_UPLOAD_SIZE": _positive_int,
    "IMPORT_STORAGE": _optional_text,
    "IMPORT_FILE_ROOT": _optional_path,
    "IMPORT_FILE_RETENTION": _non_negative_duration,
    "IMPORT_MAX_ROWS": _positive_int,
    "IMPORT_MAX_COLUMNS": _positive_int,
    "IMPORT_MAX_HEADER_LENGTH": _positive_int,
    "IMPORT_MAX_ROW_LENGTH": _positive_int,
    "IMPORT_XLSX_MAX_SIZE": _positive_int,
    "IMPORT_XLSX_MAX_MEMBERS": _positive_int,
    "IMPORT_BATCH_SIZE": _positive_int,
    "IMPORT_PREVIEW_ROWS": _positive_int,
    "IMPORT_DEFAULT_STATUS": _contact_status,
    "EXPORT_XLSX_MAX_ROWS": _positive_int,
    "SEND_BATCH_SIZE": _positive_int,
    "SEND_CHUNK_SIZE": _positive_int,
    "SEND_CONNECTIONS": _positive_int,
    "SEND_TASKS": _positive_int,
    "SEND_LEASE": _duration,
    "SEND_MAX_ATTEMPTS": _positive_int,
    "SEND_RETRY_DELAY": _duration,
    "SEND_RATE_LIMITS": _rates_per_second,
    "UNSUBSCRIBE_MAILTO": _optional_email,
    "BOUNCE_RULES": _keyed(
        {
            "HARD_BOUNCES": _positive_int,
            "SOFT_BOUNCES": _positive_int,
            "SOFT_BOUNCE_WINDOW": _duration,
            "COMPLAINTS": _positive_int,
        }
    ),
    "TRACKING": _keyed({"OPENS": _boolean, "CLICKS": _boolean}),
}


#: Dict settings whose keys a site may give in part; the others keep their defaults.
KEYED = ("RATE_LIMITS", "MANAGE_PAGE", "SMS_TWILIO", "BOUNCE_RULES", "TRACKING")
#: Keys of dict settings that hold secrets: an error message shows them masked.
SECRETS = {"SMS_TWILIO": ("AUTH_TOKEN",)}


def _shown(name: str, value: Any) -> Any:
    if not isinstance(value, dict) or name not in SECRETS:
        return value
    return {
        key: "********" if key in SECRETS[name] and item else item for key, item in value.items()
    }


def user_settings() -> dict[str, Any]:
    value = getattr(settings, SETTINGS_NAME, {})
    if not isinstance(value, dict):
        raise ConfigurationError(f"{SETTINGS_NAME} must be a dict, not {value!r}.")
    return value


def get_setting(name: str) -> Any:
    """Return the validated value of ``WAGTAIL_PREFERENCES[name]`` or its default."""
    if name not in DEFAULTS:
        raise ConfigurationError(f"{SETTINGS_NAME}[{name!r}] is not a known setting.")
    value = user_settings().get(name, DEFAULTS[name])
    if name in KEYED and isinstance(value, dict):
        value = {**DEFAULTS[name], **value}
    problem = VALIDATORS[name](value)
    if problem:
        raise ConfigurationError(
            f"{SETTINGS_NAME}[{name!r}] {problem}; got {_shown(name, value)!r}."
        )
    return value
