"""The Twilio backend, against a local stand-in for Twilio's API: what it sends, how it reads
the answers, and the channel contract with it."""

import base64
import logging
import os

import pytest
from django.core.checks import run_checks

from tests.channels.contract import ChannelContract
from tests.channels.sms_stub import (
    INVALID_NUMBER,
    SERVER_ERROR,
    TOO_MANY_REQUESTS,
    Answer,
    TwilioStub,
)
from tests.docs_examples import docs_example
from tests.factories import ContactFactory
from wagtail_preferences.channels.base import OutgoingMessage, SendStatus
from wagtail_preferences.channels.sms import SMSChannel, get_sms_backend
from wagtail_preferences.channels.sms_twilio import TwilioBackend
from wagtail_preferences.conf import get_setting
from wagtail_preferences.exceptions import ConfigurationError

pytestmark = pytest.mark.django_db

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "not-a-real-auth-token"
SENDER = "+15005550006"
TO = "+32471234567"


@pytest.fixture
def stub():
    with TwilioStub() as stub:
        yield stub


@pytest.fixture
def twilio(settings, stub):
    """Point ``TwilioBackend`` at the stub; returns the ``SMS_TWILIO`` setting to change."""
    account = {"ACCOUNT_SID": SID, "AUTH_TOKEN": TOKEN, "FROM": SENDER, "API_URL": stub.url}
    settings.WAGTAIL_PREFERENCES = {
        "SMS_BACKEND": "wagtail_preferences.channels.sms_twilio.TwilioBackend",
        "SMS_TWILIO": account,
    }
    return account


def send(*addresses):
    return TwilioBackend().send_messages(
        [ChannelContract.message(address, number=n) for n, address in enumerate(addresses, 1)]
    )


class TestTwilioContract(ChannelContract):
    @pytest.fixture
    def channel(self, twilio):
        return SMSChannel()

    @pytest.fixture
    def sent_addresses(self, stub):
        return stub.accepted

    @pytest.fixture
    def contact_without_address(self):
        return ContactFactory(confirmed=True, phone="")

    @pytest.fixture
    def failing_address(self, stub):
        return stub.answer("+32470000000", INVALID_NUMBER)


def test_each_message_is_a_form_post_to_the_accounts_messages(twilio, stub):
    send(TO)

    [request] = stub.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.form == {"To": TO, "From": SENDER, "Body": "Text of message 1"}
    scheme, credentials = request.authorization.split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(credentials).decode() == f"{SID}:{TOKEN}"


def test_a_messaging_service_sends_in_place_of_a_number(twilio, stub):
    twilio["MESSAGING_SERVICE_SID"] = "MG0123456789abcdef0123456789abcdef"
    send(TO)

    [request] = stub.requests
    assert request.form["MessagingServiceSid"] == "MG0123456789abcdef0123456789abcdef"
    assert "From" not in request.form


def test_the_provider_id_is_twilios_sid(twilio, stub):
    results = send(TO, "+32471234568")

    assert [result.provider_id for result in results] == [
        f"SM{1:032x}",
        f"SM{2:032x}",
    ]


def test_a_batch_goes_over_one_connection(twilio, stub):
    send(TO, "+32471234568", "+32471234569")

    assert len({request.client_port for request in stub.requests}) == 1


def test_an_invalid_number_fails_for_good_with_twilios_code_and_message(twilio, stub):
    stub.answer(TO, INVALID_NUMBER)
    [result] = send(TO)

    assert result.status == SendStatus.PERMANENT_FAILURE
    assert "400" in result.error
    assert "21211" in result.error
    assert "not a valid phone number" in result.error


@pytest.mark.parametrize("answer", [TOO_MANY_REQUESTS, SERVER_ERROR])
def test_too_many_requests_and_server_errors_fail_for_now(twilio, stub, answer):
    stub.answer(TO, answer)
    [result] = send(TO)

    assert result.status == SendStatus.TEMPORARY_FAILURE
    assert str(answer.status) in result.error
    assert str(answer.body["code"]) in result.error


def test_a_temporary_failure_says_when_to_retry(twilio, stub):
    stub.answer(TO, TOO_MANY_REQUESTS)
    [result] = send(TO)

    assert "Retry-After: 7" in result.error


def test_an_answer_that_is_not_json_still_fails_with_its_status(twilio, stub):
    stub.answer(TO, Answer(404))
    [result] = send(TO)

    assert result.status == SendStatus.PERMANENT_FAILURE
    assert "404" in result.error


def test_no_answer_in_time_fails_for_now_and_the_next_message_is_sent(twilio, stub):
    twilio["TIMEOUT"] = 0.2
    stub.answer(TO, Answer(201, {"sid": "SMslow"}, delay=1))
    slow, next_one = send(TO, "+32471234568")

    assert slow.status == SendStatus.TEMPORARY_FAILURE
    assert "timed out" in slow.error
    assert next_one.is_sent


def test_a_server_that_cannot_be_reached_fails_every_message_for_now(twilio, stub):
    stub.shutdown()
    stub.server_close()
    results = send(TO, "+32471234568")

    assert [result.status for result in results] == [SendStatus.TEMPORARY_FAILURE] * 2


def test_the_log_holds_no_number_and_no_token(twilio, stub, caplog):
    stub.answer(TO, INVALID_NUMBER)
    stub.answer("+32471234568", SERVER_ERROR)
    twilio["TIMEOUT"] = 0.2
    stub.answer("+32471234569", Answer(201, delay=1))
    with caplog.at_level(logging.DEBUG):
        send(TO, "+32471234568", "+32471234569", "+32471234560")

    assert caplog.records, "the failures are logged"
    for secret in (TO, "+32471234568", "+32471234569", "+32471234560", SENDER, TOKEN):
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("account", "missing"),
    [
        ({}, "ACCOUNT_SID and AUTH_TOKEN and FROM (or MESSAGING_SERVICE_SID)"),
        ({"ACCOUNT_SID": SID, "FROM": SENDER}, "AUTH_TOKEN to send"),
        ({"ACCOUNT_SID": SID, "AUTH_TOKEN": TOKEN}, "FROM (or MESSAGING_SERVICE_SID) to send"),
    ],
)
def test_a_missing_account_setting_is_named(settings, account, missing):
    settings.WAGTAIL_PREFERENCES = {"SMS_TWILIO": account}

    with pytest.raises(ConfigurationError, match=r"\['SMS_TWILIO'\] needs ") as error:
        TwilioBackend()
    assert missing in str(error.value)


def test_without_an_account_the_channel_fails_every_message_for_later(settings):
    settings.WAGTAIL_PREFERENCES = {
        "SMS_BACKEND": "wagtail_preferences.channels.sms_twilio.TwilioBackend"
    }
    results = SMSChannel().send_batch([ChannelContract.message(TO)] * 2)

    assert [result.status for result in results] == [SendStatus.TEMPORARY_FAILURE] * 2
    assert "SMS_TWILIO" in results[0].error


def test_the_defaults_fill_in_what_the_site_leaves_out(settings):
    settings.WAGTAIL_PREFERENCES = {"SMS_TWILIO": {"ACCOUNT_SID": SID}}

    config = get_setting("SMS_TWILIO")
    assert config["API_URL"] == "https://api.twilio.com"
    assert config["TIMEOUT"] == 10


@pytest.mark.parametrize(
    ("account", "problem"),
    [
        ({"TIMEOUT": 0}, "for 'TIMEOUT' must be a positive number of seconds"),
        ({"API_URL": "https://api.twilio.com/2010-04-01"}, "for 'API_URL' must be a scheme"),
        ({"AUTH_TOKEN": ""}, "for 'AUTH_TOKEN' must be a non-empty string"),
        ({"SENDER": SENDER}, "has unknown keys 'SENDER'"),
    ],
)
def test_a_wrong_value_is_reported_by_the_checks_without_the_token(settings, account, problem):
    settings.WAGTAIL_PREFERENCES = {"SMS_TWILIO": {"AUTH_TOKEN": TOKEN, **account}}
    [error] = [error for error in run_checks() if error.id == "wagtail_preferences.E003"]

    assert problem in error.msg
    assert TOKEN not in error.msg


def test_the_text_reaches_twilio_as_written(twilio, stub):
    text = "Prêt? 50% & plus = 😀"
    TwilioBackend().send_messages([OutgoingMessage(contact_id=None, address=TO, text=text)])

    [request] = stub.requests
    assert request.form["Body"] == text


@pytest.mark.parametrize(
    ("page", "after"),
    [("settings.md", "### `SMS_TWILIO`"), ("extending.md", "### Adding an SMS provider")],
)
def test_the_documented_settings_make_a_twilio_backend(settings, monkeypatch, page, after):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    names = {"os": os}
    exec(docs_example(page, "python", after), names)  # noqa: S102 (the docs' own code)
    settings.WAGTAIL_PREFERENCES = names["WAGTAIL_PREFERENCES"]

    assert isinstance(get_sms_backend(), TwilioBackend)
