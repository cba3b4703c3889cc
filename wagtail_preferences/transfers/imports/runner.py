"""An import run: reads its file in batches, checks every row, and applies the valid ones.

An import reads the file once, into a staging table (``staging.ImportStage``), where the
database finds addresses given twice and the contacts that exist; new contacts are created
from there in a few statements, existing ones compared and changed in batches. Every change
goes through the service layer with the run as its origin, so each contact's consent history
names the import that changed it. Progress is written between batches, where the admin page
reads it.
"""

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from itertools import islice

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ... import services
from ...conf import get_setting
from ...db.batches import BATCH_SIZE, any_of, batched
from ...exceptions import InvalidFile
from ...models import (
    CategoryChoice,
    ChangePath,
    Contact,
    ContactPreference,
    ContactStatus,
    ImportMode,
    ImportRowError,
    ImportRun,
    Preference,
    SegmentInclusion,
    Suppression,
)
from ..spreadsheets import XLSX_MAGIC, Table, open_table
from .columns import mapping_problems
from .rows import Row, RowError, RowErrors, RowReader
from .staging import ImportStage

NEW, UPDATED, UNCHANGED, SKIPPED, FAILED = "new", "updated", "unchanged", "skipped", "failed"
COLUMN_MAX_LENGTH = ImportRowError._meta.get_field("column").max_length
# Addresses or ids per lookup: a database without array parameters takes one per value.
LOOKUP_SIZE = BATCH_SIZE * 10
#: Statuses an import never changes into a subscribed one.
STAYS_OUT = (ContactStatus.UNSUBSCRIBED, ContactStatus.BLOCKED)
SUBSCRIBED = (ContactStatus.PENDING, ContactStatus.CONFIRMED)


@dataclass
class Changes:
    """What one row changes for its contact; empty when it changes nothing."""

    details: dict = field(default_factory=dict)
    status: str | None = None
    add_preferences: set = field(default_factory=set)
    remove_preferences: set = field(default_factory=set)
    opt_outs: set = field(default_factory=set)
    joins: set = field(default_factory=set)
    leaves: set = field(default_factory=set)

    def __bool__(self) -> bool:
        return any(vars(self).values())


@dataclass
class Counts:
    processed: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0

    def as_fields(self) -> dict[str, int]:
        """The counts as the run's fields (``processed_rows``, ...)."""
        return {f"{count.name}_rows": getattr(self, count.name) for count in fields(self)}


@dataclass
class Current:
    """A contact as stored, as far as a row can change it."""

    pk: int
    details: dict
    status: str
    data: dict
    preferences: set = field(default_factory=set)
    opt_outs: set = field(default_factory=set)
    segments: set = field(default_factory=set)


class ImportRunner:
    """Checks or applies an ``ImportRun``; ``progress(done, total)`` is told after each batch."""

    def __init__(self, run: ImportRun, progress: Callable[[int, int | None], None] | None = None):
        self.run = run
        self.progress = progress
        self.batch_size = get_setting("IMPORT_BATCH_SIZE")
        #: About how many rows the file holds (None if unknown), for progress.
        self.total: int | None = None
        self.default_status = get_setting("IMPORT_DEFAULT_STATUS")
        #: The names of the preferences the last pass created, or would create if checking.
        self.preferences_to_create: set[str] = set()
        self._applying, self._counts = False, Counts()
        #: Rows of addresses that are blocked (the contact, or the address on the email
        #: channel): they stay blocked, and the run's message says so.
        self.kept_blocked = 0

    # Entry points -------------------------------------------------------------------------

    def check(self) -> ImportRun:
        """Read every row and count what an import would do, changing no contact."""
        self.run.start_check()
        with self._failed_on_error():
            if self._pass(classify=True):
                self.run.checked()
        return self.run

    def apply(self) -> ImportRun:
        """Import the file. Unless the run skips invalid rows, only a file without errors."""
        if not self.run.permission_confirmed or not self.run.legal_basis:
            raise InvalidFile(
                _("Confirm that the site may contact these people and pick a legal basis.")
            )
        self.run.start_import()
        with self._failed_on_error(), ImportStage(self.run) as stage:
            if not self._pass(classify=False, stage=stage):
                return self.run
            if self.run.failed_rows and not self.run.skip_invalid:
                self.run.fail(
                    ngettext(
                        "%(count)s row has errors, so nothing was imported. Fix it in the "
                        "file and upload it again, or choose to import the valid rows and "
                        "skip the rest.",
                        "%(count)s rows have errors, so nothing was imported. Fix them in "
                        "the file and upload it again, or choose to import the valid rows "
                        "and skip the rest.",
                        self.run.failed_rows,
                    )
                    % {"count": self.run.failed_rows}
                )
                return self.run
            with services.segments.refreshing_once():
                self._apply_staged(stage)
            self.run.finish()
        return self.run

    @contextmanager
    def _failed_on_error(self):
        """An error no row explains ends the run as failed, not forever running."""
        try:
            yield
        except KeyboardInterrupt:  # Ctrl-C at the command line
            self.run.fail(_("The run was interrupted.") + self._imported_before())
            raise
        except Exception as error:
            self.run.fail(
                _("The run stopped on an unexpected error (%(error)s).")
                % {"error": f"{type(error).__name__}: {error}"}
                + self._imported_before()
            )
            raise

    def _imported_before(self) -> str:
        """What a run that stops part way through its import leaves imported."""
        if self._applying and self._counts.processed:
            return " " + _("The %(count)s rows read before it had been imported.") % {
                "count": self._counts.processed
            }
        return ""

    # Passes -------------------------------------------------------------------------------

    def _pass(self, *, classify: bool, stage: ImportStage | None = None) -> bool:
        """One pass over the file, changing nothing; False if the file could not be read.

        With ``stage`` the valid rows are staged, and addresses given twice found there;
        otherwise by an entry per row in memory.
        """
        seen = None if stage is not None else {}
        self.run.row_errors.all().delete()
        self.preferences_to_create = set()
        self._applying = False
        counts = self._counts = Counts()
        self.kept_blocked = 0
        try:
            with self.run.open_file() as stored:
                file = stored.file  # the file itself: FieldFile checks itself on every read
                self.total = self.run.total_rows or estimate_rows(file)
                table = open_table(file)
                reader = self._reader(table)
                while batch := list(islice(table.rows, self.batch_size)):
                    invalid = [] if stage is not None else None
                    rows, errors = self._read(reader, batch, seen, counts, invalid)
                    self._record_errors(errors, counts)
                    if stage is not None:
                        stage.add(rows, invalid)
                    if classify:
                        self._classify(rows, counts, apply=False)
                    counts.processed += len(batch)
                    self._progress(counts)
        except InvalidFile as error:
            self.run.fail(str(error))
            return False
        if stage is not None:
            self._record_duplicates(stage, counts)
        self.run.progress(
            total_rows=counts.processed, message=self._kept_blocked_note(), **counts.as_fields()
        )
        return True

    def _progress(self, counts: Counts) -> None:
        self.run.progress(**counts.as_fields())
        if self.progress:
            self.progress(counts.processed, self.total)

    def _record_duplicates(self, stage: ImportStage, counts: Counts) -> None:
        found = stage.duplicates()
        self._record_errors(
            [(line, given_twice(email, first)) for line, email, first, _ in found], counts
        )
        # Rows that had errors already were counted as failed then.
        counts.failed -= sum(1 for *_, valid in found if not valid)

    def _apply_staged(self, stage: ImportStage) -> None:
        """Apply the valid staged rows: new contacts at once, existing ones in batches."""
        read = self._counts
        counts = self._counts = Counts(skipped=read.skipped, failed=read.failed)
        self._applying = True
        stage.match()
        counts.skipped += stage.skipped()
        self.kept_blocked = stage.blocked_new()
        self._create_preferences(stage.names_to_create())
        counts.new = services.create_staged_contacts(
            stage, self.origin(), default_status=self.default_status
        )
        counts.processed = counts.new + counts.skipped + counts.failed
        self._progress(counts)
        for rows in stage.existing(self.batch_size):
            self._classify(rows, counts, apply=True)
            counts.processed += len(rows)
            self._progress(counts)
        self.run.progress(processed_rows=read.processed, message=self._kept_blocked_note())

    def _kept_blocked_note(self) -> str:
        if not self.kept_blocked:
            return ""
        return (
            ngettext(
                "%(count)s row is of a blocked address (bounced, complained or blocked by an "
                "editor): it stays blocked.",
                "%(count)s rows are of blocked addresses (bounced, complained or blocked by an "
                "editor): they stay blocked.",
                self.kept_blocked,
            )
            % {"count": self.kept_blocked}
            + " "
            + _("Preference center → Suppressed addresses lists blocked addresses.")
        )

    def _reader(self, table: Table) -> RowReader:
        if self.run.columns != table.header:
            raise InvalidFile(
                _("The file's header is not the one read at upload: upload the file again.")
            )
        problems = mapping_problems(table.header, self.run.mapping)
        if problems:
            raise InvalidFile(" ".join(problems))
        return RowReader(
            table.header,
            self.run.mapping,
            create_missing=self.run.create_missing_preferences,
        )

    def _read(self, reader: RowReader, batch, seen, counts: Counts, invalid=None):
        """The valid rows of ``batch``, and the (line, error) of the others; the (line,
        address) of rows with errors are added to ``invalid``, if given."""
        rows, errors = [], []
        for line, cells in batch:
            if not any(cell.strip() for cell in cells):
                counts.skipped += 1
                continue
            try:
                row, problems = reader.read(line, cells), []
                email = row.email
            except RowErrors as failure:
                row, problems, email = None, failure.errors, failure.email
            if seen is not None and email:
                if email in seen:
                    problems.append(given_twice(email, seen[email]))
                else:
                    seen[email] = line
            if problems:
                errors.extend((line, problem) for problem in problems)
                if invalid is not None and email:
                    invalid.append((line, email))
            else:
                rows.append(row)
        return rows, errors

    def _record_errors(self, errors: list[tuple[int, RowError]], counts: Counts) -> None:
        # Errors name the file's column; those of the whole row (too many cells) none.
        column_of = {target: name for name, target in self.run.mapping.items() if target}
        ImportRowError.objects.bulk_create(
            [
                ImportRowError(
                    run=self.run,
                    row=line,
                    column=column_of.get(error.column, error.column)[:COLUMN_MAX_LENGTH],
                    message=error.message,
                )
                for line, error in errors
            ],
            batch_size=BATCH_SIZE,
        )
        counts.failed += len({line for line, _ in errors})

    # What rows change ---------------------------------------------------------------------

    def _classify(self, rows: list[Row], counts: Counts, *, apply: bool):
        current = self._current(rows)
        self.kept_blocked += self._blocked_rows(rows, current)
        new, changed = [], []
        for row in rows:
            outcome, changes = self._outcome(row, current.get(row.email))
            setattr(counts, outcome, getattr(counts, outcome) + 1)
            if outcome == NEW:
                new.append(row)
            elif outcome == UPDATED:
                changed.append((current[row.email].pk, changes))
        missing = self._missing_preferences(new, changed)
        self.preferences_to_create |= missing
        if apply and (new or changed):
            with transaction.atomic():
                self._apply(new, changed, missing)

    def _blocked_rows(self, rows: list[Row], current: dict) -> int:
        """How many ``rows`` are of a blocked contact or a suppressed email address."""
        suppressed = {
            address
            for emails in batched((row.email for row in rows), LOOKUP_SIZE)
            for address in Suppression.objects.filter(
                channel="email", address__in=any_of(Suppression, "address", emails)
            ).values_list("address", flat=True)
        }
        return sum(
            1
            for row in rows
            if row.email in suppressed
            or (row.email in current and current[row.email].status == ContactStatus.BLOCKED)
        )

    def _outcome(self, row: Row, stored: "Current | None") -> tuple[str, "Changes | None"]:
        mode = self.run.mode
        if (stored is None and mode == ImportMode.UPDATE_ONLY) or (
            stored is not None and mode == ImportMode.CREATE_ONLY
        ):
            return SKIPPED, None
        if stored is None:
            return NEW, None
        changes = self._changes(row, stored)
        return (UPDATED, changes) if changes else (UNCHANGED, None)

    def preview(self, limit: int) -> list[dict]:
        """The first ``limit`` rows: their cells by column, and what importing each would do."""
        with self.run.open_file() as file:
            table = open_table(file)
            reader = self._reader(table)
            read, seen = [], {}
            for line, cells in islice(table.rows, limit):
                counts = Counts()
                rows, errors = self._read(reader, [(line, cells)], seen, counts)
                read.append((line, cells, rows[0] if rows else None, [e for _, e in errors]))
        current = self._current([row for _, _, row, _ in read if row])
        return [
            {
                "line": line,
                "cells": dict(zip(table.header, cells, strict=False)),
                # A row that is not read either has errors or is blank.
                "outcome": self._outcome(row, current.get(row.email))[0]
                if row
                else (FAILED if errors else SKIPPED),
                "errors": [error.message for error in errors],
            }
            for line, cells, row, errors in read
        ]

    def _current(self, rows: list[Row]) -> dict[str, Current]:
        fields = ("first_name", "last_name", "phone", "locale")
        # In chunks: a batch may hold more addresses than a query takes parameters.
        contacts = {
            email: Current(pk, dict(zip(fields, details, strict=True)), status, data)
            for emails in batched((row.email for row in rows), LOOKUP_SIZE)
            for pk, email, status, data, *details in Contact.objects.filter(
                email__in=any_of(Contact, "email", emails)
            )
            .order_by()
            .values_list("pk", "email", "status", "data", *fields)
        }
        by_id = {c.pk: c for c in contacts.values()}
        mapped = set(self.run.mapping.values())
        opted_out = CategoryChoice.objects.opt_outs()
        held = (  # column of the file, attribute of Current, rows, their column
            ("preferences", "preferences", ContactPreference.objects.all(), "preference_id"),
            ("categories", "opt_outs", opted_out, "category_id"),
            ("segments", "segments", SegmentInclusion.objects.all(), "segment_id"),
        )
        for column, attribute, holdings, value in held:
            if column not in mapped:
                continue
            for ids in batched(by_id, LOOKUP_SIZE):
                in_batch = any_of(holdings.model, "contact_id", ids)
                for c, v in holdings.filter(contact_id__in=in_batch).values_list(
                    "contact_id", value
                ):
                    getattr(by_id[c], attribute).add(v)
        return contacts

    def _changes(self, row: Row, stored: Current) -> Changes:
        changes = Changes()
        changes.details = {n: v for n, v in row.details.items() if stored.details[n] != v}
        if row.data and {**stored.data, **row.data} != stored.data:
            changes.details["data"] = {**stored.data, **row.data}
        # An import never subscribes again someone who left or bounced.
        # nor changes a blocked contact (it would unblock them).
        kept = stored.status == ContactStatus.BLOCKED or (
            stored.status in STAYS_OUT and row.status in SUBSCRIBED
        )
        if row.status and row.status != stored.status and not kept:
            changes.status = row.status
        replace = self.run.mode == ImportMode.REPLACE
        if row.preferences is not None:
            wanted = set(self._preference_ids(row.preferences))
            changes.add_preferences = wanted - stored.preferences
            if replace:
                changes.remove_preferences = stored.preferences - wanted
        if row.categories is not None:
            # Opt-outs are only ever added: an import does not opt anyone back in.
            changes.opt_outs = set(row.categories) - stored.opt_outs
        if row.segments is not None:
            changes.joins = set(row.segments) - stored.segments
            if replace:
                changes.leaves = stored.segments - set(row.segments)
        return changes

    def _preference_ids(self, names: tuple[str, ...]) -> list:
        # Names still to be created stand for themselves until the run creates them.
        return [self._preference_id(name) for name in names]

    def _preference_id(self, name: str):
        return self._known_preferences().get(name, name)

    def _known_preferences(self) -> dict[str, int]:
        if not hasattr(self, "_preference_ids_by_name"):
            self._preference_ids_by_name = dict(Preference.objects.values_list("name", "pk"))
        return self._preference_ids_by_name

    # Writing ------------------------------------------------------------------------------

    def origin(self) -> services.Origin:
        run = self.run
        basis = run.get_legal_basis_display()
        by = run.created_by_label or "the command line"
        return services.Origin(
            path=ChangePath.IMPORT,
            user=run.created_by,
            reference=run.reference,
            wording=f"Imported on the legal basis “{basis}”; {by} confirmed that the site "
            "may contact these people.",
        )

    def _apply(self, new: list[Row], changed: list[tuple[int, Changes]], missing: set[str]):
        """Apply ``new`` and ``changed`` rows, first creating the ``missing`` preferences."""
        origin = self.origin()
        self._create_preferences(missing)
        created = services.create_contacts(
            [
                {
                    "email": row.email,
                    **row.details,
                    "data": row.data,
                    "status": row.status or self.default_status,
                }
                for row in new
            ],
            origin,
        )
        new_ids = [(created[row.email], row) for row in new]
        services.update_contacts(
            {pk: changes.details for pk, changes in changed if changes.details}, origin
        )
        ids_of = self._preference_ids
        choices = {
            pk: _choices(ids_of(row.preferences or ()), row.categories, row.segments)
            for pk, row in new_ids
        }
        for pk, changes in changed:
            choices[pk] = _choices(
                ids_of(changes.add_preferences),
                changes.opt_outs,
                changes.joins,
                removed=changes.remove_preferences,
                leaves=changes.leaves,
                status=changes.status,
            )
        services.apply_choices_to_many(choices, origin)

    def _missing_preferences(self, new: list[Row], changed: list[tuple[int, Changes]]) -> set:
        """The preference names these rows give that no preference has (yet).

        Only rows that are imported count: a row skipped or failed creates nothing.
        """
        names = {name for row in new for name in row.preferences or ()}
        names.update(
            p for _, changes in changed for p in changes.add_preferences if isinstance(p, str)
        )
        return names - self._known_preferences().keys()

    def _create_preferences(self, names: set[str]) -> None:
        """Create the preferences of ``names`` that do not exist (as not public)."""
        known = self._known_preferences()
        missing = sorted(names - known.keys())
        self.preferences_to_create |= set(missing)
        for name in missing:
            preference = Preference(name=name, slug=_free_slug(name), is_public=False)
            preference.save()
            known[name] = preference.pk
        if missing:
            self.run.progress(created_preferences=[*self.run.created_preferences, *missing])


def given_twice(email: str, line: int) -> RowError:
    return RowError(
        "email",
        _("%(email)s is also on row %(line)s: a contact may appear only once in a file.")
        % {"email": email, "line": line},
    )


def _choices(preferences, opt_outs, joins, *, removed=(), leaves=(), status=None):
    """The ``services.Choices`` of a row: what it adds, opts out of, joins, and takes away."""
    return services.Choices(
        preferences={**dict.fromkeys(preferences or (), True), **dict.fromkeys(removed, False)},
        categories=dict.fromkeys(opt_outs or (), False),
        segments_added_by_hand={**dict.fromkeys(joins or (), True), **dict.fromkeys(leaves, False)},
        status=status,
    )


def _free_slug(name: str) -> str:
    base = slugify(name)[:90] or "preference"
    slug, n = base, 1
    while Preference.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def estimate_rows(file) -> int | None:
    """About how many rows a CSV file holds (its lines), for progress bars; None for XLSX."""
    file.seek(0)
    if file.read(len(XLSX_MAGIC)) == XLSX_MAGIC:
        return None
    lines = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
    file.seek(0)
    return max(lines - 1, 0)
