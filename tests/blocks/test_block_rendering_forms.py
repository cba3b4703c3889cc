"""The blocks work however a template renders the StreamField: ``{% include_block page.body %}``,
``{{ page.body }}``, or ``{{ block }}`` (or ``{% include_block block %}``) for each block in a
loop. Where they truly cannot, they say so to developers."""

import logging
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from django.core import checks
from django.template.response import TemplateResponse
from django.test import AsyncClient, Client, RequestFactory
from django.urls import include, path

from tests.dynamic_helpers import condition, dynamic, dynamic_page, shown, variants, visitor
from tests.factories import ContactFactory, PreferenceFactory
from tests.submission_fixtures import held, send
from tests.testapp.models import FormPage
from tests.visitor_helpers import VisitorForm, block_keys, form_page, form_value
from wagtail_preferences.blocks.rendering_context import request_and_page, while_rendering
from wagtail_preferences.checks import check_block_rendering
from wagtail_preferences.identity.middleware import PersonalisationMiddleware
from wagtail_preferences.models import Contact, FormSubmission
from wagtail_preferences.visitors.forms import form_prefix

pytestmark = pytest.mark.django_db

TEMPLATES = {
    "include_block": "testapp/body/include_block.html",
    "string": "testapp/body/string.html",
    "loop": "testapp/body/loop.html",
    "loop_include_block": "testapp/form_page.html",
}
MIDDLEWARE = "wagtail_preferences.identity.middleware.PersonalisationMiddleware"
BLIND = "was rendered without the request"
UNPLACED = "was rendered without its page"


def own_page_view(request, pk):
    """A site's own view that renders a page's body with ``{{ page.body }}``."""
    return TemplateResponse(request, TEMPLATES["string"], {"page": FormPage.objects.get(pk=pk)})


#: A site where Wagtail serves no pages (used with ``pytest.mark.urls``).
urlpatterns = [
    path("own/<int:pk>/", own_page_view),
    path("preferences/", include("wagtail_preferences.urls")),
]


@pytest.fixture(params=list(TEMPLATES))
def rendered_with(request, monkeypatch):
    monkeypatch.setattr(FormPage, "template", TEMPLATES[request.param])
    return TEMPLATES[request.param]


@pytest.fixture
def holder(products):
    return ContactFactory(confirmed=True, preferences=[products])


@pytest.fixture
def with_middleware(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]


def get(client, url, template):
    """The page at ``url``, checked to be rendered by ``template``."""
    response = client.get(url)
    assert response.status_code == 200
    assert template in [t.name for t in response.templates]
    return response


def personalised_page(products, events):
    return dynamic_page(
        dynamic(preferences=[products]),
        variants(
            (condition(preferences=[events]), "EVENTS"),
            (condition(preferences=[products]), "PRODUCTS"),
        ),
    )


class TestPreferenceForm:
    def test_the_form_names_its_page_and_block_with_valid_ids(self, client, rendered_with):
        page = form_page()

        html = get(client, page.url, rendered_with).content.decode()

        (key,) = block_keys(page)
        prefix = form_prefix(key)
        assert f'action="/preferences/forms/submit/#{prefix}"' in html
        assert f'name="wagtail_preferences_page" value="{page.pk}"' in html
        assert f'name="wagtail_preferences_block" value="{key}"' in html
        assert f'<section class="wp-block" id="{prefix}" aria-labelledby="{prefix}-title">' in html
        assert f'id="{prefix}-title"' in html
        assert 'id="-title"' not in html
        assert "only be used on a published page" not in html

    def test_sending_the_form_works_with_the_csrf_check(self, rendered_with):
        preference = PreferenceFactory()
        page = form_page(preferences=[preference], double_opt_in=False)
        form = VisitorForm.of(Client(enforce_csrf_checks=True), page)

        response = send(form, preferences=[preference])

        assert response.status_code == 303
        assert FormSubmission.objects.get().block_key == block_keys(page)[0]
        assert held(Contact.objects.get()) == {preference.pk}
        thanks = get(form.client, response["Location"], rendered_with).content.decode()
        assert 'class="wp-notice wp-notice--success"' in thanks

    def test_a_nested_form_with_errors_is_shown_again_with_them(self, client, rendered_with):
        page = form_page(
            body=[
                {
                    "type": "columns",
                    "value": {"left": [{"type": "preference_form", "value": form_value()}]},
                }
            ]
        )
        form = VisitorForm.of(client, page)

        response = send(form, email="not-an-email")

        html = response.content.decode()
        assert response.status_code == 200
        assert "There is a problem" in html
        assert 'value="not-an-email"' in html
        assert f'action="/preferences/forms/submit/#{form.prefix}"' in html


class TestDynamicContent:
    def test_a_recognised_visitor_sees_their_variants(
        self, client, rendered_with, products, events, holder
    ):
        page = personalised_page(products, events)

        response = get(visitor(client, holder), page.url, rendered_with)

        assert shown(response) == ["MATCHED", "PRODUCTS"]
        assert "private" in response["Cache-Control"]

    def test_an_unknown_visitor_sees_the_fallbacks(self, client, rendered_with, products, events):
        page = personalised_page(products, events)

        response = get(client, page.url, rendered_with)

        assert shown(response) == ["FALLBACK", "DEFAULT"]
        assert "private" not in response.get("Cache-Control", "")
        assert "cookie" in response["Vary"].lower()

    def test_a_form_inside_dynamic_content_is_keyed_for_a_matching_visitor(
        self, client, rendered_with, products, holder
    ):
        value = dynamic(preferences=[products])["value"]
        value["content"].append({"type": "preference_form", "value": form_value()})
        page = dynamic_page({"type": "dynamic", "value": value})

        form = VisitorForm.of(visitor(client, holder), page)

        assert [form.key] == block_keys(page)
        assert form.hidden["wagtail_preferences_page"] == str(page.pk)


class TestNothingLeaks:
    def test_the_next_visitor_is_not_the_last_one(
        self, client, rendered_with, products, events, holder
    ):
        page = personalised_page(products, events)
        assert shown(get(visitor(client, holder), page.url, rendered_with)) == [
            "MATCHED",
            "PRODUCTS",
        ]
        client.cookies.clear()

        assert shown(get(client, page.url, rendered_with)) == ["FALLBACK", "DEFAULT"]

    def test_after_a_page_has_rendered_nothing_is_kept(
        self, client, rendered_with, products, events, holder
    ):
        page = personalised_page(products, events)
        get(visitor(client, holder), page.url, rendered_with)

        assert request_and_page({}) == (None, None)
        assert shown_in(str(page.body)) == ["FALLBACK", "DEFAULT"]

    def test_a_response_that_never_rendered_leaves_nothing_for_the_next_request(self, client):
        page = form_page()
        request = RequestFactory().get(page.url)
        while_rendering(request, page, lambda: TemplateResponse(request, TEMPLATES["string"]))
        assert request_and_page({}) == (request, page)

        client.get("/preferences/link/")

        assert request_and_page({}) == (None, None)

    def test_a_block_rendered_with_its_own_request_does_not_take_the_page_of_another(self):
        page = form_page()
        served, other = RequestFactory().get(page.url), RequestFactory().get("/other/")
        response = while_rendering(
            served, page, lambda: TemplateResponse(served, TEMPLATES["string"])
        )

        assert request_and_page({"request": other}) == (other, None)
        assert request_and_page({"request": served}) == (served, page)
        response.render()
        assert request_and_page({}) == (None, None)

    def test_a_page_of_the_sites_own_is_not_taken_for_the_wagtail_page(self):
        page = form_page()
        request = RequestFactory().get(page.url)
        response = while_rendering(
            request, page, lambda: TemplateResponse(request, TEMPLATES["string"])
        )

        assert request_and_page({"page": object()}) == (request, page)
        response.render()
        assert request_and_page({"request": request, "page": object()}) == (request, None)


def shown_in(html: str) -> list[str]:
    return shown(type("Rendered", (), {"content": html.encode()}))


@pytest.mark.urls(__name__)
class TestTheSitesOwnViews:
    def test_with_the_middleware_dynamic_content_sees_the_visitor(
        self, client, with_middleware, products, events, holder
    ):
        page = personalised_page(products, events)

        recognised = get(visitor(client, holder), f"/own/{page.pk}/", TEMPLATES["string"])
        client.cookies.clear()
        unknown = get(client, f"/own/{page.pk}/", TEMPLATES["string"])

        assert shown(recognised) == ["MATCHED", "PRODUCTS"]
        assert "private" in recognised["Cache-Control"]
        assert shown(unknown) == ["FALLBACK", "DEFAULT"]
        assert BLIND not in recognised.content.decode() + unknown.content.decode()

    def test_without_it_developers_are_told_in_debug_and_in_the_log(
        self, client, settings, caplog, products, events, holder
    ):
        settings.DEBUG = True
        page = personalised_page(products, events)

        with caplog.at_level(logging.WARNING, logger="wagtail_preferences"):
            response = get(visitor(client, holder), f"/own/{page.pk}/", TEMPLATES["string"])

        assert shown(response) == ["FALLBACK", "DEFAULT"]
        html = response.content.decode()
        assert html.count('class="wp-notice wp-notice--developer"') == 2
        assert "“Dynamic content” was rendered without the request" in html
        assert "“First matching variant” was rendered without the request" in html
        assert [r.levelname for r in caplog.records if BLIND in r.getMessage()] == ["WARNING"] * 2

    def test_visitors_never_see_the_notice_but_the_log_has_it(
        self, client, caplog, products, events
    ):
        page = personalised_page(products, events)

        with caplog.at_level(logging.WARNING, logger="wagtail_preferences"):
            response = get(client, f"/own/{page.pk}/", TEMPLATES["string"])

        assert BLIND not in response.content.decode()
        assert "wp-notice--developer" not in response.content.decode()
        assert any(BLIND in record.getMessage() for record in caplog.records)

    def test_a_form_without_its_page_says_so_with_valid_ids(
        self, client, settings, caplog, with_middleware
    ):
        settings.DEBUG = True
        page = form_page()

        with caplog.at_level(logging.WARNING, logger="wagtail_preferences"):
            html = get(client, f"/own/{page.pk}/", TEMPLATES["string"]).content.decode()

        assert "<form" not in html
        assert "This form can only be used on a published page." in html
        assert f"“Preference form” {UNPLACED}" in html
        assert any(UNPLACED in record.getMessage() for record in caplog.records)
        assert 'id="-title"' not in html
        assert 'id="wp' in html


def render_url(page, **query) -> str:
    return f"/admin/preferences-preview/{page.pk}/render/?{urlencode(query)}"


class TestPreviews:
    @pytest.fixture
    def admin(self, client, superuser):
        client.force_login(superuser)
        return client

    def test_the_preview_as_a_visitor_follows_the_chosen_profile(
        self, admin, rendered_with, products, events
    ):
        page = personalised_page(products, events)

        recognised = get(
            admin, render_url(page, visitor="recognised", preferences=products.pk), rendered_with
        )
        unknown = get(admin, render_url(page, visitor="unknown"), rendered_with)

        assert shown(recognised) == ["MATCHED", "PRODUCTS"]
        assert shown(unknown) == ["FALLBACK", "DEFAULT"]

    def test_the_preview_as_a_visitor_shows_the_form_that_cannot_be_sent_yet(
        self, admin, rendered_with
    ):
        page = form_page()

        html = get(admin, render_url(page, visitor="unknown"), rendered_with).content.decode()

        assert "Preview: the form can be sent once the page is published." in html
        assert f'name="wagtail_preferences_block" value="{block_keys(page)[0]}"' in html

    @pytest.mark.parametrize("middleware", [False, True])
    def test_wagtails_preview_sees_the_visitor_with_the_middleware_or_include_block(
        self, settings, monkeypatch, products, holder, middleware
    ):
        if middleware:
            settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
        page = dynamic_page(dynamic(preferences=[products]))
        cookie = visitor(Client(), holder).cookies.output(header="", sep=";").strip()
        original = RequestFactory().get("/", HTTP_COOKIE=cookie)

        texts = {}
        for name in ("include_block", "string"):
            monkeypatch.setattr(FormPage, "template", TEMPLATES[name])
            texts[name] = shown_in(page.make_preview_request(original).content.decode())

        assert texts == {
            "include_block": ["MATCHED"],
            "string": ["MATCHED"] if middleware else ["FALLBACK"],
        }


class TestCheck:
    @pytest.mark.urls(__name__)
    def test_w002_when_wagtail_serves_no_pages_and_the_middleware_is_missing(self):
        errors = check_block_rendering()

        assert [e.id for e in errors] == ["wagtail_preferences.W002"]
        assert errors[0].level == checks.WARNING
        assert MIDDLEWARE in errors[0].hint

    @pytest.mark.urls(__name__)
    def test_no_warning_with_the_middleware_or_a_subclass(self, settings):
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]
        assert check_block_rendering() == []

        settings.MIDDLEWARE = [*settings.MIDDLEWARE[:-1], f"{__name__}.OwnMiddleware"]
        assert check_block_rendering() == []

    def test_no_warning_where_wagtail_serves_pages(self, settings):
        assert MIDDLEWARE not in settings.MIDDLEWARE
        assert check_block_rendering() == []


class OwnMiddleware(PersonalisationMiddleware):
    pass


class TestUnderAsgi:
    def test_each_request_sees_its_own_visitor(self, rendered_with, products, events, holder):
        page = personalised_page(products, events)
        recognised, unknown = visitor(AsyncClient(), holder), AsyncClient()

        first = async_to_sync(recognised.get)(page.url)
        second = async_to_sync(unknown.get)(page.url)

        assert shown(first) == ["MATCHED", "PRODUCTS"]
        assert shown(second) == ["FALLBACK", "DEFAULT"]
        assert request_and_page({}) == (None, None)
