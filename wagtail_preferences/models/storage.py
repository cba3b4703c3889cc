"""Where import files are kept: a storage the web server never serves.

Import files hold personal data. They are read by the import itself, and downloaded only
through the admin, by those who may import contacts.
"""

import os
import tempfile

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.utils.functional import LazyObject, empty

from ..conf import get_setting

#: The alias of Django's ``STORAGES`` used for import files when a site defines it.
STORAGE_ALIAS = "wagtail_preferences_imports"
DEFAULT_FOLDER = "wagtail_preferences_imports"


class PrivateFileSystemStorage(FileSystemStorage):
    """Files in a folder of their own, readable by the site's user alone, with no URL."""

    base_url = None  # ``url()`` refuses: "This file is not accessible via a URL."

    def __init__(self, location):
        super().__init__(
            location=location, file_permissions_mode=0o600, directory_permissions_mode=0o700
        )


def import_file_root() -> str:
    """The folder of import files when no storage alias is configured."""
    root = get_setting("IMPORT_FILE_ROOT")
    return os.fspath(root) if root else os.path.join(tempfile.gettempdir(), DEFAULT_FOLDER)


def storage_alias() -> str | None:
    """The ``STORAGES`` alias import files go to, if any."""
    alias = get_setting("IMPORT_STORAGE")
    if alias is None and STORAGE_ALIAS in settings.STORAGES:
        return STORAGE_ALIAS
    return alias


def build_import_storage():
    alias = storage_alias()
    return storages[alias] if alias else PrivateFileSystemStorage(import_file_root())


class ImportStorage(LazyObject):
    """The import files' storage, found again when the settings change (in tests)."""

    def _setup(self):
        self._wrapped = build_import_storage()


import_storage = ImportStorage()


def forget_import_storage(*, setting, **kwargs):
    if setting in ("WAGTAIL_PREFERENCES", "STORAGES"):
        import_storage._wrapped = empty
