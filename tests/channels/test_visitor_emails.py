"""The emails the app sends, through a real SMTP server, and the List-Unsubscribe headers."""

import re

import pytest
from django.conf import settings as django_settings
from django.core.mail import EmailMessage
from django.test import Client

from tests.channels.smtp_server import RefusingHandler, serve
from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory
from tests.link_fixtures import (
    link_request_data,
)
from tests.visitor_helpers import SUBMIT_URL, VisitorForm, confirmation_path, form_page
from wagtail_preferences import services, tasks
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import (
    Contact,
    ContactStatus,
    FormSubmission,
    Suppression,
    SuppressionReason,
)
from wagtail_preferences.visitors import emails

pytestmark = pytest.mark.django_db

URL = re.compile(r"https?://[^\s\"<>]+")


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1, and Django's SMTP backend sending to it."""
    handler = RefusingHandler()
    controller = serve(settings, handler)
    yield handler
    controller.stop()


@pytest.fixture
def page(products):
    return form_page(preferences=[products])


@pytest.fixture
def subscribe(page, django_capture_on_commit_callbacks):
    """Send the page's double opt-in form over HTTPS, as a visitor's browser would."""

    def subscribe(email_address="ann@example.com", **choices):
        client = Client()
        form = VisitorForm.of(client, page)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                SUBMIT_URL, form.data(email=email_address, **choices), secure=True
            )
        assert response.status_code == 303
        return response

    return subscribe


@pytest.fixture
def ask_for_link(django_capture_on_commit_callbacks):
    def ask_for_link(email_address, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return Client().post("/preferences/link/", link_request_data(email_address), **kwargs)

    return ask_for_link


def parts(message):
    """The text and HTML bodies of a received message."""
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def list_unsubscribe_url(message) -> str:
    # A long header is folded: the value may start with the folding white space.
    value = str(message["List-Unsubscribe"]).strip()
    found = re.fullmatch(r"<(https://testserver/preferences/unsubscribe/[^/>]+/)>", value)
    assert found, value
    return found.group(1)


class TestConfirmationEmail:
    def test_one_message_to_the_address_with_text_and_html(self, smtp, subscribe, products):
        subscribe(preferences=[products])

        assert len(smtp.envelopes) == 1
        assert smtp.envelopes[0].rcpt_tos == ["ann@example.com"]
        message = smtp.messages[0]
        assert message["To"] == "ann@example.com"
        assert message["Subject"] == "Please confirm your subscription to wagtail-preferences tests"
        text, html = parts(message)
        assert "Products" in text
        assert "<li>Products</li>" in html
        assert "The link works for 7 days." in text

    def test_it_says_what_will_be_sent_and_what_will_not(
        self, smtp, django_capture_on_commit_callbacks, products
    ):
        news, offers = CategoryFactory(name="News"), CategoryFactory(name="Offers")
        client = Client()
        form = VisitorForm.of(client, form_page(preferences=[products], categories=[news, offers]))
        with django_capture_on_commit_callbacks(execute=True):
            client.post(SUBMIT_URL, form.data(preferences=[products], categories=[news]))

        text, html = parts(smtp.messages[0])
        text = text.replace("\r\n", "\n")
        assert "You are interested in:\n- Products\n" in text
        assert "We will send you:\n- News\n" in text
        assert "We will not send you:\n- Offers\n" in text
        assert "<p>We will not send you:</p>\r\n<ul><li>Offers</li></ul>" in html

    def test_the_confirmation_link_works(self, smtp, subscribe, products):
        subscribe(preferences=[products])
        text, html = parts(smtp.messages[0])

        (link,) = [url for url in URL.findall(text) if "/confirm/" in url]
        assert link.startswith("https://testserver/preferences/confirm/")
        assert f'href="{link}"' in html
        browser = Client()
        opened = browser.get(path_of(link), secure=True)
        assert opened.status_code == 200
        assert "Confirm</button>" in opened.content.decode()
        confirmed = browser.post(path_of(link), secure=True)

        assert confirmed.status_code == 302
        contact = Contact.objects.get()
        assert contact.status == ContactStatus.CONFIRMED
        assert set(contact.preferences.all()) == {products}
        assert confirmed.cookies["wagtail_preferences"]["secure"] is True

    def test_the_list_unsubscribe_headers_point_at_the_unsubscribe_link(self, smtp, subscribe):
        subscribe()
        message = smtp.messages[0]

        url = list_unsubscribe_url(message)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        contact = Contact.objects.get()
        token = url.rstrip("/").rsplit("/", 1)[1]
        assert tokens.unsubscribe_from_token(token) == (contact, tokens.UnsubscribeScope())

        response = Client(enforce_csrf_checks=True).post(
            path_of(url),
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
            secure=True,
        )

        assert response.status_code == 200
        contact.refresh_from_db()
        assert contact.status == ContactStatus.UNSUBSCRIBED

    def test_the_sender_is_the_default_from_email(self, smtp, subscribe, settings):
        settings.DEFAULT_FROM_EMAIL = "Site <site@example.com>"

        subscribe()

        assert smtp.messages[0]["From"] == "Site <site@example.com>"
        assert smtp.envelopes[0].mail_from == "site@example.com"

    def test_the_sender_is_from_email_when_set(self, smtp, subscribe, settings):
        settings.DEFAULT_FROM_EMAIL = "site@example.com"
        settings.WAGTAIL_PREFERENCES = {"FROM_EMAIL": "News <news@example.com>"}

        subscribe()

        assert smtp.messages[0]["From"] == "News <news@example.com>"
        assert smtp.envelopes[0].mail_from == "news@example.com"

    def test_links_follow_the_scheme_of_the_request(
        self, smtp, page, django_capture_on_commit_callbacks
    ):
        client = Client()
        form = VisitorForm.of(client, page)

        with django_capture_on_commit_callbacks(execute=True):
            client.post(SUBMIT_URL, form.data())

        text, _ = parts(smtp.messages[0])
        assert "http://testserver/preferences/confirm/" in text
        assert "<http://testserver/preferences/unsubscribe/" in smtp.messages[0]["List-Unsubscribe"]

    def test_a_resent_confirmation_arrives_too(
        self, smtp, subscribe, django_capture_on_commit_callbacks
    ):
        subscribe()
        first, _ = parts(smtp.messages[0])
        path = path_of(next(url for url in URL.findall(first) if "/confirm/" in url))

        with django_capture_on_commit_callbacks(execute=True):
            Client().post(path + "resend/", secure=True)

        assert len(smtp.envelopes) == 2
        assert smtp.envelopes[1].rcpt_tos == ["ann@example.com"]

    def test_nothing_is_sent_before_the_submission_commits(
        self, smtp, page, django_capture_on_commit_callbacks
    ):
        client = Client()
        form = VisitorForm.of(client, page)

        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            client.post(SUBMIT_URL, form.data())

        assert callbacks
        assert smtp.envelopes == []


class TestManageLinkEmail:
    def test_a_known_address_receives_a_working_manage_link(self, smtp, ask_for_link):
        contact = ContactFactory(email="ann@example.com", confirmed=True)

        ask_for_link("ann@example.com", secure=True)

        assert len(smtp.envelopes) == 1
        assert smtp.envelopes[0].rcpt_tos == ["ann@example.com"]
        message = smtp.messages[0]
        assert message["Subject"] == (
            "Your link to manage your preferences at wagtail-preferences tests"
        )
        text, html = parts(message)
        (link,) = [url for url in URL.findall(text) if "/manage/" in url]
        assert link.startswith("https://testserver/preferences/manage/")
        assert f'href="{link}"' in html
        assert "The link works for 60 days." in text
        assert list_unsubscribe_url(message)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        page = Client().get(path_of(link), secure=True)
        assert page.status_code == 200
        assert "For <strong>ann@example.com</strong>." in page.content.decode()
        assert tokens.contact_from_token(path_of(link).split("/")[-2]) == contact

    def test_an_unknown_or_blocked_address_receives_nothing(self, smtp, ask_for_link):
        ContactFactory(email="blocked@example.com", blocked=True)

        ask_for_link("nobody@example.com")
        ask_for_link("blocked@example.com")

        assert smtp.envelopes == []

    def test_the_manage_link_email_has_the_configured_sender(self, smtp, ask_for_link, settings):
        settings.WAGTAIL_PREFERENCES = {"FROM_EMAIL": "prefs@example.com"}
        ContactFactory(email="ann@example.com")

        ask_for_link("ann@example.com")

        assert smtp.messages[0]["From"] == "prefs@example.com"


class TestEmailChangeEmails:
    @pytest.fixture
    def ann(self):
        return ContactFactory(email="ann@example.com", first_name="Ann", confirmed=True)

    def test_the_new_address_receives_a_working_link_without_unsubscribe_headers(
        self, smtp, ann, django_capture_on_commit_callbacks
    ):
        services.request_email_change(ann, "ann.new@example.com")

        tasks.send_email_change_email.enqueue(ann.pk, "ann.new@example.com", "https://testserver")

        assert smtp.envelopes[0].rcpt_tos == ["ann.new@example.com"]
        message = smtp.messages[0]
        assert message["Subject"] == ("Confirm your new email address at wagtail-preferences tests")
        assert message["List-Unsubscribe"] is None
        text, html = parts(message)
        assert text.startswith("Hello Ann,")
        assert "The link works for 7 days. Until you confirm, nothing changes." in text
        (link,) = [url for url in URL.findall(text) if "/preferences/email/" in url]
        assert f'href="{link}"' in html
        with django_capture_on_commit_callbacks(execute=True):
            Client().post(path_of(link), secure=True)
        assert Contact.objects.get(pk=ann.pk).email == "ann.new@example.com"
        notice = smtp.messages[1]
        assert smtp.envelopes[1].rcpt_tos == ["ann@example.com"]
        assert notice["Subject"] == "Your email address at wagtail-preferences tests was changed"
        assert notice["List-Unsubscribe"] is None
        notice_text, notice_html = parts(notice)
        assert "This address no longer receives our messages." in notice_text
        assert "This address no longer receives our messages." in notice_html

    def test_the_owner_of_a_taken_address_is_told_nothing_changed(self, smtp, ann):
        bob = ContactFactory(email="bob@example.com", first_name="Bob")

        tasks.send_email_change_email.enqueue(ann.pk, "bob@example.com", "https://testserver")

        assert smtp.envelopes[0].rcpt_tos == ["bob@example.com"]
        message = smtp.messages[0]
        text, html = parts(message)
        assert text.startswith("Hello Bob,")
        assert "so nothing changed" in text
        assert "ann@example.com" not in text + html
        assert list_unsubscribe_url(message)  # Bob's own address: his unsubscribe link
        (link,) = [url for url in URL.findall(text) if "/manage/" in url]
        assert tokens.contact_from_token(path_of(link).split("/")[-2]) == bob

    def test_the_change_task_says_whether_it_sent(self, mailoutbox, ann):
        ContactFactory(email="blocked@example.com", blocked=True)
        send = tasks.send_email_change_email.enqueue

        assert send(ann.pk, "not.asked@example.com", "https://x.example").return_value is False
        assert send(ann.pk, "blocked@example.com", "https://x.example").return_value is False
        assert mailoutbox == []


class TestTasks:
    def test_the_manage_link_task_says_whether_it_sent(self, mailoutbox):
        ContactFactory(email="ann@example.com", unsubscribed=True)
        ContactFactory(email="blocked@example.com", blocked=True)
        send = tasks.send_manage_link_email.enqueue

        assert send("ANN@example.com", "https://x.example").return_value is True
        assert send("blocked@example.com", "https://x.example").return_value is False
        assert send("nobody@example.com", "https://x.example").return_value is False
        assert [m.to for m in mailoutbox] == [["ann@example.com"]]

    def test_the_confirmation_task_sends_only_for_a_pending_submission(self, subscribe, mailoutbox):
        subscribe()
        submission = FormSubmission.objects.get()
        Client().post(confirmation_path(mailoutbox[0]))
        send = tasks.send_confirmation_email.enqueue

        assert send(submission.pk, "https://x.example").return_value is False
        assert len(mailoutbox) == 1


class TestUnsubscribeHeaders:
    def test_a_plain_http_link_is_no_one_click_unsubscribe(self):
        headers = emails.unsubscribe_headers(ContactFactory(), "http://localhost:8000")

        assert set(headers) == {"List-Unsubscribe"}
        assert headers["List-Unsubscribe"].startswith("<http://localhost:8000/preferences/")

    def test_unsubscribe_headers_for_everything(self):
        contact = ContactFactory()

        headers = emails.unsubscribe_headers(contact, "https://www.example.com")

        assert set(headers) == {"List-Unsubscribe", "List-Unsubscribe-Post"}
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = re.fullmatch(
            r"<https://www\.example\.com(/preferences/unsubscribe/[^/]+/)>",
            headers["List-Unsubscribe"],
        )
        assert url
        token = url.group(1).rstrip("/").rsplit("/", 1)[1]
        assert tokens.unsubscribe_from_token(token) == (contact, tokens.UnsubscribeScope())

    def test_add_unsubscribe_headers_to_any_email_message(self, smtp):
        contact = ContactFactory(email="ann@example.com")
        category = CategoryFactory(name="Promotions")
        message = EmailMessage(
            "Our news",
            "Hello!",
            "news@example.com",
            ["ann@example.com"],
            headers={"X-Campaign": "june"},
        )

        returned = emails.add_unsubscribe_headers(
            message, contact, "https://www.example.com", tokens.UnsubscribeScope.of(category)
        )
        returned.send()

        assert returned is message
        received = smtp.messages[0]
        assert received["X-Campaign"] == "june"
        assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        url = re.fullmatch(
            r"<https://www\.example\.com(/preferences/unsubscribe/[^/]+/)>",
            str(received["List-Unsubscribe"]).strip(),
        )
        assert url
        token = url.group(1).rstrip("/").rsplit("/", 1)[1]
        assert tokens.unsubscribe_from_token(token) == (
            contact,
            tokens.UnsubscribeScope("category", category.pk),
        )
        Client(enforce_csrf_checks=True).post(url.group(1), {"List-Unsubscribe": "One-Click"})
        assert contact.category_choices.get(category=category).subscribed is False

    def test_the_headers_of_a_message_are_replaced_not_doubled(self):
        contact = ContactFactory()
        message = EmailMessage("Hi", "Body", "a@example.com", ["b@example.com"])

        emails.add_unsubscribe_headers(message, contact, "https://one.example")
        emails.add_unsubscribe_headers(message, contact, "https://two.example")

        rendered = message.message()
        assert len(rendered.get_all("List-Unsubscribe")) == 1
        assert "https://two.example/" in rendered["List-Unsubscribe"]


class TestEscaping:
    NAME = "<script>alert('hi')</script>"

    def test_a_name_with_markup_is_escaped_in_the_html_part(self, smtp, ask_for_link):
        ContactFactory(email="ann@example.com", first_name=self.NAME)

        ask_for_link("ann@example.com")

        text, html = parts(smtp.messages[0])
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#x27;hi&#x27;)&lt;/script&gt;" in html
        assert f"Hello {self.NAME}," in text

    def test_markup_in_the_confirmation_email_is_escaped(
        self, smtp, django_capture_on_commit_callbacks
    ):
        ContactFactory(email="ann@example.com", first_name=self.NAME, confirmed=True)
        tricky = PreferenceFactory(name="<b>Bold</b> news")
        page = form_page(title="Tricky", preferences=[tricky])
        client = Client()
        form = VisitorForm.of(client, page)
        form_data = form.data(email="ann@example.com", preferences=[tricky])

        with django_capture_on_commit_callbacks(execute=True):
            client.post(SUBMIT_URL, form_data)

        _, html = parts(smtp.messages[-1])
        assert "<script>" not in html and "<b>" not in html
        assert "&lt;b&gt;Bold&lt;/b&gt; news" in html
        assert "&lt;script&gt;" in html


class TestOverriding:
    @pytest.fixture
    def templates(self, tmp_path, settings):
        folder = tmp_path / "wagtail_preferences" / "emails"
        folder.mkdir(parents=True)
        settings.TEMPLATES = [
            {**django_settings.TEMPLATES[0], "DIRS": [str(tmp_path)]},
        ]
        return folder

    def test_the_confirmation_email_templates_can_be_overridden(self, templates, smtp, subscribe):
        (templates / "confirm_subject.txt").write_text("Welcome aboard,\n{{ contact.email }}")
        (templates / "confirm.txt").write_text("Press here: {{ confirmation_url }}")
        (templates / "confirm.html").write_text('<a href="{{ confirmation_url }}">Yes!</a>')

        subscribe()

        message = smtp.messages[0]
        assert message["Subject"] == "Welcome aboard, ann@example.com"
        text, html = parts(message)
        assert text.startswith("Press here: https://testserver/preferences/confirm/")
        assert html.startswith('<a href="https://testserver/preferences/confirm/')
        link = next(url for url in URL.findall(text) if "/confirm/" in url)
        assert Client().post(path_of(link)).status_code == 302

    def test_one_template_can_be_overridden_alone(self, templates, smtp, ask_for_link):
        (templates / "manage_link_subject.txt").write_text("Your {{ site_name }} link")
        ContactFactory(email="ann@example.com")

        ask_for_link("ann@example.com")

        message = smtp.messages[0]
        assert message["Subject"] == "Your wagtail-preferences tests link"
        text, _ = parts(message)
        assert "Here is the link you asked for." in text


class TestBlockedAddresses:
    """The app's own emails are transactional: sent whatever the marketing choices, but
    never to a blocked address."""

    def test_a_suppressed_address_is_sent_nothing(self, mailoutbox):
        ann = ContactFactory(email="ann@example.com", confirmed=True)
        Suppression.objects.create(
            channel="email", address="ann@example.com", reason=SuppressionReason.COMPLAINT
        )

        emails.send_manage_link(ann, "https://x.example")

        assert mailoutbox == []

    def test_an_address_of_a_blocked_contact_is_sent_nothing(self, mailoutbox):
        ann = ContactFactory(email="ann@example.com", confirmed=True)
        ContactFactory(email="bob@example.com", blocked=True)

        emails.send_email_change(ann, "bob@example.com", "https://x.example")

        assert mailoutbox == []

    def test_an_unsubscribed_contact_still_gets_its_transactional_emails(self, mailoutbox):
        ann = ContactFactory(email="ann@example.com", unsubscribed=True)

        emails.send_manage_link(ann, "https://x.example")

        assert [m.to for m in mailoutbox] == [["ann@example.com"]]
