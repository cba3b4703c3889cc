"""The question after an unsubscribe: why the contact is leaving."""

import pytest
from django.test import Client

from tests.link_fixtures import page_settings, unsubscribe_url
from tests.visitors import unsubscribe_helpers
from tests.visitors.unsubscribe_helpers import one_click, status_of
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import ContactStatus, LeavingReason, UnsubscribeReason

pytestmark = pytest.mark.django_db

#: The contact who unsubscribes, in place of the manage page's of ``conftest.py``.
contact = unsubscribe_helpers.contact


def reason_url(contact, scope=None) -> str:
    return unsubscribe_url(contact, scope) + "reason/"


class TestLeavingReason:
    def test_the_question_comes_after_the_unsubscribe(self, contact):
        html = Client().post(unsubscribe_url(contact)).content.decode()

        assert status_of(contact) == ContactStatus.UNSUBSCRIBED
        action = html.split('class="wp-form wp-reason" method="post" action="', 1)[1]
        token = action.split('"', 1)[0].removeprefix("/preferences/unsubscribe/")
        assert token.endswith("/reason/")
        assert tokens.unsubscribe_from_token(token.removesuffix("/reason/"))[0] == contact
        assert "Why are you leaving?" in html
        assert 'name="csrfmiddlewaretoken"' in html

    def test_the_question_is_not_asked_before(self, contact):
        for on_unsubscribe in (False, True):
            page_settings(on_unsubscribe=on_unsubscribe)
            assert (
                "Why are you leaving?"
                not in Client().get(unsubscribe_url(contact)).content.decode()
            )

    def test_an_answer_is_kept_and_thanked(self, contact):
        path = unsubscribe_url(contact)
        browser = Client(enforce_csrf_checks=True)
        page = browser.post(path).content.decode()
        csrf = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        data = {"csrfmiddlewaretoken": csrf, "reason": "too_many", "comment": "  Daily is a lot. "}

        response = browser.post(path + "reason/", data)

        assert response.status_code == 302
        assert response["Location"] == f"{path}?answered=1"
        answer = UnsubscribeReason.objects.get()
        assert (answer.contact, answer.reason, answer.comment) == (
            contact,
            LeavingReason.TOO_MANY,
            "Daily is a lot.",
        )
        html = browser.get(response["Location"]).content.decode()
        assert "Thank you for your answer." in html

    def test_the_answer_needs_a_csrf_token(self, contact):
        Client().post(unsubscribe_url(contact))

        response = Client(enforce_csrf_checks=True).post(reason_url(contact), {"reason": "other"})

        assert response.status_code == 403
        assert not UnsubscribeReason.objects.exists()

    def test_a_later_answer_replaces_the_earlier(self, contact):
        Client().post(unsubscribe_url(contact))
        Client().post(reason_url(contact), {"reason": "other", "comment": "First"})

        Client().post(reason_url(contact), {"reason": "not_relevant"})

        answer = UnsubscribeReason.objects.get()
        assert (answer.reason, answer.comment) == ("not_relevant", "")

    @pytest.mark.parametrize(
        "data",
        [{}, {"reason": "bored"}, {"reason": "other", "comment": "x" * 501}],
        ids=["no-reason", "unknown-reason", "comment-too-long"],
    )
    def test_a_wrong_answer_is_refused_with_the_form_again(self, contact, data):
        Client().post(unsubscribe_url(contact))

        response = Client().post(reason_url(contact), data)

        assert response.status_code == 400
        assert "There is a problem" in response.content.decode()
        assert not UnsubscribeReason.objects.exists()
        assert status_of(contact) == ContactStatus.UNSUBSCRIBED

    def test_a_too_long_comment_is_marked_on_its_field(self, contact):
        Client().post(unsubscribe_url(contact))

        html = Client().post(reason_url(contact), {"reason": "other", "comment": "x" * 501})
        html = html.content.decode()

        assert '<a href="#id_comment">' in html
        assert 'aria-invalid="true"' in html
        assert 'aria-describedby="id_comment-error"' in html
        assert 'maxlength="500"' in html

    def test_a_contact_who_has_not_left_cannot_answer(self, contact):
        path = unsubscribe_url(contact)

        response = Client().post(path + "reason/", {"reason": "other"})

        assert response.status_code == 302
        assert response["Location"] == path
        assert not UnsubscribeReason.objects.exists()

    def test_a_bad_link_cannot_answer(self, contact):
        response = Client().post("/preferences/unsubscribe/garbage/reason/", {"reason": "other"})

        assert response.status_code == 400
        assert not UnsubscribeReason.objects.exists()

    def test_a_site_may_turn_the_question_off(self, contact):
        site_settings = page_settings()
        site_settings.ask_unsubscribe_reason = False
        site_settings.save()

        html = Client().post(unsubscribe_url(contact)).content.decode()
        response = Client().post(reason_url(contact), {"reason": "other"})

        assert "Why are you leaving?" not in html
        assert "You will no longer receive our marketing messages." in html
        assert response.status_code == 404
        assert not UnsubscribeReason.objects.exists()

    def test_the_setting_decides_for_new_sites(self, contact, settings):
        settings.WAGTAIL_PREFERENCES = {"ASK_UNSUBSCRIBE_REASON": False}

        html = Client().post(unsubscribe_url(contact)).content.decode()

        assert "Why are you leaving?" not in html

    def test_one_click_asks_nothing(self, contact):
        response = one_click(unsubscribe_url(contact))

        assert response.content == b"You are unsubscribed."

    def test_deleting_the_contact_deletes_the_answer(self, contact):
        Client().post(unsubscribe_url(contact))
        Client().post(reason_url(contact), {"reason": "other", "comment": "I am Ann"})

        contact.delete()

        assert not UnsubscribeReason.objects.exists()
