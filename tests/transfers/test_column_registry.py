"""One column registry: a column registered once appears in exports and imports alike."""

import pytest
from django.db.models.fields.json import KT

from tests.factories import ContactFactory
from tests.import_helpers import csv_text, make_run
from wagtail_preferences.admin.import_forms import target_choices
from wagtail_preferences.models import Contact
from wagtail_preferences.transfers import exports
from wagtail_preferences.transfers.columns import (
    Column,
    column_names,
    register,
    registered,
    unregister,
)
from wagtail_preferences.transfers.imports.columns import default_mapping, mapping_problems
from wagtail_preferences.transfers.imports.rows import RowError, RowErrors, RowReader
from wagtail_preferences.transfers.imports.runner import ImportRunner

pytestmark = pytest.mark.django_db


def read_club(reader, row, cell: str) -> None:
    if cell.isdigit():
        raise RowError("club", "A club is named, not numbered.")
    row.data["club"] = cell


@pytest.fixture
def club():
    column = register(
        Column("club", label="Club", read=read_club, value=KT("data__club"), aliases=("Team",))
    )
    yield column
    unregister("club")


def test_the_built_in_columns_in_export_order():
    assert column_names() == (
        "email",
        "first_name",
        "last_name",
        "phone",
        "locale",
        "status",
        "preferences",
        "categories",
        "segments",
        "data",
    )
    assert [column.name for column in registered() if column.required] == ["email"]
    assert [column.name for column in registered() if column.listed] == [
        "preferences",
        "categories",
        "segments",
    ]


def test_a_name_is_registered_once(club):
    with pytest.raises(ValueError):
        register(Column("club", label="Club", read=read_club, value="email"))


def test_a_registered_column_is_exported_last(club):
    ContactFactory(email="ann@example.com", data={"club": "Ghent"})
    ContactFactory(email="bob@example.com", data={})

    lines = "".join(exports.csv_blocks(Contact.objects.all()))[1:].splitlines()

    assert lines[0].endswith(",data,club")
    assert lines[1].startswith("ann@example.com,") and lines[1].endswith(
        ',"{""club"":""Ghent""}",Ghent'
    )
    assert lines[2].startswith("bob@example.com,") and lines[2].endswith(",,")


def test_a_registered_column_is_exported_in_the_contact_lists_order(club):
    ContactFactory(email="ann@example.com", last_name="B", data={"club": "Ghent"})
    ContactFactory(email="bob@example.com", last_name="A", data={"club": "Bruges"})

    rows = list(exports.export_rows(Contact.objects.order_by("last_name")))

    assert [(row[0], row[-1]) for row in rows] == [
        ("bob@example.com", "Bruges"),
        ("ann@example.com", "Ghent"),
    ]


def test_a_registered_column_is_offered_and_mapped_for_imports(club):
    assert ("club", "Club") in target_choices("Club")
    assert default_mapping(["Email", "Team"]) == {"Email": "email", "Team": "club"}
    assert mapping_problems(["Email", "Team"], {"Email": "email", "Team": "club"}) == []


def test_a_registered_column_is_read_and_validated_by_imports(club):
    reader = RowReader(["email", "club"], {"email": "email", "club": "club"})

    assert reader.read(2, ["ann@example.com", "Ghent"]).data == {"club": "Ghent"}
    with pytest.raises(RowErrors) as raised:
        reader.read(3, ["bob@example.com", "12"])
    assert [(e.column, e.message) for e in raised.value.errors] == [
        ("club", "A club is named, not numbered.")
    ]


def test_a_registered_column_round_trips(club):
    ContactFactory(email="ann@example.com", data={"club": "Ghent"})
    text = "".join(exports.csv_blocks(Contact.objects.all()))[1:]
    Contact.objects.all().delete()
    lines = text.splitlines()
    header = lines[0].split(",")
    mapping = {name: ("" if name == "data" else name) for name in header}

    ImportRunner(make_run(csv_text(*lines), mapping=mapping)).apply()

    assert Contact.objects.get().data == {"club": "Ghent"}


def test_the_registry_is_clean_again():
    assert "club" not in column_names()
