""" "Email me a link": asking for a link to the manage page."""

import time

import pytest
from django.core import signing
from django.test import Client

from tests.factories import ContactFactory
from tests.link_fixtures import link_request_data, without_csrf
from tests.visitor_helpers import db_state, manage_path
from tests.visitors.manage_helpers import LINK
from wagtail_preferences.visitors.forms import STARTED_SALT

pytestmark = pytest.mark.django_db


class TestLinkRequest:
    @pytest.fixture
    def ask(self, django_capture_on_commit_callbacks):
        def ask(email, client=None, **extra):
            with django_capture_on_commit_callbacks(execute=True):
                return (client or Client()).post(LINK, link_request_data(email, **extra))

        return ask

    def test_the_page_shows_the_form(self):
        response = Client().get(LINK)

        html = response.content.decode()
        assert response.status_code == 200
        assert 'name="email"' in html
        assert 'name="started"' in html
        assert "Leave this field empty" in html  # the honeypot, hidden from people

    def test_a_known_address_gets_a_working_manage_link(self, contact, ask, mailoutbox):
        response = ask("ann@example.com")

        assert response.status_code == 200
        assert "Check your inbox" in response.content.decode()
        assert len(mailoutbox) == 1
        assert mailoutbox[0].to == ["ann@example.com"]
        path = manage_path(contact).split("/manage/")[0] + "/manage/"
        assert f"http://testserver{path}" in mailoutbox[0].body
        link = mailoutbox[0].body.split("http://testserver", 1)[1].split()[0]
        page = Client().get(link)
        assert page.status_code == 200
        assert "For <strong>ann@example.com</strong>." in page.content.decode()

    def test_the_address_is_matched_whatever_its_case(self, contact, ask, mailoutbox):
        ask("  ANN@Example.COM ")

        assert [m.to for m in mailoutbox] == [["ann@example.com"]]

    def test_known_and_unknown_addresses_get_the_same_answer(self, contact, ask, mailoutbox):
        known = ask("ann@example.com")
        unknown = ask("nobody@example.com")

        assert known.status_code == unknown.status_code == 200
        assert without_csrf(known) == without_csrf(unknown)
        assert len(mailoutbox) == 1

    @pytest.mark.parametrize("status", ["blocked", "unsubscribed", "pending"])
    def test_the_answer_is_the_same_for_any_status(self, contact, ask, status):
        ContactFactory(email=f"{status}@example.com", status=status)

        assert without_csrf(ask(f"{status}@example.com")) == without_csrf(ask("nobody@example.com"))

    def test_a_blocked_contact_gets_no_link(self, ask, mailoutbox):
        ContactFactory(email="blocked@example.com", blocked=True)

        ask("blocked@example.com")

        assert mailoutbox == []

    def test_an_unsubscribed_contact_gets_a_link(self, ask, mailoutbox):
        ContactFactory(email="gone@example.com", unsubscribed=True)

        ask("gone@example.com")

        assert [m.to for m in mailoutbox] == [["gone@example.com"]]

    def test_asking_changes_nothing(self, contact, ask):
        before = db_state()

        ask("ann@example.com")
        ask("new@example.com")

        assert db_state() == before

    def test_the_honeypot_gets_the_same_answer_and_no_email(self, contact, ask, mailoutbox):
        trapped = ask("ann@example.com", website="http://spam.example")
        normal = ask("nobody@example.com")

        assert trapped.status_code == 200
        assert without_csrf(trapped) == without_csrf(normal)
        assert mailoutbox == []

    def test_a_browser_filling_the_form_at_once_gets_the_link(self, contact, ask, mailoutbox):
        # A person whose browser autofills the one field may send it within a second.
        now = signing.dumps(time.time(), salt=STARTED_SALT)
        response = ask("ann@example.com", started=now)

        assert response.status_code == 200
        assert "That was quick!" not in response.content.decode()
        assert [m.to for m in mailoutbox] == [["ann@example.com"]]

    def test_a_wrong_address_sent_at_once_is_told_only_what_is_wrong(self, ask, mailoutbox):
        now = signing.dumps(time.time(), salt=STARTED_SALT)
        response = ask("not an address", started=now)

        html = response.content.decode()
        assert response.status_code == 400
        assert "Enter a valid email address." in html
        assert "That was quick!" not in html

    @pytest.mark.parametrize("started", ["", "forged", "1700000000"])
    def test_a_form_without_a_signed_start_is_refused(self, contact, ask, mailoutbox, started):
        response = ask("ann@example.com", started=started)

        assert response.status_code == 400
        assert "open too long or was changed" in response.content.decode()
        assert mailoutbox == []

    def test_a_wrong_address_comes_back_with_an_error(self, ask, mailoutbox):
        response = ask("not an address")

        assert response.status_code == 400
        html = response.content.decode()
        assert "There is a problem" in html
        assert "Enter a valid email address." in html
        assert mailoutbox == []

    def test_requests_are_rate_limited_per_ip_address(self, ask, mailoutbox, contact):
        responses = [ask(f"person{i}@example.com") for i in range(10)]
        assert {r.status_code for r in responses} == {200}

        limited = ask("ann@example.com")

        assert limited.status_code == 429
        assert "Too many attempts" in limited.content.decode()
        assert mailoutbox == []
        assert ask("ann@example.com", client=Client(REMOTE_ADDR="192.0.2.1")).status_code == 200

    def test_requests_are_rate_limited_per_email_address(self, ask, mailoutbox, contact):
        clients = [Client(REMOTE_ADDR=f"192.0.2.{i}") for i in range(4)]

        responses = [ask("ann@example.com", client=client) for client in clients]

        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert len(mailoutbox) == 3

    def test_unknown_addresses_are_rate_limited_alike(self, ask):
        clients = [Client(REMOTE_ADDR=f"192.0.2.{i}") for i in range(4)]

        responses = [ask("nobody@example.com", client=client) for client in clients]

        assert [r.status_code for r in responses] == [200, 200, 200, 429]

    def test_the_rate_limits_follow_the_setting(self, ask, settings):
        settings.WAGTAIL_PREFERENCES = {"RATE_LIMITS": {"link_per_ip": "1/minute"}}

        assert ask("a@example.com").status_code == 200
        assert ask("b@example.com").status_code == 429
