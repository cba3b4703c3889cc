"""The contract every channel keeps: who it reaches, at which address, and sending a batch.

A channel sends messages that are already rendered (``OutgoingMessage``) and reports one
``SendResult`` per message, in order. Marketing rules (pause, frequency caps, preferred
channel) are not a channel's business: the audience compiler and the eligibility policy
decide who is sent to; a channel only says whether a contact can be reached at all.
"""

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..audience import compiler
from ..models import Contact, ContactStatus


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered message to one recipient.

    ``contact_id`` is the recipient contact's id (``None`` for an address that is not, or not
    yet, a contact's). ``message_id`` identifies the message for the caller (a delivery's id);
    ``metadata`` is passed on to providers that keep it (anymail's ``metadata``). ``sender``
    and ``reply_to`` are addresses (``"Name <address>"`` allowed); a blank sender is the
    channel's own.
    """

    contact_id: int | None
    address: str
    subject: str = ""
    text: str = ""
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    sender: str = ""
    reply_to: str = ""


class SendStatus(enum.StrEnum):
    SENT = "sent"
    TEMPORARY_FAILURE = "temporary_failure"
    PERMANENT_FAILURE = "permanent_failure"


@dataclass(frozen=True)
class SendResult:
    """What became of one message: sent (with the provider's id) or failed (with the error).

    A temporary failure may be retried later; a permanent one will fail again.
    """

    status: SendStatus
    provider_id: str = ""
    error: str = ""

    @classmethod
    def sent(cls, provider_id: str) -> "SendResult":
        return cls(SendStatus.SENT, provider_id=provider_id)

    @classmethod
    def temporary_failure(cls, error: str) -> "SendResult":
        return cls(SendStatus.TEMPORARY_FAILURE, error=error)

    @classmethod
    def permanent_failure(cls, error: str) -> "SendResult":
        return cls(SendStatus.PERMANENT_FAILURE, error=error)

    @property
    def is_sent(self) -> bool:
        return self.status == SendStatus.SENT


class Channel(ABC):
    """A way to reach a contact. Subclasses set ``key`` and ``label``, implement
    ``address_for``, and ``send_batch`` if the channel can send.

    ``address_field`` names the contact field holding the address, if there is one a
    visitor can fill in; ``no_address_text`` tells a contact without an address how to
    get messages on this channel.
    """

    key: str = ""
    label: str = ""
    address_field: str = ""
    no_address_text = _("We have no address for you on this channel.")

    @abstractmethod
    def address_for(self, contact) -> str:
        """The contact's address on this channel, or an empty string if it has none."""

    def has_address(self) -> Q:
        """Contacts with an address on this channel, as SQL: ``address_for`` for many.

        Built from ``address_field``; a channel without one overrides this.
        """
        if not self.address_field:
            raise NotImplementedError(
                f"The {self.key!r} channel needs an address_field or its own has_address()."
            )
        return Q(**{f"{self.address_field}__gt": ""})

    def reaches(self, contact) -> bool:
        """Whether the contact has an address on this channel."""
        return bool(self.address_for(contact))

    def can_reach(self, contact) -> bool:
        """Whether anything may be sent to the contact on this channel at all: it has an
        address, has not turned the channel off, and is not blocked."""
        return (
            self.reaches(contact)
            and contact.status != ContactStatus.BLOCKED
            and Contact.objects.filter(compiler.channel_enabled(self.key), pk=contact.pk).exists()
        )

    def send_batch(self, messages: list[OutgoingMessage]) -> list[SendResult]:
        """Send ``messages``; return one result per message, in the same order.

        A failure of one message is reported in its result and does not stop the others;
        no exception escapes for a message that could not be sent. A channel without a
        sending backend fails every message permanently.
        """
        error = f"The {self.key!r} channel has no sending backend."
        return [SendResult.permanent_failure(error) for _message in messages]

    @contextmanager
    def session(self) -> Iterator[Callable[[list[OutgoingMessage]], list[SendResult]]]:
        """Around the batches of one sender: yields the function that sends a batch (as
        ``send_batch``). A channel may keep a connection open from one batch to the next."""
        yield self.send_batch

    def __str__(self) -> str:
        return str(self.label)
