"""Messages rendered for their recipients: variants, merge tags, links, headers, SMS."""

import email
import email.policy
import re
from unittest import mock
from urllib.parse import urlsplit

import mjml
import pytest
from django.core import mail
from django.test import Client
from django.urls import resolve
from wagtail.images.models import Image
from wagtail.images.tests.utils import get_test_image_file

from tests.dynamic_helpers import condition, dynamic, section, variants
from tests.factories import CategoryFactory, ContactFactory, MessageFactory
from tests.visitors.unsubscribe_helpers import one_click
from wagtail_preferences.audience.profiles import Profile, profiles_of
from wagtail_preferences.channels.email import EmailChannel
from wagtail_preferences.identity import tokens
from wagtail_preferences.messaging.rendering import (
    HTML_LINE_LENGTH,
    MessageRenderer,
    Recipient,
    broken_between_blocks,
    head_joined,
    site_base_url,
)
from wagtail_preferences.models import CategoryChoice, ContactStatus

pytestmark = pytest.mark.django_db

BASE = "https://news.example.com"
HREF = re.compile(r'href="([^"]+)"')


def render_email(message, contact, profile=None, **kwargs):
    return MessageRenderer(message, base_url=BASE, **kwargs).render_one("email", contact, profile)


def path_of(url: str) -> str:
    assert url.startswith(BASE + "/"), url
    return urlsplit(url).path


def list_unsubscribe_links(outgoing) -> list[str]:
    return re.findall(r"<([^>]+)>", outgoing.headers["List-Unsubscribe"])


class TestVariants:
    def test_recipients_sharing_a_profile_cause_one_mjml_render(self, products):
        message = MessageFactory(body=[dynamic(preferences=[products])])
        contacts = [ContactFactory(preferences=[products]) for _ in range(5)]
        recipients = [Recipient(None, contact, contact.email) for contact in contacts]
        renderer = MessageRenderer(message, base_url=BASE)

        with mock.patch("mjml.mjml2html", wraps=mjml.mjml2html) as render:
            outgoing = renderer.render("email", recipients, profiles_of(contacts))

        assert render.call_count == 1
        assert [m.address for m in outgoing] == [c.email for c in contacts]
        assert all("MATCHED" in m.html and "FALLBACK" not in m.html for m in outgoing)

    def test_recipients_of_different_profiles_get_different_sections(self, products, events):
        message = MessageFactory(
            body=[
                dynamic(preferences=[products]),
                variants((condition(preferences=[events]), "FOR EVENTS"), default="FOR OTHERS"),
            ]
        )
        baker, visitor, stranger = (
            ContactFactory(preferences=[products]),
            ContactFactory(preferences=[events]),
            ContactFactory(),
        )
        contacts = [baker, visitor, stranger]
        renderer = MessageRenderer(message, base_url=BASE)

        with mock.patch("mjml.mjml2html", wraps=mjml.mjml2html) as render:
            outgoing = renderer.render(
                "email",
                [Recipient(None, contact, contact.email) for contact in contacts],
                profiles_of(contacts),
            )

        assert render.call_count == 3
        texts = [m.text for m in outgoing]
        assert "MATCHED" in texts[0] and "FOR OTHERS" in texts[0]
        assert "FALLBACK" in texts[1] and "FOR EVENTS" in texts[1]
        assert "FALLBACK" in texts[2] and "FOR OTHERS" in texts[2]
        assert "FOR EVENTS" in outgoing[1].html and "FOR EVENTS" not in outgoing[0].html

    def test_a_recipient_without_a_profile_sees_the_fallbacks(self, products):
        message = MessageFactory(body=[dynamic(preferences=[products])])

        outgoing = render_email(message, ContactFactory(preferences=[products]), None)

        assert "FALLBACK" in outgoing.html and "MATCHED" not in outgoing.html


class TestMergeTags:
    @pytest.fixture
    def message(self):
        return MessageFactory(
            subject="Hi {{first_name}}",
            preheader="For {{ first_name }} {{ last_name }}",
            body=[
                {"type": "heading", "value": "Dear {{ first_name }}"},
                *section("Your address: {{  email }}"),
            ],
        )

    def test_values_are_escaped_in_html_and_raw_in_text(self, message):
        contact = ContactFactory(first_name="<b>&", last_name="O'Neil")

        outgoing = render_email(message, contact)

        assert outgoing.subject == "Hi <b>&"
        assert "Dear &lt;b&gt;&amp;" in outgoing.html
        assert "<b>&" not in outgoing.html
        assert "For &lt;b&gt;&amp; O&#x27;Neil" in outgoing.html  # the preheader
        assert "Dear <b>&" in outgoing.text
        assert f"Your address: {contact.email}" in outgoing.text
        assert "{{" not in outgoing.html + outgoing.text

    def test_each_recipient_gets_their_own_values(self, message):
        ann, bob = ContactFactory(first_name="Ann"), ContactFactory(first_name="Bob")
        renderer = MessageRenderer(message, base_url=BASE)

        first, second = renderer.render(
            "email", [Recipient(None, c, c.email) for c in (ann, bob)], {}
        )

        # Whole values: a random token in a link may hold "Ann" or "Bob".
        assert "Dear Ann" in first.html and "Dear Bob" not in first.html
        assert bob.email not in first.html
        assert "Dear Bob" in second.text and "Dear Ann" not in second.text
        assert ann.email not in second.text
        assert first.subject == "Hi Ann"


class TestEmail:
    def test_relative_links_and_images_become_absolute(self):
        image = Image.objects.create(title="Loaves", file=get_test_image_file())
        message = MessageFactory(
            body=[
                *section('Read <a href="/news/">our news</a>'),
                {"type": "image", "value": {"image": image.pk, "alt": "", "link": ""}},
            ]
        )

        outgoing = render_email(message, ContactFactory())

        assert f'href="{BASE}/news/"' in outgoing.html
        src = re.search(r'<img[^>]* src="([^"]+)"', outgoing.html)[1]
        assert src.startswith(f"{BASE}/media/images/")
        assert 'alt="Loaves"' in outgoing.html
        assert not re.search(r'(href|src)="/', outgoing.html)

    def test_the_html_is_a_responsive_email_without_scripts_or_external_css(self):
        outgoing = render_email(MessageFactory(preheader="Fresh every day"), ContactFactory())

        assert outgoing.html.startswith("<!doctype html>")
        assert "max-width:600px" in outgoing.html
        assert "Fresh every day" in outgoing.html
        assert "<script" not in outgoing.html
        assert '<link rel="stylesheet"' not in outgoing.html
        assert "fonts.googleapis" not in outgoing.html

    def test_no_html_line_is_too_long_for_smtp_and_the_html_arrives_whole(self):
        outgoing = render_email(MessageFactory(), ContactFactory())

        assert max(len(line) for line in outgoing.html.splitlines()) < 998
        sent = email.message_from_bytes(
            EmailChannel().email_of(outgoing).message().as_bytes(), policy=email.policy.default
        )
        html = sent.get_body(preferencelist=("html",))
        assert html.get_content().splitlines() == outgoing.html.splitlines()
        assert html["Content-Transfer-Encoding"] in ("7bit", "8bit")

    def test_the_footer_links_to_manage_and_unsubscribe(self, promotions):
        message = MessageFactory(category=promotions)
        contact = ContactFactory()

        outgoing = render_email(message, contact)

        assert "Manage your preferences" in outgoing.html and "Unsubscribe" in outgoing.html
        paths = {path_of(url) for url in HREF.findall(outgoing.html) if "/preferences/" in url}
        assert {p.split("/")[2] for p in paths} == {"manage", "unsubscribe"}
        assert "wagtail-preferences tests" in outgoing.html  # the site's name

    def test_an_empty_body_still_renders_an_email_with_its_footer(self):
        outgoing = render_email(MessageFactory(body=[]), ContactFactory())

        assert "Manage your preferences" in outgoing.html
        assert "Manage your preferences: https://" in outgoing.text

    def test_a_deleted_image_is_left_out(self):
        image = Image.objects.create(title="Gone", file=get_test_image_file())
        message = MessageFactory(
            body=[
                {"type": "image", "value": {"image": image.pk, "alt": "Gone", "link": ""}},
                {"type": "heading", "value": "Still here"},
            ]
        )
        image.delete()
        message.refresh_from_db()

        outgoing = render_email(message, ContactFactory())

        assert "<img" not in outgoing.html
        assert "Still here" in outgoing.html and "Gone" not in outgoing.text

    def test_sender_reply_to_and_delivery_metadata(self):
        message = MessageFactory(from_email="Bakery <news@bakery.example>", reply_to="shop@b.ex")
        contact = ContactFactory()
        renderer = MessageRenderer(message, base_url=BASE)

        [outgoing] = renderer.render("email", [Recipient(42, contact, "other@example.com")], {})

        assert outgoing.sender == "Bakery <news@bakery.example>"
        assert outgoing.reply_to == "shop@b.ex"
        assert outgoing.metadata == {"delivery_id": "42"}
        assert outgoing.address == "other@example.com"
        assert outgoing.contact_id == contact.pk

    def test_the_base_url_is_the_setting_else_the_default_sites(self, settings):
        from wagtail.models import Site

        Site.objects.filter(is_default_site=True).update(hostname="www.bakery.example", port=443)
        assert site_base_url() == "https://www.bakery.example"
        settings.WAGTAIL_PREFERENCES = {"BASE_URL": "https://links.example"}
        assert site_base_url() == "https://links.example"


class TestPlainText:
    def test_the_text_part_holds_the_same_content(self):
        image = Image.objects.create(title="Loaves", file=get_test_image_file())
        message = MessageFactory(
            body=[
                {"type": "heading", "value": "Fresh bread"},
                *section('Read <a href="/news/">our news</a> <b>today</b>.'),
                {"type": "paragraph", "value": "<ul><li>Rye</li><li>Spelt</li></ul>"},
                {"type": "button", "value": {"text": "Order", "url": "https://b.example/o"}},
                {"type": "divider", "value": None},
                {"type": "image", "value": {"image": image.pk, "alt": "Warm loaves", "link": ""}},
            ]
        )

        text = render_email(message, ContactFactory()).text

        body, footer = text.split("\n-- \n")
        assert body.split("\n\n") == [
            "Fresh bread",
            f"Read our news ({BASE}/news/) today.",
            "- Rye\n- Spelt",
            "Order: https://b.example/o",
            "-" * 20,
            "Warm loaves\n",
        ]
        assert footer.startswith(f"Manage your preferences: {BASE}/preferences/manage/")
        assert f"Unsubscribe: {BASE}/preferences/unsubscribe/" in footer


class TestUnsubscribeHeaders:
    def test_the_https_link_comes_first_in_angle_brackets(self, settings):
        settings.WAGTAIL_PREFERENCES = {"UNSUBSCRIBE_MAILTO": "leave@bakery.example"}

        outgoing = render_email(MessageFactory(), ContactFactory())

        header = outgoing.headers["List-Unsubscribe"]
        assert re.fullmatch(r"<https://[^>]+>, <mailto:[^>]+>", header)
        https, mailto = list_unsubscribe_links(outgoing)
        assert mailto.startswith("mailto:leave@bakery.example?subject=unsubscribe%20")
        assert outgoing.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    def test_without_a_mailto_address_only_the_https_link(self):
        outgoing = render_email(MessageFactory(), ContactFactory())

        assert re.fullmatch(r"<https://[^>,]+>", outgoing.headers["List-Unsubscribe"])

    def test_one_click_leaves_only_the_messages_category(self, promotions):
        news = CategoryFactory(name="News")
        contact = ContactFactory(confirmed=True)
        outgoing = render_email(MessageFactory(category=promotions), contact)
        [https] = list_unsubscribe_links(outgoing)

        response = one_click(path_of(https))

        assert response.status_code == 200
        opted_out = CategoryChoice.objects.filter(contact=contact, subscribed=False)
        assert list(opted_out.values_list("category", flat=True)) == [promotions.pk]
        contact.refresh_from_db()
        assert contact.status == ContactStatus.CONFIRMED
        assert news.pk not in opted_out.values_list("category", flat=True)

    def test_transactional_messages_have_no_one_click_unsubscribe(self):
        outgoing = render_email(MessageFactory(transactional=True), ContactFactory())

        assert "List-Unsubscribe" not in outgoing.headers
        assert "Manage your preferences" in outgoing.html
        assert "Unsubscribe" not in outgoing.html and "Unsubscribe" not in outgoing.text


class TestMessageId:
    def test_the_recipients_message_id_is_sent(self, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        contact = ContactFactory()
        renderer = MessageRenderer(MessageFactory(), base_url=BASE)
        recipient = Recipient(7, contact, contact.email, message_id="<d7.abc@bakery.example>")

        [result] = EmailChannel().send_batch(renderer.render("email", [recipient], {}))

        [sent] = mail.outbox
        assert sent.message()["Message-ID"] == "<d7.abc@bakery.example>"
        assert result.provider_id == "<d7.abc@bakery.example>"
        assert sent.alternatives[0][1] == "text/html"


class TestSMS:
    def test_the_sms_text_with_merge_tags_and_a_manage_link(self):
        message = MessageFactory(sms_text="Hi {{ first_name }}, bread is ready.")
        contact = ContactFactory(first_name="<Ann>", phone="+32470000001")

        outgoing = MessageRenderer(message, base_url=BASE).render_one("sms", contact)

        first, link = outgoing.text.split("\n")
        assert first == "Hi <Ann>, bread is ready."
        assert link.startswith(f"Manage or stop: {BASE}/preferences/manage/")
        assert outgoing.html == "" and outgoing.subject == ""
        assert outgoing.address == "+32470000001"

    def test_a_message_without_sms_text_cannot_be_rendered_for_sms(self):
        with pytest.raises(ValueError, match="no SMS text"):
            MessageRenderer(MessageFactory(), base_url=BASE).render_one("sms", ContactFactory())

    def test_an_unknown_channel_is_refused(self):
        renderer = MessageRenderer(MessageFactory(), base_url=BASE)
        with pytest.raises(ValueError, match="push"):
            renderer.render("push", [], {})


class TestManageLink:
    def manage_page(self, message, contact):
        outgoing = render_email(message, contact)
        [url] = [u for u in HREF.findall(outgoing.html) if "/preferences/manage/" in u]
        return Client().get(path_of(url)).content.decode()

    def test_the_link_shows_the_sections_the_message_chose(self, promotions):
        contact = ContactFactory(confirmed=True)

        html = self.manage_page(MessageFactory(manage_sections=["categories"]), contact)

        assert "Messages you receive" in html
        assert "How we contact you" not in html

    def test_without_a_choice_the_site_settings_decide(self, promotions):
        html = self.manage_page(MessageFactory(), ContactFactory(confirmed=True))

        assert "Messages you receive" in html and "How we contact you" in html

    def test_the_form_posts_back_with_the_messages_link(self, promotions):
        contact = ContactFactory(confirmed=True)
        message = MessageFactory(manage_sections=["categories"])

        html = self.manage_page(message, contact)

        action = re.search(r'<form class="wp-form wp-manage"[^>]* action="([^"]+)"', html)[1]
        token = resolve(action).kwargs["token"]
        assert tokens.manage_link_from_token(token) == (contact, message.pk)


def test_profiles_of_a_contact_decide_variants_like_pages(products):
    """The same condition on a page and in an email: a profile built by hand works too."""
    message = MessageFactory(body=[dynamic(preferences=[products])])
    profile = Profile(preferences={products.pk: products.slug})

    assert "MATCHED" in render_email(message, ContactFactory(), profile).text


def test_html_lines_are_broken_between_blocks_only_where_they_grow_long():
    html = "<div>" + "<p>word</p>" * 200 + "</div>\n<style>a{}</style>"

    broken = broken_between_blocks(html)

    assert broken.replace("\n", "") == html.replace("\n", "")
    lines = broken.splitlines()
    assert all(len(line) <= HTML_LINE_LENGTH for line in lines)
    assert len(lines) == 6


def test_the_head_loses_its_line_breaks_and_the_body_keeps_them():
    html = (
        "<html><head>\n  <title>Hi  there</title>\n<style>\na { b: c; }\n</style>\n</head>"
        "<body><p>one\ntwo</p>\n</body></html>"
    )

    assert head_joined(html) == (
        "<html><head><title>Hi  there</title><style> a { b: c; } </style></head>"
        "<body><p>one\ntwo</p>\n</body></html>"
    )


def test_an_email_head_takes_a_few_lines():
    html = render_email(MessageFactory(), ContactFactory()).html

    head = html.partition("</head>")[0]
    assert "<style" in head and "<!--[if mso]>" in head
    assert head.count("\n") <= 5
