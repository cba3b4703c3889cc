"""The email channel's messages: written directly for SMTP, they read as Django's."""

import email
import email.policy
from email.utils import mktime_tz, parseaddr, parsedate_tz

import django
import pytest

from wagtail_preferences.channels import mime
from wagtail_preferences.channels.mime import BulkEmail, smtp_message

HEADERS = {
    "Message-ID": "<wp.7.abc@example.com>",
    "Date": "Sat, 05 Dec 2026 12:00:00 -0000",
    "List-Unsubscribe": "<https://www.example.com/preferences/unsubscribe/" + "t" * 90 + "/>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def email_of(subject="Hello Ann", to="ann@example.com", html="<p>Hello</p>\n", **kwargs):
    sent = BulkEmail(
        subject=subject,
        body=kwargs.pop("body", "Hello\r\nü\rthere\n" + "word " * 150),
        from_email=kwargs.pop("from_email", "Shop Æ <shop@example.com>"),
        to=[to],
        reply_to=kwargs.pop("reply_to", ["help@example.com"]),
        headers=kwargs.pop("headers", dict(HEADERS)),
        **kwargs,
    )
    sent.attach_alternative(html, "text/html")
    return sent


def parsed(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def djangos(sent) -> bytes:
    """The bytes Django's SMTP backend sends."""
    if django.VERSION >= (6,):
        return sent.message(policy=email.policy.SMTP).as_bytes()
    return sent.message().as_bytes(linesep="\r\n")


def epoch(date: str) -> int:
    return mktime_tz(parsedate_tz(str(date)))


def summary(message) -> dict:
    """What a mail program reads from ``message``: its headers' values and its parts."""
    return {
        "headers": {name: str(value).strip() for name, value in message.items()}
        | {"Content-Type": message.get_content_type()},
        "parts": [
            (
                part.get_content_type(),
                part.get_content_charset(),
                part["Content-Transfer-Encoding"],
                # Django 6 ends every part with a line break, 5.2 only those that end with one.
                part.get_content().rstrip("\r\n") + "\r\n",
            )
            for part in message.iter_parts()
        ],
    }


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"subject": "Héllo Zoë, ünïcode in a subject long enough to be folded over lines"},
        {"subject": "x" * 200, "from_email": "shop@example.com", "reply_to": []},
        {"from_email": '"Last, First" <lf@example.com>', "reply_to": ["日本 <jp@example.com>"]},
        {"body": "Plain ASCII\n", "html": "<p>ünïcode</p>"},
        {"headers": {"Message-ID": "<wp.7.abc@example.com>"}},
    ],
)
def test_a_message_written_directly_reads_as_djangos(kwargs):
    sent = email_of(**kwargs)

    sender, recipient, data = smtp_message(sent)

    ours, theirs = parsed(data), parsed(djangos(sent))
    if "Date" not in sent.extra_headers:
        assert abs(epoch(ours["Date"]) - epoch(theirs["Date"])) < 60
        del ours["Date"], theirs["Date"]
    if "Message-ID" not in sent.extra_headers:
        assert ours["Message-ID"].endswith(">") and ours["Message-ID"] != theirs["Message-ID"]
        del ours["Message-ID"], theirs["Message-ID"]
    assert summary(ours) == summary(theirs)
    assert (sender, recipient) == (parseaddr(sent.from_email)[1], "ann@example.com")
    assert all(len(line) <= 998 and line.isascii() for line in data.split(b"\r\n\r\n")[0].split())
    assert b"\n" not in data.replace(b"\r\n", b"")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"html": "<p>" + "x" * 1000 + "</p>"},
        {"to": "zoë@example.com"},
        {"subject": "Two\nlines"},
        {"subject": "A\ttab"},
        {"headers": {"Content-Type": "text/plain"}},
        {"headers": {"X-Note": "ünïcode"}},
        {"cc": ["cc@example.com"]},
    ],
)
def test_any_other_message_is_left_to_django(kwargs):
    assert smtp_message(email_of(**kwargs)) is None


def test_a_message_with_an_attachment_is_left_to_django():
    sent = email_of()
    sent.attach("a.txt", "text", "text/plain")
    assert smtp_message(sent) is None


def test_the_boundary_is_in_none_of_the_parts(monkeypatch):
    tokens = iter([1, 2])
    monkeypatch.setattr(mime.random, "randrange", lambda _stop: next(tokens))
    taken = "--" + "=" * 15 + "1".zfill(mime._BOUNDARY_DIGITS) + "=="

    assert mime.boundary_for(["<p>Hi</p>", f"Look:\n{taken}\n"]).endswith("2==")


#: Django 6's SMTP backend asks for its message with the SMTP policy; 5.2's takes none.
POLICIES = [{}, {"policy": email.policy.SMTP}] if django.VERSION >= (6,) else [{}]


@pytest.mark.parametrize("kwargs", POLICIES)
def test_a_long_link_in_a_header_is_written_as_it_is(kwargs):
    link = "<https://www.example.com/preferences/unsubscribe/" + "t" * 120 + "/>"
    sent = BulkEmail(body="Hello\n", to=["ann@example.com"], headers={"List-Unsubscribe": link})

    written = sent.message(**kwargs).as_bytes()

    assert b"=?" not in written
    parsed = email.message_from_bytes(written, policy=email.policy.default)
    assert parsed["List-Unsubscribe"].strip() == link
