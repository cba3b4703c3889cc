"""Preferences and categories edited in the admin: slugs, and deleting through the services."""

import pytest
from django.urls import reverse

from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactFactory,
    PreferenceFactory,
)
from wagtail_preferences.admin.consent_text import describe
from wagtail_preferences.models import (
    Category,
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    Preference,
)

pytestmark = pytest.mark.django_db


class TestInterestForms:
    def test_a_slug_made_from_the_name_must_be_unique(self, admin_client):
        PreferenceFactory(name="Events")
        response = admin_client.post(
            reverse("preference_center_preferences:add"),
            {"name": "Events!", "slug": "", "description": "", "is_public": "on", "sort_order": 0},
        )
        assert response.status_code == 200
        assert "Preference with this Slug already exists." in response.content.decode()
        assert Preference.objects.count() == 1

    def test_a_name_without_letters_needs_a_slug(self, admin_client):
        url = reverse("preference_center_categories:add")
        response = admin_client.post(url, {"name": "!!!", "slug": "", "sort_order": 0})
        assert "No slug can be made from this name" in response.content.decode()
        response = admin_client.post(url, {"name": "!!!", "slug": "bangs", "sort_order": 0})
        assert response.status_code == 302
        assert Category.objects.get().slug == "bangs"

    def test_the_slug_is_made_from_the_name(self, admin_client):
        response = admin_client.post(
            reverse("preference_center_preferences:add"),
            {"name": "Product news", "slug": "", "sort_order": 0},
        )
        assert response.status_code == 302
        assert Preference.objects.get().slug == "product-news"


class TestDeletingThroughTheServiceLayer:
    def test_deleting_a_preference_in_the_admin_logs_who_removed_it(
        self, admin_client, superuser, sent_signals
    ):
        products = PreferenceFactory(name="Products")
        holders = ContactFactory.create_batch(3, preferences=[products])
        url = reverse("preference_center_preferences:delete", args=[products.pk])
        assert admin_client.post(url).status_code == 302
        events = ConsentEvent.objects.filter(subject=ConsentSubject.PREFERENCE)
        assert {e.contact_id for e in events} == {c.pk for c in holders}
        assert {(describe(e), e.actor_id) for e in events} == {
            ("Removed preference “Products”", superuser.pk)
        }
        assert [name for name, _ in sent_signals] == ["preferences_removed"]

    def test_deleting_a_category_in_the_admin_forgets_choices_with_a_record(
        self, admin_client, superuser
    ):
        promotions = CategoryFactory(name="Promotions")
        CategoryChoiceFactory.create_batch(2, category=promotions)
        url = reverse("preference_center_categories:delete", args=[promotions.pk])
        assert (
            "2 contacts made a choice about “Promotions”" in admin_client.get(url).content.decode()
        )
        assert admin_client.post(url).status_code == 302
        events = ConsentEvent.objects.filter(subject=ConsentSubject.CATEGORY)
        assert {(describe(e), e.actor_id) for e in events} == {
            ("Category “Promotions” back to the default (subscribed)", superuser.pk)
        }
        assert events.count() == 2

    def test_deleting_in_code_or_in_bulk_is_logged_too(self):
        products = PreferenceFactory(name="Products")
        contact = ContactFactory(preferences=[products])
        Preference.objects.filter(pk=products.pk).delete()
        event = ConsentEvent.objects.get(contact=contact)
        assert describe(event) == "Removed preference “Products”"
        assert (event.path, event.reference) == (ChangePath.SYSTEM, "preference “Products” deleted")
