"""Unsubscribe links: a page with a button for people, RFC 8058 one-click for mail programs."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.factories import CategoryChoiceFactory, ContactFactory, PreferenceFactory
from tests.link_fixtures import (
    PRIVATE_REFERRER_POLICIES,
    events_of,
    form_fields,
    page_settings,
    unsubscribe_url,
)
from tests.visitor_helpers import db_state, manage_path
from tests.visitors import unsubscribe_helpers
from tests.visitors.unsubscribe_helpers import one_click, status_of
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import (
    CategoryChoice,
    ChangePath,
    ConsentEvent,
    Contact,
    ContactChannel,
    ContactStatus,
)

pytestmark = pytest.mark.django_db

EVERYTHING_BUTTON = "Unsubscribe from everything"
EVERYTHING_SUBMIT = (
    f'<button type="submit" name="scope" value="all" class="wp-button">{EVERYTHING_BUTTON}</button>'
)

#: The contact who unsubscribes, in place of the manage page's of ``conftest.py``.
contact = unsubscribe_helpers.contact


class TestOpening:
    def test_opening_the_link_never_unsubscribes(self, contact):
        path = unsubscribe_url(contact)
        before = db_state()

        responses = [Client().get(path) for _ in range(3)]

        assert [r.status_code for r in responses] == [200, 200, 200]
        assert db_state() == before
        assert status_of(contact) == ContactStatus.CONFIRMED

    def test_the_short_page_asks_to_confirm_with_a_button(self, contact):
        page_settings(on_unsubscribe=False)
        path = unsubscribe_url(contact)

        html = Client().get(path).content.decode()

        assert f'<form method="post" action="{path}">' in html
        assert EVERYTHING_SUBMIT in html
        assert "Save my preferences" not in html

    def test_the_page_is_private(self, contact):
        response = Client().get(unsubscribe_url(contact))

        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        assert response["Referrer-Policy"] in PRIVATE_REFERRER_POLICIES

    def test_with_preferences_on_unsubscribe_the_manage_page_shows_the_box_on_top(self, contact):
        page_settings(on_unsubscribe=True)
        path = unsubscribe_url(contact)
        before = db_state()

        response = Client().get(path)

        html = response.content.decode()
        assert response.status_code == 200
        assert db_state() == before
        assert "Your preferences" in html
        box = html.index(f'action="{path}"')
        assert box < html.index("Save my preferences")
        assert html.count(EVERYTHING_BUTTON) == 1  # the box replaces the one at the bottom
        assert "channels-email-enabled" in form_fields(response)

    def test_with_preferences_on_unsubscribe_the_page_follows_the_other_settings(self, contact):
        page_settings(on_unsubscribe=True, categories=False)

        data = form_fields(Client().get(unsubscribe_url(contact)))

        assert "categories" not in data
        assert "preferences" in data

    def test_choosing_fewer_messages_instead_is_offered_by_default(self, contact):
        html = Client().get(unsubscribe_url(contact)).content.decode()

        assert "Your preferences" in html
        assert "Save my preferences" in html

    @pytest.mark.parametrize("on_unsubscribe", [False, True])
    def test_the_page_names_the_address_it_unsubscribes(self, contact, on_unsubscribe):
        page_settings(on_unsubscribe=on_unsubscribe)

        html = Client().get(unsubscribe_url(contact)).content.decode()

        assert "For <strong>ann@example.com</strong>." in html


class TestButton:
    def test_the_button_unsubscribes_from_everything(self, contact):
        path = unsubscribe_url(contact)

        response = Client(REMOTE_ADDR="203.0.113.4").post(path)

        assert response.status_code == 200
        html = response.content.decode()
        assert "You will no longer receive our marketing messages." in html
        assert status_of(contact) == ContactStatus.UNSUBSCRIBED
        event = events_of(contact).get()
        assert (event.subject, event.field) == ("status", "status")
        assert (event.old_value, event.new_value) == ("confirmed", "unsubscribed")
        assert event.path == ChangePath.UNSUBSCRIBE
        assert event.reference == "unsubscribe link (everything)"
        assert event.ip_address == "203.0.113.4"

    def test_the_answer_links_to_the_manage_page(self, contact):
        html = Client().post(unsubscribe_url(contact)).content.decode()

        link = html.split('href="/preferences/manage/', 1)[1].split('"', 1)[0]
        assert tokens.contact_from_token(link.rstrip("/")) == contact

    def test_unsubscribing_keeps_the_choices(self, contact, products, events):
        Client().post(unsubscribe_url(contact))

        assert set(contact.preferences.all()) == {products, events}
        assert not CategoryChoice.objects.exists()

    def test_the_button_of_the_manage_page_unsubscribes_without_a_csrf_token(self, contact):
        browser = Client(enforce_csrf_checks=True)
        html = browser.get(manage_path(contact)).content.decode()
        action = html.split('<section class="wp-box wp-box--unsubscribe"', 1)[1]
        action = action.split('action="', 1)[1].split('"', 1)[0]

        response = browser.post(action)

        assert response.status_code == 200
        assert status_of(contact) == ContactStatus.UNSUBSCRIBED

    def test_the_button_from_the_manage_page_on_unsubscribe_works(self, contact):
        page_settings(on_unsubscribe=True)
        path = unsubscribe_url(contact)
        browser = Client(enforce_csrf_checks=True)
        browser.get(path)

        response = browser.post(path)

        assert response.status_code == 200
        assert status_of(contact) == ContactStatus.UNSUBSCRIBED


class TestOneClick:
    @pytest.mark.parametrize("multipart", [False, True], ids=["urlencoded", "multipart"])
    def test_one_click_unsubscribes_at_once(self, contact, multipart):
        response = one_click(unsubscribe_url(contact), multipart=multipart)

        assert response.status_code == 200
        assert "Location" not in response
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.content == b"You are unsubscribed."
        assert status_of(contact) == ContactStatus.UNSUBSCRIBED
        event = events_of(contact).get()
        assert event.path == ChangePath.UNSUBSCRIBE
        assert (event.old_value, event.new_value) == ("confirmed", "unsubscribed")

    def test_one_click_sets_no_cookie(self, contact):
        response = one_click(unsubscribe_url(contact))

        assert not response.cookies

    @pytest.mark.parametrize("multipart", [False, True], ids=["urlencoded", "multipart"])
    def test_a_second_one_click_changes_and_logs_nothing(self, contact, multipart):
        path = unsubscribe_url(contact)
        one_click(path, multipart=multipart)
        before = db_state()

        response = one_click(path, multipart=multipart)

        assert response.status_code == 200
        assert response.content == b"You are unsubscribed."
        assert db_state() == before
        assert events_of(contact).count() == 1

    def test_one_click_of_an_unsubscribed_contact_logs_nothing(self, contact):
        Contact.objects.filter(pk=contact.pk).update(status=ContactStatus.UNSUBSCRIBED)

        response = one_click(unsubscribe_url(contact))

        assert response.status_code == 200
        assert not ConsentEvent.objects.exists()

    def test_a_pending_contact_is_unsubscribed_too(self):
        pending = ContactFactory()

        one_click(unsubscribe_url(pending))

        assert status_of(pending) == ContactStatus.UNSUBSCRIBED

    @pytest.mark.parametrize(
        "token", ["garbage", "tampered", "other-purpose"], ids=lambda token: token
    )
    def test_an_invalid_one_click_is_a_plain_400_and_changes_nothing(self, contact, token):
        good = tokens.unsubscribe_token(contact)
        path = {
            "garbage": "/preferences/unsubscribe/garbage/",
            "tampered": f"/preferences/unsubscribe/{good[:-1]}{'A' if good[-1] != 'A' else 'B'}/",
            "other-purpose": f"/preferences/unsubscribe/{tokens.contact_token(contact)}/",
        }[token]
        before = db_state()

        response = one_click(path)

        assert response.status_code == 400
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.content == b"This unsubscribe link is not valid."
        assert db_state() == before

    def test_an_expired_one_click_changes_nothing(self, contact):
        path = unsubscribe_url(contact)

        with time_machine.travel(timezone.now() + timedelta(days=366), tick=False):
            response = one_click(path)

        assert response.status_code == 400
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert status_of(contact) == ContactStatus.CONFIRMED

    def test_a_rotated_secret_revokes_the_link(self, contact):
        path = unsubscribe_url(contact)
        contact.rotate_secret()

        response = one_click(path)

        assert response.status_code == 400
        assert status_of(contact) == ContactStatus.CONFIRMED

    def test_a_link_works_for_its_max_age(self, contact):
        path = unsubscribe_url(contact)

        with time_machine.travel(timezone.now() + timedelta(days=364), tick=False):
            response = one_click(path)

        assert response.status_code == 200
        assert status_of(contact) == ContactStatus.UNSUBSCRIBED


class TestScoped:
    def test_a_category_link_opts_out_of_just_that_category(self, contact, promotions, news):
        path = unsubscribe_url(contact, tokens.UnsubscribeScope.of(promotions))

        response = Client().post(path)

        assert response.status_code == 200
        assert "You will no longer receive messages about “Promotions”." in (
            response.content.decode()
        )
        assert CategoryChoice.objects.get(contact=contact).category == promotions
        assert CategoryChoice.objects.get(contact=contact).subscribed is False
        assert status_of(contact) == ContactStatus.CONFIRMED
        event = events_of(contact).get()
        assert (event.subject, event.subject_id, event.path) == (
            "category",
            promotions.pk,
            ChangePath.UNSUBSCRIBE,
        )
        assert event.reference == "unsubscribe link (Promotions)"

    def test_a_preference_link_removes_just_that_preference(self, contact, products, events):
        path = unsubscribe_url(contact, tokens.UnsubscribeScope.of(products))

        Client().post(path)

        assert set(contact.preferences.all()) == {events}
        assert status_of(contact) == ContactStatus.CONFIRMED
        assert not CategoryChoice.objects.exists()
        event = events_of(contact).get()
        assert (event.subject, event.subject_id, event.new_value) == (
            "preference",
            products.pk,
            False,
        )

    def test_a_scoped_one_click_leaves_just_that_category(self, contact, promotions):
        path = unsubscribe_url(contact, tokens.UnsubscribeScope.of(promotions))

        response = one_click(path)

        assert response.status_code == 200
        assert contact.category_choices.get().subscribed is False
        assert status_of(contact) == ContactStatus.CONFIRMED

    def test_a_scoped_one_click_again_logs_nothing(self, contact, promotions):
        path = unsubscribe_url(contact, tokens.UnsubscribeScope.of(promotions))
        one_click(path)

        one_click(path)

        assert events_of(contact).count() == 1

    def test_a_scoped_page_offers_the_interest_and_everything(self, contact, promotions):
        path = unsubscribe_url(contact, tokens.UnsubscribeScope.of(promotions))
        before = db_state()

        html = Client().get(path).content.decode()

        assert db_state() == before
        assert "Unsubscribe from “Promotions”" in html
        assert '<button type="submit" name="scope" value="all"' in html
        assert EVERYTHING_BUTTON in html

    def test_unsubscribe_from_everything_on_a_scoped_page(self, contact, promotions):
        path = unsubscribe_url(contact, tokens.UnsubscribeScope.of(promotions))

        response = Client().post(path, {"scope": "all"})

        assert response.status_code == 200
        assert status_of(contact) == ContactStatus.UNSUBSCRIBED
        assert not CategoryChoice.objects.exists()
        assert events_of(contact).get().reference == "unsubscribe link (everything)"
        assert "You will no longer receive our marketing messages." in response.content.decode()

    def test_a_category_opted_back_in_can_be_left_again(self, contact, promotions):
        CategoryChoiceFactory(contact=contact, category=promotions, subscribed=True)

        Client().post(unsubscribe_url(contact, tokens.UnsubscribeScope.of(promotions)))

        assert contact.category_choices.get().subscribed is False

    def test_a_link_to_a_deleted_interest_offers_everything(self, contact, promotions):
        path = unsubscribe_url(contact, tokens.UnsubscribeScope.of(promotions))
        promotions.delete()

        html = Client().get(path).content.decode()

        assert "Promotions" not in html
        assert EVERYTHING_BUTTON in html


class TestBadLinks:
    def test_an_invalid_link_shows_a_400_page(self, contact):
        before = db_state()

        response = Client().get("/preferences/unsubscribe/garbage/")

        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
        assert db_state() == before

    def test_an_invalid_link_button_changes_nothing(self, contact):
        before = db_state()

        response = Client().post("/preferences/unsubscribe/garbage/")

        assert response.status_code == 400
        assert db_state() == before

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_an_expired_link_shows_a_410_page(self, contact, method):
        path = unsubscribe_url(contact)
        before = db_state()

        with time_machine.travel(timezone.now() + timedelta(days=366), tick=False):
            response = getattr(Client(), method)(path)

        assert response.status_code == 410
        html = response.content.decode()
        assert "This link has expired" in html
        assert 'action="/preferences/link/"' in html
        assert db_state() == before

    def test_a_deleted_contacts_link_is_invalid(self, contact):
        path = unsubscribe_url(contact)
        contact.delete()

        assert one_click(path).status_code == 400
        assert Client().get(path).status_code == 400


class TestBlocked:
    @pytest.fixture
    def blocked(self, products):
        return ContactFactory(blocked=True, preferences=[products])

    def test_one_click_leaves_a_blocked_contact_blocked(self, blocked):
        response = one_click(unsubscribe_url(blocked))

        assert response.status_code == 200
        assert status_of(blocked) == ContactStatus.BLOCKED
        assert not ConsentEvent.objects.exists()

    def test_the_button_leaves_a_blocked_contact_blocked(self, blocked):
        response = Client().post(unsubscribe_url(blocked))

        assert response.status_code == 200
        assert status_of(blocked) == ContactStatus.BLOCKED

    def test_a_blocked_contact_may_still_leave_a_category(self, blocked, promotions):
        one_click(unsubscribe_url(blocked, tokens.UnsubscribeScope.of(promotions)))

        assert status_of(blocked) == ContactStatus.BLOCKED
        assert blocked.category_choices.get().subscribed is False


def test_unsubscribing_changes_no_channel(contact):
    one_click(unsubscribe_url(contact))

    assert not ContactChannel.objects.exists()


class TestAlreadyUnsubscribed:
    def test_reopening_a_used_link_says_already_unsubscribed(self, contact):
        path = unsubscribe_url(contact)
        Client().post(path)
        before = db_state()

        response = Client().get(path)

        html = response.content.decode()
        assert response.status_code == 200
        assert db_state() == before
        assert "You are already unsubscribed" in html
        assert "For <strong>ann@example.com</strong>." in html
        assert "You receive none of our marketing messages" in html
        assert EVERYTHING_BUTTON not in html

    def test_pressing_the_button_again_says_already_and_logs_nothing(self, contact):
        path = unsubscribe_url(contact)
        Client().post(path)

        html = Client().post(path).content.decode()

        assert "You are already unsubscribed" in html
        assert events_of(contact).count() == 1

    def test_a_used_category_link_offers_everything_else(self, contact, promotions):
        path = unsubscribe_url(contact, tokens.UnsubscribeScope.of(promotions))
        Client().post(path)

        html = Client().get(path).content.decode()

        assert "You are already unsubscribed" in html
        assert "You no longer receive messages about “Promotions”." in html
        assert EVERYTHING_SUBMIT in html

    def test_the_already_page_of_a_category_link_unsubscribes_from_everything(
        self, contact, promotions
    ):
        path = unsubscribe_url(contact, tokens.UnsubscribeScope.of(promotions))
        Client().post(path)
        html = Client().get(path).content.decode()
        form = html.split('<section class="wp-box wp-box--unsubscribe"', 1)[1]
        action = form.split('action="', 1)[1].split('"', 1)[0]

        response = Client().post(action, {"scope": "all"})

        assert action == path
        assert 'name="scope" value="all"' in form
        assert status_of(contact) == ContactStatus.UNSUBSCRIBED
        assert "You will no longer receive our marketing messages." in response.content.decode()

    def test_a_preference_no_longer_held_is_already_left(self, contact, promotions):
        other = PreferenceFactory(name="Webinars")

        html = Client().get(unsubscribe_url(contact, tokens.UnsubscribeScope.of(other))).content
        assert "You no longer receive messages about “Webinars”." in html.decode()

    def test_a_blocked_contact_is_already_unsubscribed(self):
        blocked = ContactFactory(blocked=True)

        html = Client().get(unsubscribe_url(blocked)).content.decode()

        assert "You are already unsubscribed" in html
        assert status_of(blocked) == ContactStatus.BLOCKED
