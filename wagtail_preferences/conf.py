"""The one place that reads ``settings.WAGTAIL_PREFERENCES``.

Every setting has its default here; ``get_setting`` validates the value it returns and
raises a ``ConfigurationError`` that names the setting when it is wrong.
"""

from collections.abc import Callable
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


def _criteria(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be a dict of block name to dotted path"
    return _dotted_paths(list(value.values())) if value else None


DEFAULTS: dict[str, Any] = {
    # Channel classes a contact can be reached through, in display order.
    "CHANNELS": [
        "wagtail_preferences.channels.EmailChannel",
        "wagtail_preferences.channels.SMSChannel",
    ],
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
}

VALIDATORS: dict[str, Callable[[Any], str | None]] = {
    "CHANNELS": _dotted_paths,
    "HISTORY_PANEL_LIMIT": _positive_int,
    "OVERVIEW_RECENT_CHANGES": _positive_int,
    "CONTACTS_PER_PAGE": _positive_int,
    "LIVE_REFRESH_LIMIT": _positive_int,
    "SEGMENT_CRITERIA": _criteria,
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
    problem = VALIDATORS[name](value)
    if problem:
        raise ConfigurationError(f"{SETTINGS_NAME}[{name!r}] {problem}; got {value!r}.")
    return value
