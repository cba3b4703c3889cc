"""The double opt-in link: opening it changes nothing, its button confirms, once."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactFactory,
)
from tests.link_fixtures import (
    PRIVATE_REFERRER_POLICIES,
    events_of,
)
from tests.visitor_helpers import VisitorForm, confirmation_path, db_state, form_page
from wagtail_preferences import services
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import (
    ChangePath,
    Contact,
    ContactStatus,
    FormSubmission,
    SubmissionStatus,
)

pytestmark = pytest.mark.django_db

COOKIE = "wagtail_preferences"
CONFIRM_BUTTON = '<button type="submit" class="wp-button">Confirm</button>'
RESEND_BUTTON = "Send me a new confirmation link"


@pytest.fixture
def page(products, events, promotions):
    return form_page(preferences=[products, events], categories=[promotions])


@pytest.fixture
def subscribe(client, page, mailoutbox, django_capture_on_commit_callbacks):
    """Send the page's form as a visitor; returns the path of the confirmation link mailed."""

    def subscribe(email="ann@example.com", **choices):
        sent = len(mailoutbox)
        with django_capture_on_commit_callbacks(execute=True):
            response = VisitorForm.of(client, page).post(email=email, **choices)
        assert response.status_code == 303, response.status_code
        assert len(mailoutbox) == sent + 1
        return confirmation_path(mailoutbox[-1])

    return subscribe


def submission_of(path) -> FormSubmission:
    return tokens.submission_from_token(path.rstrip("/").rsplit("/", 1)[1])


def resend_path(path) -> str:
    return path + "resend/"


def expired():
    return time_machine.travel(timezone.now() + timedelta(days=7, minutes=1), tick=False)


class TestOpening:
    def test_opening_the_link_several_times_changes_nothing(self, client, subscribe, products):
        path = subscribe(preferences=[products])
        before = db_state()

        for _ in range(3):
            response = Client().get(path)
            assert response.status_code == 200

        assert db_state() == before
        assert Contact.objects.get().status == ContactStatus.PENDING
        assert not Contact.objects.get().preference_holdings.exists()

    def test_the_page_shows_what_was_asked_and_a_confirm_button(
        self, subscribe, products, promotions
    ):
        path = subscribe(preferences=[products], categories=[promotions])

        response = Client().get(path)

        html = response.content.decode()
        assert CONFIRM_BUTTON in html
        assert '<form method="post">' in html
        assert "<strong>ann@example.com</strong>" in html
        assert "<li>Products</li>" in html
        assert "<li>Promotions</li>" in html
        assert "<li>Events</li>" not in html
        assert "I agree to receive the emails I chose." in html

    def test_a_new_contact_sees_what_they_will_and_will_not_receive(
        self, client, products, promotions, mailoutbox, django_capture_on_commit_callbacks
    ):
        invitations = CategoryFactory(name="Event invitations")
        page = form_page(
            preferences=[products],
            categories=[promotions, invitations],
            ticked_categories=[invitations],
        )
        with django_capture_on_commit_callbacks(execute=True):
            VisitorForm.of(client, page).post(preferences=[products], categories=[invitations])

        html = Client().get(confirmation_path(mailoutbox[0])).content.decode()

        assert re.search(r"You are interested in</h2>\s*<ul><li>Products</li></ul>", html)
        assert re.search(r"We will send you</h2>\s*<ul><li>Event invitations</li></ul>", html)
        assert re.search(r"We will not send you</h2>\s*<ul><li>Promotions</li></ul>", html)
        assert "Your other choices stay as they were." not in html

    def test_an_existing_contact_is_told_their_other_choices_stay(self, subscribe, promotions):
        ContactFactory(email="ann@example.com", confirmed=True)

        html = Client().get(subscribe()).content.decode()

        assert "We will not send you" not in html
        assert "Your other choices stay as they were." in html

    def test_opening_the_link_sets_no_cookie_and_is_private(self, subscribe):
        response = Client().get(subscribe())

        assert COOKIE not in response.cookies
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        assert response["Referrer-Policy"] in PRIVATE_REFERRER_POLICIES

    def test_a_head_request_changes_nothing(self, subscribe):
        path = subscribe()
        before = db_state()

        Client().head(path)

        assert db_state() == before


class TestConfirming:
    def test_the_button_applies_the_choices_and_confirms_the_contact(
        self, subscribe, products, events, promotions
    ):
        path = subscribe(preferences=[products], first_name="Ann")

        response = Client().post(path)

        contact = Contact.objects.get()
        assert contact.status == ContactStatus.CONFIRMED
        assert contact.first_name == "Ann"
        assert set(contact.preferences.all()) == {products}
        assert contact.category_choices.get(category=promotions).subscribed is False
        assert response.status_code == 302

    def test_confirming_records_when_and_from_where(self, subscribe):
        path = subscribe()
        before = timezone.now()

        Client(REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT="Mail reader").post(path)

        submission = FormSubmission.objects.get()
        assert submission.status == SubmissionStatus.CONFIRMED
        assert before <= submission.confirmed_at <= timezone.now()
        assert submission.confirmation_ip == "203.0.113.5"
        assert submission.confirmation_user_agent == "Mail reader"

    def test_the_consent_events_name_the_confirmed_submission(self, subscribe, products):
        path = subscribe(preferences=[products])

        Client(REMOTE_ADDR="203.0.113.5").post(path)

        submission = FormSubmission.objects.get()
        contact_events = events_of(submission.contact).exclude(field="created")
        assert contact_events.exists()
        assert set(contact_events.values_list("path", flat=True)) == {ChangePath.FORM}
        assert set(contact_events.values_list("reference", flat=True)) == {
            f"{submission.reference}, confirmed"
        }
        assert set(contact_events.values_list("ip_address", flat=True)) == {"203.0.113.5"}
        assert set(contact_events.values_list("wording", flat=True)) == {
            "I agree to receive the emails I chose."
        }

    def test_confirming_redirects_to_the_manage_page(self, subscribe):
        client = Client()

        response = client.post(subscribe())

        contact = Contact.objects.get()
        location, query = response["Location"].split("?")
        assert query == "welcome=confirmed"
        assert location.startswith("/preferences/manage/")
        assert tokens.contact_from_token(location.split("/")[-2]) == contact
        page = client.get(response["Location"])
        assert page.status_code == 200
        assert "your subscription is confirmed" in page.content.decode()

    def test_confirming_remembers_the_visitor(self, subscribe):
        response = Client().post(subscribe())

        cookie = response.cookies[COOKIE]
        contact = Contact.objects.get()
        assert tokens.contact_from_token(cookie.value, purpose="cookie") == contact
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        assert not cookie["secure"]

    def test_the_cookie_is_secure_when_confirmed_over_https(self, subscribe):
        response = Client().post(subscribe(), secure=True)

        assert response.cookies[COOKIE]["secure"] is True

    def test_a_browser_confirms_with_the_csrf_token_of_the_page(self, subscribe):
        path = subscribe()
        browser = Client(enforce_csrf_checks=True)
        page = browser.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())

        refused = browser.post(path)
        assert refused.status_code == 403
        assert Contact.objects.get().status == ContactStatus.PENDING

        response = browser.post(path, {"csrfmiddlewaretoken": token.group(1)})
        assert response.status_code == 302
        assert Contact.objects.get().status == ContactStatus.CONFIRMED

    def test_a_replayed_confirmation_changes_nothing_more(self, subscribe, products):
        path = subscribe(preferences=[products])
        Client().post(path)
        before = db_state()

        response = Client().post(path)

        assert db_state() == before
        assert response.status_code == 302
        location = response["Location"].split("?")[0]
        assert tokens.contact_from_token(location.split("/")[-2]) == Contact.objects.get()

    def test_an_opened_confirmed_link_says_so(self, subscribe):
        path = subscribe()
        Client().post(path)

        response = Client().get(path)

        html = response.content.decode()
        assert "already confirmed" in html
        assert CONFIRM_BUTTON not in html

    def test_an_existing_contact_confirming_only_adds(self, subscribe, products, events):
        contact = ContactFactory(email="ann@example.com", confirmed=True, preferences=[events])

        Client().post(subscribe(preferences=[products]))

        assert set(contact.preferences.all()) == {products, events}

    def test_an_opted_out_category_stays_opted_out_unless_ticked(self, subscribe, promotions):
        contact = ContactFactory(email="ann@example.com", confirmed=True)
        CategoryChoiceFactory(contact=contact, category=promotions, subscribed=False)

        Client().post(subscribe())

        assert contact.category_choices.get(category=promotions).subscribed is False


class TestBadLinks:
    def tampered(self, path):
        token = path.rstrip("/").rsplit("/", 1)[1]
        return reverse("wagtail_preferences:confirm", args=[token[:-3] + "xyz"])

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_a_tampered_link_shows_a_400_page_offering_a_new_link(self, subscribe, method):
        path = self.tampered(subscribe())
        before = db_state()

        response = getattr(Client(), method)(path)

        assert response.status_code == 400
        html = response.content.decode()
        assert "This link is not valid" in html
        assert 'action="/preferences/link/"' in html
        assert "Email me a link" in html
        assert db_state() == before
        assert COOKIE not in response.cookies

    def test_a_link_of_a_deleted_submission_is_invalid(self, subscribe):
        path = subscribe()
        FormSubmission.objects.all().delete()

        assert Client().get(path).status_code == 400

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_an_expired_link_shows_a_410_page_offering_a_new_confirmation_link(
        self, subscribe, method
    ):
        path = subscribe()
        before = db_state()

        with expired():
            response = getattr(Client(), method)(path)

        assert response.status_code == 410
        html = response.content.decode()
        assert RESEND_BUTTON in html
        assert f'action="{resend_path(path)}"' in html
        assert db_state() == before
        assert Contact.objects.get().status == ContactStatus.PENDING

    def test_an_expired_link_of_a_confirmed_submission_offers_a_manage_link(self, subscribe):
        path = subscribe()
        Client().post(path)

        with expired():
            response = Client().get(path)

        assert response.status_code == 410
        html = response.content.decode()
        assert RESEND_BUTTON not in html
        assert "Email me a link" in html

    def test_an_expired_link_of_a_deleted_submission_is_invalid(self, subscribe):
        path = subscribe()
        FormSubmission.objects.all().delete()

        with expired():
            response = Client().get(path)

        assert response.status_code == 400

    def test_a_link_works_until_it_expires(self, subscribe):
        path = subscribe()

        with time_machine.travel(timezone.now() + timedelta(days=6, hours=23), tick=False):
            response = Client().post(path)

        assert response.status_code == 302
        assert Contact.objects.get().status == ContactStatus.CONFIRMED


class TestResending:
    @pytest.fixture
    def resend(self, django_capture_on_commit_callbacks):
        def resend(path, client=None, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return (client or Client()).post(resend_path(path), **kwargs)

        return resend

    def test_resending_an_expired_link_mails_a_new_one_that_works(
        self, subscribe, resend, mailoutbox, products
    ):
        path = subscribe(preferences=[products])

        with expired():
            response = resend(path)
            assert response.status_code == 200
            assert "Check your inbox" in response.content.decode()
            assert len(mailoutbox) == 2
            assert mailoutbox[-1].to == ["ann@example.com"]
            new_path = confirmation_path(mailoutbox[-1])
            assert new_path != path
            confirmed = Client().post(new_path)

        assert confirmed.status_code == 302
        contact = Contact.objects.get()
        assert contact.status == ContactStatus.CONFIRMED
        assert set(contact.preferences.all()) == {products}

    def test_resending_changes_no_contact(self, subscribe, resend):
        path = subscribe()
        before = db_state()

        resend(path)

        after = db_state()
        assert after["contacts"] == before["contacts"]
        assert after["events"] == before["events"]

    def test_a_submission_gets_at_most_the_configured_number_of_emails(
        self, subscribe, resend, mailoutbox, settings
    ):
        settings.WAGTAIL_PREFERENCES = {
            "CONFIRMATION_EMAILS_PER_SUBMISSION": 3,
            "RATE_LIMITS": {"link_per_email": "100/hour", "link_per_ip": "100/hour"},
        }
        path = subscribe()

        responses = [resend(path) for _ in range(4)]

        assert [r.status_code for r in responses] == [200] * 4
        assert len(mailoutbox) == 3
        assert FormSubmission.objects.get().confirmation_emails_sent == 3

    def test_the_answer_is_the_same_once_the_limit_is_reached(self, subscribe, resend, settings):
        settings.WAGTAIL_PREFERENCES = {"CONFIRMATION_EMAILS_PER_SUBMISSION": 2}
        path = subscribe()

        sent, not_sent = resend(path), resend(path)

        assert not_sent.status_code == sent.status_code == 200
        assert not_sent.content == sent.content

    def test_resending_is_rate_limited_per_email_address(self, subscribe, resend, mailoutbox):
        path = subscribe()

        responses = [resend(path, client=Client(REMOTE_ADDR=f"192.0.2.{i}")) for i in range(4)]

        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        assert "Too many attempts" in responses[-1].content.decode()
        assert len(mailoutbox) == 3  # the first email and two resent: the submission's limit

    def test_resending_is_rate_limited_per_ip_address(
        self, subscribe, resend, settings, mailoutbox
    ):
        settings.WAGTAIL_PREFERENCES = {"RATE_LIMITS": {"link_per_ip": "2/hour"}}
        paths = [subscribe(f"person{i}@example.com") for i in range(3)]
        mails = len(mailoutbox)

        responses = [resend(path) for path in paths]

        assert [r.status_code for r in responses] == [200, 200, 429]
        assert len(mailoutbox) == mails + 2
        assert "person2@example.com" not in {m.to[0] for m in mailoutbox[mails:]}

    def test_the_rate_limit_resets_after_its_period(self, subscribe, resend, settings):
        settings.WAGTAIL_PREFERENCES = {"RATE_LIMITS": {"link_per_email": "1/hour"}}
        path = subscribe()
        assert resend(path).status_code == 200
        assert resend(path).status_code == 429

        with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1), tick=False):
            assert resend(path).status_code == 200

    def test_resending_a_confirmed_submission_sends_nothing(self, subscribe, resend, mailoutbox):
        path = subscribe()
        Client().post(path)

        response = resend(path)

        assert response.status_code == 200
        assert len(mailoutbox) == 1

    def test_resending_for_a_contact_blocked_meanwhile_sends_nothing(
        self, subscribe, resend, mailoutbox
    ):
        path = subscribe()
        services.set_status(
            Contact.objects.get(), ContactStatus.BLOCKED, services.Origin(path=ChangePath.ADMIN)
        )
        before = db_state()

        response = resend(path)

        assert response.status_code == 200
        assert "Check your inbox" in response.content.decode()
        assert len(mailoutbox) == 1
        assert db_state() == before

    def test_resending_needs_a_post(self, subscribe, mailoutbox):
        response = Client().get(resend_path(subscribe()))

        assert response.status_code == 405
        assert len(mailoutbox) == 1

    def test_resending_with_a_tampered_link_is_refused(self, subscribe, resend, mailoutbox):
        path = subscribe()
        token = path.rstrip("/").rsplit("/", 1)[1]

        response = resend(reverse("wagtail_preferences:confirm", args=[token[:-2]]))

        assert response.status_code == 400
        assert len(mailoutbox) == 1


class TestContactStatus:
    def test_an_unsubscribed_contact_becomes_subscribed_only_by_confirming(
        self, subscribe, products
    ):
        contact = ContactFactory(email="ann@example.com", unsubscribed=True)

        path = subscribe(preferences=[products])

        contact.refresh_from_db()
        assert contact.status == ContactStatus.UNSUBSCRIBED
        assert not contact.preference_holdings.exists()

        Client().post(path)

        contact.refresh_from_db()
        assert contact.status == ContactStatus.CONFIRMED
        assert set(contact.preferences.all()) == {products}

    def test_an_unsubscribed_contact_must_confirm_even_without_double_opt_in(
        self, client, products, mailoutbox, django_capture_on_commit_callbacks
    ):
        page = form_page(title="Quick", preferences=[products], double_opt_in=False)
        contact = ContactFactory(email="ann@example.com", unsubscribed=True)

        with django_capture_on_commit_callbacks(execute=True):
            VisitorForm.of(client, page).post(email="ann@example.com", preferences=[products])

        contact.refresh_from_db()
        assert contact.status == ContactStatus.UNSUBSCRIBED
        assert len(mailoutbox) == 1
        Client().post(confirmation_path(mailoutbox[0]))
        contact.refresh_from_db()
        assert contact.status == ContactStatus.CONFIRMED

    def test_a_contact_blocked_meanwhile_is_not_changed_by_confirming(self, subscribe, products):
        path = subscribe(preferences=[products])
        contact = Contact.objects.get()
        services.set_status(contact, ContactStatus.BLOCKED, services.Origin(path=ChangePath.ADMIN))
        before = db_state()

        response = Client().post(path)

        after = db_state()
        assert after["contacts"] == before["contacts"]
        assert after["preferences"] == before["preferences"] == []
        assert after["events"] == before["events"]
        assert FormSubmission.objects.get().status == SubmissionStatus.IGNORED
        assert response.status_code == 200
        assert "We have received your confirmation." in response.content.decode()
        assert COOKIE not in response.cookies

    def test_a_blocked_contacts_submission_asks_for_no_confirmation(
        self, client, page, mailoutbox, django_capture_on_commit_callbacks
    ):
        ContactFactory(email="ann@example.com", blocked=True)

        with django_capture_on_commit_callbacks(execute=True):
            response = VisitorForm.of(client, page).post(email="ann@example.com")

        assert response.status_code == 303
        assert mailoutbox == []
        assert FormSubmission.objects.get().status == SubmissionStatus.IGNORED
