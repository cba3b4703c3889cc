"""Whether an address is known must not show in the answer to a visitor, nor in its timing.

The sign-up form and "email me a link" do the same work in the request for every address:
what differs (creating a contact, sending an email) runs after the response is sent, when the
server closes it. These tests serve requests as a WSGI server does (the handler's response
first, ``close()`` after it) and compare what happened before and after.
``bench/visitor_timing.py`` measures the times.
"""

import logging
import re

import pytest
from django.core import mail
from django.core.handlers.base import BaseHandler
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test import RequestFactory, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import ContactFactory
from tests.link_fixtures import link_request_data
from tests.task_backends import WORKER_BACKEND, default_backend, forget_backends, use_tasks
from tests.visitor_helpers import SUBMIT_URL, VisitorForm, form_page, manage_path
from wagtail_preferences import tasks
from wagtail_preferences.models import Contact, FormSubmission, SubmissionStatus

pytestmark = pytest.mark.django_db

UNKNOWN = "nobody.yet@example.com"
#: Contacts in every state an address can be in, besides unknown.
STATES = {
    "pending": {},
    "confirmed": {"confirmed": True},
    "unsubscribed": {"unsubscribed": True},
    "blocked": {"blocked": True},
}
LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")


@pytest.fixture(autouse=True)
def default_backends_after():
    yield
    forget_backends()


class Served:
    """One request served as a WSGI server serves it: the response, then ``close()``."""

    def __init__(self, request):
        handler = BaseHandler()
        handler.load_middleware()
        request._dont_enforce_csrf_checks = True
        sent = len(mail.outbox)
        # The test's transaction never commits: run what waits for a commit at once.
        with (
            TestCase.captureOnCommitCallbacks(execute=True) as self.on_commit,
            CaptureQueriesContext(connection) as in_request,
        ):
            self.response = handler.get_response(request)
        self.emails_before_close = len(mail.outbox) - sent
        # As Django's test client does: closing must not close the test's connection.
        request_finished.disconnect(close_old_connections)
        try:
            with (
                TestCase.captureOnCommitCallbacks(execute=True),
                CaptureQueriesContext(connection) as after,
            ):
                self.response.close()
        finally:
            request_finished.connect(close_old_connections)
        self.queries = [LITERALS.sub("?", query["sql"]) for query in in_request]
        self.queries_after = len(after)
        self.emails = mail.outbox[sent:]

    def answer(self) -> tuple:
        """What the visitor receives: status, headers (but the clock's) and body."""
        headers = {k: v for k, v in self.response.items() if k not in ("Date", "Expires")}
        return self.response.status_code, headers, self.response.content


@pytest.fixture
def sign_up(client):
    form = VisitorForm.of(client, form_page())

    def sign_up(email, **meta):
        request = RequestFactory().post(SUBMIT_URL, form.data(email=email), **meta)
        return Served(request)

    return sign_up


@pytest.fixture
def ask_for_link():
    def ask_for_link(email):
        request = RequestFactory().post(
            reverse("wagtail_preferences:request_link"), link_request_data(email)
        )
        return Served(request)

    return ask_for_link


class TestSignUp:
    @pytest.mark.parametrize("state", STATES)
    def test_the_request_does_the_same_for_a_known_and_an_unknown_address(self, sign_up, state):
        ContactFactory(email="known@example.com", **STATES[state])

        unknown, known = sign_up(UNKNOWN), sign_up("known@example.com")

        assert known.answer() == unknown.answer()
        assert known.answer()[0] == 303
        assert known.queries == unknown.queries
        assert known.emails_before_close == unknown.emails_before_close == 0
        assert known.on_commit == unknown.on_commit == []

    def test_the_work_is_done_after_the_response(self, sign_up):
        served = sign_up(UNKNOWN)

        assert served.queries_after > 0
        submission = FormSubmission.objects.select_related("contact").get()
        assert submission.contact.email == UNKNOWN
        assert submission.status == SubmissionStatus.PENDING
        assert [message.to for message in served.emails] == [[UNKNOWN]]

    @pytest.mark.parametrize("state", ["confirmed", "unsubscribed"])
    def test_a_known_address_gets_its_confirmation_email_after_the_response(self, sign_up, state):
        contact = ContactFactory(email="known@example.com", **STATES[state])

        served = sign_up("known@example.com")

        assert FormSubmission.objects.get().contact == contact
        assert [message.to for message in served.emails] == [["known@example.com"]]

    def test_a_blocked_address_gets_nothing(self, sign_up):
        ContactFactory(email="known@example.com", blocked=True)

        served = sign_up("known@example.com")

        assert served.emails == []
        assert FormSubmission.objects.get().status == SubmissionStatus.IGNORED

    def test_with_a_worker_backend_the_task_is_enqueued_after_the_response(self, sign_up, settings):
        ContactFactory(email="known@example.com", confirmed=True)
        use_tasks(settings, WORKER_BACKEND)
        backend = default_backend()

        unknown = sign_up(UNKNOWN)
        enqueued = list(backend.results)
        known = sign_up("known@example.com")

        assert known.answer() == unknown.answer()
        assert known.queries == unknown.queries
        assert [result.task for result in backend.results] == [tasks.record_form_submission] * 2
        assert enqueued[0].args[0]["email"] == UNKNOWN
        assert not FormSubmission.objects.exists()  # until a worker runs the tasks

    def test_the_contacts_own_address_is_recorded_in_the_request(self, client):
        contact = ContactFactory(email="known@example.com", confirmed=True)
        client.get(manage_path(contact))  # recognised from now on
        page = form_page(double_opt_in=False)
        form = VisitorForm.of(client, page)
        request = RequestFactory().post(SUBMIT_URL, form.data(email="Known@Example.com"))
        request.COOKIES.update({k: v.value for k, v in client.cookies.items()})

        served = Served(request)

        assert "wp-result=saved" in served.response["Location"]
        assert served.queries_after == 0
        assert FormSubmission.objects.get().status == SubmissionStatus.APPLIED

    def test_a_recognised_visitor_sending_another_address_learns_nothing(self, client):
        # Not yet confirmed: a confirmed subscriber is offered their own update form instead.
        contact = ContactFactory(email="me@example.com")
        ContactFactory(email="known@example.com", confirmed=True)
        client.get(manage_path(contact))
        form = VisitorForm.of(client, form_page(double_opt_in=False))
        cookies = {k: v.value for k, v in client.cookies.items()}

        def sign_up(email):
            request = RequestFactory().post(SUBMIT_URL, form.data(email=email))
            request.COOKIES.update(cookies)
            return Served(request)

        unknown, known = sign_up(UNKNOWN), sign_up("known@example.com")

        assert known.answer() == unknown.answer()
        assert "wp-result=thanks" in known.response["Location"]
        assert known.queries == unknown.queries
        assert Contact.objects.filter(email=UNKNOWN).exists()


class TestLinkRequest:
    @pytest.mark.parametrize("state", STATES)
    def test_the_request_does_the_same_for_a_known_and_an_unknown_address(
        self, ask_for_link, state
    ):
        ContactFactory(email="known@example.com", **STATES[state])

        unknown, known = ask_for_link(UNKNOWN), ask_for_link("known@example.com")

        assert known.answer() == unknown.answer()
        assert known.answer()[0] == 200
        assert known.queries == unknown.queries
        assert known.emails_before_close == unknown.emails_before_close == 0
        assert known.on_commit == unknown.on_commit == []

    def test_a_known_address_gets_its_link_after_the_response(self, ask_for_link):
        ContactFactory(email="known@example.com", confirmed=True)

        unknown, known = ask_for_link(UNKNOWN), ask_for_link("known@example.com")

        assert unknown.emails == []
        assert [message.to for message in known.emails] == [["known@example.com"]]
        assert "/preferences/manage/" in known.emails[0].body

    def test_with_a_worker_backend_the_task_is_enqueued_after_the_response(
        self, ask_for_link, settings
    ):
        use_tasks(settings, WORKER_BACKEND)
        backend = default_backend()

        served = ask_for_link(UNKNOWN)

        assert served.answer()[0] == 200
        (result,) = backend.results
        assert result.task == tasks.send_manage_link_email
        assert result.args[0] == UNKNOWN

    def test_a_task_that_cannot_be_enqueued_is_logged(self, ask_for_link, monkeypatch, caplog):
        def refuse(*args, **kwargs):
            raise ConnectionError("the queue is down")

        monkeypatch.setattr(type(default_backend()), "enqueue", refuse)

        with caplog.at_level(logging.ERROR, logger="wagtail_preferences.tasks"):
            served = ask_for_link(UNKNOWN)

        assert served.answer()[0] == 200
        assert "Could not enqueue" in caplog.text
        assert "the queue is down" in caplog.text
