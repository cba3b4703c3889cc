"""Export contacts: ``manage.py preferences_export [--preference ...] [-o FILE]``."""

import getpass
import os
from functools import reduce
from operator import or_

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils.translation import ngettext

from ... import services
from ...admin.filters import ContactFilterSet
from ...audience import compiler
from ...models import Category, Contact, ExportPath, Preference, Segment
from ...transfers import exports
from ...transfers.columns import column_names
from ...transfers.spreadsheets import csv_lines, xlsx_bytes

PROGRESS_EVERY = 10_000


class Command(BaseCommand):
    help = (
        "Export contacts in the import format, as CSV (streamed, any size) or XLSX. Without "
        "options every contact; options that are given must all hold."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--preference",
            action="append",
            dest="preferences",
            metavar="NAME_OR_SLUG",
            help="Contacts holding this preference (repeat: any of them).",
        )
        parser.add_argument(
            "--category",
            metavar="NAME_OR_SLUG",
            help="Contacts subscribed to this category (who did not opt out of it).",
        )
        parser.add_argument(
            "--opted-out-of",
            metavar="NAME_OR_SLUG",
            help="Contacts who opted out of this category.",
        )
        parser.add_argument(
            "--segment",
            action="append",
            dest="segments",
            metavar="NAME_OR_SLUG",
            help="Current members of this segment (repeat: any of them).",
        )
        parser.add_argument(
            "--format",
            choices=exports.FORMATS,
            help="The file format; by default from the extension of -o, else csv.",
        )
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="Write to FILE instead of standard output."
        )
        parser.add_argument(
            "--no-formula-guard",
            action="store_false",
            dest="formula_guard",
            help="CSV only: write cells as they are, for a program rather than a spreadsheet. "
            "By default a cell a spreadsheet would run as a formula gets a leading apostrophe.",
        )
        parser.add_argument(
            "--progress",
            action="store_true",
            help="Show progress on standard error even when it is not a terminal.",
        )

    def handle(self, *args, **options):
        contacts, parts, filters = self.contacts(options)
        output = options["output"]
        file_format = options["format"] or self.format_of(output)
        if file_format == "xlsx" and not options["formula_guard"]:
            raise CommandError(
                "--no-formula-guard is for CSV: XLSX cells are text, never formulas."
            )
        if file_format == "xlsx" and not output and not hasattr(self.stdout, "buffer"):
            raise CommandError("XLSX is binary: give a file with -o.")
        count = contacts.count()
        if file_format == "xlsx" and (refusal := exports.xlsx_refusal(count)):
            raise CommandError(f"{refusal} (--format csv)")
        exports.log_export(
            description=exports.describe(parts),
            filters=filters,
            file_format=file_format,
            path=ExportPath.COMMAND,
            label=self.os_user(),
        )
        rows = exports.export_rows(contacts)
        if options["progress"] or self.stderr.isatty():
            rows = self.with_progress(rows, count)
        if file_format == "csv":
            self.write_csv(rows, output, formula_guard=options["formula_guard"])
        else:
            self.write_xlsx(rows, output)
        if output:
            done = ngettext(
                "Exported %(count)s contact to %(file)s.",
                "Exported %(count)s contacts to %(file)s.",
                count,
            )
            self.stderr.write(done % {"count": f"{count:,}", "file": output}, self.style.SUCCESS)

    def contacts(self, options):
        """The contacts the options ask for, a description of each option, and the options.

        Descriptions and logged filters are worded as the admin contact list's filters.
        """
        contacts, parts, filters = Contact.objects.all(), [], {}

        def add(name: str, found: list) -> None:
            label = ContactFilterSet.base_filters[name].label
            parts.append(f"{label}: {', '.join(o.name for o in found)}")
            filters[name] = [o.pk for o in found]

        if names := options["preferences"]:
            preferences = self.find(Preference, names)
            contacts = contacts.filter(compiler.holds_any(preferences))
            add("preference", preferences)
        if name := options["category"]:
            (category,) = self.find(Category, [name])
            contacts = contacts.filter(compiler.subscribed_to(category))
            add("category_subscribed", [category])
        if name := options["opted_out_of"]:
            (category,) = self.find(Category, [name])
            contacts = contacts.filter(compiler.opted_out_of(category))
            add("category_opt_out", [category])
        if names := options["segments"]:
            segments = self.find(Segment, names)
            contacts = contacts & reduce(or_, (services.members(s) for s in segments))
            add("segment", segments)
        return contacts, parts, filters

    @staticmethod
    def find(model, names: list[str]) -> list:
        found = list(model.objects.filter(Q(name__in=names) | Q(slug__in=names)))
        unknown = set(names) - {o.name for o in found} - {o.slug for o in found}
        if unknown:
            label = model._meta.verbose_name
            raise CommandError(f"No {label} with the name or slug: {', '.join(sorted(unknown))}.")
        return found

    @staticmethod
    def format_of(output: str | None) -> str:
        extension = os.path.splitext(output or "")[1].lower().lstrip(".")
        return extension if extension in exports.FORMATS else "csv"

    @staticmethod
    def os_user() -> str:
        try:
            return f"{getpass.getuser()} (command line)"
        except (KeyError, OSError):
            return "command line"

    def with_progress(self, rows, total: int):
        done = 0
        for done, row in enumerate(rows, start=1):
            if done % PROGRESS_EVERY == 0:
                self.draw_progress(done, total)
            yield row
        self.draw_progress(done, total)
        self.stderr.write("")

    def draw_progress(self, done: int, total: int, width: int = 30) -> None:
        share = min(done / total, 1) if total else 1
        bar = "#" * int(width * share)
        # str as the style: progress is not an error, whatever colour stderr writes those in.
        self.stderr.write(f"\r[{bar:<{width}}] {done:,}/{total:,} ({share:.0%})", str, ending="")
        self.stderr.flush()

    def write_csv(self, rows, output: str | None, *, formula_guard: bool) -> None:
        lines = csv_lines(list(column_names()), rows, formula_guard=formula_guard)
        if output:
            with open(output, "w", encoding="utf-8", newline="") as file:
                file.writelines(lines)
        else:
            for line in lines:
                self.stdout.write(line, ending="")

    def write_xlsx(self, rows, output: str | None) -> None:
        content = xlsx_bytes(list(column_names()), rows)
        if output:
            with open(output, "wb") as file:
                file.write(content)
        else:
            self.stdout.flush()
            self.stdout.buffer.write(content)
