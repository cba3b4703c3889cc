"""Changing one's email address on the manage page: asked there, confirmed from the new address."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from tests.factories import ContactFactory
from tests.link_fixtures import events_of, form_fields, without_csrf
from tests.visitor_helpers import db_state, manage_path
from wagtail_preferences import services
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import ChangePath, Contact, EmailChange

pytestmark = pytest.mark.django_db

CONFIRM_LINK = re.compile(r"http://testserver(/preferences/email/[^\s/]+/)")


@pytest.fixture
def ann():
    return ContactFactory(email="ann@example.com", first_name="Ann", confirmed=True)


@pytest.fixture
def ask(django_capture_on_commit_callbacks):
    """Send ``contact``'s manage page with a new address, as the visitor would."""

    def ask(contact, email, client=None):
        client = client or Client()
        data = form_fields(client.get(manage_path(contact)))
        data["email"] = [email]
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(manage_path(contact), data)

    return ask


def confirm_link(message) -> str:
    return CONFIRM_LINK.search(message.body).group(1)


def confirm(link, client=None, **kwargs):
    client = client or Client()
    return client.post(link, **kwargs)


class TestAsking:
    def test_asking_changes_nothing_yet_and_emails_the_new_address(self, ann, ask, mailoutbox):
        before = db_state()

        response = ask(ann, "ann.new@example.com")

        assert response.status_code == 302
        assert response["Location"].endswith("?saved=1&email=sent")
        assert db_state() == before
        assert Contact.objects.get(pk=ann.pk).email == "ann@example.com"
        assert [m.to for m in mailoutbox] == [["ann.new@example.com"]]
        assert "Confirm your new email address" in mailoutbox[0].subject
        assert "List-Unsubscribe" not in mailoutbox[0].extra_headers

    def test_the_page_says_to_check_the_new_inbox(self, ann, ask):
        client = Client()
        response = ask(ann, "ann.new@example.com", client=client)

        html = client.get(response["Location"]).content.decode()

        assert "Please check the inbox of your new address" in html
        assert "For <strong>ann@example.com</strong>." in html

    def test_the_link_carries_no_address(self, ann, ask, mailoutbox):
        ask(ann, "ann.new@example.com")

        link = confirm_link(mailoutbox[0])
        payload = signing.loads(link.split("/")[-2], salt=tokens.SALT + "email_change")

        assert "@" not in link
        assert not any("example" in str(value) for value in payload)
        assert payload[0] == ann.pk

    def test_the_same_address_in_another_case_is_no_change(self, ann, ask, mailoutbox):
        response = ask(ann, "ANN@Example.com")

        assert response["Location"].endswith("?saved=1")
        assert mailoutbox == []
        assert not EmailChange.objects.exists()

    def test_another_contacts_address_gets_the_same_answer(self, ann, ask, mailoutbox):
        bob = ContactFactory(email="bob@example.com", first_name="Bob")
        client_a, client_b = Client(), Client()

        with time_machine.travel(timezone.now(), tick=False):  # links signed at the same time
            taken = ask(ann, "bob@example.com", client=client_a)
            free = ask(ann, "free@example.com", client=client_b)
            taken_page = without_csrf(client_a.get(taken["Location"]))
            free_page = without_csrf(client_b.get(free["Location"]))

        assert taken.status_code == free.status_code == 302
        assert taken["Location"] == free["Location"]
        assert taken_page == free_page
        to_bob = mailoutbox[0]
        assert to_bob.to == ["bob@example.com"]
        assert "already on our list" in to_bob.subject
        assert "nothing changed" in to_bob.body
        assert CONFIRM_LINK.search(to_bob.body) is None
        assert Contact.objects.get(pk=bob.pk).email == "bob@example.com"
        assert Contact.objects.get(pk=ann.pk).email == "ann@example.com"

    def test_a_blocked_contacts_address_gets_no_email(self, ann, ask, mailoutbox):
        ContactFactory(email="blocked@example.com", blocked=True)

        response = ask(ann, "blocked@example.com")

        assert response["Location"].endswith("?saved=1&email=sent")
        assert mailoutbox == []

    def test_asking_is_rate_limited_per_new_address(self, ann, ask, mailoutbox):
        responses = [ask(ann, "ann.new@example.com") for _ in range(4)]

        assert [r.status_code for r in responses] == [302, 302, 302, 429]
        assert len(mailoutbox) == 3

    def test_other_changes_are_saved_with_the_request(self, ann, ask):
        client = Client()
        data = form_fields(client.get(manage_path(ann)))
        data.update({"email": ["ann.new@example.com"], "last_name": ["Smith"]})

        client.post(manage_path(ann), data)

        ann.refresh_from_db()
        assert (ann.email, ann.last_name) == ("ann@example.com", "Smith")


class TestConfirming:
    def test_opening_the_link_changes_nothing(self, ann, ask, mailoutbox):
        ask(ann, "ann.new@example.com")
        before = db_state()

        response = Client().get(confirm_link(mailoutbox[0]))

        assert response.status_code == 200
        html = response.content.decode()
        assert "<strong>ann.new@example.com</strong>" in html
        assert "Confirm my new address" in html
        assert db_state() == before

    def test_confirming_changes_the_address_and_tells_the_old_one(
        self, ann, ask, mailoutbox, django_capture_on_commit_callbacks
    ):
        ask(ann, "ann.new@example.com")
        client = Client()

        with django_capture_on_commit_callbacks(execute=True):
            response = confirm(confirm_link(mailoutbox[0]), client=client)

        ann.refresh_from_db()
        assert ann.email == "ann.new@example.com"
        assert not EmailChange.objects.exists()
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
        assert "Your new email address is confirmed" in page
        assert "For <strong>ann.new@example.com</strong>." in page
        notice = mailoutbox[-1]
        assert notice.to == ["ann@example.com"]
        assert "was changed" in notice.subject
        assert "ann.new@example.com" not in notice.body
        assert "List-Unsubscribe" not in notice.extra_headers
        event = events_of(ann, field="email").get()
        assert (event.old_value, event.new_value) == ("ann@example.com", "ann.new@example.com")
        assert event.path == ChangePath.SELF_SERVICE

    def test_links_sent_to_the_old_address_stop_working(self, ann, ask, mailoutbox):
        old_manage_link = manage_path(ann)
        ask(ann, "ann.new@example.com")

        confirm(confirm_link(mailoutbox[0]))

        assert Client().get(old_manage_link).status_code == 400

    def test_a_link_works_once(self, ann, ask, mailoutbox):
        ask(ann, "ann.new@example.com")
        link = confirm_link(mailoutbox[0])
        confirm(link)

        again = confirm(link)

        assert again.status_code == 400
        assert "This link is not valid" in again.content.decode()
        assert events_of(ann, field="email").count() == 1

    def test_a_newer_request_replaces_the_older_link(self, ann, ask, mailoutbox):
        ask(ann, "first@example.com")
        ask(ann, "second@example.com")
        first, second = (confirm_link(m) for m in mailoutbox)

        assert confirm(first).status_code == 400
        assert confirm(second).status_code == 302
        assert Contact.objects.get(pk=ann.pk).email == "second@example.com"

    def test_a_link_stops_working_once_the_address_changed_otherwise(self, ann, ask, mailoutbox):
        ask(ann, "ann.new@example.com")
        services.update_details(
            ann, {"email": "ann.other@example.com"}, services.Origin(path=ChangePath.ADMIN)
        )

        assert confirm(confirm_link(mailoutbox[0])).status_code == 400
        assert Contact.objects.get(pk=ann.pk).email == "ann.other@example.com"

    def test_an_address_taken_meanwhile_is_not_moved(self, ann, ask, mailoutbox):
        ask(ann, "ann.new@example.com")
        ContactFactory(email="ann.new@example.com")

        response = confirm(confirm_link(mailoutbox[0]))

        assert response.status_code == 409
        assert "Your address was not changed" in response.content.decode()
        assert Contact.objects.get(pk=ann.pk).email == "ann@example.com"

    def test_an_expired_link_changes_nothing(self, ann, ask, mailoutbox):
        ask(ann, "ann.new@example.com")
        link = confirm_link(mailoutbox[0])

        with time_machine.travel(timezone.now() + timedelta(days=8)):
            response = confirm(link)

        assert response.status_code == 410
        assert Contact.objects.get(pk=ann.pk).email == "ann@example.com"

    @pytest.mark.parametrize("token", ["forged", "manage"])
    def test_a_forged_or_other_link_is_refused(self, ann, ask, token):
        ask(ann, "ann.new@example.com")
        if token == "manage":
            token = tokens.contact_token(ann)

        response = confirm(f"/preferences/email/{token}/")

        assert response.status_code == 400
        assert Contact.objects.get(pk=ann.pk).email == "ann@example.com"

    def test_a_link_of_a_rotated_secret_is_refused(self, ann, ask, mailoutbox):
        ask(ann, "ann.new@example.com")
        ann.rotate_secret()

        assert confirm(confirm_link(mailoutbox[0])).status_code == 400
