"""What the visitor's manage-preferences page shows, part by part."""

import re

import pytest
from django.urls import resolve
from wagtail.models import Site

from tests.factories import CategoryChoiceFactory, ContactChannelFactory
from tests.link_fixtures import (
    PRIVATE_REFERRER_POLICIES,
    default_site,
    events_of,
    form_fields,
    page_settings,
)
from tests.visitor_helpers import db_state, site_root
from tests.visitors.manage_helpers import COOKIE, channel, current_data, manage, new_events, save
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import (
    ChangePath,
    Contact,
    ContactChannel,
    PreferencePageSettings,
    Suppression,
    SuppressionReason,
)
from wagtail_preferences.services.suppressions import blocked_channels

pytestmark = pytest.mark.django_db


#: A manage-page part -> an input name that only that part shows.
PART_INPUTS = {
    "channels": "channels-sms-enabled",
    "frequency": "channels-email-frequency_count",
    "pause": "channels-email-pause_from",
    "preferred_channel": "channels-preferred",
    "categories": "categories",
    "preferences": "preferences",
    "segments": "segments",
}


class TestOpening:
    def test_opening_a_manage_link_changes_nothing(self, browser, contact):
        before = db_state()

        response = manage(browser, contact)

        assert response.status_code == 200
        assert db_state() == before

    def test_opening_a_manage_link_remembers_the_visitor(self, browser, contact):
        response = manage(browser, contact)

        cookie = response.cookies[COOKIE]
        assert tokens.contact_from_token(cookie.value, purpose="cookie") == contact
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert not cookie["secure"]

    def test_the_cookie_is_secure_over_https(self, browser, contact):
        response = manage(browser, contact, secure=True)

        assert response.cookies[COOKIE]["secure"] is True

    def test_the_page_is_never_cached_and_sends_no_referrer(self, browser, contact):
        response = manage(browser, contact)

        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= cache_control
        assert response["Referrer-Policy"] in PRIVATE_REFERRER_POLICIES

    def test_the_page_shows_the_contacts_choices(
        self, browser, contact, products, trainings, vip, promotions, news, beta, staff_list
    ):
        CategoryChoiceFactory(contact=contact, category=promotions, subscribed=False)
        ContactChannelFactory(contact=contact, channel="sms", disabled=True, weekly=True)

        response = manage(browser, contact)

        html = response.content.decode()
        assert "For <strong>ann@example.com</strong>." in html
        for legend in ("How we contact you", "Messages you receive", "What interests you"):
            assert f"<legend>{legend}</legend>" in html
        assert "Lists you are on" in html
        data = form_fields(response)
        assert data["channels-email-enabled"] == ["on"]
        assert "channels-sms-enabled" not in data  # unticked: "do not contact"
        assert data["channels-sms-frequency_count"] == ["1"]
        assert data["channels-sms-frequency_period"] == ["week"]
        assert data["channels-preferred"] == [""]
        assert data["categories"] == [str(news.pk)]
        assert data["preferences"] == [str(products.pk)]
        assert data["segments"] == [str(beta.pk)]
        assert "VIP customers" not in html  # an internal preference
        assert "Staff list" not in html  # a segment that is not public

    def test_saving_the_page_unchanged_changes_nothing(self, browser, contact, promotions):
        CategoryChoiceFactory(contact=contact, category=promotions, subscribed=False)
        ContactChannelFactory(contact=contact, channel="sms", paused=True, preferred=True)
        data = current_data(browser, contact)
        before = db_state()

        response = save(browser, contact, data)

        assert response.status_code == 302
        assert db_state() == before

    def test_the_form_posts_to_the_manage_link(self, browser, contact):
        html = manage(browser, contact).content.decode()

        # A link signed a second later differs: compare what the form's link opens.
        action = re.search(r'<form[^>]* action="([^"]+)"', html)[1]
        match = resolve(action)
        assert match.view_name == "wagtail_preferences:manage"
        assert tokens.contact_from_token(match.kwargs["token"]) == contact


class TestParts:
    @pytest.mark.parametrize("part", PART_INPUTS)
    def test_a_part_turned_off_for_the_site_is_not_shown(self, browser, contact, part):
        page_settings(**{part: False})

        data = current_data(browser, contact)

        assert PART_INPUTS[part] not in data
        for other, name in PART_INPUTS.items():
            if other != part:
                assert name in data, (part, other)

    def test_all_parts_are_shown_by_default(self, browser, contact):
        data = current_data(browser, contact)

        assert set(PART_INPUTS.values()) <= set(data)

    def test_without_any_channel_part_there_is_no_channel_section(self, browser, contact):
        page_settings(channels=False, frequency=False, pause=False, preferred_channel=False)

        html = manage(browser, contact).content.decode()

        assert "How we contact you" not in html
        assert "Messages you receive" in html

    def test_with_every_part_off_only_the_details_remain_and_unsubscribe(self, browser, contact):
        page_settings(**dict.fromkeys(PART_INPUTS, False))

        response = manage(browser, contact)

        html = response.content.decode()
        assert set(form_fields(response)) >= {"email", "first_name", "last_name", "phone"}
        assert not set(PART_INPUTS.values()) & set(form_fields(response))
        assert "Your details" in html
        assert "Unsubscribe from everything" in html
        assert "Forget me on this browser" in html

    def test_a_new_sites_settings_start_from_the_manage_page_setting(
        self, browser, contact, settings
    ):
        page_settings()  # the default site's settings exist before the setting changes
        settings.WAGTAIL_PREFERENCES = {
            "MANAGE_PAGE": {"pause": False, "segments": False, "on_unsubscribe": True}
        }
        other = Site.objects.create(hostname="other.example", port=80, root_page=site_root())

        new = PreferencePageSettings.for_site(other)

        assert new.shows() == {
            "channels": True,
            "frequency": True,
            "pause": False,
            "preferred_channel": True,
            "categories": True,
            "preferences": True,
            "segments": False,
            "on_unsubscribe": True,
        }
        on_other = form_fields(manage(browser, contact, HTTP_HOST="other.example"))
        assert "channels-email-pause_from" not in on_other
        assert "segments" not in on_other
        assert "channels-email-pause_from" in current_data(browser, contact)
        assert PreferencePageSettings.for_site(default_site()).show_pause is True

    def test_the_parts_follow_the_site_of_the_request(self, browser, contact):
        other = Site.objects.create(hostname="other.example", port=80, root_page=site_root())
        page_settings(other, categories=False)

        assert "categories" in current_data(browser, contact)
        assert "categories" not in form_fields(manage(browser, contact, HTTP_HOST="other.example"))


class TestDetails:
    def test_the_page_shows_the_contacts_details(self, browser, contact):
        data = current_data(browser, contact)

        assert data["email"] == ["ann@example.com"]
        assert data["first_name"] == ["Ann"]
        assert data["phone"] == [contact.phone]

    def test_correcting_name_and_phone_is_logged_as_the_contacts_own_change(self, browser, contact):
        data = current_data(browser, contact)
        last_name = f"{contact.last_name}-Smith"  # unlike whatever the factory chose
        data.update(
            {"first_name": ["Anne"], "last_name": [last_name], "phone": ["+44 20 7946 0018"]}
        )
        before = events_of(contact).count()

        response = save(browser, contact, data)

        assert response.status_code == 302
        contact.refresh_from_db()
        assert (contact.first_name, contact.last_name, contact.phone) == (
            "Anne",
            last_name,
            "+44 20 7946 0018",
        )
        events = {e.field: e for e in new_events(contact, before)}
        assert set(events) == {"first_name", "last_name", "phone"}
        assert (events["first_name"].old_value, events["first_name"].new_value) == ("Ann", "Anne")
        assert {e.path for e in events.values()} == {ChangePath.SELF_SERVICE}
        assert {e.actor for e in events.values()} == {None}

    def test_a_stored_number_in_another_form_saves_unchanged(self, browser, contact):
        Contact.objects.filter(pk=contact.pk).update(phone="ask reception")
        data = current_data(browser, contact)
        data["last_name"] = ["Smith-Jones"]

        assert save(browser, contact, data).status_code == 302
        contact.refresh_from_db()
        assert (contact.phone, contact.last_name) == ("ask reception", "Smith-Jones")

    def test_clearing_the_phone_number(self, browser, contact):
        data = current_data(browser, contact)
        data["phone"] = [""]

        save(browser, contact, data)

        contact.refresh_from_db()
        assert contact.phone == ""


class TestChannelWithoutAnAddress:
    """SMS for a contact without a phone number: no switch, a way to add the number."""

    @pytest.fixture
    def no_phone(self, contact):
        Contact.objects.filter(pk=contact.pk).update(phone="")
        contact.refresh_from_db()
        return contact

    def test_the_page_offers_to_add_a_phone_number_instead_of_a_switch(self, browser, no_phone):
        response = manage(browser, no_phone)

        html = response.content.decode()
        sms_row = html.split("<legend>SMS</legend>")[1].split("</fieldset>")[0]
        assert '<a href="#id_phone">To get messages by SMS, add your phone number.</a>' in sms_row
        assert "Contact me by SMS" not in html
        assert 'id="id_phone"' in html
        assert not [name for name in form_fields(response) if name.startswith("channels-sms-")]
        assert 'value="sms"' not in html  # not offered as the preferred channel
        assert "Contact me by Email" in html

    def test_saving_keeps_the_channels_stored_settings(self, browser, no_phone):
        ContactChannelFactory(contact=no_phone, channel="sms", disabled=True, weekly=True)
        data = current_data(browser, no_phone)
        data["channels-email-frequency_count"] = ["3"]
        data["channels-email-frequency_period"] = ["week"]
        stored = ContactChannel.objects.filter(channel="sms").values().get()

        save(browser, no_phone, data)

        assert ContactChannel.objects.filter(channel="sms").values().get() == stored
        assert channel(no_phone, "email").frequency_count == 3

    def test_a_posted_switch_of_the_channel_is_ignored(self, browser, no_phone):
        data = current_data(browser, no_phone)
        data["channels-sms-frequency_count"] = ["5"]
        data["channels-sms-frequency_period"] = ["day"]

        assert save(browser, no_phone, data).status_code == 302
        assert channel(no_phone, "sms") is None

    def test_it_cannot_be_the_preferred_channel(self, browser, no_phone):
        data = current_data(browser, no_phone)
        data["channels-preferred"] = ["sms"]

        response = save(browser, no_phone, data)

        assert response.status_code == 400
        assert "Choose a valid preferred channel." in response.content.decode()
        assert channel(no_phone, "sms") is None

    def test_once_a_number_is_given_the_switch_is_there(self, browser, no_phone):
        data = current_data(browser, no_phone)
        data["phone"] = ["+32 470 12 34 56"]
        save(browser, no_phone, data)

        html = manage(browser, no_phone).content.decode()

        assert "Contact me by SMS" in html
        assert "To get messages by SMS, add your phone number." not in html


class TestBlockedAddress:
    NOTICE = "could not be delivered or were refused"

    def test_a_blocked_address_is_named_on_the_page(self, browser, contact):
        Suppression.objects.create(
            channel="email", address=contact.email, reason=SuppressionReason.HARD_BOUNCE
        )

        page = manage(browser, contact).content.decode()

        assert f"Our messages by Email to your address {self.NOTICE}" in page

    def test_without_a_block_there_is_no_notice(self, browser, contact):
        Suppression.objects.create(
            channel="email", address="someone.else@example.com", reason=SuppressionReason.MANUAL
        )
        assert self.NOTICE not in manage(browser, contact).content.decode()

    def test_the_blocks_are_read_in_one_query(self, contact, django_assert_num_queries):
        with django_assert_num_queries(1):
            assert blocked_channels(contact) == []
