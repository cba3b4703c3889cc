"""A visitor recognised by the cookie a link set, and "forget me" that deletes it."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import UserFactory
from tests.link_fixtures import form_fields
from tests.visitor_helpers import db_state, manage_path
from tests.visitors.manage_helpers import COOKIE, LINK, channel, manage
from wagtail_preferences import services
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import ChangePath

pytestmark = pytest.mark.django_db


MANAGE = "/preferences/manage/"

FORGET = "/preferences/forget/"


class TestWithoutALink:
    def test_a_visitor_recognised_by_the_cookie_sees_the_page(self, browser, contact):
        browser.cookies[COOKIE] = tokens.contact_token(contact, purpose="cookie")

        response = browser.get(MANAGE)

        assert response.status_code == 200
        assert "For <strong>ann@example.com</strong>." in response.content.decode()
        assert response["Cache-Control"].count("no-store") == 1

    def test_the_cookie_set_by_a_link_recognises_the_visitor_later(self, browser, contact):
        manage(browser, contact)

        response = browser.get(MANAGE)

        assert "For <strong>ann@example.com</strong>." in response.content.decode()

    def test_a_signed_in_user_linked_to_the_contact_sees_the_page(self, browser, contact):
        user = UserFactory()
        services.update_details(contact, {"user": user}, services.Origin(path=ChangePath.ADMIN))
        browser.force_login(user)

        response = browser.get(MANAGE)

        assert response.status_code == 200
        assert "For <strong>ann@example.com</strong>." in response.content.decode()

    def test_a_recognised_visitor_can_save(self, browser, contact):
        browser.cookies[COOKIE] = tokens.contact_token(contact, purpose="cookie")
        data = form_fields(browser.get(MANAGE))
        data.pop("channels-sms-enabled")

        response = browser.post(MANAGE, data)

        assert response.status_code == 302
        assert channel(contact, "sms").enabled is False

    def test_an_unknown_visitor_is_offered_a_link_by_email(self, browser, contact):
        response = browser.get(MANAGE)

        html = response.content.decode()
        assert response.status_code == 200
        assert "Email me a link" in html
        assert f'action="{LINK}"' in html
        assert "ann@example.com" not in html

    def test_a_signed_in_user_without_a_contact_is_offered_a_link(self, browser, contact):
        browser.force_login(UserFactory())

        html = browser.get(MANAGE).content.decode()

        assert "Email me a link" in html
        assert "ann@example.com" not in html

    @pytest.mark.parametrize("forge", ["garbage", "manage-token", "tampered"])
    def test_a_forged_cookie_is_an_unknown_visitor(self, browser, contact, forge):
        token = tokens.contact_token(contact, purpose="cookie")
        browser.cookies[COOKIE] = {
            "garbage": "garbage",
            "manage-token": tokens.contact_token(contact),
            "tampered": token[:-1] + ("A" if token[-1] != "A" else "B"),
        }[forge]

        html = browser.get(MANAGE).content.decode()

        assert "Email me a link" in html
        assert "ann@example.com" not in html

    def test_an_expired_cookie_is_an_unknown_visitor(self, browser, contact):
        browser.cookies[COOKIE] = tokens.contact_token(contact, purpose="cookie")

        with time_machine.travel(timezone.now() + timedelta(days=181), tick=False):
            html = browser.get(MANAGE).content.decode()

        assert "Email me a link" in html
        assert "ann@example.com" not in html

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_an_expired_manage_link_offers_a_new_link(self, browser, contact, method):
        path = manage_path(contact)
        before = db_state()

        with time_machine.travel(timezone.now() + timedelta(days=61), tick=False):
            response = getattr(browser, method)(path, {"resubscribe": "1"})

        assert response.status_code == 410
        html = response.content.decode()
        assert "This link has expired" in html
        assert f'action="{LINK}"' in html
        assert COOKIE not in response.cookies
        assert db_state() == before

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_an_invalid_manage_link_is_refused(self, browser, contact, method):
        path = manage_path(contact)[:-5] + "x/"
        before = db_state()

        response = getattr(browser, method)(path)

        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
        assert COOKIE not in response.cookies
        assert db_state() == before

    def test_a_manage_link_of_a_rotated_secret_is_invalid(self, browser, contact):
        path = manage_path(contact)
        contact.rotate_secret()

        assert browser.get(path).status_code == 400


class TestForget:
    def test_forget_me_deletes_the_cookie(self, browser, contact):
        manage(browser, contact)
        assert browser.get(MANAGE).status_code == 200
        assert "For <strong>" in browser.get(MANAGE).content.decode()

        response = browser.post(FORGET)

        assert response.status_code == 302
        assert response["Location"] == "/preferences/forgotten/"
        cookie = response.cookies[COOKIE]
        assert cookie.value == ""
        assert cookie["max-age"] == 0
        assert "Email me a link" in browser.get(MANAGE).content.decode()
        forgotten = browser.get(response["Location"])
        assert "This browser no longer knows you" in forgotten.content.decode()

    def test_forget_me_changes_nothing_else(self, browser, contact):
        manage(browser, contact)
        before = db_state()

        browser.post(FORGET)

        assert db_state() == before

    def test_forget_me_needs_a_post(self, browser, contact):
        manage(browser, contact)

        response = browser.get(FORGET)

        assert response.status_code == 405
        assert "For <strong>" in browser.get(MANAGE).content.decode()

    def test_the_page_offers_forget_me(self, browser, contact):
        html = manage(browser, contact).content.decode()

        assert f'action="{FORGET}"' in html
        assert "Forget me on this browser" in html
