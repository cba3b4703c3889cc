"""Refusing tracking (manage page, admin), the campaign's tracking fields, and unsubscribes
counted against the message they came from."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.admin.admin_helpers import CONTACTS, contact_form_data
from tests.admin.test_campaigns import form_data
from tests.factories import ContactFactory, MessageFactory
from tests.link_fixtures import events_of, form_fields
from tests.visitor_helpers import manage_path
from tests.visitors.unsubscribe_helpers import one_click
from wagtail_preferences.identity import tokens
from wagtail_preferences.messaging import dispatch
from wagtail_preferences.models import Campaign, ChangePath, Contact, ContactStatus, Delivery

from .tracking_helpers import allow, html_of, path_and_query, send, tracking_campaign

pytestmark = pytest.mark.django_db

CAMPAIGNS = "preference_center_campaigns"
FIELD = "refuses_tracking"


@pytest.fixture(autouse=True)
def fresh_renderers():
    """Senders keep a renderer per message revision; a test's ids may be an earlier test's."""
    dispatch._renderer.cache_clear()


@pytest.fixture
def contact():
    return ContactFactory(confirmed=True)


class TestManagePage:
    def test_a_site_without_tracking_does_not_ask(self, contact):
        allow(opens=False, clicks=False)

        response = Client().get(manage_path(contact))

        assert FIELD not in form_fields(response)
        assert "Don&#x27;t track my opens and clicks" not in response.content.decode()

    @pytest.mark.parametrize(("opens", "clicks"), [(True, False), (False, True)])
    def test_a_site_with_any_tracking_asks(self, contact, opens, clicks):
        allow(opens=opens, clicks=clicks)

        response = Client().get(manage_path(contact))

        assert "Don&#x27;t track my opens and clicks" in response.content.decode()
        assert re.search(rf'<input type="checkbox" name="{FIELD}"', response.content.decode())

    def test_refusing_is_saved_and_written_to_the_consent_log(self, contact):
        allow()
        browser = Client()
        data = form_fields(browser.get(manage_path(contact)))

        response = browser.post(manage_path(contact), {**data, FIELD: "on"})

        assert response.status_code == 302
        contact.refresh_from_db()
        assert contact.refuses_tracking is True
        [event] = events_of(contact, field=FIELD)
        assert (event.old_value, event.new_value, event.path) == (
            False,
            True,
            ChangePath.SELF_SERVICE,
        )

    def test_a_site_that_stopped_tracking_leaves_a_refusal_as_it_was(self, contact):
        contact.refuses_tracking = True
        contact.save()
        allow(opens=False, clicks=False)
        browser = Client()

        browser.post(manage_path(contact), form_fields(browser.get(manage_path(contact))))

        contact.refresh_from_db()
        assert contact.refuses_tracking is True
        assert not events_of(contact, field=FIELD).exists()


def test_an_editor_may_record_a_refusal_in_the_admin(admin_client, contact):
    response = admin_client.post(
        reverse(f"{CONTACTS}:edit", args=[contact.pk]),
        contact_form_data(contact, refuses_tracking="on"),
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.refuses_tracking is True
    assert events_of(contact, field=FIELD, path=ChangePath.ADMIN).count() == 1


class TestCampaignForm:
    def test_tracking_the_site_does_not_allow_is_shown_disabled_and_explained(self, admin_client):
        allow(opens=False, clicks=True)

        html = admin_client.get(reverse(f"{CAMPAIGNS}:add")).content.decode()

        assert re.search(r'<input[^>]*name="track_opens"[^>]*disabled', html)
        assert not re.search(r'<input[^>]*name="track_clicks"[^>]*disabled', html)
        assert "This site does not allow open tracking" in html
        assert "This site does not allow click tracking" not in html

    def test_the_campaign_saves_what_it_tracks(self, admin_client, products):
        allow()

        admin_client.post(
            reverse(f"{CAMPAIGNS}:add"),
            form_data(
                MessageFactory(), preferences=[products.pk], track_clicks="on", name="Tracked"
            ),
        )
        campaign = Campaign.objects.get(name="Tracked")
        assert (campaign.track_opens, campaign.track_clicks) == (False, True)


class TestUnsubscribeAttribution:
    @pytest.fixture
    def sent(self, products, django_capture_on_commit_callbacks):
        allow(opens=False, clicks=False)  # counted whether or not the campaign tracks
        contact = ContactFactory(confirmed=True, preferences=[products])
        campaign = tracking_campaign([products], opens=False, clicks=False)
        email = send(campaign, django_capture_on_commit_callbacks)[contact.email]
        return Delivery.objects.get(campaign=campaign, contact=contact), email

    def test_one_click_from_the_emails_header_marks_the_delivery(self, sent):
        delivery, email = sent
        [link] = re.findall(r"<(https?://[^>]+)>", email.extra_headers["List-Unsubscribe"])

        assert one_click(path_and_query(link)).status_code == 200

        delivery.refresh_from_db()
        assert delivery.unsubscribed_at is not None
        assert Contact.objects.get(pk=delivery.contact_id).status == ContactStatus.UNSUBSCRIBED

    def test_the_unsubscribe_page_of_the_emails_link_marks_the_delivery(self, sent):
        delivery, email = sent
        [link] = [h for h in re.findall(r'href="([^"]+)"', html_of(email)) if "/unsubscribe/" in h]

        response = Client().post(path_and_query(link), {"scope": "all"})

        assert response.status_code == 200
        delivery.refresh_from_db()
        assert delivery.unsubscribed_at is not None

    def test_a_second_unsubscribe_keeps_the_first_time(self, sent):
        delivery, email = sent
        [link] = re.findall(r"<(https?://[^>]+)>", email.extra_headers["List-Unsubscribe"])
        one_click(path_and_query(link))
        delivery.refresh_from_db()
        first = delivery.unsubscribed_at

        one_click(path_and_query(link))

        delivery.refresh_from_db()
        assert delivery.unsubscribed_at == first

    def test_a_link_without_a_delivery_still_unsubscribes_and_marks_nothing(self, sent):
        delivery, _email = sent
        token = tokens.unsubscribe_token(delivery.contact)

        assert (
            one_click(reverse("wagtail_preferences:unsubscribe", args=[token])).status_code == 200
        )

        delivery.refresh_from_db()
        assert delivery.unsubscribed_at is None
        assert Contact.objects.get(pk=delivery.contact_id).status == ContactStatus.UNSUBSCRIBED

    def test_a_token_naming_its_delivery_reads_back(self, sent):
        delivery, _email = sent
        token = tokens.unsubscribe_token(delivery.contact, delivery_id=delivery.pk)

        assert tokens.unsubscribe_link_from_token(token)[2] == delivery.pk
        assert tokens.unsubscribe_from_token(token) == (
            delivery.contact,
            tokens.UnsubscribeScope(),
        )
