"""Channels a contact can be reached through, and their registry.

A site adds a channel by subclassing ``Channel`` and listing its dotted path in
``WAGTAIL_PREFERENCES["CHANNELS"]``.
"""

from abc import ABC, abstractmethod
from functools import cache

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from ..conf import SETTINGS_NAME, get_setting
from ..exceptions import ConfigurationError, UnknownChannel


class Channel(ABC):
    """A way to reach a contact. Subclasses set ``key`` and ``label``.

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

    def reaches(self, contact) -> bool:
        """Whether the contact has an address on this channel."""
        return bool(self.address_for(contact))

    def __str__(self) -> str:
        return str(self.label)


class EmailChannel(Channel):
    key = "email"
    label = _("Email")
    address_field = "email"

    def address_for(self, contact) -> str:
        return contact.email


class SMSChannel(Channel):
    key = "sms"
    label = _("SMS")
    address_field = "phone"
    no_address_text = _("To get messages by SMS, add your phone number.")

    def address_for(self, contact) -> str:
        return contact.phone


@cache
def get_channels() -> dict[str, Channel]:
    """Registered channels by key, in the order of the setting."""
    channels: dict[str, Channel] = {}
    for path in get_setting("CHANNELS"):
        channel_class = import_string(path)
        if not (isinstance(channel_class, type) and issubclass(channel_class, Channel)):
            raise ConfigurationError(
                f"{SETTINGS_NAME}['CHANNELS']: {path} is not a subclass of "
                "wagtail_preferences.channels.registry.Channel."
            )
        try:
            channel = channel_class()
        except TypeError as error:
            raise ConfigurationError(
                f"{SETTINGS_NAME}['CHANNELS']: {path} cannot be used ({error})."
            ) from error
        if not channel.key or channel.key in channels:
            raise ConfigurationError(
                f"{SETTINGS_NAME}['CHANNELS']: {path} needs a key of its own, got {channel.key!r}."
            )
        channels[channel.key] = channel
    return channels


def get_channel(key: str) -> Channel:
    try:
        return get_channels()[key]
    except KeyError:
        raise UnknownChannel(f"No channel is registered with the key {key!r}.") from None


def channel_choices() -> list[tuple[str, str]]:
    return [(key, channel.label) for key, channel in get_channels().items()]


def forget_channels(*, setting, **kwargs):
    """``setting_changed`` receiver: reload the registry when the settings change."""
    if setting == SETTINGS_NAME:
        get_channels.cache_clear()
