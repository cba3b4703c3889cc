"""Searching the contact list: names in either order, email addresses, short words."""

import pytest
from django.db import connection
from django.urls import reverse

from tests.admin.admin_helpers import CONTACTS
from tests.factories import ContactFactory, PreferenceFactory
from tests.transfers.test_exports import downloaded, export_url
from wagtail_preferences.audience.search import matching, search_terms
from wagtail_preferences.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {
        "lena": ContactFactory(email="lena.v@example.com", first_name="Lena", last_name="Visitor"),
        "helena": ContactFactory(email="h@example.org", first_name="Helena", last_name="Lee"),
        "victor": ContactFactory(email="victor@example.net", first_name="Victor", last_name="Lena"),
        "anna": ContactFactory(email="anna@bakery.example", first_name="Anna", last_name="Peeters"),
    }


def found(query: str) -> set[str]:
    return set(Contact.objects.filter(matching(query)).values_list("first_name", flat=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Lena Visitor", {"Lena"}),
        ("lena visitor", {"Lena"}),
        ("Visitor, Lena", {"Lena"}),
        ("  Visitor ,Lena  ", {"Lena"}),
        ("lena", {"Lena", "Helena", "Victor"}),
        ("lena.v@", {"Lena"}),
        ("lena.v@example.com", {"Lena"}),
        ("peeters", {"Anna"}),
        ("@bakery", {"Anna"}),
        ("Lena Peeters", set()),
        ("nobody", set()),
    ],
)
def test_every_word_is_found_in_a_name_or_the_address(people, query, expected):
    assert found(query) == expected


def test_a_word_of_one_or_two_characters_matches_the_start_of_a_name_or_address(people):
    assert found("h") == {"Helena"}
    assert found("Le") == {"Lena", "Helena", "Victor"}
    assert found("an pe") == {"Anna"}


def test_words_are_split_on_spaces_and_commas_and_only_five_are_searched():
    assert search_terms(" Visitor,  Lena ") == ["Visitor", "Lena"]
    assert search_terms("a b c d e f g") == ["a", "b", "c", "d", "e"]
    assert search_terms(" , ") == []


def test_percent_and_underscore_are_searched_as_typed():
    ContactFactory(email="percent@example.com", first_name="100%", last_name="Sure")
    ContactFactory(email="plain@example.com", first_name="1000", last_name="Sure")
    assert found("100%") == {"100%"}


def test_the_admin_list_finds_a_full_name(admin_client, people):
    response = admin_client.get(reverse(f"{CONTACTS}:index"), {"q": "Lena Visitor"})
    html = response.content.decode()
    assert "lena.v@example.com" in html
    assert "victor@example.net" not in html and "h@example.org" not in html


def test_the_search_and_a_preference_filter_together(admin_client, people):
    products = PreferenceFactory(name="Products")
    people["victor"].preferences.add(products)
    response = admin_client.get(
        reverse(f"{CONTACTS}:index"), {"q": "lena", "preference": products.pk}
    )
    html = response.content.decode()
    assert "victor@example.net" in html
    assert "lena.v@example.com" not in html


def test_the_export_finds_what_the_list_finds(admin_client, people):
    emails = [row["email"] for row in downloaded(admin_client.get(export_url(q="Visitor, Lena")))]
    assert emails == ["lena.v@example.com"]


@pytest.mark.postgres
def test_on_postgresql_the_trigram_index_serves_the_search(people):
    """The index of migration 0013 must compare the very expression the search filters on;
    were they to drift apart, PostgreSQL would read the whole table."""
    query = Contact.objects.filter(matching("Lena Visitor")).order_by()
    with connection.cursor() as cursor:
        # A table this small is read whole, or in email order, unless the planner may not.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "wagtail_prefs_contact_search" in plan
