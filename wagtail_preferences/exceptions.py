from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured


class PreferencesError(Exception):
    """Root of every error this app raises on purpose."""


class ConfigurationError(PreferencesError, ImproperlyConfigured):
    """A ``WAGTAIL_PREFERENCES`` setting is missing, unknown or has a wrong value."""


class UnknownChannel(PreferencesError, LookupError):
    """A channel key that no registered channel answers to."""


class InvalidChange(PreferencesError, ValueError):
    """A change the service layer refuses, such as two preferred channels."""


class IllegalTransition(PreferencesError, ValueError):
    """A status change its run's current status does not allow, such as importing a run twice."""


@dataclass(frozen=True)
class Refusal:
    """One choice the rules refuse: its ``field`` of ``Choices``, the ``item`` (or ``None``
    for the field as a whole), and why, in words an editor or visitor reads."""

    field: str
    item: object
    message: str


class InvalidChoices(InvalidChange):
    """Choices the rules refuse; nothing was changed.

    ``refusals`` lists each refused choice; ``errors`` groups their messages by the field of
    ``Choices``, for forms to attach to their own fields.
    """

    def __init__(self, refusals: list[Refusal]):
        super().__init__(" ".join(refusal.message for refusal in refusals))
        self.refusals = refusals

    @property
    def errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = defaultdict(list)
        for refusal in self.refusals:
            errors[refusal.field].append(refusal.message)
        return dict(errors)


class InvalidLink(PreferencesError, ValueError):
    """A link's token is not one the app signed, or names what no longer exists."""


class LinkExpired(InvalidLink):
    """A link's token is authentic but older than its purpose allows.

    ``payload`` is what the token carries, for pages that offer a new link.
    """

    def __init__(self, payload=None):
        super().__init__("This link has expired.")
        self.payload = payload


class RateLimited(PreferencesError):
    """Too many attempts from one address or for one email address; try again later.

    ``retry_after`` is the number of seconds until the limit's window ends.
    """

    def __init__(self, message: str = "", retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


class InvalidFile(PreferencesError, ValueError):
    """An import file that cannot be read as a table of contacts; the message says why."""


class SendFailed(PreferencesError):
    """A message could not be sent; ``result`` (a ``channels.base.SendResult``) says why and
    whether a later try may succeed."""

    def __init__(self, result):
        super().__init__(result.error)
        self.result = result
