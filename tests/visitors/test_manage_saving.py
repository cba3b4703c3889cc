"""Saving the manage page: what changes, what stays, and what input is refused."""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import (
    CategoryFactory,
    ContactChannelFactory,
    PreferenceFactory,
    SegmentFactory,
)
from tests.link_fixtures import events_of, form_fields, page_settings
from tests.visitor_helpers import db_state
from tests.visitors.manage_helpers import channel, current_data, manage, new_events, save
from wagtail_preferences import services
from wagtail_preferences.audience import compiler
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import (
    CategoryChoice,
    ChangePath,
    Contact,
    ContactChannel,
    SegmentMember,
    SegmentOptOut,
)

pytestmark = pytest.mark.django_db


MONDAY, FRIDAY = datetime.date(2030, 6, 3), datetime.date(2030, 6, 7)

#: Django's own wording, which the visitor never sees.
DJANGO_GENERIC_MESSAGES = (
    "Ensure this value",
    "Enter a valid date.",
    "Select a valid choice.",
    "Enter a valid email address.",
    "This field is required.",
)


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
        assert contact in Contact.objects.filter(compiler.subscribed_to(webinars))

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
