"""The visitor's manage-preferences page, "email me a link", "forget me" and "subscribe again"."""

import datetime
import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import resolve
from django.utils import timezone
from wagtail.models import Site

from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactChannelFactory,
    ContactFactory,
    PreferenceFactory,
    SegmentFactory,
    UserFactory,
)
from tests.link_fixtures import (
    PRIVATE_REFERRER_POLICIES,
    default_site,
    events_of,
    form_fields,
    link_request_data,
    page_settings,
    without_csrf,
)
from tests.visitor_helpers import confirmation_path, db_state, manage_path, site_root
from wagtail_preferences import services
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import (
    CategoryChoice,
    ChangePath,
    Contact,
    ContactChannel,
    ContactStatus,
    FormSubmission,
    PreferencePageSettings,
    SegmentMember,
    SegmentOptOut,
)
from wagtail_preferences.visitors.forms import STARTED_SALT

pytestmark = pytest.mark.django_db

COOKIE = "wagtail_preferences"
MANAGE = "/preferences/manage/"
LINK = "/preferences/link/"
FORGET = "/preferences/forget/"
MONDAY, FRIDAY = datetime.date(2030, 6, 3), datetime.date(2030, 6, 7)
#: Django's own wording, which the visitor never sees.
DJANGO_GENERIC_MESSAGES = (
    "Ensure this value",
    "Enter a valid date.",
    "Select a valid choice.",
    "Enter a valid email address.",
    "This field is required.",
)

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


@pytest.fixture
def vip():
    return PreferenceFactory(name="VIP customers", internal=True)


@pytest.fixture
def news():
    return CategoryFactory(name="News")


@pytest.fixture
def contact(products, trainings, vip, promotions, news):
    return ContactFactory(
        email="ann@example.com", first_name="Ann", confirmed=True, preferences=[products, vip]
    )


@pytest.fixture
def beta(contact):
    segment = SegmentFactory(name="Beta testers", is_public=True)
    services.add_to_segment(contact, segment, services.Origin(path=ChangePath.ADMIN))
    return segment


@pytest.fixture
def staff_list(contact):
    segment = SegmentFactory(name="Staff list", is_public=False)
    services.add_to_segment(contact, segment, services.Origin(path=ChangePath.ADMIN))
    return segment


@pytest.fixture
def browser(contact, beta):
    """A visitor's browser that follows no link yet; ``contact`` and ``beta`` are set up."""
    return Client()


def manage(client, contact, **kwargs):
    return client.get(manage_path(contact), **kwargs)


def save(client, contact, data, **kwargs):
    return client.post(manage_path(contact), data, **kwargs)


def current_data(client, contact):
    """What the page's form sends unchanged."""
    return form_fields(manage(client, contact))


def channel(contact, key):
    return ContactChannel.objects.filter(contact=contact, channel=key).first()


def new_events(contact, before: int):
    return events_of(contact).order_by("pk")[before:]


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


class TestSaving:
    def test_saving_redirects_to_the_page_saying_saved(self, browser, contact):
        data = current_data(browser, contact)
        data.pop("channels-sms-enabled")

        response = save(browser, contact, data)

        assert response.status_code == 302
        location, query = response["Location"].split("?")
        assert query == "saved=1"
        assert tokens.contact_from_token(location.split("/")[-2]) == contact
        assert "Your preferences are saved." in browser.get(response["Location"]).content.decode()

    def test_turning_a_channel_off(self, browser, contact):
        data = current_data(browser, contact)
        data.pop("channels-sms-enabled")
        before = events_of(contact).count()

        save(browser, contact, data)

        assert channel(contact, "sms").enabled is False
        assert channel(contact, "email") is None or channel(contact, "email").enabled
        (event,) = new_events(contact, before)
        assert (event.subject, event.subject_label, event.field) == ("channel", "sms", "enabled")
        assert (event.old_value, event.new_value) == (True, False)

    def test_turning_a_channel_back_on(self, browser, contact):
        ContactChannelFactory(contact=contact, channel="sms", disabled=True)
        data = current_data(browser, contact)
        data["channels-sms-enabled"] = ["on"]

        save(browser, contact, data)

        assert channel(contact, "sms").enabled is True

    def test_setting_a_frequency(self, browser, contact):
        data = current_data(browser, contact)
        data["channels-email-frequency_count"] = ["2"]
        data["channels-email-frequency_period"] = ["week"]

        save(browser, contact, data)

        email = channel(contact, "email")
        assert (email.frequency_count, email.frequency_period) == (2, "week")
        assert events_of(contact, field="frequency").get().new_value == [2, "week"]

    def test_removing_a_frequency(self, browser, contact):
        ContactChannelFactory(contact=contact, channel="email", weekly=True)
        data = current_data(browser, contact)
        data["channels-email-frequency_count"] = [""]
        data["channels-email-frequency_period"] = [""]

        save(browser, contact, data)

        email = channel(contact, "email")
        assert (email.frequency_count, email.frequency_period) == (None, "")

    def test_pausing_a_channel(self, browser, contact):
        data = current_data(browser, contact)
        data["channels-sms-pause_from"] = [MONDAY.isoformat()]
        data["channels-sms-pause_to"] = [FRIDAY.isoformat()]

        save(browser, contact, data)

        sms = channel(contact, "sms")
        assert (sms.pause_from, sms.pause_to) == (MONDAY, FRIDAY)
        assert current_data(browser, contact)["channels-sms-pause_to"] == [FRIDAY.isoformat()]

    def test_choosing_and_changing_the_preferred_channel(self, browser, contact):
        data = current_data(browser, contact)
        data["channels-preferred"] = ["sms"]
        save(browser, contact, data)
        assert channel(contact, "sms").is_preferred is True

        data = current_data(browser, contact)
        assert data["channels-preferred"] == ["sms"]
        data["channels-preferred"] = ["email"]
        save(browser, contact, data)
        assert channel(contact, "email").is_preferred is True
        assert channel(contact, "sms").is_preferred is False

        data["channels-preferred"] = [""]
        save(browser, contact, data)
        assert not ContactChannel.objects.filter(contact=contact, is_preferred=True).exists()

    def test_opting_out_of_a_category_and_back_in(self, browser, contact, promotions, news):
        data = current_data(browser, contact)
        data["categories"] = [str(news.pk)]
        save(browser, contact, data)

        assert CategoryChoice.objects.get(contact=contact).category == promotions
        assert CategoryChoice.objects.get(contact=contact).subscribed is False
        assert current_data(browser, contact)["categories"] == [str(news.pk)]

        data["categories"] = [str(news.pk), str(promotions.pk)]
        save(browser, contact, data)

        assert CategoryChoice.objects.get(contact=contact, category=promotions).subscribed is True
        assert not CategoryChoice.objects.filter(contact=contact, category=news).exists()
        assert [e.new_value for e in events_of(contact, subject="category").order_by("pk")] == [
            False,
            True,
        ]

    def test_changing_public_preferences_keeps_internal_ones(
        self, browser, contact, products, trainings, vip
    ):
        data = current_data(browser, contact)
        data["preferences"] = [str(trainings.pk)]

        save(browser, contact, data)

        assert set(contact.preferences.all()) == {trainings, vip}

    def test_an_internal_preference_posted_is_not_added(self, browser, contact, products):
        secret = PreferenceFactory(name="Blacklisted", internal=True)
        data = current_data(browser, contact)
        data["preferences"] = [str(products.pk), str(secret.pk)]
        before = db_state()

        response = save(browser, contact, data)

        assert response.status_code == 400
        assert not contact.preference_holdings.filter(preference=secret).exists()
        assert db_state() == before

    def test_an_internal_preference_held_is_not_removed_when_unposted(self, browser, contact, vip):
        data = current_data(browser, contact)
        data["preferences"] = []

        save(browser, contact, data)

        assert set(contact.preferences.all()) == {vip}

    def test_leaving_a_public_segment_and_joining_it_again(self, browser, contact, beta):
        data = current_data(browser, contact)
        data.pop("segments")
        save(browser, contact, data)

        assert not SegmentMember.objects.filter(segment=beta, contact=contact).exists()
        assert SegmentOptOut.objects.filter(segment=beta, contact=contact).exists()
        data = current_data(browser, contact)
        assert "segments" not in data  # still shown, unticked
        assert "Beta testers" in manage(browser, contact).content.decode()

        data["segments"] = [str(beta.pk)]
        save(browser, contact, data)

        assert SegmentMember.objects.filter(segment=beta, contact=contact).exists()
        assert not SegmentOptOut.objects.filter(segment=beta, contact=contact).exists()

    def test_a_segment_not_shown_cannot_be_joined(self, browser, contact, staff_list):
        other = SegmentFactory(name="Others", is_public=True)
        data = current_data(browser, contact)
        data["segments"] = [*data["segments"], str(other.pk)]
        before = db_state()

        response = save(browser, contact, data)

        assert response.status_code == 400
        assert db_state() == before

    def test_every_change_is_logged_as_self_service(
        self, contact, promotions, trainings, beta, django_capture_on_commit_callbacks
    ):
        browser = Client(REMOTE_ADDR="203.0.113.8")
        data = current_data(browser, contact)
        data.pop("channels-sms-enabled")
        data["channels-email-frequency_count"] = ["2"]
        data["channels-email-frequency_period"] = ["week"]
        data["channels-email-pause_from"] = [MONDAY.isoformat()]
        data["channels-email-pause_to"] = [FRIDAY.isoformat()]
        data["channels-preferred"] = ["email"]
        data["categories"] = [str(promotions.pk)]
        data["preferences"] = [str(trainings.pk)]
        data.pop("segments")
        before = events_of(contact).count()

        with django_capture_on_commit_callbacks(execute=True):
            save(browser, contact, data)

        events = list(new_events(contact, before))
        assert {(e.subject, e.field) for e in events} >= {
            ("channel", "enabled"),
            ("channel", "frequency"),
            ("channel", "pause"),
            ("channel", "preferred"),
            ("category", "subscribed"),
            ("preference", "held"),
            ("segment", "opted_out"),
            ("segment", "member"),
        }
        assert {e.path for e in events} == {ChangePath.SELF_SERVICE}
        assert {e.reference for e in events} == {"manage-preferences page"}
        assert {e.ip_address for e in events} == {"203.0.113.8"}
        assert {e.actor for e in events} == {None}


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


class TestChangedSinceOpening:
    """Saving changes only what the page showed, not what appeared after it was opened."""

    def test_a_category_created_after_opening_is_not_opted_out(self, browser, contact, news):
        data = current_data(browser, contact)
        data["categories"] = [str(news.pk)]  # unticks Promotions
        webinars = CategoryFactory(name="Webinars")

        save(browser, contact, data)

        assert set(CategoryChoice.objects.values_list("category__name", "subscribed")) == {
            ("Promotions", False)
        }
        assert contact in Contact.objects.subscribed_to(webinars)

    def test_a_preference_gained_after_opening_is_kept(self, browser, contact, trainings):
        data = current_data(browser, contact)
        late = PreferenceFactory(name="Late arrival")
        services.add_preferences(contact, [late], services.Origin(path=ChangePath.ADMIN))
        data["preferences"] = [*data["preferences"], str(trainings.pk)]

        save(browser, contact, data)

        assert {"Late arrival", "Trainings", "Products"} <= set(
            contact.preferences.values_list("name", flat=True)
        )

    def test_a_segment_joined_after_opening_is_not_left(self, browser, contact, beta):
        data = current_data(browser, contact)
        data.pop("segments")  # leaves Beta testers
        later = SegmentFactory(name="Joined later", is_public=True)
        services.add_to_segment(contact, later, services.Origin(path=ChangePath.ADMIN))

        save(browser, contact, data)

        assert SegmentMember.objects.filter(segment=later, contact=contact).exists()
        assert not SegmentOptOut.objects.filter(segment=later, contact=contact).exists()
        assert SegmentOptOut.objects.filter(segment=beta, contact=contact).exists()

    def test_only_the_choices_sent_back_as_shown_change(self, browser, contact, promotions):
        data = current_data(browser, contact)
        data["categories_shown"] = [str(promotions.pk)]
        data["categories"] = []  # News unticked too, but not among those shown

        save(browser, contact, data)

        assert set(CategoryChoice.objects.values_list("category__name", "subscribed")) == {
            ("Promotions", False)
        }


class TestHiddenParts:
    @pytest.mark.parametrize(
        ("part", "change", "unchanged"),
        [
            (
                "pause",
                {
                    "channels-email-pause_from": MONDAY.isoformat(),
                    "channels-email-pause_to": FRIDAY.isoformat(),
                },
                lambda contact: (
                    channel(contact, "email") is None
                    or channel(contact, "email").pause_from is None
                ),
            ),
            (
                "frequency",
                {"channels-email-frequency_count": "2", "channels-email-frequency_period": "day"},
                lambda contact: (
                    channel(contact, "email") is None
                    or channel(contact, "email").frequency_count is None
                ),
            ),
            (
                "preferred_channel",
                {"channels-preferred": "sms"},
                lambda contact: (
                    channel(contact, "sms") is None or not channel(contact, "sms").is_preferred
                ),
            ),
            (
                "categories",
                {"categories": []},
                lambda contact: not CategoryChoice.objects.filter(contact=contact).exists(),
            ),
            (
                "preferences",
                {"preferences": []},
                lambda contact: contact.preference_holdings.count() == 2,
            ),
            (
                "segments",
                {"segments": []},
                lambda contact: SegmentMember.objects.filter(contact=contact).exists(),
            ),
        ],
    )
    def test_a_part_not_shown_is_never_changed_even_if_posted(
        self, browser, contact, part, change, unchanged
    ):
        data = current_data(browser, contact)  # every part shown
        data.pop("channels-sms-enabled")  # and a change in a part that stays shown
        data.update(change)
        page_settings(**{part: False})

        response = save(browser, contact, data)

        assert response.status_code == 302
        assert unchanged(contact)
        assert channel(contact, "sms").enabled is False

    def test_hidden_channel_parts_keep_their_stored_values(self, browser, contact):
        ContactChannelFactory(contact=contact, channel="email", weekly=True, paused=True)
        page_settings(frequency=False, pause=False, preferred_channel=False)
        data = current_data(browser, contact)
        data.pop("channels-email-enabled")

        save(browser, contact, data)

        email = channel(contact, "email")
        assert email.enabled is False
        assert (email.frequency_count, email.frequency_period) == (1, "week")
        assert email.pause_from == timezone.localdate()

    def test_a_posted_channel_switch_is_ignored_when_channels_are_hidden(self, browser, contact):
        data = current_data(browser, contact)
        data.pop("channels-sms-enabled")
        data["channels-email-frequency_count"] = ["3"]
        data["channels-email-frequency_period"] = ["month"]
        page_settings(channels=False)

        save(browser, contact, data)

        assert channel(contact, "sms") is None or channel(contact, "sms").enabled
        assert channel(contact, "email").frequency_count == 3


class TestInvalidInput:
    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (
                {
                    "channels-email-pause_from": FRIDAY.isoformat(),
                    "channels-email-pause_to": MONDAY.isoformat(),
                },
                "A pause cannot end before it starts.",
            ),
            (
                {"channels-email-frequency_count": "2", "channels-email-frequency_period": ""},
                "A frequency needs both a number of messages and a period.",
            ),
            (
                {"channels-email-frequency_count": "", "channels-email-frequency_period": "week"},
                "A frequency needs both a number of messages and a period.",
            ),
            ({"channels-preferred": "fax"}, "Choose a valid preferred channel."),
            (
                {"channels-email-frequency_count": "0"},
                "Enter a number of messages from 1 to 1000.",
            ),
            (
                {"channels-email-frequency_count": "1001"},
                "Enter a number of messages from 1 to 1000.",
            ),
            (
                {"channels-email-pause_from": "31/02/2030"},
                "Enter a date as year-month-day, such as 2030-06-03.",
            ),
            ({"channels-email-frequency_period": "year"}, "Choose a period from the list."),
            ({"categories": ["999999"]}, "Choose from the options shown."),
            ({"email": "not an address"}, "Enter an email address such as name@example.com."),
            ({"email": ""}, "Enter your email address."),
            ({"phone": "call me"}, "Enter a phone number with digits"),
            ({"first_name": "A" * 151}, "Enter at most 150 characters."),
        ],
    )
    def test_invalid_input_comes_back_with_an_error_summary_and_changes_nothing(
        self, browser, contact, news, change, message
    ):
        data = current_data(browser, contact)
        data.pop("channels-sms-enabled")  # a valid change that must not be saved either
        data["categories"] = [str(news.pk)]
        data.update(change)
        before = db_state()

        response = save(browser, contact, data)

        assert response.status_code == 400
        html = response.content.decode()
        assert "There is a problem" in html
        assert message in html
        assert not any(generic in html for generic in DJANGO_GENERIC_MESSAGES)
        assert db_state() == before

    def test_the_error_summary_links_to_the_preferred_channel_choice(self, browser, contact):
        data = current_data(browser, contact)
        data["channels-preferred"] = ["fax"]

        html = save(browser, contact, data).content.decode()

        assert (
            '<a href="#id_channels-preferred_email">Choose a valid preferred channel.</a>' in html
        )
        assert 'id="id_channels-preferred_email"' in html

    def test_every_error_shows_at_once_each_on_its_field(self, browser, contact, news):
        data = current_data(browser, contact)
        data.update(
            {
                "phone": "call me",
                "channels-email-frequency_count": "0",
                "channels-email-pause_from": FRIDAY.isoformat(),
                "channels-email-pause_to": MONDAY.isoformat(),
                "channels-sms-frequency_count": "2",
                "channels-sms-frequency_period": "",
                "categories": ["999999"],
            }
        )

        response = save(browser, contact, data)

        html = response.content.decode()
        summary = html.split('class="wp-error-summary"')[1].split("</div>")[0]
        links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)
        assert [anchor for anchor, _ in links] == [
            "id_phone",
            "id_channels-email-frequency_count",
            "id_channels-email-pause_to",
            "id_channels-sms-frequency_period",
            "id_categories",
        ]
        assert links[1][1] == "Email: Enter a number of messages from 1 to 1000."
        assert links[2][1] == "Email: A pause cannot end before it starts."
        assert links[3][1] == "SMS: A frequency needs both a number of messages and a period."
        for anchor, _ in links:
            assert f'id="{anchor}-error"' in html, anchor
        # Each channel's errors in its own row, not above the channels.
        email_row, sms_row = html.split("<legend>Email</legend>")[1].split("<legend>SMS</legend>")
        assert "A pause cannot end before it starts." in email_row
        assert "A pause cannot end before it starts." not in sms_row
        assert "A frequency needs both" in sms_row.split("</fieldset>")[0]
        channels_box = html.split("<legend>How we contact you</legend>")[1]
        assert channels_box.split("<legend>Email</legend>")[0].count("wp-error") == 0
        assert 'aria-describedby="id_channels-email-pause_to-error"' in html

    def test_the_visitors_input_is_kept(self, browser, contact):
        data = current_data(browser, contact)
        data["channels-email-frequency_count"] = ["7"]
        data["channels-email-pause_from"] = [FRIDAY.isoformat()]
        data["channels-email-pause_to"] = [MONDAY.isoformat()]

        response = save(browser, contact, data)

        kept = form_fields(response)
        assert kept["channels-email-frequency_count"] == ["7"]
        assert kept["channels-email-pause_to"] == [MONDAY.isoformat()]


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
