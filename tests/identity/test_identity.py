from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from tests.factories import ContactFactory, UserFactory
from wagtail_preferences.identity import resolvers, tokens

pytestmark = pytest.mark.django_db

COOKIE = "wagtail_preferences"


def request_with(*, cookie=None, user=None, secure=False, cookie_name=COOKIE):
    request = RequestFactory().get("/", secure=secure)
    if cookie is not None:
        request.COOKIES[cookie_name] = cookie
    request.user = user or AnonymousUser()
    return request


def cookie_of(contact):
    return tokens.contact_token(contact, purpose="cookie")


class TestResolvers:
    def test_an_unknown_visitor_is_nobody(self):
        assert resolvers.current_contact(request_with()) is None

    def test_the_signed_cookie_names_the_contact(self):
        contact = ContactFactory()

        assert resolvers.current_contact(request_with(cookie=cookie_of(contact))) == contact

    def test_a_signed_in_user_linked_to_a_contact_is_that_contact(self):
        user = UserFactory()
        contact = ContactFactory(user=user)

        assert resolvers.current_contact(request_with(user=user)) == contact

    def test_the_signed_in_user_wins_over_a_cookie_of_someone_else(self):
        user = UserFactory()
        linked = ContactFactory(user=user)
        other = ContactFactory()

        request = request_with(user=user, cookie=cookie_of(other))

        assert resolvers.current_contact(request) == linked

    def test_a_signed_in_user_without_a_contact_falls_back_to_the_cookie(self):
        contact = ContactFactory()

        request = request_with(user=UserFactory(), cookie=cookie_of(contact))

        assert resolvers.current_contact(request) == contact

    def test_a_signed_in_user_without_a_contact_and_no_cookie_is_nobody(self):
        ContactFactory()

        assert resolvers.current_contact(request_with(user=UserFactory())) is None

    @pytest.mark.parametrize("cookie", ["", "forged", "a:b:c", "x" * 500])
    def test_a_forged_cookie_is_nobody(self, cookie):
        ContactFactory()

        assert resolvers.current_contact(request_with(cookie=cookie)) is None

    def test_a_tampered_cookie_is_nobody(self):
        token = cookie_of(ContactFactory())

        tampered = token[:-1] + ("A" if token[-1] != "A" else "B")

        assert resolvers.current_contact(request_with(cookie=tampered)) is None

    def test_a_manage_link_token_is_no_cookie(self):
        contact = ContactFactory()

        request = request_with(cookie=tokens.contact_token(contact, purpose="manage"))

        assert resolvers.current_contact(request) is None

    def test_an_expired_cookie_is_nobody(self):
        contact = ContactFactory()
        token = cookie_of(contact)

        with time_machine.travel(timezone.now() + timedelta(days=181), tick=False):
            assert resolvers.current_contact(request_with(cookie=token)) is None
        with time_machine.travel(timezone.now() + timedelta(days=179), tick=False):
            assert resolvers.current_contact(request_with(cookie=token)) == contact

    def test_a_cookie_of_a_contact_whose_secret_rotated_is_nobody(self):
        contact = ContactFactory()
        token = cookie_of(contact)

        contact.rotate_secret()

        assert resolvers.current_contact(request_with(cookie=token)) is None

    def test_a_cookie_of_a_deleted_contact_is_nobody(self):
        contact = ContactFactory()
        token = cookie_of(contact)

        contact.delete()

        assert resolvers.current_contact(request_with(cookie=token)) is None

    def test_the_cookie_name_follows_the_setting(self, settings):
        settings.WAGTAIL_PREFERENCES = {"IDENTITY_COOKIE_NAME": "who"}
        contact = ContactFactory()

        assert resolvers.current_contact(request_with(cookie=cookie_of(contact))) is None
        request = request_with(cookie=cookie_of(contact), cookie_name="who")
        assert resolvers.current_contact(request) == contact

    def test_the_contact_is_looked_up_once_per_request(self, django_assert_num_queries):
        contact = ContactFactory()
        request = request_with(cookie=cookie_of(contact))
        resolvers.current_contact(request)

        with django_assert_num_queries(0):
            assert resolvers.current_contact(request) == contact


class TestRemember:
    def test_remember_sets_a_signed_http_only_lax_cookie(self):
        contact = ContactFactory()
        request, response = request_with(), HttpResponse()

        resolvers.remember(request, response, contact)

        cookie = response.cookies[COOKIE]
        assert tokens.contact_from_token(cookie.value, purpose="cookie") == contact
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert not cookie["secure"]
        assert cookie["max-age"] == 180 * 24 * 3600
        assert cookie["path"] == "/"

    def test_the_cookie_is_secure_on_an_https_request(self):
        request, response = request_with(secure=True), HttpResponse()

        resolvers.remember(request, response, ContactFactory())

        assert response.cookies[COOKIE]["secure"] is True

    def test_the_cookie_lasts_as_long_as_the_setting_says(self, settings):
        settings.WAGTAIL_PREFERENCES = {"IDENTITY_COOKIE_MAX_AGE": timedelta(days=2)}
        response = HttpResponse()

        resolvers.remember(request_with(), response, ContactFactory())

        assert response.cookies[COOKIE]["max-age"] == 2 * 24 * 3600

    def test_a_remembered_contact_is_the_current_one_at_once(self):
        contact = ContactFactory()
        request = request_with()
        assert resolvers.current_contact(request) is None

        resolvers.remember(request, HttpResponse(), contact)

        assert resolvers.current_contact(request) == contact

    def test_the_cookie_set_is_recognised_on_the_next_request(self):
        contact = ContactFactory()
        response = HttpResponse()
        resolvers.remember(request_with(), response, contact)

        next_request = request_with(cookie=response.cookies[COOKIE].value)

        assert resolvers.current_contact(next_request) == contact


class TestForget:
    def test_forget_deletes_the_cookie(self):
        contact = ContactFactory()
        request, response = request_with(cookie=cookie_of(contact)), HttpResponse()
        assert resolvers.current_contact(request) == contact

        resolvers.forget(request, response)

        cookie = response.cookies[COOKIE]
        assert cookie.value == ""
        assert cookie["max-age"] == 0
        assert "1970" in cookie["expires"]
        assert cookie["samesite"] == "Lax"
        assert resolvers.current_contact(request) is None
