import csv
import io
from html import escape

import pytest
from asgiref.sync import async_to_sync
from django.contrib.messages import get_messages
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactFactory,
    PreferenceFactory,
    SegmentFactory,
    UserFactory,
)
from wagtail_preferences.models import (
    ChangePath,
    Contact,
    ContactExport,
    ContactStatus,
    ExportPath,
    Preference,
    SegmentInclusion,
    SegmentMember,
)
from wagtail_preferences.transfers import exports
from wagtail_preferences.transfers.columns import column_names
from wagtail_preferences.transfers.imports.columns import default_mapping
from wagtail_preferences.transfers.imports.rows import RowReader
from wagtail_preferences.transfers.spreadsheets import open_table, restore, split_names

pytestmark = pytest.mark.django_db

CONTACTS = "preference_center_contacts"
ADMIN_ACCESS = "wagtailadmin.access_admin"
EXPORT = "wagtail_preferences.export_contact"


def export_url(file_format="csv", **filters) -> str:
    url = reverse(f"{CONTACTS}:export", args=[file_format])
    query = "&".join(f"{name}={value}" for name, value in filters.items())
    return f"{url}?{query}" if query else url


def csv_text(contacts=None) -> str:
    return "".join(exports.csv_blocks(contacts or Contact.objects.all()))


def parsed(text: str) -> list[dict]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def downloaded(response) -> list[dict]:
    return parsed(b"".join(response.streaming_content).decode("utf-8"))


def add_to_segment_by_hand(segment, contact):
    SegmentInclusion.objects.create(segment=segment, contact=contact, source=ChangePath.ADMIN)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def exporter(client):
    """A client logged in as an editor who may export contacts and nothing else."""
    client.force_login(UserFactory(staff=True, permissions=[ADMIN_ACCESS, EXPORT]))
    return client


class TestRows:
    def test_a_row_holds_every_column_of_the_import_format(self, products, trainings, promotions):
        products.sort_order = 2
        products.save()
        surveys = CategoryFactory(name="Surveys")
        vips, matched = SegmentFactory(name="VIP"), SegmentFactory(name="Matched")
        contact = ContactFactory(
            email="ann@example.com",
            first_name="Ann",
            last_name="Peeters",
            phone="0470 12 34 56",
            locale="nl-BE",
            confirmed=True,
            preferences=[products, trainings],
            data={"club": "Gent", "since": 2019, "é": ["x"]},
        )
        CategoryChoiceFactory(contact=contact, category=promotions, subscribed=False)
        CategoryChoiceFactory(contact=contact, category=surveys, subscribed=True)
        add_to_segment_by_hand(vips, contact)
        SegmentMember.objects.create(segment=matched, contact=contact)

        (row,) = exports.export_rows(Contact.objects.all())

        assert dict(zip(column_names(), row, strict=True)) == {
            "email": "ann@example.com",
            "first_name": "Ann",
            "last_name": "Peeters",
            "phone": "0470 12 34 56",
            "locale": "nl-BE",
            "status": "confirmed",
            "preferences": "Trainings, Products",  # in the preferences' own order
            "categories": "Promotions",  # opted out only
            "segments": "VIP",  # added by hand only
            "data": '{"club":"Gent","since":2019,"é":["x"]}',
        }

    def test_a_contact_without_anything_has_empty_cells(self):
        ContactFactory(email="bob@example.com", first_name="", last_name="", phone="", locale="")
        (row,) = exports.export_rows(Contact.objects.all())
        assert row == ["bob@example.com", "", "", "", "", "pending", "", "", "", ""]

    def test_rows_come_in_the_order_of_creation_without_an_order_given(self):
        emails = [ContactFactory(email=f"{name}@example.com").email for name in "zay"]
        rows = exports.export_rows(Contact.objects.all())  # the model's own order is email
        assert [row[0] for row in rows] == emails

    def test_rows_come_in_the_order_given_each_with_its_own_lists(
        self, products, events, promotions, django_assert_num_queries
    ):
        segment = SegmentFactory(name="VIP")
        preferences = {"z": [products], "a": [events], "y": [], "b": [products, events]}
        for name, held in preferences.items():
            contact = ContactFactory(email=f"{name}@example.com", preferences=held)
            if name in "ay":
                CategoryChoiceFactory(contact=contact, category=promotions, subscribed=False)
            if name in "zb":
                add_to_segment_by_hand(segment, contact)

        with django_assert_num_queries(3 + 1 + 3):  # names, contacts, one chunk's lists
            rows = list(exports.export_rows(Contact.objects.order_by("-email")))

        assert [(row[0], row[6], row[7], row[8]) for row in rows] == [
            ("z@example.com", "Products", "", "VIP"),
            ("y@example.com", "", "Promotions", ""),
            ("b@example.com", "Events, Products", "", "VIP"),  # the preferences' order
            ("a@example.com", "Events", "Promotions", ""),
        ]

    def test_an_ordered_export_reads_its_contacts_in_chunks(self, monkeypatch, products):
        monkeypatch.setattr(exports, "CHUNK_SIZE", 2)
        for name in "edcba":
            ContactFactory(email=f"{name}@example.com", preferences=[products])
        rows = list(exports.export_rows(Contact.objects.order_by("email")))
        assert [(row[0], row[6]) for row in rows] == [
            (f"{name}@example.com", "Products") for name in "abcde"
        ]

    def test_names_holding_commas_and_quotes_read_back_as_they_are(self):
        odd = [
            PreferenceFactory(name="Products, services"),
            PreferenceFactory(name='The "big" one'),
            PreferenceFactory(name="Trainings"),
        ]
        ContactFactory(preferences=odd)
        (row,) = exports.export_rows(Contact.objects.all())
        assert split_names(row[column_names().index("preferences")]) == [p.name for p in odd]

    def test_a_filtered_export_carries_each_contacts_own_lists(self, products, events):
        segment = SegmentFactory(name="VIP")
        contacts = [
            ContactFactory(confirmed=index % 2 == 0, preferences=[[products], [events]][index % 2])
            for index in range(6)
        ]
        for contact in contacts:
            add_to_segment_by_hand(segment, contact)
        rows = exports.export_rows(Contact.objects.filter(status=ContactStatus.CONFIRMED))
        assert [(row[0], row[6], row[8]) for row in rows] == [
            (contact.email, "Products", "VIP") for contact in contacts[::2]
        ]

    def test_a_preference_created_during_the_export_is_named(self, products):
        cells = exports.NameCells(Preference)
        late = PreferenceFactory(name="Late")
        assert cells[f"{products.pk},{late.pk}"] == "Late, Products"

    def test_the_query_count_does_not_grow_with_the_contacts(
        self, django_assert_num_queries, products, promotions
    ):
        def export() -> list:
            with django_assert_num_queries(7):
                return list(exports.export_rows(Contact.objects.all()))

        ContactFactory(preferences=[products])
        assert len(export()) == 1
        segment = SegmentFactory()
        for contact in ContactFactory.create_batch(30, preferences=[products]):
            CategoryChoiceFactory(contact=contact, category=promotions)
            add_to_segment_by_hand(segment, contact)
        assert len(export()) == 31


class TestFiles:
    def test_cells_a_spreadsheet_would_read_as_formulas_are_neutralised(self):
        ContactFactory(
            email="eve@example.com",
            first_name="=1+1",
            last_name="\x01@x",
            phone="+32 470 12 34 56",
            locale="-x",
        )
        (row,) = parsed(csv_text())
        assert (row["first_name"], row["last_name"], row["phone"], row["locale"]) == (
            "'=1+1",
            "'\x01@x",
            "+32 470 12 34 56",  # a phone number holds no formula to fear
            "'-x",
        )
        assert restore(row["first_name"]) == "=1+1"

    def test_the_csv_guard_can_be_turned_off(self):
        ContactFactory(first_name="=1+1", phone="+32 470")
        text = "".join(exports.csv_blocks(Contact.objects.all(), formula_guard=False))
        (row,) = parsed(text)
        assert (row["first_name"], row["phone"]) == ("=1+1", "+32 470")

    def test_xlsx_cells_are_text_without_apostrophes(self):
        ContactFactory(
            first_name='\x01=HYPERLINK("http://evil.example","x")',
            last_name="'=x",
            phone="+32 470 12 34 56",
        )
        sheet = load_workbook(io.BytesIO(exports.xlsx_file(Contact.objects.all()))).active
        header, row = sheet.iter_rows()
        assert tuple(cell.value for cell in header) == column_names()
        assert (row[1].value, row[2].value, row[3].value) == (
            '=HYPERLINK("http://evil.example","x")',
            "''=x",  # read back as "'=x" by an import
            "+32 470 12 34 56",
        )
        assert {cell.data_type for cell in row} <= {"s", "inlineStr"}

    def test_xlsx_leaves_out_characters_it_cannot_hold(self):
        ContactFactory(first_name="Ann\x01", last_name="Line\nbreak\ttab")
        sheet = load_workbook(io.BytesIO(exports.xlsx_file(Contact.objects.all()))).active
        row = list(sheet.iter_rows(values_only=True))[1]
        assert row[1:3] == ("Ann", "Line\nbreak\ttab")

    def test_an_exported_file_imports_as_what_the_contacts_hold(self, products, promotions):
        preference = PreferenceFactory(name="Products, services")
        segment = SegmentFactory(name="VIP")
        contact = ContactFactory(
            first_name="=cmd", phone="+32 470", preferences=[products, preference], data={"a": 1}
        )
        CategoryChoiceFactory(contact=contact, category=promotions)
        add_to_segment_by_hand(segment, contact)

        table = open_table(io.BytesIO(csv_text().encode("utf-8")))
        reader = RowReader(table.header, default_mapping(table.header))
        ((line, cells),) = table.rows
        row = reader.read(line, cells)

        assert row.email == contact.email
        assert row.details == {
            "first_name": "=cmd",
            "last_name": contact.last_name,
            "phone": "+32 470",
            "locale": "en",
        }
        assert row.status == contact.status
        assert set(row.preferences) == {products.name, preference.name}
        assert row.categories == (promotions.pk,)
        assert row.segments == (segment.pk,)
        assert row.data == {"a": 1}

    @pytest.mark.parametrize(
        ("count", "refused"), [(3, False), (4, True)], ids=["at the limit", "above it"]
    )
    def test_xlsx_is_refused_above_the_limit(self, settings, count, refused):
        settings.WAGTAIL_PREFERENCES = {"EXPORT_XLSX_MAX_ROWS": 3}
        message = exports.xlsx_refusal(count)
        assert (message is not None) == refused
        if refused:
            assert "4 contacts" in message and "CSV" in message

    def test_file_names_say_what_and_when(self):
        today = timezone.localdate().isoformat()
        assert exports.file_name([], "csv") == f"contacts-all-{today}.csv"
        parts = ["Holds preference: Products", "Status: Confirmed"]
        assert (
            exports.file_name(parts, "xlsx")
            == f"contacts-holds-preference-products-status-confirmed-{today}.xlsx"
        )
        assert exports.describe(parts) == "Holds preference: Products; Status: Confirmed"
        assert exports.describe([]) == "All contacts"


class TestAdminExport:
    def test_the_csv_streams_as_an_attachment_named_for_its_contacts(self, admin_client, products):
        ContactFactory(email="ann@example.com", preferences=[products])
        response = admin_client.get(export_url(preference=products.pk))
        assert isinstance(response, StreamingHttpResponse)
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        today = timezone.localdate().isoformat()
        assert response["Content-Disposition"] == (
            f'attachment; filename="contacts-holds-preference-products-{today}.csv"'
        )
        assert [row["email"] for row in downloaded(response)] == ["ann@example.com"]

    def test_under_asgi_the_csv_streams_too(self, async_client, superuser):
        ContactFactory(email="ann@example.com")
        async_to_sync(async_client.aforce_login)(superuser)
        response = async_to_sync(async_client.get)(export_url())
        assert response.is_async

        async def content() -> bytes:
            return b"".join([block async for block in response.streaming_content])

        assert [row["email"] for row in parsed(async_to_sync(content)().decode())] == [
            "ann@example.com"
        ]

    def test_the_export_has_the_filters_and_search_of_the_list(self, admin_client, products):
        def contact(email, **kwargs):
            # Fixed names: the search also looks in names, and Faker's may be "Smith".
            return ContactFactory(email=email, first_name="Pat", last_name="Doe", **kwargs)

        contact("ann.smith@example.com", confirmed=True, preferences=[products])
        contact("bob.smith@example.com", preferences=[products])
        contact("cy.smith@example.com", confirmed=True)
        contact("dan.jones@example.com", confirmed=True, preferences=[products])
        response = admin_client.get(
            export_url(preference=products.pk, status="confirmed", q="smith", ordering="-email")
        )
        assert [row["email"] for row in downloaded(response)] == ["ann.smith@example.com"]

    def test_the_export_follows_the_order_of_the_list(self, admin_client):
        for name in ("bea", "cy", "al"):
            ContactFactory(email=f"{name}@example.com", first_name=name[::-1])
        by_default = downloaded(admin_client.get(export_url()))
        by_name = downloaded(admin_client.get(export_url(ordering="-email")))
        assert [row["email"][:-12] for row in by_default] == ["al", "bea", "cy"]  # the list's
        assert [row["email"][:-12] for row in by_name] == ["cy", "bea", "al"]

    def test_the_list_offers_the_export_of_what_it_shows(self, admin_client, products):
        url = reverse(f"{CONTACTS}:index") + f"?preference={products.pk}&q=ann&p=2&ordering=-email"
        page = admin_client.get(url).content.decode()
        for file_format in ("csv", "xlsx"):
            url = export_url(file_format, preference=products.pk, q="ann", ordering="-email")
            assert f'href="{escape(url)}"' in page
        plain = export_url(preference=products.pk, q="ann", ordering="-email", formula_guard="off")
        assert f'href="{escape(plain)}"' in page
        assert "Export CSV" in page and "Export XLSX" in page and "Export plain CSV" in page

    def test_a_plain_csv_leaves_formulas_as_they_are(self, admin_client):
        ContactFactory(first_name="=1+1", last_name="@x", phone="+32 470")
        (guarded,) = downloaded(admin_client.get(export_url()))
        (plain,) = downloaded(admin_client.get(export_url(formula_guard="off")))
        assert (guarded["first_name"], guarded["last_name"], guarded["phone"]) == (
            "'=1+1",
            "'@x",
            "+32 470",
        )
        assert (plain["first_name"], plain["last_name"], plain["phone"]) == (
            "=1+1",
            "@x",
            "+32 470",
        )

    def test_the_list_offers_no_export_without_the_permission(self, client):
        viewer = UserFactory(
            staff=True, permissions=[ADMIN_ACCESS, "wagtail_preferences.view_contact"]
        )
        client.force_login(viewer)
        html = client.get(reverse(f"{CONTACTS}:index")).content.decode()
        assert "Export CSV" not in html

    def test_exporting_needs_the_export_permission(self, client):
        ContactFactory()
        viewer = UserFactory(
            staff=True,
            permissions=[
                ADMIN_ACCESS,
                "wagtail_preferences.view_contact",
                "wagtail_preferences.change_contact",
            ],
        )
        client.force_login(viewer)
        for file_format in exports.FORMATS:
            response = client.get(export_url(file_format))
            # Wagtail answers a refused admin view with a redirect to the dashboard.
            assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")
        assert not ContactExport.objects.exists()

    def test_the_export_permission_is_enough(self, exporter):
        ContactFactory(email="ann@example.com")
        assert [row["email"] for row in downloaded(exporter.get(export_url()))] == [
            "ann@example.com"
        ]

    def test_each_export_is_logged_with_who_exported_what(self, admin_client, superuser, products):
        admin_client.get(export_url("xlsx", preference=products.pk, q="ann"))
        log = ContactExport.objects.get()
        assert log.created_by == superuser
        assert log.created_by_label == superuser.get_username()
        assert log.description == "Holds preference: Products; Search: ann"
        assert log.filters == {"preference": str(products.pk), "q": "ann"}
        assert (log.file_format, log.path) == ("xlsx", "admin")

    def test_xlsx_is_an_attachment_of_the_filtered_contacts(self, admin_client):
        ContactFactory(email="ann@example.com", confirmed=True)
        ContactFactory(email="bob@example.com")
        response = admin_client.get(export_url("xlsx", status="confirmed"))
        assert response["Content-Type"] == exports.CONTENT_TYPES["xlsx"]
        today = timezone.localdate().isoformat()
        assert response["Content-Disposition"] == (
            f'attachment; filename="contacts-status-confirmed-{today}.xlsx"'
        )
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert [row[0] for row in sheet.iter_rows(values_only=True)] == ["email", "ann@example.com"]

    def test_xlsx_above_the_limit_is_refused_with_the_csv_offered(self, admin_client, settings):
        settings.WAGTAIL_PREFERENCES = {"EXPORT_XLSX_MAX_ROWS": 2}
        ContactFactory.create_batch(3, confirmed=True)
        response = admin_client.get(export_url("xlsx", status="confirmed"))
        assert response.status_code == 302
        assert response.url == reverse(f"{CONTACTS}:index") + "?status=confirmed"
        (message,) = get_messages(response.wsgi_request)
        assert "3 contacts" in str(message) and "at most" in str(message)
        assert export_url("csv", status="confirmed") in str(message)
        assert not ContactExport.objects.exists()

    def test_invalid_filters_export_nothing(self, admin_client):
        ContactFactory()
        response = admin_client.get(export_url(preference=999999))
        assert response.status_code == 302
        assert not ContactExport.objects.exists()

    def test_an_unknown_format_is_not_found(self, admin_client):
        assert admin_client.get(export_url("pdf")).status_code == 404


class TestExportsOfInterests:
    def test_each_preference_offers_the_export_of_its_holders(self, admin_client, products):
        html = admin_client.get(reverse("preference_center_preferences:list")).content.decode()
        assert "Export holders as CSV" in html and "Export holders as XLSX" in html
        assert f'href="{export_url("xlsx", preference=products.pk)}"' in html
        # The count of holders links to the CSV too.
        assert f'<a href="{export_url("csv", preference=products.pk)}" download>' in html

    def test_each_category_offers_its_subscribed_and_opted_out_contacts(
        self, admin_client, promotions
    ):
        subscribed, opted_out = ContactFactory(), ContactFactory()
        CategoryChoiceFactory(contact=opted_out, category=promotions)
        html = admin_client.get(reverse("preference_center_categories:list")).content.decode()
        assert "Export subscribed contacts as CSV" in html
        assert "Export opted-out contacts as XLSX" in html

        response = admin_client.get(export_url(category_subscribed=promotions.pk))
        assert [row["email"] for row in downloaded(response)] == [subscribed.email]
        response = admin_client.get(export_url(category_opt_out=promotions.pk))
        assert [row["email"] for row in downloaded(response)] == [opted_out.email]

    def test_each_segment_offers_the_export_of_its_current_members(self, admin_client):
        segment = SegmentFactory(name="VIP")
        member, _outsider = ContactFactory(), ContactFactory()
        SegmentMember.objects.create(segment=segment, contact=member)
        html = admin_client.get(reverse("preference_center_segments:list")).content.decode()
        assert "Export members as CSV" in html

        response = admin_client.get(export_url(segment=segment.pk))
        assert [row["email"] for row in downloaded(response)] == [member.email]
        assert ContactExport.objects.get().description == "Member of segment: VIP"

    def test_no_export_is_offered_without_the_permission(self, client, products):
        editor = UserFactory(
            staff=True, permissions=[ADMIN_ACCESS, "wagtail_preferences.change_preference"]
        )
        client.force_login(editor)
        html = client.get(reverse("preference_center_preferences:list")).content.decode()
        assert "Export" not in html


def test_statuses_are_exported_as_the_import_reads_them():
    for status in ContactStatus.values:
        ContactFactory(status=status)
    assert {row[5] for row in exports.export_rows(Contact.objects.all())} == set(
        ContactStatus.values
    )


class TestExportLog:
    def test_the_log_lists_who_exported_what_from_where(self, client, admin_client, products):
        admin_client.get(export_url(preference=products.pk))
        ContactExport.objects.create(
            created_by_label="deploy (command line)",
            description="All contacts",
            file_format="xlsx",
            path=ExportPath.COMMAND,
        )
        reader = UserFactory(
            staff=True,
            permissions=["wagtailadmin.access_admin", "wagtail_preferences.view_contactexport"],
        )
        client.force_login(reader)

        page = client.get(reverse("preference_center_exports:index")).content.decode()

        assert "Holds preference: Products" in page
        assert "deploy (command line)" in page and "Command line" in page

    def test_the_log_needs_its_view_permission(self, exporter):
        response = exporter.get(reverse("preference_center_exports:index"))
        assert response.status_code == 302
