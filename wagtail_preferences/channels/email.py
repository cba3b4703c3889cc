"""The email channel: sends through Django's configured ``EMAIL_BACKEND``.

Any backend works unchanged: Django's SMTP backend, or a django-anymail ESP, whose
message id (``message.anymail_status.message_id``) becomes the result's provider id.
"""

import logging
import smtplib
from contextlib import contextmanager
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.utils import DNS_NAME
from django.utils.translation import gettext_lazy as _

from ..conf import get_setting
from .base import Channel, OutgoingMessage, SendResult
from .mime import BulkEmail, smtp_message

logger = logging.getLogger(__name__)


def from_email() -> str:
    """The sender of the app's emails: ``FROM_EMAIL``, else ``DEFAULT_FROM_EMAIL``."""
    return get_setting("FROM_EMAIL") or settings.DEFAULT_FROM_EMAIL


def failure_of(error: Exception) -> SendResult:
    """A failed send as a result: SMTP 4xx replies are temporary, 5xx and refused
    recipients permanent; a lost connection is temporary, anything else permanent."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in error.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            return SendResult.temporary_failure(str(error))
        return SendResult.permanent_failure(str(error))
    if isinstance(error, smtplib.SMTPResponseException):
        if 400 <= error.smtp_code < 500:
            return SendResult.temporary_failure(str(error))
        return SendResult.permanent_failure(str(error))
    if isinstance(error, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError):
        return SendResult.temporary_failure(str(error))
    return SendResult.permanent_failure(f"{type(error).__name__}: {error}")


def _close(connection) -> None:
    try:
        connection.close()
    except Exception:  # the messages are sent: closing must not lose their results
        logger.warning("Could not close the email connection.", exc_info=True)


def provider_id_of(email: EmailMultiAlternatives) -> str:
    status = getattr(email, "anymail_status", None)
    if status is not None and status.message_id:
        return str(status.message_id)
    return email.extra_headers["Message-ID"]


class EmailChannel(Channel):
    key = "email"
    label = _("Email")
    address_field = "email"

    def address_for(self, contact) -> str:
        return contact.email

    def email_of(self, message: OutgoingMessage, connection=None) -> EmailMultiAlternatives:
        """The Django email for ``message``, with its Message-ID set before sending, so
        the id is known whatever the backend."""
        email = BulkEmail(
            subject=message.subject,
            body=message.text,
            from_email=message.sender or from_email(),
            to=[message.address],
            reply_to=[message.reply_to] if message.reply_to else None,
            headers=dict(message.headers),
            connection=connection,
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        if message.metadata:
            email.metadata = dict(message.metadata)  # kept by anymail ESPs, ignored otherwise
        email.extra_headers.setdefault("Message-ID", make_msgid(domain=DNS_NAME))
        return email

    def send_batch(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        with self.session() as send:
            return send(messages)

    @contextmanager
    def session(self):
        """One connection for the batches, opened when first needed and again after a
        batch with a failure (which may have left it unusable)."""
        connection = None

        def send(messages: list[OutgoingMessage]) -> list[SendResult]:
            nonlocal connection
            if not messages:
                return []
            if connection is None:
                connection = get_connection(fail_silently=False)
                try:
                    connection.open()
                except Exception as error:
                    connection = None
                    return [failure_of(error)] * len(messages)
            results = [self._send(message, connection) for message in messages]
            if not all(result.is_sent for result in results):
                _close(connection)
                connection = None
            return results

        try:
            yield send
        finally:
            if connection is not None:
                _close(connection)

    def _send(self, message: OutgoingMessage, connection) -> SendResult:
        try:
            email = self.email_of(message, connection)
            # Django's own SMTP backend (not a subclass, which may sign or change messages)
            # is handed the bytes directly when they can be written without Python's
            # ``email`` package.
            written = smtp_message(email) if type(connection) is SMTPBackend else None
            if written is None:
                email.send(fail_silently=False)
            else:
                sender, recipient, data = written
                connection.connection.sendmail(sender, [recipient], data)
        except Exception as error:
            return failure_of(error)
        return SendResult.sent(provider_id_of(email))
