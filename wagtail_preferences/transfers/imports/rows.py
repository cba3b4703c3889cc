"""One row of an import file: read into what it asks of its contact, or into its errors."""

import difflib
import json
import re
from dataclasses import dataclass, field

from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ...json_depth import MAX_DEPTH, BoundedJSONDecoder, TooDeep
from ...models import Category, Contact, ContactStatus, Preference, Segment, normalise_email
from ...services.choices import membership_problem
from ..columns import EMAIL, get_column
from ..spreadsheets import restore, split_names
from .columns import DATA_PREFIX, IGNORE


@dataclass(slots=True)
class Row:
    """What a valid row asks for. ``None`` (or an absent key) leaves a value as it is."""

    line: int
    email: str
    details: dict[str, str] = field(default_factory=dict)
    status: str | None = None
    preferences: tuple[str, ...] | None = None
    categories: tuple[int, ...] | None = None
    segments: tuple[int, ...] | None = None
    data: dict = field(default_factory=dict)


class RowError(Exception):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column, self.message = column, message


class Names:
    """The names of one kind of object (preferences, ...), matched exactly, with suggestions."""

    def __init__(self, model, label: str):
        self.label = label
        self.ids = dict(model.objects.values_list("name", "pk"))
        self._folded = {name.casefold(): name for name in self.ids}

    def unknown(self, name: str) -> str:
        close = self._folded.get(name.casefold()) or next(
            iter(difflib.get_close_matches(name, self.ids, n=1, cutoff=0.6)), None
        )
        hint = " " + _("Did you mean “%(name)s”?") % {"name": close} if close else ""
        return (
            _("There is no %(kind)s named “%(name)s”.") % {"kind": self.label, "name": name} + hint
        )


DETAILS = ("first_name", "last_name", "phone", "locale")
MAX_LENGTHS = {name: Contact._meta.get_field(name).max_length for name in DETAILS}
EMAIL_MAX_LENGTH = Contact._meta.get_field("email").max_length
NAME_MAX_LENGTH = Preference._meta.get_field("name").max_length
# Distinct list cells remembered; past it they are parsed again (a file of unique cells).
LIST_CACHE_SIZE = 10_000
# Domains whose validity is remembered; most files hold a few thousand at most.
DOMAIN_CACHE_SIZE = 100_000
STATUSES = {
    **{value: value for value in ContactStatus.values},
    **{str(label).casefold(): value for value, label in ContactStatus.choices},
}


class EmailCheck:
    """Django's email validation, its pattern compiled once and each domain checked once."""

    def __init__(self):
        lazy = validate_email.user_regex
        self.user = re.compile(lazy.pattern, lazy.flags)
        self.domains: dict[str, bool] = {}

    def __call__(self, email: str) -> bool:
        user, at, domain = email.rpartition("@")
        if not at or not self.user.match(user):
            return False
        valid = self.domains.get(domain)
        if valid is None:
            valid = bool(
                domain in validate_email.domain_allowlist
                or validate_email.validate_domain_part(domain)
            )
            if len(self.domains) < DOMAIN_CACHE_SIZE:
                self.domains[domain] = valid
        return valid


class RowReader:
    """Reads rows of a file with a given header and mapping.

    ``create_missing`` accepts preference names that do not exist: the run creates them.
    Cells of lists are parsed once per distinct text, as most files repeat a few of them.
    """

    def __init__(self, header: list[str], mapping: dict[str, str], *, create_missing=False):
        self.header = header
        self.targets = [mapping.get(name, IGNORE) if name else IGNORE for name in header]
        self.create_missing = create_missing
        self.preferences = Names(Preference, gettext_lazy("preference"))
        self.categories = Names(Category, gettext_lazy("category"))
        self.segments = Names(Segment, gettext_lazy("segment"))
        # The rules of ``services.apply_choices``, checked here to give the row its error.
        self.segment_problems = {
            segment.pk: problem
            for segment in Segment.objects.all()
            if (problem := membership_problem(segment))
        }
        self._lists: dict[tuple[str, str], tuple] = {}
        self._mapped = [
            (i, target, self._reader_of(target))
            for i, target in enumerate(self.targets)
            if target != IGNORE
        ]
        self._valid_email = EmailCheck()

    def read(self, line: int, cells: list[str]) -> Row:
        """The row of ``cells``; raises ``RowErrors`` with every problem found."""
        width = len(self.header)
        if len(cells) > width and any(cells[width:]):
            raise RowErrors(
                [
                    RowError(
                        "",
                        _(
                            "This row has %(cells)s cells but the header has %(width)s columns. "
                            "A value holding the separator must be in double quotes."
                        )
                        % {"cells": len(cells), "width": width},
                    )
                ]
            )
        errors: list[RowError] = []
        row = Row(line=line, email="")
        for index, target, read in self._mapped:
            # A row may stop short of the header: its last cells are empty.
            cell = cells[index].strip() if index < len(cells) else ""
            if cell.startswith("'"):
                cell = restore(cell)
            if not cell and target != EMAIL:
                continue
            try:
                if "\x00" in cell:
                    raise RowError(target, _("This cell holds a NUL character, which is not text."))
                read(self, row, cell)
            except RowError as error:
                errors.append(error)
        if errors:
            raise RowErrors(errors, email=row.email)
        return row

    @staticmethod
    def _reader_of(target: str):
        """How a cell mapped to ``target`` is read into a ``Row``: see ``Column.read``."""
        column = get_column(target)
        if column is not None:
            return column.read
        key = target.removeprefix(DATA_PREFIX)

        def read(reader, row: Row, cell: str) -> None:
            row.data[key] = cell

        return read

    def detail(self, name: str, cell: str) -> str:
        if len(cell) > MAX_LENGTHS[name]:
            raise RowError(
                name,
                _("%(column)s is longer than %(length)s characters.")
                % {"column": name, "length": MAX_LENGTHS[name]},
            )
        return cell

    def status(self, cell: str) -> str:
        status = STATUSES.get(cell.casefold())
        if status is None:
            raise RowError(
                "status",
                _("“%(cell)s” is not a status; use one of %(statuses)s.")
                % {"cell": cell, "statuses": ", ".join(ContactStatus.values)},
            )
        return status

    def preference_names(self, cell: str) -> tuple[str, ...]:
        return self._list("preferences", cell, self._preference_names)

    def ids_of(self, column: str, names: "Names", cell: str) -> tuple[int, ...]:
        return self._list(column, cell, self._ids_of(column, names))

    def segment_ids(self, cell: str) -> tuple[int, ...]:
        return self._list("segments", cell, self._joinable)

    def email(self, cell: str) -> str:
        if not cell:
            raise RowError(EMAIL, _("The email is missing."))
        email = normalise_email(cell)
        if not self._valid_email(email):
            raise RowError(EMAIL, _("“%(cell)s” is not a valid email address.") % {"cell": cell})
        if len(email) > EMAIL_MAX_LENGTH:
            raise RowError(
                EMAIL,
                _("“%(cell)s” is longer than an email address may be (%(length)s).")
                % {"cell": cell, "length": EMAIL_MAX_LENGTH},
            )
        return email

    def _list(self, target: str, cell: str, resolve) -> tuple:
        key = (target, cell)
        if key not in self._lists:
            if len(self._lists) >= LIST_CACHE_SIZE:
                self._lists.clear()
            try:
                self._lists[key] = resolve(split_names(cell))
            except RowError as error:
                self._lists[key] = error
        value = self._lists[key]
        if isinstance(value, RowError):
            raise value
        return value

    def _preference_names(self, names: list[str]) -> tuple[str, ...]:
        unknown = [name for name in names if name not in self.preferences.ids]
        if unknown and not self.create_missing:
            raise RowError(
                "preferences", " ".join(self.preferences.unknown(name) for name in unknown)
            )
        if too_long := [name for name in unknown if len(name) > NAME_MAX_LENGTH]:
            raise RowError(
                "preferences",
                " ".join(
                    _(
                        "“%(name)s” cannot be created: a preference name has at most "
                        "%(length)s characters."
                    )
                    % {"name": name, "length": NAME_MAX_LENGTH}
                    for name in too_long
                ),
            )
        return tuple(dict.fromkeys(names))

    @staticmethod
    def _ids_of(column: str, names: Names):
        def resolve(given: list[str]) -> tuple[int, ...]:
            unknown = [name for name in given if name not in names.ids]
            if unknown:
                raise RowError(column, " ".join(names.unknown(name) for name in unknown))
            return tuple(dict.fromkeys(names.ids[name] for name in given))

        return resolve

    def _joinable(self, names: list[str]) -> tuple[int, ...]:
        ids = self._ids_of("segments", self.segments)(names)
        if problems := [self.segment_problems[pk] for pk in ids if pk in self.segment_problems]:
            raise RowError("segments", " ".join(problems))
        return ids

    @staticmethod
    def data(cell: str) -> dict:
        try:
            value = json.loads(cell, cls=BoundedJSONDecoder)
        except TooDeep:
            raise RowError(
                "data",
                _("data is nested more than %(depth)s levels deep, the most it may be.")
                % {"depth": MAX_DEPTH},
            ) from None
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise RowError("data", _('data must be a JSON object, such as {"club": "Ghent"}.'))
        return value


class RowErrors(Exception):
    """Every problem of one row; ``email`` is the row's address if that much was valid."""

    def __init__(self, errors: list[RowError], email: str = ""):
        super().__init__("; ".join(error.message for error in errors))
        self.errors, self.email = errors, email
