"""The app's snippets: kept out of the snippets menu, and what their choosers offer."""

import re

import pytest
from django.urls import reverse
from wagtail.snippets.models import get_snippet_models
from wagtail.snippets.views.snippets import SnippetViewSet, get_snippet_models_for_index_view

from tests.factories import CategoryFactory, PreferenceFactory, SegmentFactory, UserFactory
from wagtail_preferences.models import Category, ContactExport, Message, Preference, Segment

pytestmark = pytest.mark.django_db


SNIPPETS_MENU_ITEM = '"name": "snippets"'


class TestSnippetsMenu:
    def test_the_apps_snippets_are_not_in_a_snippets_menu(self, admin_client):
        html = admin_client.get(reverse("wagtailadmin_home")).content.decode()

        assert SNIPPETS_MENU_ITEM not in html
        assert '"name": "preference-center"' in html
        response = admin_client.get(reverse("wagtailsnippets:index"))  # nothing to list
        assert (response.status_code, response["Location"]) == (302, reverse("wagtailadmin_home"))

    def test_an_editor_of_preferences_sees_them_only_in_the_preference_center(self, client):
        user = UserFactory(
            staff=True,
            permissions=["wagtailadmin.access_admin", "wagtail_preferences.change_preference"],
        )
        client.force_login(user)

        html = client.get(reverse("wagtailadmin_home")).content.decode()

        assert SNIPPETS_MENU_ITEM not in html
        assert '"name": "preferences"' in html

    def test_only_the_apps_own_viewsets_are_kept_out(self):
        """A site's own snippets get Wagtail's viewset, which the "Snippets" menu lists."""
        assert get_snippet_models_for_index_view() == []
        assert set(get_snippet_models()) == {Preference, Category, Segment, Message}
        assert SnippetViewSet(model=ContactExport).get_menu_item_is_registered() is False

    def test_the_apps_snippet_pages_have_no_snippets_breadcrumb(self, admin_client):
        html = admin_client.get(reverse("preference_center_preferences:list")).content.decode()

        assert reverse("wagtailsnippets:index") not in html


def chooser_url(model, view="choose", *args) -> str:
    return reverse(f"wagtailsnippetchoosers_wagtail_preferences_{model}:{view}", args=args)


def chooser_names(response) -> set[str]:
    """The names listed by a chooser's modal (JSON) or its results (HTML)."""
    is_json = response["Content-Type"] == "application/json"
    html = response.json()["html"] if is_json else response.content.decode()
    return {name.strip() for name in re.findall(r"data-chooser-modal-choice[^>]*>([^<]+)<", html)}


class TestSnippetChoosers:
    @pytest.fixture
    def interests(self):
        return {
            "public": PreferenceFactory(name="Products", is_public=True),
            "internal": PreferenceFactory(name="VIP", is_public=False),
            "public_segment": SegmentFactory(name="Readers", is_public=True),
            "internal_segment": SegmentFactory(name="Churn risk", is_public=False),
            "category": CategoryFactory(name="Promotions"),
        }

    @pytest.fixture
    def page_editor(self, client):
        user = UserFactory(staff=True, permissions=["wagtailadmin.access_admin"])
        client.force_login(user)
        return client

    @pytest.mark.parametrize(
        ("model", "names"),
        [
            ("preference", {"Products"}),
            ("segment", {"Readers"}),
            ("category", {"Promotions"}),
        ],
    )
    def test_without_permissions_a_chooser_lists_only_public_items(
        self, page_editor, interests, model, names
    ):
        for view in ("choose", "choose_results"):
            response = page_editor.get(chooser_url(model, view))

            assert response.status_code == 200
            assert chooser_names(response) == names, view

    def test_without_permissions_an_internal_item_cannot_be_chosen_by_id(
        self, page_editor, interests
    ):
        internal, public = interests["internal"], interests["public"]

        assert page_editor.get(chooser_url("preference", "chosen", internal.pk)).status_code == 404
        assert page_editor.get(chooser_url("preference", "chosen", public.pk)).status_code == 200
        response = page_editor.get(
            chooser_url("preference", "chosen_multiple"), {"id": [internal.pk, public.pk]}
        )
        assert [item["string"] for item in response.json()["result"]] == ["Products"]

    @pytest.mark.parametrize(
        ("model", "permission", "names"),
        [
            ("preference", "view_preference", {"Products", "VIP"}),
            ("segment", "change_segment", {"Readers", "Churn risk"}),
        ],
    )
    def test_any_permission_on_the_model_lists_everything(
        self, client, interests, model, permission, names
    ):
        user = UserFactory(
            staff=True,
            permissions=["wagtailadmin.access_admin", f"wagtail_preferences.{permission}"],
        )
        client.force_login(user)

        assert chooser_names(client.get(chooser_url(model))) == names

    @pytest.mark.parametrize("model", ["preference", "segment"])
    def test_a_segment_editor_sees_everything_criteria_may_name(self, client, interests, model):
        user = UserFactory(
            staff=True,
            permissions=["wagtailadmin.access_admin", "wagtail_preferences.change_segment"],
        )
        client.force_login(user)

        names = chooser_names(client.get(chooser_url(model)))

        assert (
            names
            == {"preference": {"Products", "VIP"}, "segment": {"Readers", "Churn risk"}}[model]
        )

    def test_a_superuser_sees_everything(self, admin_client, interests):
        assert chooser_names(admin_client.get(chooser_url("segment"))) == {"Readers", "Churn risk"}
