"""Links from emails that recognise their reader, and the chain of identity resolvers."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import RequestFactory
from django.utils import timezone
from wagtail.models import PageViewRestriction

from tests.dynamic_helpers import dynamic, dynamic_page, shown, visitor
from tests.factories import ContactFactory
from wagtail_preferences.exceptions import ConfigurationError
from wagtail_preferences.identity import resolvers, tokens
from wagtail_preferences.models import Contact

pytestmark = pytest.mark.django_db

COOKIE = "wagtail_preferences"
HEADER = "HTTP_X_CONTACT_EMAIL"


def from_header(request):
    """A site's own resolver: a trusted proxy names the contact in a header."""
    email = request.META.get(HEADER)
    return Contact.objects.filter(email=email).first() if email else None


def nobody(request):
    return None


@pytest.fixture
def page(products):
    return dynamic_page(dynamic(preferences=[products], content="PRODUCTS"))


@pytest.fixture
def holder(products):
    return ContactFactory(confirmed=True, preferences=[products])


def token_of(url: str, parameter: str = "wpt") -> str:
    return parse_qs(urlsplit(url).query)[parameter][0]


def assert_never_cached(response):
    for directive in ("no-cache", "no-store", "must-revalidate"):
        assert directive in response["Cache-Control"]


class TestRecognisingLink:
    def test_keeps_the_other_query_parameters_and_the_fragment(self, holder):
        url = resolvers.recognising_link(
            "https://www.example.com/offers/?utm_source=news&tag=a&tag=b&empty=#top", holder
        )

        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
            "https",
            "www.example.com",
            "/offers/",
            "top",
        )
        query = parse_qs(parts.query, keep_blank_values=True)
        assert query["utm_source"] == ["news"]
        assert query["tag"] == ["a", "b"]
        assert query["empty"] == [""]
        assert tokens.contact_from_token(query["wpt"][0], purpose="link") == holder

    def test_replaces_a_token_already_in_the_url(self, holder):
        other = ContactFactory()
        url = resolvers.recognising_link(resolvers.recognising_link("/a/?x=1", other), holder)

        query = parse_qs(urlsplit(url).query)
        assert len(query["wpt"]) == 1
        assert tokens.contact_from_token(query["wpt"][0], purpose="link") == holder
        assert query["x"] == ["1"]

    def test_a_relative_url_without_a_query(self, holder):
        url = resolvers.recognising_link("/offers/", holder)

        assert url.startswith("/offers/?wpt=")

    def test_the_token_names_no_address(self, holder):
        assert holder.email.split("@")[0] not in resolvers.recognising_link("/", holder)


class TestFollowingALink:
    def test_redirects_to_the_clean_url_and_sets_the_cookie(self, client, page, holder):
        link = resolvers.recognising_link(f"{page.url}?utm_source=news&utm_medium=email", holder)

        response = client.get(link)

        assert response.status_code == 302
        assert response["Location"] == f"{page.url}?utm_source=news&utm_medium=email"
        assert_never_cached(response)
        cookie = response.cookies[COOKIE]
        assert cookie["httponly"]
        assert cookie["samesite"] == "Lax"
        assert not cookie["secure"]
        assert cookie["max-age"] == 180 * 24 * 3600
        assert tokens.contact_from_token(cookie.value, purpose="cookie") == holder

    def test_then_the_page_shows_the_contacts_variant(self, client, page, holder):
        assert shown(client.get(page.url)) == ["FALLBACK"]

        response = client.get(resolvers.recognising_link(page.url, holder), follow=True)

        assert response.redirect_chain == [(page.url, 302)]
        assert shown(response) == ["PRODUCTS"]
        assert "private" in response["Cache-Control"]

    def test_the_cookie_is_secure_on_https(self, client, page, holder):
        response = client.get(resolvers.recognising_link(page.url, holder), secure=True)

        assert response.status_code == 302
        assert response.cookies[COOKIE]["secure"]

    def test_a_head_request_is_redirected_too(self, client, page, holder):
        response = client.head(resolvers.recognising_link(page.url, holder))

        assert response.status_code == 302
        assert COOKIE in response.cookies

    def test_a_post_with_the_parameter_is_not_redirected(self, client, page, holder):
        response = client.post(resolvers.recognising_link(page.url, holder))

        assert response.status_code == 200
        assert COOKIE not in response.cookies

    def test_every_copy_of_the_parameter_leaves_the_url(self, client, page, holder):
        token = token_of(resolvers.recognising_link(page.url, holder))

        response = client.get(f"{page.url}?wpt={token}&a=1&wpt=other")

        assert response["Location"] == f"{page.url}?a=1"

    def test_an_empty_parameter_is_dropped_without_recognising(self, client, page):
        response = client.get(f"{page.url}?wpt=&a=1")

        assert response.status_code == 302
        assert response["Location"] == f"{page.url}?a=1"
        assert COOKIE not in response.cookies

    def test_a_link_replaces_the_cookie_of_someone_else(self, client, page, holder):
        visitor(client, ContactFactory())

        response = client.get(resolvers.recognising_link(page.url, holder), follow=True)

        assert shown(response) == ["PRODUCTS"]

    def test_the_link_is_handled_before_view_restrictions(self, client, page, holder):
        PageViewRestriction.objects.create(
            page=page, restriction_type=PageViewRestriction.PASSWORD, password="secret"
        )

        response = client.get(resolvers.recognising_link(page.url, holder))

        assert response.status_code == 302
        assert response["Location"] == page.url
        assert COOKIE in response.cookies


class TestLinksThatDoNotRecognise:
    def bad_links(self, page, holder):
        return {
            "forged": f"{page.url}?wpt=forged",
            "manage token": f"{page.url}?wpt={tokens.contact_token(holder, purpose='manage')}",
            "cookie token": f"{page.url}?wpt={tokens.contact_token(holder, purpose='cookie')}",
        }

    @pytest.mark.parametrize("kind", ["forged", "manage token", "cookie token"])
    def test_redirect_without_a_cookie(self, client, page, holder, kind):
        response = client.get(self.bad_links(page, holder)[kind])

        assert response.status_code == 302
        assert response["Location"] == page.url
        assert_never_cached(response)
        assert COOKIE not in response.cookies
        assert shown(client.get(page.url)) == ["FALLBACK"]

    @pytest.mark.parametrize("kind", ["forged", "manage token", "cookie token"])
    def test_an_existing_cookie_stays(self, client, page, products, holder, kind):
        known = ContactFactory(preferences=[products])
        visitor(client, known)
        before = client.cookies[COOKIE].value

        response = client.get(self.bad_links(page, holder)[kind])

        assert COOKIE not in response.cookies
        assert client.cookies[COOKIE].value == before
        assert shown(client.get(page.url)) == ["PRODUCTS"]

    def test_an_expired_link(self, client, page, holder):
        link = resolvers.recognising_link(page.url, holder)

        with time_machine.travel(timezone.now() + timedelta(days=61)):
            response = client.get(link)

        assert response.status_code == 302
        assert COOKIE not in response.cookies

    def test_a_link_within_its_max_age_works(self, client, page, holder):
        link = resolvers.recognising_link(page.url, holder)

        with time_machine.travel(timezone.now() + timedelta(days=59)):
            response = client.get(link)

        assert COOKIE in response.cookies

    def test_the_max_age_is_a_setting(self, client, settings, page, holder):
        settings.WAGTAIL_PREFERENCES = {"LINK_TOKEN_MAX_AGE": timedelta(hours=1)}
        link = resolvers.recognising_link(page.url, holder)

        with time_machine.travel(timezone.now() + timedelta(hours=2)):
            response = client.get(link)

        assert COOKIE not in response.cookies

    def test_an_expired_link_keeps_the_existing_cookie(self, client, page, products, holder):
        link = resolvers.recognising_link(page.url, ContactFactory())
        visitor(client, holder)

        with time_machine.travel(timezone.now() + timedelta(days=61)):
            response = client.get(link)
        assert COOKIE not in response.cookies
        assert shown(client.get(page.url)) == ["PRODUCTS"]

    def test_rotating_the_secret_revokes_the_link(self, client, page, holder):
        link = resolvers.recognising_link(page.url, holder)
        holder.rotate_secret()

        response = client.get(link)

        assert response.status_code == 302
        assert COOKIE not in response.cookies

    def test_a_link_of_a_deleted_contact(self, client, page, holder):
        link = resolvers.recognising_link(page.url, holder)
        holder.delete()

        response = client.get(link)

        assert response.status_code == 302
        assert COOKIE not in response.cookies


class TestLinkTokenParameter:
    def test_a_different_parameter(self, client, settings, page, holder):
        settings.WAGTAIL_PREFERENCES = {"LINK_TOKEN_PARAMETER": "me"}
        link = resolvers.recognising_link(f"{page.url}?wpt=kept", holder)
        assert "me=" in link

        response = client.get(link)

        assert response.status_code == 302
        assert response["Location"] == f"{page.url}?wpt=kept"
        assert tokens.contact_from_token(response.cookies[COOKIE].value, "cookie") == holder

    def test_the_old_parameter_is_then_an_ordinary_one(self, client, settings, page, holder):
        token = token_of(resolvers.recognising_link(page.url, holder))
        settings.WAGTAIL_PREFERENCES = {"LINK_TOKEN_PARAMETER": "me"}

        response = client.get(f"{page.url}?wpt={token}")

        assert response.status_code == 200
        assert COOKIE not in response.cookies

    @pytest.mark.parametrize("value", ["", "has space", "a&b", 7, None])
    def test_a_wrong_parameter_name_is_a_configuration_error(self, settings, holder, value):
        settings.WAGTAIL_PREFERENCES = {"LINK_TOKEN_PARAMETER": value}

        with pytest.raises(ConfigurationError, match="LINK_TOKEN_PARAMETER"):
            resolvers.recognising_link("/", holder)

    @pytest.mark.parametrize("value", [timedelta(0), 3600, None])
    def test_a_wrong_max_age_is_a_configuration_error(self, settings, value):
        settings.WAGTAIL_PREFERENCES = {"LINK_TOKEN_MAX_AGE": value}

        with pytest.raises(ConfigurationError, match="LINK_TOKEN_MAX_AGE"):
            tokens.contact_from_token("anything", purpose="link")


class TestResolvers:
    def request(self, *, cookie_for=None, header_for=None, query=""):
        from django.contrib.auth.models import AnonymousUser

        meta = {HEADER: header_for.email} if header_for else {}
        request = RequestFactory().get(f"/{query}", **meta)
        request.user = AnonymousUser()
        if cookie_for is not None:
            request.COOKIES[COOKIE] = tokens.contact_token(cookie_for, purpose="cookie")
        return request

    def test_a_custom_resolver(self, settings):
        contact = ContactFactory()
        settings.WAGTAIL_PREFERENCES = {"IDENTITY_RESOLVERS": [f"{__name__}.from_header"]}

        assert resolvers.current_contact(self.request(header_for=contact)) == contact
        assert resolvers.current_contact(self.request()) is None

    def test_the_first_resolver_that_names_a_contact_wins(self, settings):
        by_header, by_cookie = ContactFactory(), ContactFactory()
        header_first = [
            f"{__name__}.from_header",
            "wagtail_preferences.identity.resolvers.from_cookie",
        ]

        settings.WAGTAIL_PREFERENCES = {"IDENTITY_RESOLVERS": header_first}
        request = self.request(header_for=by_header, cookie_for=by_cookie)
        assert resolvers.current_contact(request) == by_header

        settings.WAGTAIL_PREFERENCES = {"IDENTITY_RESOLVERS": header_first[::-1]}
        request = self.request(header_for=by_header, cookie_for=by_cookie)
        assert resolvers.current_contact(request) == by_cookie

    def test_a_resolver_that_names_nobody_passes_on(self, settings):
        contact = ContactFactory()
        settings.WAGTAIL_PREFERENCES = {
            "IDENTITY_RESOLVERS": [
                f"{__name__}.nobody",
                "wagtail_preferences.identity.resolvers.from_cookie",
            ]
        }

        assert resolvers.current_contact(self.request(cookie_for=contact)) == contact

    def test_leaving_out_the_cookie_resolver_ignores_the_cookie(
        self, settings, client, page, holder
    ):
        settings.WAGTAIL_PREFERENCES = {"IDENTITY_RESOLVERS": [f"{__name__}.from_header"]}

        assert resolvers.current_contact(self.request(cookie_for=holder)) is None
        assert shown(visitor(client, holder).get(page.url)) == ["FALLBACK"]

    def test_the_default_chain(self, settings, holder):
        settings.WAGTAIL_PREFERENCES = {}
        link = resolvers.recognising_link("/", holder)

        assert resolvers.current_contact(self.request(query=link[1:])) == holder
        assert resolvers.current_contact(self.request(cookie_for=holder)) == holder

    def test_a_custom_resolver_on_a_page(self, settings, client, page, holder):
        settings.WAGTAIL_PREFERENCES = {"IDENTITY_RESOLVERS": [f"{__name__}.from_header"]}

        response = client.get(page.url, **{HEADER: holder.email})

        assert shown(response) == ["PRODUCTS"]
        assert "private" in response["Cache-Control"]

    @pytest.mark.parametrize(
        "value",
        [
            ["tests.identity.test_link_token.no_such_resolver"],
            ["no.such.module.resolver"],
            "wagtail_preferences.identity.resolvers.from_cookie",
            [],
            [42],
        ],
    )
    def test_a_wrong_setting_is_a_configuration_error_naming_it(self, settings, value):
        settings.WAGTAIL_PREFERENCES = {"IDENTITY_RESOLVERS": value}

        with pytest.raises(ConfigurationError, match="IDENTITY_RESOLVERS"):
            resolvers.current_contact(self.request())

    def test_the_answer_is_worked_out_once_per_request(self, settings, monkeypatch):
        contact = ContactFactory()
        settings.WAGTAIL_PREFERENCES = {"IDENTITY_RESOLVERS": [f"{__name__}.from_header"]}
        request = self.request(header_for=contact)
        calls = []
        monkeypatch.setattr(resolvers, "_resolve", lambda request: calls.append(request) or contact)

        for _ in range(3):
            assert resolvers.current_contact(request) == contact
        assert len(calls) == 1


class TestForgetting:
    def test_forget_clears_the_cookie_and_the_page_shows_the_fallback(self, client, page, holder):
        visitor(client, holder)
        assert shown(client.get(page.url)) == ["PRODUCTS"]

        response = client.post("/preferences/forget/")

        assert response.status_code == 302
        cookie = response.cookies[COOKIE]
        assert cookie.value == ""
        assert cookie["max-age"] == 0
        assert cookie["samesite"] == "Lax"
        page_response = client.get(page.url)
        assert shown(page_response) == ["FALLBACK"]
        assert "private" not in page_response.get("Cache-Control", "")

    def test_forgetting_after_following_a_link(self, client, page, holder):
        client.get(resolvers.recognising_link(page.url, holder))
        assert shown(client.get(page.url)) == ["PRODUCTS"]

        client.post("/preferences/forget/")

        assert shown(client.get(page.url)) == ["FALLBACK"]
