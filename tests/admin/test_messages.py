"""The Messages admin: listing, editing in tabs, drafts and revisions, preview, preview as a
contact or a profile, and sending a test."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.dynamic_helpers import dynamic
from tests.factories import ContactFactory, MessageFactory, UserFactory
from wagtail_preferences.admin.views.messages import NAME
from wagtail_preferences.models import Message

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"{NAME}:{name}", args=args)


def form_data(**overrides) -> dict:
    data = {
        "name": "Spring news",
        "subject": "Hello {{ first_name }}",
        "preheader": "What is new",
        "body-count": "0",
        "sms_text": "",
        "from_email": "",
        "reply_to": "",
        "category": "",
        "manage_sections": ["categories", "preferences"],
    }
    data.update(overrides)
    return data


@pytest.fixture
def editor():
    """A user who may edit messages but is no superuser."""
    return UserFactory(
        staff=True,
        email="editor@example.com",
        permissions=["wagtailadmin.access_admin", "wagtail_preferences.change_message"],
    )


@pytest.fixture
def reader():
    """A user of the admin who may not edit messages."""
    return UserFactory(
        staff=True,
        email="reader@example.com",
        permissions=["wagtailadmin.access_admin", "wagtail_preferences.view_contact"],
    )


class TestListing:
    def test_the_list_shows_and_searches_messages(self, admin_client, promotions):
        MessageFactory(name="Spring news", subject="Fresh bread", category=promotions)
        MessageFactory(name="Autumn news", subject="Apples")

        html = admin_client.get(url("list")).content.decode()
        assert "Spring news" in html and "Autumn news" in html and "Promotions" in html
        assert "Preview as…" in html

        html = admin_client.get(url("list"), {"q": "bread"}).content.decode()
        assert "Spring news" in html and "Autumn news" not in html

    def test_messages_are_in_the_preference_center_menu(self, admin_client):
        html = admin_client.get(reverse("wagtailadmin_home")).content.decode()
        assert url("list") in html


class TestEditing:
    def test_creating_and_publishing_a_message(self, admin_client):
        response = admin_client.post(url("add"), form_data(**{"action-publish": "publish"}))

        assert response.status_code == 302
        message = Message.objects.get()
        assert message.live
        assert message.manage_sections == ["categories", "preferences"]
        assert message.revisions.count() == 1

    def test_saving_a_draft_keeps_the_live_version_and_adds_a_revision(self, admin_client):
        message = MessageFactory(subject="Old subject")
        message.save_revision().publish()

        response = admin_client.post(url("edit", message.pk), form_data(subject="New subject"))

        assert response.status_code == 302
        message.refresh_from_db()
        assert message.subject == "Old subject"
        assert message.has_unpublished_changes
        assert message.get_latest_revision_as_object().subject == "New subject"
        assert admin_client.get(url("history", message.pk)).status_code == 200
        assert admin_client.get(url("revisions_compare", message.pk, "earliest", "latest"))

    def test_the_sms_text_keeps_line_breaks_as_one_character(self, admin_client):
        admin_client.post(url("add"), form_data(sms_text="Fresh bread\r\nat 8"))

        assert Message.objects.get().sms_text == "Fresh bread\nat 8"

    def test_the_edit_form_has_tabs_the_sms_counter_and_preview_as(self, admin_client):
        message = MessageFactory()

        html = admin_client.get(url("edit", message.pk)).content.decode()

        for tab in ("Content", "SMS", "Settings"):
            assert f">{tab}<" in html or f"{tab}\n" in html, tab
        assert "data-wp-sms-counter" in html
        assert "wagtail_preferences/js/sms-counter.js" in html
        assert 'name="manage_sections" value="categories"' in html
        assert url("preview_as", message.pk) in html

    def test_the_preview_panel_renders_every_mode(self, admin_client):
        message = MessageFactory(sms_text="Hi {{ first_name }}")
        data = form_data(name=message.name, sms_text=message.sms_text)
        preview_url = url("preview_on_edit", message.pk)

        assert admin_client.post(preview_url, data).json()["is_valid"]

        for mode, expected in (("", "<!doctype html>"), ("text", "<pre"), ("sms", "Hi Alex")):
            response = admin_client.get(preview_url, {"mode": mode})
            assert response.status_code == 200
            assert expected in response.content.decode(), mode


class TestPreviewAs:
    def test_a_profile_sees_its_sections_in_html_and_text(self, admin_client, products):
        message = MessageFactory(body=[dynamic(preferences=[products])])
        query = {"visitor": "recognised", "preferences": [products.pk]}

        response = admin_client.get(url("preview_as", message.pk), query)

        html = response.content.decode()
        assert response.status_code == 200
        assert "MATCHED" in html  # the plain text beside the frames
        assert 'width="390"' in html and 'width="1280"' in html
        frame = admin_client.get(url("preview_as_html", message.pk), query)
        assert frame.status_code == 200
        assert "MATCHED" in frame.content.decode()
        assert frame["X-Frame-Options"] == "SAMEORIGIN"

    def test_a_contact_found_by_address_sees_their_message(self, admin_client, products):
        message = MessageFactory(body=[dynamic(preferences=[products])])
        ContactFactory(email="ann@example.com", first_name="Annemie", preferences=[products])
        query = {"visitor": "recognised", "email": "ANN@example.com"}

        html = admin_client.get(url("preview_as", message.pk), query).content.decode()

        assert "Hello Annemie" in html
        assert "MATCHED" in html

    def test_an_unknown_address_is_an_error(self, admin_client):
        message = MessageFactory()
        query = {"visitor": "recognised", "email": "nobody@example.com"}

        html = admin_client.get(url("preview_as", message.pk), query).content.decode()

        assert "No contact has this email address." in html

    def test_the_draft_is_previewed(self, admin_client):
        message = MessageFactory(subject="Live subject")
        message.subject = "Draft subject"
        message.save_revision()

        html = admin_client.get(url("preview_as", message.pk), {"visitor": "recognised"})

        assert "Draft subject" in html.content.decode()

    def test_users_who_may_not_edit_messages_see_no_preview(self, client, reader):
        message = MessageFactory()
        client.force_login(reader)

        frame = client.get(url("preview_as_html", message.pk), {"visitor": "recognised"})

        assert frame.status_code == 403
        assert client.get(url("preview_as", message.pk)).status_code in (302, 403)


class TestSendTest:
    def test_the_email_goes_to_the_editor_with_a_test_subject(self, client, editor, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        message = MessageFactory(subject="Hello {{ first_name }}")
        client.force_login(editor)
        query = "?visitor=recognised"

        response = client.post(url("send_test", message.pk) + query, follow=True)

        [sent] = mail.outbox
        assert sent.to == ["editor@example.com"]
        assert sent.subject == "[Test] Hello Alex"
        assert sent.alternatives[0][1] == "text/html"
        assert "The test was sent to editor@example.com." in response.content.decode()

    def test_a_failure_is_reported(self, admin_client, superuser, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        superuser.email = "broken\n@example.com"
        superuser.save()

        response = admin_client.post(
            url("send_test", MessageFactory().pk) + "?visitor=recognised", follow=True
        )

        assert "The test could not be sent" in response.content.decode()
        assert mail.outbox == []

    def test_sending_needs_the_permission_to_edit_messages(self, client, reader):
        client.force_login(reader)

        response = client.post(url("send_test", MessageFactory().pk) + "?visitor=recognised")

        assert response.status_code == 403
        assert mail.outbox == []

    def test_sending_needs_a_post(self, admin_client):
        response = admin_client.get(url("send_test", MessageFactory().pk))
        assert response.status_code == 405
