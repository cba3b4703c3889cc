"""What the form endpoint answers, and that the answer does not tell one address from another."""

import re

import pytest

from tests.factories import ContactFactory
from tests.submission_fixtures import send
from tests.visitor_helpers import VisitorForm, block_keys, form_page, form_value
from tests.visitors.submission_helpers import recognise, success_url
from wagtail_preferences.models import FormSubmission

pytestmark = pytest.mark.django_db


class TestNotRevealing:
    STATES = {
        "confirmed": {"confirmed": True},
        "unsubscribed": {"unsubscribed": True},
        "blocked": {"blocked": True},
        "pending": {},
    }

    @staticmethod
    def answer(form, email):
        response = send(form, email=email)
        followed = form.client.get(response["Location"])
        content = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", followed.content.decode())
        return response.status_code, response["Location"], followed.status_code, content

    @pytest.mark.parametrize("state", STATES)
    def test_a_known_address_gets_the_answer_a_new_one_gets(self, client, page, state):
        ContactFactory(email="known@example.com", preferences=[], **self.STATES[state])
        form = VisitorForm.of(client, page)

        new = self.answer(form, "new@example.com")
        known = self.answer(form, "known@example.com")

        assert new[0] == 303
        assert "Please check your inbox" in new[3]
        assert known == new


class TestSuccess:
    @pytest.fixture
    def page(self):
        return form_page(
            form_value(heading="First"),
            form_value(heading="Second", success_message="Welcome aboard, friend."),
        )

    def test_the_page_shows_the_success_message_for_the_sent_form_only(self, client, page):
        first = VisitorForm.of(client, page)

        response = send(first)
        followed = client.get(response["Location"])

        assert response.status_code == 303
        assert response["Location"] == success_url(page, first.key, "check_inbox")
        html = followed.content.decode()
        assert html.count('role="status"') == 1
        assert "Please check your inbox" in html
        forms = re.findall(r'<form class="wp-form".*?</form>', html, re.S)
        assert len(forms) == 1
        assert block_keys(page)[1] in forms[0]

    def test_an_editors_success_message_replaces_the_default(self, client, page):
        second = VisitorForm.of(client, page, index=1)

        followed = client.get(send(second)["Location"])

        html = followed.content.decode()
        assert "Welcome aboard, friend." in html
        assert "Please check your inbox" not in html

    def test_a_recognised_subscriber_is_told_where_to_see_all_they_receive(self, client, page):
        contact = ContactFactory(confirmed=True)
        recognise(client, contact)
        first = VisitorForm.of(client, page)

        followed = client.get(send(first, email=None)["Location"])

        html = followed.content.decode()
        assert "Thank you: your choices are saved." in html
        assert '<a href="/preferences/manage/">See all you receive</a>' in html

    def test_a_success_page_is_where_the_visitor_goes(self, client):
        thanks = form_page(title="Thank you")
        form = VisitorForm.of(client, form_page(form_value(success_page=thanks)))

        response = send(form)

        assert response.status_code == 303
        assert response["Location"] == thanks.url
        assert FormSubmission.objects.count() == 1

    def test_an_unpublished_success_page_is_not_where_the_visitor_goes(self, client):
        thanks = form_page(title="Thank you")
        page = form_page(form_value(success_page=thanks))
        thanks.unpublish()
        form = VisitorForm.of(client, page)

        response = send(form)

        assert response["Location"] == success_url(page, form.key, "check_inbox")
