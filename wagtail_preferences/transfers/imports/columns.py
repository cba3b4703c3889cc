"""How a file's header maps to the columns of the format (``transfers.columns``)."""

from collections import Counter

from django.utils.translation import gettext as _

from ..columns import get_column, registered

DATA_PREFIX = "data:"
IGNORE = ""


def _key(header: str) -> str:
    return "".join(c for c in header.casefold() if c.isalnum())


def known_column(header: str) -> str | None:
    """The column ``header`` names, by its name or one of its aliases."""
    key = _key(header)
    for column in registered():
        if key == _key(column.name) or key in map(_key, column.aliases):
            return column.name
    return None


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
    for column in registered():
        if column.required and column.name not in targets:
            problems.append(
                _(
                    "No column is mapped to %(column)s, which every row needs. The file's "
                    "columns are: %(columns)s."
                )
                % {"column": column.name, "columns": ", ".join(header)}
            )
    for target, count in targets.items():
        if target == IGNORE:
            continue
        if count > 1:
            problems.append(_("More than one column is mapped to %(column)s.") % {"column": target})
        if get_column(target) is None and not (
            target.startswith(DATA_PREFIX) and target[len(DATA_PREFIX) :]
        ):
            problems.append(
                _("%(column)s is not a column of the import format.") % {"column": repr(target)}
            )
    names = Counter(filter(None, header))
    duplicates = sorted(name for name, count in names.items() if count > 1)
    if duplicates:
        problems.append(
            _("The header names %(names)s more than once.") % {"names": ", ".join(duplicates)}
        )
    return problems
