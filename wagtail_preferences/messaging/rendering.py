"""TEMP stand-in: plain subject and text for each recipient."""

from dataclasses import dataclass

from ..channels.base import OutgoingMessage


@dataclass(frozen=True)
class Recipient:
    delivery_id: int
    contact: object
    address: str
    message_id: str = ""


class MessageRenderer:
    def __init__(self, message):
        self.message = message

    def render(self, channel_key, recipients, profiles):
        text = self.message.sms_text if channel_key == "sms" else self.message.subject
        return [
            OutgoingMessage(
                recipient.contact.pk,
                recipient.address,
                subject=self.message.subject,
                text=text,
                message_id=recipient.message_id,
            )
            for recipient in recipients
        ]
