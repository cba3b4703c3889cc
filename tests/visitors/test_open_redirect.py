"""A link token on a crafted path must not redirect the visitor to another site."""

from urllib.parse import urljoin, urlsplit

import pytest
from django.test import RequestFactory
from django.utils.http import url_has_allowed_host_and_scheme
from wagtail import hooks

from tests.audience.test_personalised_caching import WITH_MIDDLEWARE
from tests.factories import ContactFactory
from wagtail_preferences.identity import resolvers, tokens

pytestmark = pytest.mark.django_db

#: What the server decodes the path to (``PATH_INFO``), for paths a hostile link may carry.
HOSTILE_PATHS = {
    "//evil.example/": "/evil.example/",
    "///evil.example/": "/evil.example/",  # /%2F%2Fevil.example/
    "/\\evil.example": "/%5Cevil.example",  # also /%5Cevil.example
    "/\\/evil.example/": "/%5C/evil.example/",
    "/\\\\evil.example/": "/%5C%5Cevil.example/",
    "/\t/evil.example/": "/%09/evil.example/",
    "/\n/evil.example/": "/%0A/evil.example/",
    "/\r\n//evil.example/": "/%0D%0A//evil.example/",
    "/ //evil.example/": "/%20//evil.example/",
}


def stays_on_the_site(location: str) -> bool:
    return url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"}) and (
        urlsplit(urljoin("http://testserver/start/", location)).netloc == "testserver"
    )


@pytest.fixture
def token():
    return tokens.contact_token(ContactFactory(), purpose="link")


class TestThroughTheMiddleware:
    @pytest.fixture(autouse=True)
    def middleware(self, settings):
        settings.MIDDLEWARE = WITH_MIDDLEWARE

    @pytest.mark.parametrize("path", HOSTILE_PATHS)
    @pytest.mark.parametrize("with_token", [True, False], ids=["good token", "forged token"])
    def test_a_hostile_path_redirects_within_the_site(self, client, token, path, with_token):
        query = f"wpt={token if with_token else 'forged'}&a=1"

        response = client.get("/", PATH_INFO=path, QUERY_STRING=query)

        assert response.status_code == 302
        assert response["Location"] == f"{HOSTILE_PATHS[path]}?a=1"
        assert stays_on_the_site(response["Location"])
        assert ("wagtail_preferences" in response.cookies) is with_token

    @pytest.mark.parametrize(
        ("path", "location"),
        [("/tagged/", "/tagged/"), ("/café/", "/caf%C3%A9/"), ("/a b/", "/a%20b/")],
    )
    def test_an_ordinary_path_is_kept(self, client, token, path, location):
        response = client.get(
            "/", PATH_INFO=path.encode().decode("latin-1"), QUERY_STRING=f"wpt={token}"
        )

        assert response["Location"] == location


class TestThroughTheServeHook:
    """Wagtail pages are recognised by the ``before_serve_page`` hook, without middleware."""

    @pytest.mark.parametrize("path", HOSTILE_PATHS)
    def test_a_hostile_path_redirects_within_the_site(self, token, path):
        request = RequestFactory().get("/", PATH_INFO=path, QUERY_STRING=f"wpt={token}")
        assert resolvers.recognise_from_link in hooks.get_hooks("before_serve_page")

        response = resolvers.recognise_from_link(None, request, (), {})

        assert response["Location"] == HOSTILE_PATHS[path]
        assert stays_on_the_site(response["Location"])
