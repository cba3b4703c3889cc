"""The email channel keeps the channel contract through Django's email backends."""

import smtplib
from dataclasses import replace
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

from tests.channels.contract import ChannelContract
from tests.channels.smtp_server import RefusingHandler, serve
from tests.factories import ContactFactory
from wagtail_preferences.channels.base import SendStatus
from wagtail_preferences.channels.email import EmailChannel, failure_of
from wagtail_preferences.exceptions import SendFailed
from wagtail_preferences.visitors import emails

pytestmark = pytest.mark.django_db

REFUSED = "refused@example.com"
LATER = "later@example.com"


class EmailContract(ChannelContract):
    @pytest.fixture
    def channel(self):
        return EmailChannel()

    @pytest.fixture
    def contact_without_address(self):
        return ContactFactory(confirmed=True, email="")


class TestWithLocmemBackend(EmailContract):
    @pytest.fixture
    def sent_addresses(self):
        return lambda: [address for message in mail.outbox for address in message.to]

    @pytest.fixture
    def failing_address(self):
        return "broken\n@example.com"  # a header Django refuses to write

    def test_the_message_is_sent_as_rendered(self, channel, settings):
        settings.DEFAULT_FROM_EMAIL = "Site <site@example.com>"
        [result] = channel.send_batch([self.message("ann@example.com", number=7)])
        [sent] = mail.outbox
        assert sent.subject == "Message 7"
        assert sent.body == "Text of message 7"
        assert sent.alternatives[0][0] == "<p>HTML of message 7</p>"
        assert sent.from_email == "Site <site@example.com>"
        assert sent.extra_headers["X-Number"] == "7"
        assert result.provider_id == sent.extra_headers["Message-ID"]

    def test_the_sender_is_from_email_when_set(self, channel, settings):
        settings.WAGTAIL_PREFERENCES = {"FROM_EMAIL": "News <news@example.com>"}
        channel.send_batch([self.message("ann@example.com")])
        assert mail.outbox[0].from_email == "News <news@example.com>"

    def test_the_messages_own_sender_and_reply_to_win(self, channel, settings):
        settings.WAGTAIL_PREFERENCES = {"FROM_EMAIL": "News <news@example.com>"}
        message = replace(
            self.message("ann@example.com"),
            sender="Bakery <bakery@example.com>",
            reply_to="shop@example.com",
        )
        channel.send_batch([message])
        [sent] = mail.outbox
        assert sent.from_email == "Bakery <bakery@example.com>"
        assert sent.reply_to == ["shop@example.com"]
        assert sent.message()["Reply-To"] == "shop@example.com"

    def test_without_a_reply_to_there_is_none(self, channel):
        channel.send_batch([self.message("ann@example.com")])
        assert mail.outbox[0].reply_to == []


class AnymailLikeBackend(LocmemBackend):
    """Sets ``anymail_status`` on each message, as django-anymail's ESP backends do."""

    def send_messages(self, messages):
        for number, message in enumerate(messages):
            message.anymail_status = SimpleNamespace(message_id=f"esp-{number}")
        return super().send_messages(messages)


def test_the_provider_id_is_anymails_message_id(settings):
    settings.EMAIL_BACKEND = f"{__name__}.AnymailLikeBackend"
    [result] = EmailChannel().send_batch([ChannelContract.message("ann@example.com")])
    assert result.provider_id == "esp-0"
    assert mail.outbox[0].metadata == {"delivery": "1"}


class SigningBackend(SMTPBackend):
    """A site's own SMTP backend that changes each message as it sends it."""

    def _send(self, email_message):
        email_message.extra_headers["X-Signed"] = "yes"
        return super()._send(email_message)


class TestWithSMTPServer(EmailContract):
    @pytest.fixture
    def server(self, settings):
        handler = RefusingHandler(
            {REFUSED: "550 5.1.1 No such user", LATER: "451 4.3.0 Try again later"}
        )
        controller = serve(settings, handler)
        yield handler
        controller.stop()

    @pytest.fixture
    def sent_addresses(self, server):
        return lambda: [address for envelope in server.envelopes for address in envelope.rcpt_tos]

    @pytest.fixture
    def failing_address(self, server):
        return REFUSED

    def test_a_4xx_reply_is_a_temporary_failure(self, channel, sent_addresses):
        results = channel.send_batch([self.message(LATER), self.message("ann@example.com")])
        assert results[0].status == SendStatus.TEMPORARY_FAILURE
        assert "451" in results[0].error
        assert results[1].is_sent
        assert sent_addresses() == ["ann@example.com"]

    def test_the_message_received_is_the_one_rendered(self, channel, server, settings):
        settings.DEFAULT_FROM_EMAIL = "Bäkery <site@example.com>"
        message = replace(self.message("ann@example.com", number=7), reply_to="help@example.com")
        channel.send_batch([message])
        [envelope] = server.envelopes
        assert (envelope.mail_from, envelope.rcpt_tos) == ("site@example.com", ["ann@example.com"])
        [received] = server.messages
        assert received["Subject"] == "Message 7"
        assert received["From"] == "Bäkery <site@example.com>"
        assert received["Reply-To"] == "help@example.com"
        assert received["X-Number"] == "7"
        assert received.get_body(("plain",)).get_content().rstrip() == "Text of message 7"
        assert received.get_body(("html",)).get_content().rstrip() == "<p>HTML of message 7</p>"

    def test_a_backend_of_the_sites_own_sends_its_own_way(self, channel, server, settings):
        settings.EMAIL_BACKEND = f"{__name__}.SigningBackend"
        channel.send_batch([self.message("ann@example.com")])
        assert server.messages[0]["X-Signed"] == "yes"

    def test_the_provider_id_is_the_message_id_received(self, channel, server):
        [result] = channel.send_batch([self.message("ann@example.com")])
        assert server.messages[0]["Message-ID"] == result.provider_id

    def test_an_app_email_that_is_refused_raises_send_failed(self, server):
        contact = ContactFactory(confirmed=True, email=REFUSED)
        with pytest.raises(SendFailed) as excinfo:
            emails.send_manage_link(contact, "https://www.example.com")
        assert excinfo.value.result.status == SendStatus.PERMANENT_FAILURE
        assert "550" in str(excinfo.value)

    def test_no_server_is_a_temporary_failure_for_every_message(self, channel, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens
        results = channel.send_batch([self.message("ann@example.com")] * 2)
        assert [result.status for result in results] == [SendStatus.TEMPORARY_FAILURE] * 2


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"no")}), "permanent_failure"),
        (smtplib.SMTPRecipientsRefused({"a@example.com": (452, b"full")}), "temporary_failure"),
        (smtplib.SMTPSenderRefused(451, b"later", "site@example.com"), "temporary_failure"),
        (smtplib.SMTPDataError(554, b"rejected"), "permanent_failure"),
        (smtplib.SMTPServerDisconnected("gone"), "temporary_failure"),
        (ValueError("bad header"), "permanent_failure"),
    ],
)
def test_errors_are_classified(error, status):
    assert failure_of(error).status == status


def test_a_session_keeps_one_connection_for_its_batches(monkeypatch):
    opened = []
    real = LocmemBackend.open

    def open_(self):
        opened.append(self)
        return real(self)

    monkeypatch.setattr(LocmemBackend, "open", open_)
    channel = EmailChannel()
    with channel.session() as send_batch:
        for number in range(3):
            send_batch([TestWithLocmemBackend.message(f"ann{number}@example.com")])

    assert len(opened) == 1
    assert len(mail.outbox) == 3
