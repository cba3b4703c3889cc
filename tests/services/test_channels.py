"""``services.update_channels``: a contact's settings for each channel."""

import datetime

import pytest

from tests.factories import ContactChannelFactory, ContactFactory
from tests.services.service_helpers import assert_stamped
from wagtail_preferences import services, signals
from wagtail_preferences.exceptions import InvalidChange, UnknownChannel
from wagtail_preferences.models import ConsentEvent, ConsentSubject, ContactChannel
from wagtail_preferences.services import ChannelSettings

pytestmark = pytest.mark.django_db


MONDAY = datetime.date(2025, 6, 2)

FRIDAY = datetime.date(2025, 6, 6)


class TestUpdateChannels:
    @pytest.fixture
    def contact(self):
        return ContactFactory()

    def channel_events(self):
        return {
            (e.subject_label, e.field): (e.old_value, e.new_value)
            for e in ConsentEvent.objects.filter(subject=ConsentSubject.CHANNEL)
        }

    def test_a_first_setting_creates_the_row_and_logs_the_field(
        self, contact, form_origin, sent_signals
    ):
        changed = services.update_channels(
            contact, {"email": ChannelSettings(enabled=False)}, form_origin
        )

        assert changed == {"email"}
        row = ContactChannel.objects.get()
        assert (row.contact, row.channel, row.enabled) == (contact, "email", False)
        event = ConsentEvent.objects.get()
        assert (event.subject, event.subject_id, event.subject_label, event.field) == (
            ConsentSubject.CHANNEL,
            None,
            "email",
            "enabled",
        )
        assert (event.old_value, event.new_value) == (True, False)
        assert_stamped([event], form_origin)
        assert sent_signals == [
            (
                "channels_changed",
                {
                    "sender": ContactChannel,
                    "contact_ids": frozenset({contact.pk}),
                    "channels": frozenset({"email"}),
                    "origin": form_origin,
                },
            )
        ]

    def test_each_changed_field_is_logged_once(self, contact, origin):
        ContactChannelFactory(contact=contact, channel="email", weekly=True)

        services.update_channels(
            contact,
            {
                "email": ChannelSettings(
                    frequency_count=2,
                    frequency_period="day",
                    pause_from=MONDAY,
                    pause_to=FRIDAY,
                )
            },
            origin,
        )

        row = ContactChannel.objects.get()
        assert (row.frequency_count, row.frequency_period) == (2, "day")
        assert (row.pause_from, row.pause_to) == (MONDAY, FRIDAY)
        assert self.channel_events() == {
            ("email", "frequency"): ([1, "week"], [2, "day"]),
            ("email", "pause"): (None, ["2025-06-02", "2025-06-06"]),
        }

    def test_clearing_a_frequency_and_an_open_ended_pause(self, contact, origin):
        ContactChannelFactory(
            contact=contact, channel="sms", weekly=True, pause_from=MONDAY, pause_to=None
        )

        services.update_channels(contact, {"sms": ChannelSettings()}, origin)

        assert ChannelSettings.of(ContactChannel.objects.get()) == ChannelSettings()
        assert self.channel_events() == {
            ("sms", "frequency"): ([1, "week"], None),
            ("sms", "pause"): (["2025-06-02", None], None),
        }

    def test_preferring_a_channel_unprefers_the_previous_one(self, contact, origin, sent_signals):
        ContactChannelFactory(contact=contact, channel="email", preferred=True, weekly=True)

        changed = services.update_channels(
            contact, {"sms": ChannelSettings(is_preferred=True)}, origin
        )

        assert changed == {"email", "sms"}
        assert dict(contact.channel_settings.values_list("channel", "is_preferred")) == {
            "email": False,
            "sms": True,
        }
        # The rest of the email settings stay as they were.
        assert ContactChannel.objects.get(channel="email").frequency_count == 1
        assert self.channel_events() == {
            ("email", "preferred"): (True, False),
            ("sms", "preferred"): (False, True),
        }
        assert len(sent_signals) == 1
        assert sent_signals[0][1]["channels"] == {"email", "sms"}

    def test_switching_preferred_within_one_call(self, contact, origin):
        ContactChannelFactory(contact=contact, channel="email", preferred=True)

        services.update_channels(
            contact,
            {"email": ChannelSettings(), "sms": ChannelSettings(is_preferred=True)},
            origin,
        )

        assert list(contact.channel_settings.filter(is_preferred=True)) == [
            ContactChannel.objects.get(channel="sms")
        ]

    def test_two_preferred_channels_raise_and_change_nothing(self, contact, origin, sent_signals):
        ContactChannelFactory(contact=contact, channel="email", preferred=True)

        with pytest.raises(InvalidChange):
            services.update_channels(
                contact,
                {
                    "email": ChannelSettings(is_preferred=True),
                    "sms": ChannelSettings(is_preferred=True, enabled=False),
                },
                origin,
            )

        assert list(contact.channel_settings.values_list("channel", "is_preferred")) == [
            ("email", True)
        ]
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"frequency_count": 3},
            {"frequency_period": "week"},
            {"frequency_count": 0, "frequency_period": "week"},
            {"frequency_count": 0},
            {"frequency_count": -1, "frequency_period": "week"},
            {"frequency_count": 2, "frequency_period": "fortnight"},
            {"pause_from": FRIDAY, "pause_to": MONDAY},
        ],
        ids=[
            "count-without-period",
            "period-without-count",
            "zero-count",
            "zero-count-alone",
            "negative-count",
            "unknown-period",
            "pause-ends-before-it-starts",
        ],
    )
    def test_invalid_settings_are_refused(self, kwargs):
        with pytest.raises(InvalidChange):
            ChannelSettings(**kwargs)

    def test_an_unknown_channel_raises_and_changes_nothing(self, contact, origin, sent_signals):
        with pytest.raises(UnknownChannel, match="carrier-pigeon"):
            services.update_channels(
                contact,
                {
                    "email": ChannelSettings(enabled=False),
                    "carrier-pigeon": ChannelSettings(enabled=False),
                },
                origin,
            )

        assert not ContactChannel.objects.exists()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_nothing_changes_no_event_no_signal(self, contact, origin, sent_signals):
        ContactChannelFactory(contact=contact, channel="email", weekly=True, preferred=True)

        changed = services.update_channels(
            contact,
            {
                "email": ChannelSettings(
                    frequency_count=1, frequency_period="week", is_preferred=True
                ),
                "sms": ChannelSettings(),
            },
            origin,
        )

        assert changed == frozenset()
        # Default settings for a channel without a row need no row.
        assert list(contact.channel_settings.values_list("channel", flat=True)) == ["email"]
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_channels_not_mentioned_are_left_alone(self, contact, origin):
        ContactChannelFactory(contact=contact, channel="sms", disabled=True)
        other = ContactChannelFactory(channel="email", disabled=True)

        services.update_channels(contact, {"email": ChannelSettings(enabled=False)}, origin)

        assert dict(contact.channel_settings.values_list("channel", "enabled")) == {
            "sms": False,
            "email": False,
        }
        assert ContactChannel.objects.get(pk=other.pk).contact == other.contact
        assert set(ConsentEvent.objects.values_list("contact_id", "subject_label")) == {
            (contact.pk, "email")
        }

    def test_a_failing_receiver_rolls_the_change_back(self, contact, origin, failing_receiver):
        failing_receiver(signals.channels_changed)

        with pytest.raises(RuntimeError):
            services.update_channels(contact, {"sms": ChannelSettings(enabled=False)}, origin)

        assert not ContactChannel.objects.exists()
        assert not ConsentEvent.objects.exists()

    def test_channel_settings_reads_each_row(self, contact):
        ContactChannelFactory(contact=contact, channel="email", preferred=True)
        ContactChannelFactory(contact=contact, channel="sms", disabled=True, paused=True)

        settings_by_channel = services.channel_settings(contact)

        assert settings_by_channel["email"] == ChannelSettings(is_preferred=True)
        sms = settings_by_channel["sms"]
        assert (sms.enabled, sms.pause_to - sms.pause_from) == (False, datetime.timedelta(7))
        assert set(settings_by_channel) == {"email", "sms"}

    def test_logged_groups_the_values(self):
        assert ChannelSettings(
            enabled=False, frequency_count=3, frequency_period="month", pause_to=FRIDAY
        ).logged() == {
            "enabled": False,
            "frequency": [3, "month"],
            "pause": [None, "2025-06-06"],
            "preferred": False,
        }
