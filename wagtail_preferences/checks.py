"""System checks. Ids are stable: wagtail_preferences.E001 and up."""

import os

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.files.storage import FileSystemStorage, InvalidStorageError, storages
from django.urls import NoReverseMatch, get_resolver, reverse
from django.utils.module_loading import import_string

from .conf import DEFAULTS, SETTINGS_NAME, get_setting, user_settings
from .exceptions import ConfigurationError


def check_settings(app_configs=None, **kwargs):
    try:
        configured = user_settings()
    except ConfigurationError as error:
        return [checks.Error(str(error), id="wagtail_preferences.E001")]
    errors = [
        checks.Error(
            f"{SETTINGS_NAME}[{name!r}] is not a known setting.",
            hint=f"Known settings: {', '.join(sorted(DEFAULTS))}.",
            id="wagtail_preferences.E002",
        )
        for name in sorted(set(configured) - set(DEFAULTS))
    ]
    for name in sorted(set(configured) & set(DEFAULTS)):
        try:
            get_setting(name)
        except ConfigurationError as error:
            errors.append(checks.Error(str(error), id="wagtail_preferences.E003"))
    if not errors:
        from .channels.registry import get_channels

        try:
            get_channels()
        except ConfigurationError as error:
            errors.append(checks.Error(str(error), id="wagtail_preferences.E004"))
    return errors


def check_urls_included(app_configs=None, **kwargs):
    if "wagtail_preferences" in get_resolver().namespace_dict:
        return []
    return [
        checks.Error(
            "The URLs of wagtail_preferences are not included.",
            hint='Add path("preferences/", include("wagtail_preferences.urls")) to your '
            "ROOT_URLCONF, before Wagtail's own catch-all pattern.",
            id="wagtail_preferences.E005",
        )
    ]


REQUIRED_APPS = (
    "wagtail",
    "wagtail.admin",
    "wagtail.snippets",
    "wagtail.contrib.settings",
    "modelcluster",
)


def check_required_apps(app_configs=None, **kwargs):
    return [
        checks.Error(
            f"wagtail_preferences needs {name!r} in INSTALLED_APPS.",
            id="wagtail_preferences.E006",
        )
        for name in REQUIRED_APPS
        if not apps.is_installed(name)
    ]


def check_link_host(app_configs=None, **kwargs):
    """Links in emails follow the request's host unless BASE_URL says where they point."""
    if settings.DEBUG or "*" not in settings.ALLOWED_HOSTS or get_setting("BASE_URL"):
        return []
    return [
        checks.Warning(
            "ALLOWED_HOSTS accepts any host, and links in the preference center's emails are "
            "built on the host of the request that asked for them: anyone could have a "
            "confirmation or manage link sent that points at a host of their choosing.",
            hint=f'Set {SETTINGS_NAME}["BASE_URL"] (such as "https://www.example.com"), or list '
            "your hosts in ALLOWED_HOSTS.",
            id="wagtail_preferences.W001",
        )
    ]


def _has_personalisation_middleware() -> bool:
    from .identity.middleware import PersonalisationMiddleware

    return any(
        issubclass(import_string(path), PersonalisationMiddleware) for path in settings.MIDDLEWARE
    )


def _wagtail_serves_pages() -> bool:
    try:
        reverse("wagtail_serve", args=[""])
    except NoReverseMatch:
        return False
    return True


def check_block_rendering(app_configs=None, **kwargs):
    """Blocks rendered with ``{{ block }}`` find the visitor through Wagtail's serve view or
    the middleware; with neither, only ``{% include_block %}`` hands them the request."""
    if _wagtail_serves_pages() or _has_personalisation_middleware():
        return []
    return [
        checks.Warning(
            "Wagtail does not serve pages here and PersonalisationMiddleware is not installed: "
            "dynamic content rendered with {{ page.body }} or {{ block }} cannot see the "
            "visitor, and shows its fallback to everyone.",
            hint='Add "wagtail_preferences.identity.middleware.PersonalisationMiddleware" to '
            "MIDDLEWARE, or render StreamFields with {% include_block %} in templates that "
            "have the request.",
            id="wagtail_preferences.W002",
        )
    ]


def check_import_storage(app_configs=None, **kwargs):
    """Import files hold personal data: the web server must not serve their folder."""
    from .models.storage import import_file_root, storage_alias

    try:
        alias = storage_alias()
        storage = storages[alias] if alias else None
    except (ConfigurationError, InvalidStorageError):
        return []  # E003 names the setting
    if storage is None:
        location = import_file_root()
    elif isinstance(storage, FileSystemStorage):
        location = storage.location
    else:
        return []  # not on disk (S3, GCS...): the bucket's own policy decides
    location = os.path.realpath(location)
    return [
        checks.Warning(
            f"Import files are kept in {location}, inside {name}, where the web server serves "
            "files to anyone: they hold personal data.",
            hint=f'Set {SETTINGS_NAME}["IMPORT_FILE_ROOT"] to a folder outside {name}, or give '
            f'STORAGES a "wagtail_preferences_imports" storage that is not served.',
            id="wagtail_preferences.W003",
        )
        for name in ("MEDIA_ROOT", "STATIC_ROOT")
        if getattr(settings, name, None)
        and _inside(location, os.path.realpath(getattr(settings, name)))
    ]


def _inside(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder
