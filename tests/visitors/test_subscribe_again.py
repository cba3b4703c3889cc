""" "Subscribe again" on the manage page of an unsubscribed contact."""

import pytest
from django.test import Client

from tests.link_fixtures import events_of
from tests.visitor_helpers import confirmation_path, db_state
from tests.visitors.manage_helpers import manage, save
from wagtail_preferences import services
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import ChangePath, ContactStatus, FormSubmission

pytestmark = pytest.mark.django_db


class TestSubscribeAgain:
    @pytest.fixture
    def gone(self, contact):
        services.set_status(
            contact, ContactStatus.UNSUBSCRIBED, services.Origin(path=ChangePath.UNSUBSCRIBE)
        )
        return contact

    @pytest.fixture
    def resubscribe(self, django_capture_on_commit_callbacks):
        def resubscribe(client, contact):
            with django_capture_on_commit_callbacks(execute=True):
                return save(client, contact, {"resubscribe": "1"})

        return resubscribe

    def test_an_unsubscribed_contact_sees_subscribe_again(self, browser, gone):
        html = manage(browser, gone).content.decode()

        assert "You are unsubscribed" in html
        assert 'name="resubscribe"' in html
        assert "Subscribe again" in html

    def test_a_subscribed_contact_does_not(self, browser, contact):
        html = manage(browser, contact).content.decode()

        assert "Subscribe again" not in html
        assert "Unsubscribe from everything" in html

    def test_subscribe_again_sends_a_confirmation_and_changes_nothing(
        self, browser, gone, resubscribe, mailoutbox
    ):
        before = db_state()

        response = resubscribe(browser, gone)

        assert response.status_code == 302
        location, query = response["Location"].split("?")
        assert query == "resubscribe=sent"
        assert tokens.contact_from_token(location.split("/")[-2]) == gone
        assert "Please check your inbox" in browser.get(response["Location"]).content.decode()
        assert len(mailoutbox) == 1
        assert mailoutbox[0].to == ["ann@example.com"]
        after = db_state()
        assert after["contacts"] == before["contacts"]
        assert after["events"] == before["events"]
        assert after["preferences"] == before["preferences"]
        gone.refresh_from_db()
        assert gone.status == ContactStatus.UNSUBSCRIBED

    def test_confirming_the_email_subscribes_again(
        self, browser, gone, resubscribe, mailoutbox, products, vip
    ):
        resubscribe(browser, gone)

        response = Client().post(confirmation_path(mailoutbox[0]))

        assert response.status_code == 302
        gone.refresh_from_db()
        assert gone.status == ContactStatus.CONFIRMED
        assert set(gone.preferences.all()) == {products, vip}
        event = events_of(gone, subject="status").order_by("pk").last()
        assert (event.old_value, event.new_value) == ("unsubscribed", "confirmed")

    def test_a_subscribed_contact_asking_again_gets_nothing(
        self, browser, contact, resubscribe, mailoutbox
    ):
        before = db_state()

        response = resubscribe(browser, contact)

        assert response.status_code == 302
        assert mailoutbox == []
        assert db_state() == before

    def test_subscribe_again_is_rate_limited(self, browser, gone, resubscribe, mailoutbox):
        responses = [resubscribe(browser, gone) for _ in range(4)]

        assert [r.status_code for r in responses] == [302, 302, 302, 429]
        assert len(mailoutbox) == 3
        assert FormSubmission.objects.filter(contact=gone).count() == 3
