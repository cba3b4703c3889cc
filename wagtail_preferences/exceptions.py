from django.core.exceptions import ImproperlyConfigured


class PreferencesError(Exception):
    """Root of every error this app raises on purpose."""


class ConfigurationError(PreferencesError, ImproperlyConfigured):
    """A ``WAGTAIL_PREFERENCES`` setting is missing, unknown or has a wrong value."""


class UnknownChannel(PreferencesError, LookupError):
    """A channel key that no registered channel answers to."""


class InvalidChange(PreferencesError, ValueError):
    """A change the service layer refuses, such as two preferred channels."""
