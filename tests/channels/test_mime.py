"""The email channel's MIME message is written out as Django writes it, with less work."""

import email
import email.policy
import io
import re
from email.generator import BytesGenerator

import django
import pytest
from django.core.mail import EmailMultiAlternatives

from wagtail_preferences.channels import mime
from wagtail_preferences.channels.mime import BulkEmail

BOUNDARY = re.compile(rb"={15}\d+==")
HEADERS = {
    "Message-ID": "<wp.7.abc@example.com>",
    "Date": "Sat, 05 Dec 2026 12:00:00 -0000",
    "List-Unsubscribe": "<https://www.example.com/preferences/unsubscribe/" + "t" * 90 + "/>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def written(email_class, subject, to, html="<p>Hello</p>\n"):
    email = email_class(
        subject=subject,
        body="Hello\nü\n" + "word " * 300,
        from_email="Shop Æ <shop@example.com>",
        to=[to],
        reply_to=["help@example.com"],
        headers=dict(HEADERS),
    )
    email.attach_alternative(html, "text/html")
    message = email.message()
    out = io.BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=message.policy.clone(linesep="\r\n")).flatten(
        message
    )
    return BOUNDARY.sub(b"BOUNDARY", out.getvalue())


@pytest.mark.skipif(
    django.VERSION >= (6,), reason="Django 6's messages are written by Python's own generator"
)
@pytest.mark.parametrize(
    ("subject", "to"),
    [
        ("Hello Ann", "Ann <ann@example.com>"),
        ("Héllo Zoë, ünïcode in a subject long enough to be folded over lines", "Zoë <z@x.org>"),
        ("Two  spaces and a\ttab", '"Last, First" <lf@example.com>'),
        ("x" * 120, "日本 <jp@example.com>"),
    ],
)
def test_the_bytes_are_djangos(subject, to):
    assert written(BulkEmail, subject, to) == written(EmailMultiAlternatives, subject, to)


def test_a_non_ascii_subject_and_name_are_encoded_words():
    message = written(BulkEmail, "Héllo", "Zoë <zoe@example.com>")
    headers = message.split(b"\r\n\r\n")[0]

    assert headers.isascii()
    parsed = email.message_from_bytes(message, policy=email.policy.default)
    assert parsed["Subject"] == "Héllo"
    assert parsed["To"] == "Zoë <zoe@example.com>"
    assert parsed["From"] == "Shop Æ <shop@example.com>"


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
