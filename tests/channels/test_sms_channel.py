"""The SMS channel keeps the channel contract with its console and file backends."""

import re

import pytest
from django.core.checks import run_checks

from tests.channels.contract import ChannelContract
from tests.factories import ContactFactory
from wagtail_preferences.channels.base import SendStatus
from wagtail_preferences.channels.sms import ConsoleBackend, FileBackend, SMSChannel
from wagtail_preferences.conf import get_setting
from wagtail_preferences.exceptions import ConfigurationError

pytestmark = pytest.mark.django_db

FAILING = "+32470000000"


def fail_to_write_to_failing(backend_class, monkeypatch):
    """Make ``backend_class`` raise when it writes a message to ``FAILING``."""
    write = backend_class.write

    def write_unless_failing(backend, message, provider_id):
        if message.address == FAILING:
            raise OSError("cannot write")
        write(backend, message, provider_id)

    monkeypatch.setattr(backend_class, "write", write_unless_failing)
    return FAILING


def addresses_in(text: str) -> list[str]:
    return re.findall(r"^To: (.*)$", text, flags=re.MULTILINE)


class SMSContract(ChannelContract):
    @pytest.fixture
    def channel(self):
        return SMSChannel()

    @pytest.fixture
    def contact_without_address(self):
        return ContactFactory(confirmed=True, phone="")


class TestWithConsoleBackend(SMSContract):
    @pytest.fixture
    def sent_addresses(self, capsys):
        written = []

        def sent_addresses():
            written.append(capsys.readouterr().out)
            return addresses_in("".join(written))

        return sent_addresses

    @pytest.fixture
    def failing_address(self, monkeypatch):
        return fail_to_write_to_failing(ConsoleBackend, monkeypatch)

    def test_the_console_is_the_default(self, channel, capsys):
        [result] = channel.send_batch([self.message("+32471234567", number=3)])
        out = capsys.readouterr().out
        assert f"Id: {result.provider_id}" in out
        assert "Text of message 3" in out


class TestWithFileBackend(SMSContract):
    @pytest.fixture
    def folder(self, settings, tmp_path):
        settings.WAGTAIL_PREFERENCES = {
            "SMS_BACKEND": "wagtail_preferences.channels.sms.FileBackend",
            "SMS_FILE_PATH": str(tmp_path / "sms"),
        }
        return tmp_path / "sms"

    @pytest.fixture
    def sent_addresses(self, folder):
        def sent_addresses():
            files = sorted(folder.glob("*.txt"), key=lambda path: path.stat().st_mtime_ns)
            return [address for path in files for address in addresses_in(path.read_text())]

        return sent_addresses

    @pytest.fixture
    def failing_address(self, folder, monkeypatch):
        return fail_to_write_to_failing(FileBackend, monkeypatch)

    def test_each_message_is_a_file_named_by_its_id(self, channel, folder):
        [result] = channel.send_batch([self.message("+32471234567", number=4)])
        text = (folder / f"{result.provider_id}.txt").read_text()
        assert text.startswith("To: +32471234567\n")
        assert "Text of message 4" in text


def test_a_backend_that_cannot_be_loaded_fails_every_message_for_later(settings):
    settings.WAGTAIL_PREFERENCES = {"SMS_BACKEND": "wagtail_preferences.channels.sms.Missing"}
    messages = [ChannelContract.message("+32471234567")] * 2
    results = SMSChannel().send_batch(messages)
    assert [result.status for result in results] == [SendStatus.TEMPORARY_FAILURE] * 2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("no_such_module.Backend", "cannot import 'no_such_module.Backend'"),
        ("", "must be a dotted path"),
        (None, "must be a dotted path"),
    ],
)
def test_a_wrong_backend_path_is_reported_by_the_checks(settings, value, message):
    settings.WAGTAIL_PREFERENCES = {"SMS_BACKEND": value}
    errors = [error for error in run_checks() if error.id == "wagtail_preferences.E003"]
    assert [message in error.msg for error in errors] == [True]


def test_a_relative_file_path_is_refused(settings):
    settings.WAGTAIL_PREFERENCES = {"SMS_FILE_PATH": "sms"}
    with pytest.raises(ConfigurationError, match="SMS_FILE_PATH.*absolute path"):
        get_setting("SMS_FILE_PATH")
