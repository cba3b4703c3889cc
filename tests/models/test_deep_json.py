"""Custom data nested too deeply: an error of its row or of the form, never a crash."""

import json

import pytest
from django.urls import reverse

from tests.admin.admin_helpers import CONTACTS, contact_form_data
from tests.import_helpers import csv_text, make_run
from wagtail_preferences.json_depth import MAX_DEPTH, BoundedJSONDecoder, TooDeep, too_deep
from wagtail_preferences.models import Contact, ContactStatus, ImportRowError, ImportStatus
from wagtail_preferences.transfers.imports.runner import ImportRunner

pytestmark = pytest.mark.django_db

DEEP = '{"a":' + "[" * 60_000 + "]" * 60_000 + "}"  # within a CSV field's 128 KiB


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, False),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), True),
        ('{"a": "' + "[" * 100 + '"}', False),  # brackets in a string do not count
        ('{"a": "\\"[[[[" }', False),  # nor after an escaped quote
        (DEEP, True),
        ("not json", False),
    ],
)
def test_depth_is_counted_outside_strings(text, deep):
    assert too_deep(text) is deep


def test_the_decoder_refuses_deep_json_with_a_value_error():
    assert json.loads('{"a": [1, {"b": 2}]}', cls=BoundedJSONDecoder) == {"a": [1, {"b": 2}]}
    with pytest.raises(TooDeep, match=f"nested more than {MAX_DEPTH} levels"):
        json.loads(DEEP, cls=BoundedJSONDecoder)
    assert issubclass(TooDeep, ValueError)


def test_a_deep_data_cell_is_its_rows_error_and_the_others_are_imported():
    run = make_run(
        csv_text(
            "email,data",
            "a@example.com,{}",
            f'b@example.com,"{DEEP.replace(chr(34), 2 * chr(34))}"',
        ),
        skip_invalid=True,
    )

    run = ImportRunner(run).apply()

    assert run.status == ImportStatus.DONE
    assert list(Contact.objects.values_list("email", flat=True)) == ["a@example.com"]
    assert list(ImportRowError.objects.values_list("row", "column", "message")) == [
        (3, "data", f"data is nested more than {MAX_DEPTH} levels deep, the most it may be.")
    ]


def test_deep_data_in_the_contact_form_is_a_form_error(client, superuser):
    client.force_login(superuser)
    data = contact_form_data(
        Contact(email="", status=ContactStatus.CONFIRMED), email="new@example.com", data=DEEP
    )

    response = client.post(reverse(f"{CONTACTS}:add"), data)

    assert response.status_code == 200
    assert response.context["form"].errors["data"] == [
        f"Enter valid JSON, with objects and lists nested at most {MAX_DEPTH} levels deep."
    ]
    assert not Contact.objects.exists()
