"""The columns of an import (and export) file, and how a file's header maps to them."""

from collections import Counter

from django.utils.translation import gettext_lazy as _

EMAIL = "email"
DETAILS = ("first_name", "last_name", "phone", "locale")
LISTS = ("preferences", "categories", "segments")
#: The columns of the format, in the order exports write them.
COLUMNS = (EMAIL, *DETAILS, "status", *LISTS, "data")
LABELS = {
    "email": _("Email"),
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "phone": _("Phone"),
    "locale": _("Locale"),
    "status": _("Status"),
    "preferences": _("Preferences (names, comma-separated)"),
    "categories": _("Opted-out categories (names, comma-separated)"),
    "segments": _("Segments, as a manual member (names, comma-separated)"),
    "data": _("Custom data (a JSON object)"),
}
DATA_PREFIX = "data:"
IGNORE = ""
# Headers people write for the known columns, compared without case, spaces or punctuation.
ALIASES = {
    "emailaddress": EMAIL,
    "mail": EMAIL,
    "firstname": "first_name",
    "givenname": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "familyname": "last_name",
    "telephone": "phone",
    "phonenumber": "phone",
    "mobile": "phone",
    "language": "locale",
    "preference": "preferences",
    "interests": "preferences",
    "category": "categories",
    "optedoutcategories": "categories",
    "segment": "segments",
    "customdata": "data",
}


def _key(header: str) -> str:
    return "".join(c for c in header.casefold() if c.isalnum())


BY_KEY = {_key(column): column for column in COLUMNS}


def known_column(header: str) -> str | None:
    key = _key(header)
    return BY_KEY.get(key) or ALIASES.get(key)


def default_mapping(header: list[str]) -> dict[str, str]:
    """Each header to its known column; others to nothing, unless named ``data:key``.

    Columns without a name in the header are always left out.
    """
    mapping, taken = {}, set()
    for name in filter(None, header):
        target = known_column(name)
        if name.startswith(DATA_PREFIX) and name[len(DATA_PREFIX) :].strip():
            target = DATA_PREFIX + name[len(DATA_PREFIX) :].strip()
        if target in taken:
            target = None
        mapping[name] = target or IGNORE
        taken.add(target)
    return mapping


def mapping_problems(header: list[str], mapping: dict[str, str]) -> list[str]:
    """What makes ``mapping`` unusable for ``header``, as sentences; empty when it is fine."""
    problems = []
    targets = Counter(mapping.get(name, IGNORE) for name in header if name)
    if EMAIL not in targets:
        problems.append(
            f"No column is mapped to email, which every row needs. The file's columns are: "
            f"{', '.join(header)}."
        )
    for target, count in targets.items():
        if target == IGNORE:
            continue
        if count > 1:
            problems.append(f"More than one column is mapped to {target}.")
        if target not in COLUMNS and not (
            target.startswith(DATA_PREFIX) and target[len(DATA_PREFIX) :]
        ):
            problems.append(f"{target!r} is not a column of the import format.")
    names = Counter(filter(None, header))
    duplicates = sorted(name for name, count in names.items() if count > 1)
    if duplicates:
        problems.append(f"The header names {', '.join(duplicates)} more than once.")
    return problems
