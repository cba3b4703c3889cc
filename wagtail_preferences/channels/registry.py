"""The registry of the channels a contact can be reached through.

A site adds a channel by subclassing ``channels.base.Channel`` and listing its dotted path in
``WAGTAIL_PREFERENCES["CHANNELS"]``.
"""

from functools import cache

from django.utils.module_loading import import_string

from ..conf import SETTINGS_NAME, get_setting
from ..exceptions import ConfigurationError, UnknownChannel
from .base import Channel


@cache
def get_channels() -> dict[str, Channel]:
    """Registered channels by key, in the order of the setting."""
    channels: dict[str, Channel] = {}
    for path in get_setting("CHANNELS"):
        channel_class = import_string(path)
        if not (isinstance(channel_class, type) and issubclass(channel_class, Channel)):
            raise ConfigurationError(
                f"{SETTINGS_NAME}['CHANNELS']: {path} is not a subclass of "
                "wagtail_preferences.channels.base.Channel."
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
