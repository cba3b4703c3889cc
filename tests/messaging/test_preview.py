"""Wagtail's preview of a message, and the SMS counting it shares with the editor."""

import re

import pytest
from django.test import RequestFactory

from tests.dynamic_helpers import dynamic
from tests.factories import MessageFactory
from wagtail_preferences.messaging.sms_text import sms_segments
from wagtail_preferences.models import Contact

pytestmark = pytest.mark.django_db


def preview(message, mode):
    response = message.serve_preview(RequestFactory().get("/"), mode)
    assert response.status_code == 200
    return response.content.decode()


class TestPreviewModes:
    def test_the_email_is_rendered_for_a_sample_contact(self):
        html = preview(MessageFactory(), "")

        assert html.startswith("<!doctype html>")
        assert "Hello Alex" in html  # the title, from the subject
        assert "Manage your preferences" in html
        assert not Contact.objects.exists()

    def test_the_sample_contact_receives_every_category(self, promotions):
        message = MessageFactory(body=[dynamic(content="FOR PROMOTIONS", category=promotions)])

        assert "FOR PROMOTIONS" in preview(message, "")

    def test_the_plain_text_is_shown_as_is(self):
        message = MessageFactory(subject="Hi {{ first_name }}")
        html = preview(message, "text")

        assert "<pre" in html
        assert "Hi Alex" in html
        assert "Fresh bread" in html

    def test_the_sms_with_its_length_and_segments_link_included(self):
        html = preview(MessageFactory(sms_text="Hi {{ first_name }}, bread is ready."), "sms")

        text = re.search(r"<pre[^>]*>(.*?)</pre>", html, re.S)[1]
        assert text.startswith("Hi Alex, bread is ready.\nManage or stop: http")
        length, segments, _encoding = sms_segments(text)
        assert f"{length} characters (GSM-7), sent as {segments} SMS." in html

    def test_a_message_without_sms_text_says_so(self):
        assert "This message has no SMS text." in preview(MessageFactory(), "sms")

    def test_the_sample_contact_holds_no_preference(self, products):
        message = MessageFactory(body=[dynamic(preferences=[products])])

        assert "FALLBACK" in preview(message, "text")


class TestSMSSegments:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("", (0, 0, "GSM-7")),
            ("a" * 160, (160, 1, "GSM-7")),
            ("a" * 161, (161, 2, "GSM-7")),
            ("a" * 306, (306, 2, "GSM-7")),
            ("a" * 307, (307, 3, "GSM-7")),
            ("€" * 80, (160, 1, "GSM-7")),  # extension characters count twice
            ("{" * 81, (162, 2, "GSM-7")),
            ("é" * 160, (160, 1, "GSM-7")),  # in the basic table
            ("ç" + "a" * 69, (70, 1, "UCS-2")),  # lower-case ç is not
            ("ç" + "a" * 70, (71, 2, "UCS-2")),
            ("ç" + "a" * 133, (134, 2, "UCS-2")),
            ("ç" + "a" * 134, (135, 3, "UCS-2")),
            ("🍞" * 35, (70, 1, "UCS-2")),  # an emoji is two UTF-16 units
            ("🍞" * 36, (72, 2, "UCS-2")),
        ],
    )
    def test_lengths_and_segments(self, text, expected):
        assert sms_segments(text) == expected
