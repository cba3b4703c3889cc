"""The email channel's messages as MIME.

``BulkEmail`` is Django's ``EmailMultiAlternatives`` as every email backend takes it. Django 6
builds messages with the modern email API, whose policy folds header lines at 78 characters:
a header that cannot be folded there, such as a ``List-Unsubscribe`` link, is written as RFC
2047 encoded words, which mail programs do not read as a link. Those messages are built with
lines up to RFC 5322's limit instead, as Django 5.2 writes them.

``smtp_message`` writes what goes over SMTP. A campaign sends thousands of messages alike,
and building each through Python's ``email`` package (parsing every address, encoding and
folding every header, searching the parts for their boundary) was most of a sender's work.
A message of a campaign's shape (a text part and an HTML alternative, UTF-8, no attachments,
no line longer than RFC 5322's limit) is written directly; anything else is left to Django.
"""

import email.policy
import random
import re
import sys
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache

import django
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME

#: No line of a message may be longer (RFC 5322, section 2.1.1).
LINE_LENGTH_LIMIT = 998
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: An address written as it is: ASCII, no display name, nothing to quote or to encode.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\Z"
)
#: Headers the direct writer writes itself; a message that sets them is Django's to write.
_OWN_HEADERS = {"content-type", "content-transfer-encoding", "mime-version", "subject"}
_OWN_HEADERS |= {"from", "to", "cc", "reply-to"}


def boundary_for(texts: list[str]) -> str:
    """A multipart boundary in Python's own format, found in none of ``texts``."""
    while True:
        token = random.randrange(sys.maxsize)  # noqa: S311 (as Python's generator does)
        boundary = f"{'=' * 15}{token:0{_BOUNDARY_DIGITS}d}=="
        if not any(boundary in text for text in texts):
            return boundary


class BulkEmail(EmailMultiAlternatives):
    """An ``EmailMultiAlternatives`` whose header lines are never folded into encoded words
    on Django 6."""

    def message(self, **kwargs):
        if django.VERSION < (6,):
            return super().message(**kwargs)
        policy = kwargs.pop("policy", email.policy.default)
        return super().message(policy=policy.clone(max_line_length=LINE_LENGTH_LIMIT), **kwargs)


def smtp_message(message: EmailMultiAlternatives) -> tuple[str, str, bytes] | None:
    """The envelope sender, the envelope recipient and the bytes of ``message``, written
    directly; ``None`` if the message is not of the shape written here (Django sends it)."""
    if (
        message.attachments
        or message.cc
        or message.bcc
        or len(message.to) != 1
        or message.encoding not in (None, "utf-8")
        or message.content_subtype != "plain"
        or getattr(message, "alternative_subtype", "alternative")
        != "alternative"  # not in Django 6
        or len(message.alternatives) != 1
        or message.alternatives[0][1] != "text/html"
        or _OWN_HEADERS & {name.lower() for name in message.extra_headers}
    ):
        return None
    sender, recipient = _address(message.from_email), _address(message.to[0])
    headers = _headers(message)
    html = message.alternatives[0][0]
    parts = [_part("plain", message.body), _part("html", html)]
    if sender is None or recipient is None or headers is None or None in parts:
        return None
    boundary = boundary_for([message.body, html])
    head = [
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "MIME-Version: 1.0",
        *headers,
        "",
        "",
    ]
    # The line break before each boundary belongs to the boundary (RFC 2046, 5.1.1).
    body = b"".join(f"--{boundary}\r\n".encode() + part + b"\r\n" for part in parts)
    data = "\r\n".join(head).encode() + body + f"--{boundary}--\r\n".encode()
    return _plain(sender), _plain(recipient), data


def _headers(message: EmailMultiAlternatives) -> list[str] | None:
    """The message's header lines, or ``None`` if one is not written directly."""
    addresses = [_address(address) for address in message.reply_to]
    subject = _subject(message.subject)
    if subject is None or None in addresses:
        return None
    headers = [
        ("Subject", subject),
        ("From", _address(message.from_email)),
        ("To", _address(message.to[0])),
    ]
    if addresses:
        headers.append(("Reply-To", ", ".join(addresses)))
    extra = message.extra_headers
    names = {name.lower() for name in extra}
    if "date" not in names:
        headers.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in names:
        headers.append(("Message-ID", make_msgid(domain=DNS_NAME)))
    headers.extend((name, str(value)) for name, value in extra.items())
    lines = [f"{name}: {value}" for name, value in headers]
    if all(_is_header_line(line) for line in lines):
        return lines
    return None


def _is_header_line(line: str) -> bool:
    """Printable ASCII in lines no longer than the limit (an encoded subject's lines are
    folded, each starting with a space)."""
    folds = line.split("\r\n")
    return all(
        fold.isascii() and fold.isprintable() and len(fold) <= LINE_LENGTH_LIMIT for fold in folds
    ) and all(fold.startswith(" ") for fold in folds[1:])


@lru_cache(maxsize=256)
def _address(address: str) -> str | None:
    """``address`` as a header writes it (a display name encoded if it is not ASCII), or
    ``None`` if its address part is not plain ASCII."""
    if _PLAIN_ADDRESS.match(address):
        return address
    name, plain = parseaddr(address)
    if not name or not _PLAIN_ADDRESS.match(plain):
        return None
    return formataddr((name, plain), charset="utf-8")


@lru_cache(maxsize=256)
def _plain(address: str) -> str:
    return parseaddr(address)[1]


@lru_cache(maxsize=64)
def _subject(subject: str) -> str | None:
    if "\n" in subject or "\r" in subject:
        return None  # Django refuses it (BadHeaderError)
    if subject.isascii():
        return subject
    return Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")


def _part(subtype: str, text: str) -> bytes | None:
    """A ``text/{subtype}`` part with its headers, every line ending in CRLF; ``None`` if a
    line is too long to send without quoted-printable."""
    if not text.endswith(("\n", "\r")):
        text += "\n"  # as Django 6 ends every part
    try:
        data = _LINE_BREAK.sub("\r\n", text).encode()
    except UnicodeEncodeError:  # a lone surrogate: Django refuses it too
        return None
    if any(len(line) > LINE_LENGTH_LIMIT for line in data.split(b"\r\n")):
        return None
    encoding = "7bit" if data.isascii() else "8bit"
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "MIME-Version: 1.0\r\n"
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    return head.encode() + data
