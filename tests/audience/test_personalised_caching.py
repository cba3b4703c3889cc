"""A shared cache in front of personalised pages never hands one visitor's version to another.

Django's own cache middleware stands in for a CDN or proxy that honours ``Cache-Control`` and
``Vary``. The site's own views get the same protection from ``PersonalisationMiddleware``.
"""

import json

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.test import Client, override_settings
from django.urls import include, path
from wagtail import urls as wagtail_urls

from tests.dynamic_helpers import condition, dynamic_page, shown, variants, visitor
from tests.factories import ContactFactory
from tests.testapp.models import FormPage
from wagtail_preferences.identity import resolvers

pytestmark = pytest.mark.django_db

CACHED = {
    "MIDDLEWARE": [
        "django.middleware.cache.UpdateCacheMiddleware",
        *settings.MIDDLEWARE,
        "django.middleware.cache.FetchFromCacheMiddleware",
    ],
    "CACHE_MIDDLEWARE_SECONDS": 600,
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
}

TAGS = (
    "{% load wagtail_preferences %}"
    '{% if request|holds_preference:"products" %}<p>PRODUCTS</p>{% endif %}'
    '{% if request|holds_preference:"events" %}<p>EVENTS</p>{% endif %}'
    "<p>PLAIN</p>"
)


def tagged_view(request):
    template = engines["django"].from_string(TAGS)
    return HttpResponse(template.render({}, request))


def lazy_view(request):
    """A TemplateResponse: the tags run only when Django renders it, after the view."""
    return TemplateResponse(request, engines["django"].from_string(TAGS))


def plain_view(request):
    return HttpResponse("<p>PLAIN</p>")


urlpatterns = [
    path("tagged/", tagged_view),
    path("lazy/", lazy_view),
    path("plain/", plain_view),
    path("preferences/", include("wagtail_preferences.urls")),
    path("", include(wagtail_urls)),
]

WITH_MIDDLEWARE = [
    *settings.MIDDLEWARE,
    "wagtail_preferences.identity.middleware.PersonalisationMiddleware",
]


def is_private(response) -> bool:
    return "private" in response.get("Cache-Control", "")


def varies_by_cookie(response) -> bool:
    return "cookie" in response.get("Vary", "").lower()


@pytest.fixture
def page(products, events):
    return dynamic_page(
        variants(
            (condition(preferences=[products]), "VARIANT A"),
            (condition(preferences=[events]), "VARIANT B"),
            default="FALLBACK",
        )
    )


@pytest.fixture
def visitor_a(products):
    return visitor(Client(), ContactFactory(preferences=[products]))


@pytest.fixture
def visitor_b(events):
    return visitor(Client(), ContactFactory(preferences=[events]))


def change_page_directly(page, text):
    """Change the stored page without a publish, so only a cache would still show the old."""
    raw = variants((condition(), text), default=text)
    FormPage.objects.filter(pk=page.pk).update(body=json.dumps([raw]))


class TestBehindACache:
    @pytest.fixture(autouse=True)
    def cache_in_front(self):
        with override_settings(**CACHED):
            yield

    def test_visitor_b_never_receives_visitor_as_variant(self, page, visitor_a, visitor_b):
        first = visitor_a.get(page.url)
        second = visitor_b.get(page.url)

        assert shown(first) == ["VARIANT A"]
        assert shown(second) == ["VARIANT B"]
        for response in (first, second):
            assert is_private(response)
            assert varies_by_cookie(response)

    def test_a_recognised_visitors_page_is_not_stored(self, page, visitor_a):
        assert shown(visitor_a.get(page.url)) == ["VARIANT A"]
        change_page_directly(page, "CHANGED")

        assert shown(visitor_a.get(page.url)) == ["CHANGED"]

    def test_unknown_visitors_share_the_cached_fallback(self, page, django_assert_num_queries):
        first = Client().get(page.url)

        assert shown(first) == ["FALLBACK"]
        assert varies_by_cookie(first)
        assert not is_private(first)
        assert "max-age=600" in first["Cache-Control"]

        change_page_directly(page, "CHANGED")
        with django_assert_num_queries(0):
            second = Client().get(page.url)

        assert shown(second) == ["FALLBACK"]

    def test_a_recognised_visitor_after_the_fallback_was_cached_gets_their_own(
        self, page, visitor_a, visitor_b
    ):
        assert shown(Client().get(page.url)) == ["FALLBACK"]
        assert shown(Client().get(page.url)) == ["FALLBACK"]

        response_a = visitor_a.get(page.url)
        response_b = visitor_b.get(page.url)
        again = Client().get(page.url)

        assert shown(response_a) == ["VARIANT A"]
        assert shown(response_b) == ["VARIANT B"]
        assert is_private(response_a)
        assert is_private(response_b)
        assert shown(again) == ["FALLBACK"]

    def test_order_does_not_matter_recognised_first(self, page, visitor_a, visitor_b):
        assert shown(visitor_a.get(page.url)) == ["VARIANT A"]
        assert shown(Client().get(page.url)) == ["FALLBACK"]
        assert shown(visitor_b.get(page.url)) == ["VARIANT B"]
        assert shown(Client().get(page.url)) == ["FALLBACK"]
        assert shown(visitor_a.get(page.url)) == ["VARIANT A"]

    def test_a_visitor_with_a_forged_cookie_is_not_given_a_recognised_version(
        self, page, visitor_a
    ):
        visitor_a.get(page.url)
        forged = Client()
        forged.cookies["wagtail_preferences"] = "forged"

        response = forged.get(page.url)

        assert shown(response) == ["FALLBACK"]
        assert not is_private(response)

    def test_the_redirect_of_a_link_is_never_cached(self, page, products):
        contact = ContactFactory(preferences=[products])
        link = resolvers.recognising_link(page.url, contact)

        first = Client().get(link)
        again = Client().get(link)

        for response in (first, again):
            assert response.status_code == 302
            assert "wagtail_preferences" in response.cookies
            assert "no-cache" in response["Cache-Control"]

    def test_a_page_without_dynamic_content_is_still_cached_for_everyone(self):
        page = dynamic_page({"type": "paragraph", "value": "<p>STATIC</p>"}, title="Static")

        first = Client().get(page.url)

        assert not is_private(first)
        change_page_directly(page, "CHANGED")
        assert shown(Client().get(page.url)) == ["STATIC"]


@pytest.mark.urls(__name__)
class TestPersonalisationMiddleware:
    @pytest.fixture(autouse=True)
    def middleware(self, settings):
        settings.MIDDLEWARE = WITH_MIDDLEWARE

    @pytest.mark.parametrize("url", ["/tagged/", "/lazy/"])
    def test_a_recognised_visitor_of_a_view_with_tags(self, url, visitor_a):
        response = visitor_a.get(url)

        assert shown(response) == ["PRODUCTS", "PLAIN"]
        assert is_private(response)
        assert varies_by_cookie(response)

    @pytest.mark.parametrize("url", ["/tagged/", "/lazy/"])
    def test_an_unknown_visitor_of_a_view_with_tags(self, client, url, products):
        response = client.get(url)

        assert shown(response) == ["PLAIN"]
        assert not is_private(response)
        assert varies_by_cookie(response)

    def test_a_view_without_tags_is_left_alone(self, visitor_a):
        response = visitor_a.get("/plain/")

        assert not is_private(response)
        assert not varies_by_cookie(response)

    def test_a_link_with_a_token_recognises_on_a_plain_view(self, client, products):
        contact = ContactFactory(preferences=[products])

        response = client.get(resolvers.recognising_link("/tagged/?a=1", contact))

        assert response.status_code == 302
        assert response["Location"] == "/tagged/?a=1"
        assert "no-cache" in response["Cache-Control"]
        assert response.cookies["wagtail_preferences"].value
        assert shown(client.get("/tagged/?a=1")) == ["PRODUCTS", "PLAIN"]

    def test_a_post_with_a_token_is_not_redirected(self, client, products):
        contact = ContactFactory(preferences=[products])

        response = client.post(resolvers.recognising_link("/plain/", contact))

        assert response.status_code == 200
        assert "wagtail_preferences" not in response.cookies

    def test_behind_the_cache_middleware(self, settings, visitor_a, visitor_b):
        first_middleware, last_middleware = CACHED["MIDDLEWARE"][0], CACHED["MIDDLEWARE"][-1]
        settings.MIDDLEWARE = [first_middleware, *WITH_MIDDLEWARE, last_middleware]
        settings.CACHE_MIDDLEWARE_SECONDS = 600
        first = visitor_a.get("/tagged/")
        second = visitor_b.get("/tagged/")
        unknown = Client().get("/tagged/")

        assert shown(first) == ["PRODUCTS", "PLAIN"]
        assert shown(second) == ["EVENTS", "PLAIN"]
        assert shown(unknown) == ["PLAIN"]
        assert shown(visitor_a.get("/tagged/")) == ["PRODUCTS", "PLAIN"]

    def test_wagtail_pages_behind_the_middleware_are_protected_once(self, page, visitor_a):
        response = visitor_a.get(page.url)

        assert shown(response) == ["VARIANT A"]
        assert is_private(response)
        assert response["Vary"].lower().count("cookie") == 1
