"""Editors preview a page, draft included, as a visitor with chosen preferences or as an
unknown visitor."""

import json
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group, Permission
from wagtail.models import GroupPagePermission

from tests.dynamic_helpers import condition, dynamic, dynamic_page, shown, variants, visitor
from tests.factories import ContactFactory, SegmentFactory, UserFactory
from tests.testapp.models import FormPage
from tests.visitor_helpers import site_root

pytestmark = pytest.mark.django_db


def form_url(page) -> str:
    return f"/admin/preferences-preview/{page.pk}/"


def render_url(page, **query) -> str:
    return f"/admin/preferences-preview/{page.pk}/render/?{urlencode(query, doseq=True)}"


def save_draft(page, *blocks):
    page = FormPage.objects.get(pk=page.pk)
    page.body = json.dumps(list(blocks))
    page.save_revision()
    return page


def editor_with(*, can_edit: bool):
    """A user with admin access, and edit permission on every page or none."""
    group = Group.objects.create(name=f"Editors {can_edit}")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    if can_edit:
        GroupPagePermission.objects.create(
            group=group,
            page=site_root(),
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename="change_page"
            ),
        )
    user = UserFactory(staff=True)
    user.groups.add(group)
    return user


@pytest.fixture
def admin(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def page(products, events):
    published = dynamic_page(
        dynamic(preferences=[products], content="LIVE MATCHED", fallback="LIVE FALLBACK")
    )
    return save_draft(
        published,
        dynamic(preferences=[products], content="DRAFT MATCHED", fallback="DRAFT FALLBACK"),
        variants(
            (condition(preferences=[events]), "DRAFT EVENTS"),
            (condition(preferences=[products]), "DRAFT PRODUCTS"),
        ),
    )


class TestRendering:
    def test_the_draft_for_a_visitor_with_the_chosen_preferences(self, admin, page, products):
        response = admin.get(render_url(page, visitor="recognised", preferences=products.pk))

        assert response.status_code == 200
        assert shown(response) == ["DRAFT MATCHED", "DRAFT PRODUCTS"]

    def test_the_first_matching_variant_follows_the_chosen_preferences(
        self, admin, page, products, events
    ):
        response = admin.get(
            render_url(page, visitor="recognised", preferences=[products.pk, events.pk])
        )

        assert shown(response) == ["DRAFT MATCHED", "DRAFT EVENTS"]

    def test_a_recognised_visitor_without_preferences(self, admin, page):
        response = admin.get(render_url(page, visitor="recognised"))

        assert shown(response) == ["DRAFT FALLBACK", "DEFAULT"]

    def test_an_unknown_visitor(self, admin, page, products):
        response = admin.get(render_url(page, visitor="unknown", preferences=products.pk))

        assert response.status_code == 200
        assert shown(response) == ["DRAFT FALLBACK", "DEFAULT"]

    def test_the_published_page_is_unchanged(self, client, page):
        assert shown(client.get(page.url)) == ["LIVE FALLBACK"]

    def test_categories_and_segments(self, admin, promotions):
        segment = SegmentFactory()
        page = dynamic_page(
            dynamic(category=promotions, content="CATEGORY", fallback="NO CATEGORY"),
            dynamic(segment=segment, content="SEGMENT", fallback="NO SEGMENT"),
        )

        chosen = admin.get(
            render_url(page, visitor="recognised", categories=promotions.pk, segments=segment.pk)
        )
        neither = admin.get(render_url(page, visitor="recognised"))

        assert shown(chosen) == ["CATEGORY", "SEGMENT"]
        assert shown(neither) == ["NO CATEGORY", "NO SEGMENT"]

    def test_never_cached_and_framed_only_by_the_admin(self, admin, page, products):
        response = admin.get(render_url(page, visitor="recognised", preferences=products.pk))

        assert response["X-Frame-Options"] == "SAMEORIGIN"
        assert "no-store" in response["Cache-Control"]
        assert "no-cache" in response["Cache-Control"]

    def test_the_editors_own_identity_does_not_leak_into_the_preview(
        self, admin, superuser, page, products, events
    ):
        ContactFactory(user=superuser, preferences=[products])
        visitor(admin, ContactFactory(preferences=[products]))

        unknown = admin.get(render_url(page, visitor="unknown"))
        as_events = admin.get(render_url(page, visitor="recognised", preferences=events.pk))

        assert shown(unknown) == ["DRAFT FALLBACK", "DEFAULT"]
        assert shown(as_events) == ["DRAFT FALLBACK", "DRAFT EVENTS"]
        for response in (unknown, as_events):
            assert "wagtail_preferences" not in response.cookies

    def test_a_link_token_in_the_preview_recognises_nobody(self, admin, page, products):
        from wagtail_preferences.identity import resolvers

        link = resolvers.recognising_link(
            render_url(page, visitor="unknown"), ContactFactory(preferences=[products])
        )

        response = admin.get(link)

        assert response.status_code == 200
        assert shown(response) == ["DRAFT FALLBACK", "DEFAULT"]
        assert "wagtail_preferences" not in response.cookies

    @pytest.mark.parametrize(
        "query",
        [
            {},
            {"visitor": "somebody"},
            {"visitor": "recognised", "preferences": "999999"},
            {"visitor": "recognised", "preferences": "products"},
            {"visitor": "recognised", "categories": "999999"},
            {"visitor": "recognised", "segments": "x"},
        ],
    )
    def test_an_invalid_query_is_refused(self, admin, page, query):
        assert admin.get(render_url(page, **query)).status_code == 403

    def test_an_unknown_page(self, admin):
        assert (
            admin.get("/admin/preferences-preview/999999/render/?visitor=unknown").status_code
            == 404
        )


class TestPermissions:
    def test_an_editor_of_the_page_may_preview(self, client, page, products):
        client.force_login(editor_with(can_edit=True))

        assert client.get(form_url(page)).status_code == 200
        response = client.get(render_url(page, visitor="recognised", preferences=products.pk))
        assert response.status_code == 200
        assert shown(response) == ["DRAFT MATCHED", "DRAFT PRODUCTS"]

    def test_an_admin_user_who_may_not_edit_the_page_is_refused(self, client, page, products):
        client.force_login(editor_with(can_edit=False))

        rendered = client.get(render_url(page, visitor="recognised", preferences=products.pk))

        assert rendered.status_code == 403
        assert "DRAFT" not in rendered.content.decode()

    def test_the_form_refuses_them_as_the_admin_does(self, client, page):
        client.force_login(editor_with(can_edit=False))

        response = client.get(form_url(page), follow=True)

        assert response.redirect_chain == [("/admin/", 302)]
        assert "you do not have permission" in response.content.decode()
        assert 'name="visitor"' not in response.content.decode()

    def test_a_script_asking_the_form_gets_a_403(self, client, page):
        client.force_login(editor_with(can_edit=False))

        response = client.get(form_url(page), headers={"x-requested-with": "XMLHttpRequest"})

        assert response.status_code == 403

    def test_a_visitor_is_sent_to_the_login(self, client, page):
        for url in (form_url(page), render_url(page, visitor="unknown")):
            response = client.get(url)

            assert response.status_code == 302
            assert "/admin/login/" in response["Location"]


class TestForm:
    def test_the_form_offers_the_choices(self, admin, page, products, events, promotions):
        response = admin.get(form_url(page))

        assert response.status_code == 200
        html = response.content.decode()
        for name in (products.name, events.name, promotions.name):
            assert name in html
        assert 'name="visitor"' in html
        assert "<iframe" not in html

    def test_a_chosen_visitor_shows_the_page_in_a_frame(self, admin, page, products):
        response = admin.get(f"{form_url(page)}?visitor=recognised&preferences={products.pk}")

        html = response.content.decode()
        assert "<iframe" in html
        assert f"/admin/preferences-preview/{page.pk}/render/?visitor=recognised" in html

    def test_an_invalid_choice_shows_no_frame(self, admin, page):
        response = admin.get(f"{form_url(page)}?visitor=somebody")

        assert response.status_code == 200
        assert "<iframe" not in response.content.decode()


class TestHeaderButton:
    def test_shown_to_editors_in_the_page_editor(self, client, page):
        client.force_login(editor_with(can_edit=True))

        html = client.get(f"/admin/pages/{page.pk}/edit/").content.decode()

        assert "Preview as a visitor" in html
        assert form_url(page) in html

    def test_shown_to_superusers(self, admin, page):
        html = admin.get(f"/admin/pages/{page.pk}/edit/").content.decode()

        assert form_url(page) in html
