import csv
import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from tests.factories import CategoryChoiceFactory, ContactFactory, SegmentFactory
from wagtail_preferences.models import ContactExport, SegmentMember
from wagtail_preferences.transfers.columns import column_names

pytestmark = pytest.mark.django_db


def export(*args) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("preferences_export", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def emails(text: str) -> list[str]:
    assert text.startswith("\ufeff")
    return [row["email"] for row in csv.DictReader(io.StringIO(text[1:]))]


class TestWhichContacts:
    def test_every_contact_without_options(self):
        first, second = ContactFactory(), ContactFactory()
        stdout, _stderr = export()
        assert stdout.startswith("\ufeff" + ",".join(column_names()) + "\r\n")
        assert emails(stdout) == [first.email, second.email]

    def test_preferences_by_name_or_slug_any_of_them(self, products, events, trainings):
        holders = [ContactFactory(preferences=[products]), ContactFactory(preferences=[events])]
        ContactFactory(preferences=[trainings])
        stdout, _stderr = export("--preference", "Products", "--preference", events.slug)
        assert emails(stdout) == [holder.email for holder in holders]

    def test_categories_subscribed_or_opted_out(self, promotions):
        subscribed, opted_out = ContactFactory(), ContactFactory()
        CategoryChoiceFactory(contact=opted_out, category=promotions)
        assert emails(export("--category", "promotions")[0]) == [subscribed.email]
        assert emails(export("--opted-out-of", "Promotions")[0]) == [opted_out.email]

    def test_current_members_of_segments(self):
        vips, press = SegmentFactory(name="VIP"), SegmentFactory(name="Press")
        members = ContactFactory.create_batch(2)
        ContactFactory()
        SegmentMember.objects.create(segment=vips, contact=members[0])
        SegmentMember.objects.create(segment=press, contact=members[1])
        stdout, _stderr = export("--segment", "VIP", "--segment", press.slug)
        assert emails(stdout) == [member.email for member in members]

    def test_options_given_together_must_all_hold(self, products, promotions):
        wanted = ContactFactory(preferences=[products])
        CategoryChoiceFactory(contact=ContactFactory(preferences=[products]), category=promotions)
        stdout, _stderr = export("--preference", "Products", "--category", "Promotions")
        assert emails(stdout) == [wanted.email]

    def test_an_unknown_name_is_an_error(self, products):
        with pytest.raises(CommandError, match="No preference with the name or slug: Prodcts"):
            export("--preference", "Products", "--preference", "Prodcts")
        assert not ContactExport.objects.exists()


class TestFiles:
    def test_the_format_follows_the_file_extension(self, tmp_path):
        contact = ContactFactory(first_name="=1+1")
        target = tmp_path / "contacts.xlsx"
        _stdout, stderr = export("-o", str(target))
        sheet = load_workbook(target).active
        assert [row[:2] for row in sheet.iter_rows(values_only=True)] == [
            ("email", "first_name"),
            (contact.email, "=1+1"),  # a text cell: no formula, no apostrophe needed
        ]
        assert sheet.cell(2, 2).data_type == "s"
        assert f"Exported 1 contact to {target}." in stderr

    def test_csv_neutralises_formulas_unless_told_not_to(self):
        ContactFactory(first_name="=1+1", phone="+32 470 12 34 56")
        guarded = csv.DictReader(io.StringIO(export()[0][1:]))
        unguarded = csv.DictReader(io.StringIO(export("--no-formula-guard")[0][1:]))
        assert [(row["first_name"], row["phone"]) for row in guarded] == [
            ("'=1+1", "+32 470 12 34 56")
        ]
        assert [(row["first_name"], row["phone"]) for row in unguarded] == [
            ("=1+1", "+32 470 12 34 56")
        ]

    def test_the_guard_is_for_csv_only(self, tmp_path):
        with pytest.raises(CommandError, match="--no-formula-guard"):
            export("--no-formula-guard", "-o", str(tmp_path / "contacts.xlsx"))

    def test_csv_to_a_file(self, tmp_path):
        contact = ContactFactory()
        target = tmp_path / "contacts.txt"
        export("-o", str(target))
        assert emails(target.read_text(encoding="utf-8")) == [contact.email]

    def test_xlsx_above_the_limit_is_refused(self, settings, tmp_path):
        settings.WAGTAIL_PREFERENCES = {"EXPORT_XLSX_MAX_ROWS": 1}
        ContactFactory.create_batch(2)
        with pytest.raises(CommandError, match="--format csv"):
            export("--format", "xlsx", "-o", str(tmp_path / "contacts"))
        assert not ContactExport.objects.exists()

    def test_xlsx_needs_a_file_when_standard_output_is_text(self):
        with pytest.raises(CommandError, match="-o"):
            export("--format", "xlsx")


class TestLogAndProgress:
    def test_the_export_is_logged(self, products):
        export("--preference", "products", "--format", "csv")
        log = ContactExport.objects.get()
        assert log.created_by is None
        assert "command line" in log.created_by_label
        assert log.description == "Holds preference: Products"
        assert log.filters == {"preference": [products.pk]}
        assert (log.file_format, log.path) == ("csv", "command")

    def test_progress_is_drawn_on_standard_error_when_asked(self, monkeypatch):
        monkeypatch.setattr(
            "wagtail_preferences.management.commands.preferences_export.PROGRESS_EVERY", 2
        )
        ContactFactory.create_batch(3)
        stdout, stderr = export("--progress")
        assert len(emails(stdout)) == 3
        assert "\r[####################          ] 2/3 (67%)" in stderr
        assert stderr.endswith("\r[##############################] 3/3 (100%)\n")

    def test_no_progress_when_standard_error_is_not_a_terminal(self):
        ContactFactory()
        assert export()[1] == ""
