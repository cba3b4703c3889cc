"""Import contacts from a CSV or XLSX file: ``manage.py preferences_import FILE [options]``."""

import getpass
import os

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from ...exceptions import InvalidFile
from ...models import ImportMode, ImportRun, ImportStatus, LegalBasis
from ...transfers.columns import column_names
from ...transfers.imports.columns import DATA_PREFIX, IGNORE, default_mapping, mapping_problems
from ...transfers.imports.files import release_file
from ...transfers.imports.report import error_report_lines
from ...transfers.imports.runner import ImportRunner
from ...transfers.spreadsheets import open_table
from ..progress import Progress

#: Errors printed after the summary; ``--errors FILE`` writes them all.
ERRORS_SHOWN = 10


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV or XLSX file, as the admin's import does. Running the "
        "command confirms that the site may contact these people, on the legal basis given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A CSV (UTF-8, UTF-16 or Windows-1252) or XLSX file.")
        parser.add_argument(
            "--mode",
            choices=ImportMode.values,
            default=ImportMode.ADD,
            help="add (the default): add to contacts' preferences; replace: replace their "
            "preferences and manual segments; create_only; update_only.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every row and count what the import would do, changing nothing.",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid rows and skip the others (by default a single invalid row "
            "stops the whole import).",
        )
        parser.add_argument(
            "--create-missing-preferences",
            action="store_true",
            help="Create the preferences the file names that do not exist (as internal).",
        )
        parser.add_argument(
            "--legal-basis",
            choices=LegalBasis.values,
            default=LegalBasis.CONSENT,
            help="The lawful basis for contacting these people (default: consent); every "
            "change's consent history records it.",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=TARGET",
            help=f"Read the file's column HEADER into TARGET: one of {', '.join(column_names())}, "
            f"{DATA_PREFIX}KEY (custom data), or nothing to leave the column out. Repeat for "
            "more; other columns are mapped by their names.",
        )
        parser.add_argument(
            "--errors",
            metavar="FILE",
            help="Write the failing rows, as the file had them, with an error column, to this "
            "CSV file.",
        )
        parser.add_argument(
            "--progress",
            action="store_true",
            help="Show a progress bar on stderr even when it is not a terminal.",
        )

    def handle(self, *args, **options):
        path = options["file"]
        if not os.path.isfile(path):
            raise CommandError(f"No such file: {path}")
        with open(path, "rb") as file:
            try:
                header = open_table(file).header
            except InvalidFile as error:
                raise CommandError(f"{path}: {error}") from None
        mapping = self.mapping(header, options["map"])
        run = self.create_run(path, header, mapping, options)
        self.stdout.write(f"Import run #{run.pk}: {os.path.basename(path)}, {self.settings(run)}.")
        # Without --skip-invalid an import reads the file twice: it imports only if all is well.
        passes = ["Checking"] if options["dry_run"] or not run.skip_invalid else []
        if not options["dry_run"]:
            passes.append("Importing")
        progress = Progress(
            self.stderr, shown=options["progress"] or self.stderr.isatty(), passes=passes
        )
        runner = ImportRunner(run, progress=progress)
        try:
            run = runner.check() if options["dry_run"] else runner.apply()
        finally:
            progress.end()
        self.summary(run, runner)
        self.errors(run, options["errors"])
        release_file(run, ended=True)  # nothing continues a run of the command line
        if run.status == ImportStatus.FAILED:
            raise CommandError(run.message)
        if options["dry_run"] and run.failed_rows and not run.skip_invalid:
            rows, them = ("row has", "it") if run.failed_rows == 1 else ("rows have", "them")
            raise CommandError(
                f"{run.failed_rows} {rows} errors: the import would stop on {them}. Fix the "
                "file, or import with --skip-invalid."
            )

    def mapping(self, header: list[str], overrides: list[str]) -> dict[str, str]:
        mapping = default_mapping(header)
        for given in overrides:
            name, sign, target = given.partition("=")
            name, target = name.strip(), target.strip()
            if not sign:
                raise CommandError(f"--map takes HEADER=TARGET, not “{given}”.")
            if name not in mapping:
                raise CommandError(
                    f"The file has no column “{name}”; its columns are: "
                    f"{', '.join(filter(None, header))}."
                )
            mapping[name] = target or IGNORE
        problems = mapping_problems(header, mapping)
        if problems:
            raise CommandError(" ".join(problems))
        return mapping

    def create_run(self, path: str, header: list[str], mapping: dict, options) -> ImportRun:
        name = os.path.basename(path)
        run = ImportRun(
            file_name=name[:255],
            file_size=os.path.getsize(path),
            created_by_label=_command_line_user(),
            mode=options["mode"],
            skip_invalid=options["skip_invalid"],
            create_missing_preferences=options["create_missing_preferences"],
            legal_basis=options["legal_basis"],
            permission_confirmed=True,
            columns=header,
            mapping=mapping,
        )
        with open(path, "rb") as file:
            # The storage copies the file in chunks: a file of any size is never read whole.
            run.file.save(name, File(file, name=name), save=False)
        run.save()
        return run

    def settings(self, run: ImportRun) -> str:
        parts = [f"mode {run.mode}", f"legal basis {run.legal_basis}"]
        if run.skip_invalid:
            parts.append("invalid rows skipped")
        if run.create_missing_preferences:
            parts.append("missing preferences created")
        return ", ".join(parts)

    def summary(self, run: ImportRun, runner: ImportRunner) -> None:
        counts = (
            f"{run.new_rows:,} new, {run.updated_rows:,} updated, "
            f"{run.unchanged_rows:,} unchanged, {run.skipped_rows:,} skipped, "
            f"{run.failed_rows:,} failed"
        )
        if run.status == ImportStatus.CHECKED:
            self.stdout.write(f"Checked {run.processed_rows:,} rows, nothing changed: {counts}.")
            if runner.preferences_to_create:
                names = ", ".join(sorted(runner.preferences_to_create))
                self.stdout.write(f"The import would create the preferences: {names}.")
            return
        if run.status == ImportStatus.DONE:
            self.stdout.write(
                self.style.SUCCESS(f"Imported {run.processed_rows:,} rows: {counts}.")
            )
        elif run.new_rows or run.updated_rows:
            self.stdout.write(f"Read {run.processed_rows:,} rows before it stopped: {counts}.")
        elif run.processed_rows:
            self.stdout.write(f"Read {run.processed_rows:,} rows, nothing imported: {counts}.")
        if run.created_preferences:
            self.stdout.write(f"Preferences created: {', '.join(run.created_preferences)}.")

    def errors(self, run: ImportRun, report_path: str | None) -> None:
        if not run.failed_rows:
            return
        errors = run.row_errors.order_by("row", "pk")
        total = errors.count()
        for error in errors[:ERRORS_SHOWN]:
            column = f" ({error.column})" if error.column else ""
            self.stderr.write(f"Row {error.row}{column}: {error.message}")
        if report_path:
            with open(report_path, "w", encoding="utf-8", newline="") as report:
                report.writelines(error_report_lines(run))
            self.stderr.write(f"The failing rows and their errors are in {report_path}.")
        elif total > ERRORS_SHOWN:
            self.stderr.write(
                f"… and {total - ERRORS_SHOWN:,} more errors. To have every failing row with its "
                "error in a CSV file, run again with --errors FILE (with --dry-run to change "
                "nothing)."
            )
        if not run.skip_invalid:
            self.stderr.write("With --skip-invalid, the valid rows are imported and these skipped.")


def _command_line_user() -> str:
    """Who ran the command, as the run and the consent history name them."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the process's user
        user = ""
    return f"the command line (user {user})" if user else "the command line"
