"""Django's ``EmailMultiAlternatives`` with a MIME message that costs less to write out.

A campaign writes out thousands of messages alike, and with Django 5.2's ``compat32``
messages most of that time goes to Python's ``email`` package folding headers that need no
folding and searching every message's text for its multipart boundary. The bytes are the
same as Django's: short ASCII headers are written as they are (what folding would give), and
the boundary, as random as the one the generator would pick, is chosen in advance and checked
against the parts' text.

Django 6 builds messages with the modern email API, whose policy folds header lines at 78
characters: a header that cannot be folded there, such as a ``List-Unsubscribe`` link, is
written as RFC 2047 encoded words, which mail programs do not read as a link. Those messages
are built with lines up to RFC 5322's limit instead, as Django 5.2 writes them.
"""

import email.policy
import random
import sys
from email.policy import Compat32

import django
from django.core.mail import EmailMultiAlternatives

#: Header lines up to this length are never folded (RFC 5322's recommended limit).
MAX_LINE_LENGTH = 78
#: No line of a message may be longer (RFC 5322, section 2.1.1).
LINE_LENGTH_LIMIT = 998
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))


class _Policy(Compat32):
    """``compat32`` (the policy of Django's messages) that skips folding where it would
    change nothing: a short, printable ASCII value without runs of spaces."""

    def fold_binary(self, name, value):
        if (
            isinstance(value, str)
            and len(name) + len(value) + 2 <= MAX_LINE_LENGTH
            and value.isascii()
            and value.isprintable()
            and value == value.strip()
            and "  " not in value
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


POLICY = _Policy()


def boundary_for(texts: list[str]) -> str:
    """A multipart boundary in the generator's own format, found in none of ``texts``."""
    while True:
        token = random.randrange(sys.maxsize)  # noqa: S311 (as the generator does)
        boundary = f"{'=' * 15}{token:0{_BOUNDARY_DIGITS}d}=="
        if not any(boundary in text for text in texts):
            return boundary


class BulkEmail(EmailMultiAlternatives):
    """An ``EmailMultiAlternatives`` whose ``message()`` is cheaper to write out."""

    def message(self, **kwargs):
        if django.VERSION >= (6,):
            policy = kwargs.pop("policy", email.policy.default)
            return super().message(policy=policy.clone(max_line_length=LINE_LENGTH_LIMIT), **kwargs)
        message = super().message(**kwargs)
        message.policy = POLICY
        if message.is_multipart():
            message.set_boundary(
                boundary_for(
                    [part.get_payload() for part in message.walk() if not part.is_multipart()]
                )
            )
        return message
