import datetime

import pytest
from django.apps import apps
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from tests.factories import ContactFactory
from wagtail_preferences.channels.base import Channel
from wagtail_preferences.channels.email import EmailChannel
from wagtail_preferences.channels.registry import channel_choices, get_channel, get_channels
from wagtail_preferences.channels.sms import SMSChannel
from wagtail_preferences.checks import (
    check_link_host,
    check_required_apps,
    check_settings,
    check_urls_included,
)
from wagtail_preferences.conf import DEFAULTS, VALIDATORS, get_setting, parse_rate
from wagtail_preferences.exceptions import ConfigurationError, PreferencesError, UnknownChannel
from wagtail_preferences.visitors.emails import base_url_of

EMAIL = "wagtail_preferences.channels.email.EmailChannel"
SMS = "wagtail_preferences.channels.sms.SMSChannel"
PUSH = "tests.app.test_conf_and_checks.PushChannel"


class PushChannel(Channel):
    key = "push"
    label = "Push"

    def address_for(self, contact) -> str:
        return contact.data.get("device", "")


class KeylessChannel(Channel):
    label = "No key"

    def address_for(self, contact) -> str:
        return ""


class SecondEmailChannel(EmailChannel):
    label = "Email again"


def ids(errors):
    return [error.id for error in errors]


class TestGetSetting:
    def test_defaults_when_nothing_is_configured(self, settings):
        del settings.WAGTAIL_PREFERENCES

        assert {name: get_setting(name) for name in DEFAULTS} == DEFAULTS
        assert get_setting("HISTORY_PANEL_LIMIT") == 50
        assert get_setting("CHANNELS") == [EMAIL, SMS]

    def test_defaults_for_settings_left_out(self, settings):
        settings.WAGTAIL_PREFERENCES = {"HISTORY_PANEL_LIMIT": 10}

        assert get_setting("HISTORY_PANEL_LIMIT") == 10
        assert get_setting("CONTACTS_PER_PAGE") == DEFAULTS["CONTACTS_PER_PAGE"]
        assert get_setting("OVERVIEW_RECENT_CHANGES") == DEFAULTS["OVERVIEW_RECENT_CHANGES"]

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("HISTORY_PANEL_LIMIT", 1),
            ("OVERVIEW_RECENT_CHANGES", 5),
            ("CONTACTS_PER_PAGE", 200),
            ("CHANNELS", [PUSH]),
            ("CHANNELS", (EMAIL,)),
        ],
    )
    def test_overrides(self, settings, name, value):
        settings.WAGTAIL_PREFERENCES = {name: value}

        assert get_setting(name) == value

    def test_every_setting_has_a_validator_its_default_passes(self):
        assert set(VALIDATORS) == set(DEFAULTS)
        for name, default in DEFAULTS.items():
            assert VALIDATORS[name](default) is None, name

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("HISTORY_PANEL_LIMIT", 0),
            ("HISTORY_PANEL_LIMIT", -5),
            ("HISTORY_PANEL_LIMIT", "50"),
            ("HISTORY_PANEL_LIMIT", 2.5),
            ("HISTORY_PANEL_LIMIT", True),
            ("OVERVIEW_RECENT_CHANGES", None),
            ("CONTACTS_PER_PAGE", 0),
            ("CHANNELS", []),
            ("CHANNELS", EMAIL),
            ("CHANNELS", ["wagtail_preferences.channels.sms.FaxChannel"]),
            ("CHANNELS", [EMAIL, "no_such_module.Channel"]),
        ],
    )
    def test_wrong_values_raise_naming_the_setting(self, settings, name, value):
        settings.WAGTAIL_PREFERENCES = {name: value}

        with pytest.raises(ConfigurationError) as excinfo:
            get_setting(name)

        message = str(excinfo.value)
        assert message.startswith(f"WAGTAIL_PREFERENCES['{name}'] ")
        assert repr(value) in message

    def test_the_message_says_what_is_expected(self, settings):
        settings.WAGTAIL_PREFERENCES = {"HISTORY_PANEL_LIMIT": 0}

        with pytest.raises(ConfigurationError) as excinfo:
            get_setting("HISTORY_PANEL_LIMIT")

        assert str(excinfo.value) == (
            "WAGTAIL_PREFERENCES['HISTORY_PANEL_LIMIT'] must be a positive integer; got 0."
        )

    def test_an_unimportable_channel_is_named(self, settings):
        settings.WAGTAIL_PREFERENCES = {"CHANNELS": ["no_such_module.Channel"]}

        with pytest.raises(ConfigurationError, match="cannot import 'no_such_module.Channel'"):
            get_setting("CHANNELS")

    def test_unknown_setting_names(self):
        with pytest.raises(ConfigurationError) as excinfo:
            get_setting("HISTORY_LIMIT")

        assert str(excinfo.value) == "WAGTAIL_PREFERENCES['HISTORY_LIMIT'] is not a known setting."

    def test_the_setting_must_be_a_dict(self, settings):
        settings.WAGTAIL_PREFERENCES = [("HISTORY_PANEL_LIMIT", 10)]

        with pytest.raises(ConfigurationError, match="WAGTAIL_PREFERENCES must be a dict"):
            get_setting("HISTORY_PANEL_LIMIT")

    def test_configuration_errors_are_improperly_configured(self):
        with pytest.raises(ImproperlyConfigured) as excinfo:
            get_setting("NOPE")

        assert isinstance(excinfo.value, PreferencesError)


class TestCheckSettings:
    def test_no_errors_by_default(self, settings):
        del settings.WAGTAIL_PREFERENCES

        assert check_settings() == []

    def test_no_errors_for_a_valid_configuration(self, settings):
        settings.WAGTAIL_PREFERENCES = {"CHANNELS": [PUSH, EMAIL], "CONTACTS_PER_PAGE": 25}

        assert check_settings() == []

    @pytest.mark.parametrize("value", [[], "CHANNELS", None, 3])
    def test_e001_not_a_dict(self, settings, value):
        settings.WAGTAIL_PREFERENCES = value

        errors = check_settings()

        assert ids(errors) == ["wagtail_preferences.E001"]
        assert "WAGTAIL_PREFERENCES must be a dict" in errors[0].msg

    def test_e002_unknown_key(self, settings):
        settings.WAGTAIL_PREFERENCES = {"HISTORY_LIMIT": 5, "CHANELS": [EMAIL]}

        errors = check_settings()

        assert ids(errors) == ["wagtail_preferences.E002", "wagtail_preferences.E002"]
        assert [e.msg for e in errors] == [
            "WAGTAIL_PREFERENCES['CHANELS'] is not a known setting.",
            "WAGTAIL_PREFERENCES['HISTORY_LIMIT'] is not a known setting.",
        ]
        assert "HISTORY_PANEL_LIMIT" in errors[0].hint
        assert "CHANNELS" in errors[0].hint

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("HISTORY_PANEL_LIMIT", 0),
            ("CONTACTS_PER_PAGE", "many"),
            ("OVERVIEW_RECENT_CHANGES", -1),
            ("CHANNELS", []),
            ("CHANNELS", ["no_such_module.Channel"]),
            ("CHANNELS", [object]),
        ],
    )
    def test_e003_bad_value(self, settings, name, value):
        settings.WAGTAIL_PREFERENCES = {name: value}

        errors = check_settings()

        assert ids(errors) == ["wagtail_preferences.E003"]
        assert errors[0].msg.startswith(f"WAGTAIL_PREFERENCES['{name}']")

    def test_unknown_keys_and_bad_values_are_all_reported(self, settings):
        settings.WAGTAIL_PREFERENCES = {
            "HISTORY_PANEL_LIMIT": 0,
            "CONTACTS_PER_PAGE": 0,
            "COLOUR": "blue",
        }

        assert sorted(ids(check_settings())) == [
            "wagtail_preferences.E002",
            "wagtail_preferences.E003",
            "wagtail_preferences.E003",
        ]

    @pytest.mark.parametrize(
        ("channels", "message"),
        [
            ([EMAIL, EMAIL], "needs a key of its own, got 'email'"),
            ([EMAIL, "tests.app.test_conf_and_checks.SecondEmailChannel"], "got 'email'"),
            (["tests.app.test_conf_and_checks.KeylessChannel"], "got ''"),
            (["wagtail_preferences.channels.base.Channel"], "cannot be used"),
            (["collections.OrderedDict"], "is not a subclass of"),
        ],
        ids=["listed-twice", "duplicate-key", "no-key", "abstract-class", "not-a-channel"],
    )
    def test_e004_bad_channel_class(self, settings, channels, message):
        settings.WAGTAIL_PREFERENCES = {"CHANNELS": channels}

        errors = check_settings()

        assert ids(errors) == ["wagtail_preferences.E004"]
        assert errors[0].msg.startswith("WAGTAIL_PREFERENCES['CHANNELS']")
        assert message in errors[0].msg

    def test_the_check_is_registered(self, settings):
        settings.WAGTAIL_PREFERENCES = {"CONTACTS_PER_PAGE": 0}

        errors = checks.run_checks(tags=[checks.Tags.compatibility])

        assert "wagtail_preferences.E003" in ids(errors)


class TestCheckUrlsIncluded:
    def test_no_error_when_the_urls_are_included(self, settings):
        settings.ROOT_URLCONF = "tests.urls"

        assert check_urls_included() == []

    def test_e005_urls_not_included(self, settings):
        settings.ROOT_URLCONF = "tests.urls_without_preferences"

        errors = check_urls_included()

        assert ids(errors) == ["wagtail_preferences.E005"]
        assert 'include("wagtail_preferences.urls")' in errors[0].hint

    def test_the_check_is_registered(self, settings):
        settings.ROOT_URLCONF = "tests.urls_without_preferences"

        assert "wagtail_preferences.E005" in ids(checks.run_checks(tags=[checks.Tags.urls]))


class TestCheckRequiredApps:
    def test_no_error_when_the_apps_are_installed(self):
        assert check_required_apps() == []

    def test_e006_names_the_missing_app(self, monkeypatch):
        installed = apps.is_installed
        monkeypatch.setattr(
            apps, "is_installed", lambda name: name != "wagtail.snippets" and installed(name)
        )

        errors = check_required_apps()

        assert ids(errors) == ["wagtail_preferences.E006"]
        assert "'wagtail.snippets'" in errors[0].msg


class TestChannelRegistry:
    def test_default_channels_in_order(self):
        channels = get_channels()

        assert list(channels) == ["email", "sms"]
        assert isinstance(channels["email"], EmailChannel)
        assert isinstance(channels["sms"], SMSChannel)
        assert channel_choices() == [("email", "Email"), ("sms", "SMS")]
        assert str(channels["sms"]) == "SMS"

    @pytest.mark.django_db
    def test_addresses(self):
        contact = ContactFactory(email="ada@example.com", phone="+32470000001")

        assert get_channel("email").address_for(contact) == "ada@example.com"
        assert get_channel("sms").address_for(contact) == "+32470000001"

    def test_unknown_key(self):
        with pytest.raises(UnknownChannel, match="'fax'") as excinfo:
            get_channel("fax")

        assert isinstance(excinfo.value, LookupError)

    def test_the_registry_is_built_once(self):
        assert get_channels() is get_channels()

    def test_the_registry_reloads_when_the_setting_changes(self):
        before = get_channels()

        with override_settings(WAGTAIL_PREFERENCES={"CHANNELS": [PUSH, EMAIL]}):
            assert list(get_channels()) == ["push", "email"]
            assert isinstance(get_channel("push"), PushChannel)
            with pytest.raises(UnknownChannel):
                get_channel("sms")

        assert list(get_channels()) == ["email", "sms"]
        assert get_channels() is not before

    def test_other_settings_leave_the_registry_alone(self, settings):
        before = get_channels()

        settings.WAGTAIL_SITE_NAME = "Another site"

        assert get_channels() is before

    def test_a_bad_channel_raises_a_configuration_error(self, settings):
        settings.WAGTAIL_PREFERENCES = {"CHANNELS": [EMAIL, EMAIL]}

        with pytest.raises(ConfigurationError, match=r"WAGTAIL_PREFERENCES\['CHANNELS'\]"):
            get_channels()


class TestVisitorSettings:
    def test_keyed_settings_given_in_part_keep_the_other_defaults(self, settings):
        settings.WAGTAIL_PREFERENCES = {
            "RATE_LIMITS": {"form_per_ip": "100/day"},
            "MANAGE_PAGE": {"segments": False},
        }

        assert get_setting("RATE_LIMITS") == {
            **DEFAULTS["RATE_LIMITS"],
            "form_per_ip": "100/day",
        }
        assert get_setting("MANAGE_PAGE") == {**DEFAULTS["MANAGE_PAGE"], "segments": False}

    @pytest.mark.parametrize(
        ("rate", "expected"),
        [
            ("5/hour", (5, 3600)),
            ("1/second", (1, 1)),
            ("30/minute", (30, 60)),
            ("2/day", (2, 86400)),
        ],
    )
    def test_rates(self, rate, expected):
        assert parse_rate(rate) == expected

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("CONFIRMATION_LINK_MAX_AGE", 3600),
            ("MANAGE_LINK_MAX_AGE", datetime.timedelta(0)),
            ("UNSUBSCRIBE_LINK_MAX_AGE", datetime.timedelta(days=-1)),
            ("IDENTITY_COOKIE_NAME", ""),
            ("BASE_TEMPLATE", None),
            ("MIN_FILL_SECONDS", -1),
            ("MIN_FILL_SECONDS", "2"),
            ("RATE_LIMITS", {"form_per_ip": "5 per hour"}),
            ("RATE_LIMITS", {"form_per_ip": "0/hour"}),
            ("RATE_LIMITS", {"form_per_ip": "5/fortnight"}),
            ("RATE_LIMITS", {"per_planet": "5/hour"}),
            ("RATE_LIMITS", "5/hour"),
            ("MANAGE_PAGE", {"channels": "yes"}),
            ("MANAGE_PAGE", {"colours": True}),
            ("CONFIRMATION_EMAILS_PER_SUBMISSION", 0),
            ("FROM_EMAIL", 5),
        ],
    )
    def test_wrong_values_raise_naming_the_setting(self, settings, name, value):
        settings.WAGTAIL_PREFERENCES = {name: value}

        with pytest.raises(ConfigurationError, match=rf"^WAGTAIL_PREFERENCES\['{name}'\] "):
            get_setting(name)

    def test_an_unknown_rate_limit_is_named_with_the_known_ones(self, settings):
        settings.WAGTAIL_PREFERENCES = {"RATE_LIMITS": {"per_planet": "5/hour"}}

        with pytest.raises(ConfigurationError) as excinfo:
            get_setting("RATE_LIMITS")

        assert "'per_planet'" in str(excinfo.value)
        assert "form_per_email" in str(excinfo.value)

    def test_a_wrong_rate_says_what_a_rate_looks_like(self, settings):
        settings.WAGTAIL_PREFERENCES = {"RATE_LIMITS": {"link_per_ip": "often"}}

        expected = r"\['RATE_LIMITS'\] for 'link_per_ip' must be a rate such as"
        with pytest.raises(ConfigurationError, match=expected):
            get_setting("RATE_LIMITS")

    def test_a_wrong_visitor_setting_is_a_system_check_error(self, settings):
        settings.WAGTAIL_PREFERENCES = {"MANAGE_LINK_MAX_AGE": 60}

        assert ids(check_settings()) == ["wagtail_preferences.E003"]


class TestCheckLinkHost:
    def test_w001_when_any_host_is_allowed_and_links_follow_it(self, settings):
        settings.DEBUG, settings.ALLOWED_HOSTS = False, ["*"]
        settings.WAGTAIL_PREFERENCES = {}

        errors = check_link_host()

        assert ids(errors) == ["wagtail_preferences.W001"]
        assert errors[0].level == checks.WARNING
        assert "BASE_URL" in errors[0].hint

    @pytest.mark.parametrize(
        ("debug", "hosts", "base_url"),
        [
            (False, ["www.example.com"], None),
            (False, ["*"], "https://www.example.com"),
            (True, ["*"], None),
        ],
    )
    def test_no_warning_when_hosts_are_listed_or_links_have_a_base(
        self, settings, debug, hosts, base_url
    ):
        settings.DEBUG, settings.ALLOWED_HOSTS = debug, hosts
        settings.WAGTAIL_PREFERENCES = {"BASE_URL": base_url}

        assert check_link_host() == []

    @pytest.mark.parametrize(
        "value", ["www.example.com", "https://www.example.com/", "https://example.com/x", 5]
    )
    def test_base_url_is_a_scheme_and_host(self, settings, value):
        settings.WAGTAIL_PREFERENCES = {"BASE_URL": value}

        with pytest.raises(ConfigurationError, match="must be None or a scheme and host"):
            get_setting("BASE_URL")

    def test_emailed_links_use_base_url_over_the_request_host(self, settings, rf):
        request = rf.get("/", HTTP_HOST="evil.example")
        settings.ALLOWED_HOSTS = ["*"]
        assert base_url_of(request) == "http://evil.example"

        settings.WAGTAIL_PREFERENCES = {"BASE_URL": "https://www.example.com"}
        assert base_url_of(request) == "https://www.example.com"
