"""The SMS channel, with development backends that write messages instead of sending them.

The backend is ``SMS_BACKEND``, a dotted path, as Django's ``EMAIL_BACKEND``: the console
(the default) or a file per message in ``SMS_FILE_PATH``. ``sms_twilio.TwilioBackend`` sends
real SMS; a site that uses another provider writes a backend of its own (a subclass of
``BaseSMSBackend``) or a channel of its own.
"""

import sys
import tempfile
import threading
import uuid
from abc import ABC, abstractmethod
from pathlib import Path

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from ..conf import get_setting
from .base import Channel, OutgoingMessage, SendResult


class BaseSMSBackend(ABC):
    """Sends SMS messages; instantiated without arguments for each batch the channel sends."""

    @abstractmethod
    def send_messages(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        """Send ``messages``; return one result per message, in the same order.

        A message that could not be sent gets a failed result (temporary if a later try may
        succeed); no exception escapes.
        """


class WritingBackend(BaseSMSBackend):
    """Hands each message on under an id of its own. Subclasses implement ``write``; errors
    become failed results."""

    def send_messages(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        results = []
        for message in messages:
            provider_id = uuid.uuid4().hex
            try:
                self.write(message, provider_id)
            except Exception as error:
                results.append(SendResult.permanent_failure(f"{type(error).__name__}: {error}"))
            else:
                results.append(SendResult.sent(provider_id))
        return results

    @abstractmethod
    def write(self, message: OutgoingMessage, provider_id: str) -> None:
        """Deliver ``message`` (as the development backends do: print or store it)."""

    @staticmethod
    def format(message: OutgoingMessage, provider_id: str) -> str:
        return f"To: {message.address}\nId: {provider_id}\n\n{message.text}\n"


class ConsoleBackend(WritingBackend):
    """Writes each message to standard output (``stream``)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def write(self, message, provider_id):
        with self._lock:
            self.stream.write(self.format(message, provider_id) + "-" * 40 + "\n")
            self.stream.flush()


class FileBackend(WritingBackend):
    """Writes each message to a file of its own, ``<provider id>.txt``, in ``SMS_FILE_PATH``."""

    def __init__(self, file_path=None):
        folder = file_path or get_setting("SMS_FILE_PATH")
        self.folder = Path(folder or Path(tempfile.gettempdir()) / "wagtail_preferences_sms")

    def write(self, message, provider_id):
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{provider_id}.txt").write_text(self.format(message, provider_id))


def get_sms_backend(**kwargs) -> BaseSMSBackend:
    """An instance of the ``SMS_BACKEND`` class."""
    return import_string(get_setting("SMS_BACKEND"))(**kwargs)


class SMSChannel(Channel):
    key = "sms"
    label = _("SMS")
    address_field = "phone"
    no_address_text = _("To get messages by SMS, add your phone number.")

    def address_for(self, contact) -> str:
        return contact.phone

    def send_batch(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        if not messages:
            return []
        try:
            backend = get_sms_backend()
        except Exception as error:
            return [SendResult.temporary_failure(f"{type(error).__name__}: {error}")] * len(
                messages
            )
        return backend.send_messages(messages)
