"""The form endpoint against spam: honeypot, fill time and posts counted per address."""

import re

import pytest
import time_machine

from tests.factories import ContactFactory
from tests.submission_fixtures import send
from tests.visitor_helpers import SUBMIT_URL, VisitorForm, db_state, started_long_ago
from wagtail_preferences.models import FormSubmission

pytestmark = pytest.mark.django_db


class TestSpam:
    def test_a_filled_honeypot_gets_a_persons_answer_and_changes_nothing(
        self, client, page, mailoutbox
    ):
        form = VisitorForm.of(client, page)
        before = db_state()

        bot = send(form, email="bot@example.com", website="http://spam.example")

        assert db_state() == before
        assert mailoutbox == []
        person = send(form, email="person@example.com")
        assert (bot.status_code, bot["Location"]) == (person.status_code, person["Location"])
        assert bot.status_code == 303
        assert len(mailoutbox) == 1

    def test_a_form_sent_faster_than_a_person_can_is_shown_again(self, client, page, settings):
        settings.WAGTAIL_PREFERENCES = {"MIN_FILL_SECONDS": 30}
        form = VisitorForm.of(client, page)
        before = db_state()

        response = send(form, started=started_long_ago(10))

        assert response.status_code == 200
        assert "That was quick!" in response.content.decode()
        assert db_state() == before
        assert send(form, started=started_long_ago(31)).status_code == 303

    @pytest.mark.parametrize(
        "started", ["", "garbage", "MTc5NjE4NTQwOS40:1xYbsP:forged-signature-value"]
    )
    def test_a_changed_fill_time_is_refused(self, client, page, started):
        form = VisitorForm.of(client, page)
        before = db_state()

        response = send(form, started=started)

        assert response.status_code == 200
        assert "This form was open too long or was changed" in response.content.decode()
        assert db_state() == before

    def test_a_refused_fill_time_is_replaced_so_that_sending_again_succeeds(
        self, client, page, settings
    ):
        settings.WAGTAIL_PREFERENCES = {"MIN_FILL_SECONDS": 0}
        form = VisitorForm.of(client, page)

        refused = send(form, email="ada@example.com", started="garbage")
        shown = re.search(
            rf'name="{form.name("started")}" value="([^"]*)"', refused.content.decode()
        ).group(1)
        again = send(form, email="ada@example.com", started=shown)

        assert refused.status_code == 200
        assert shown != "garbage"
        assert again.status_code == 303
        assert FormSubmission.objects.count() == 1

    def test_a_form_sent_too_fast_keeps_its_fill_time_when_shown_again(
        self, client, page, settings
    ):
        settings.WAGTAIL_PREFERENCES = {"MIN_FILL_SECONDS": 30}
        form = VisitorForm.of(client, page)
        started = started_long_ago(10)

        response = send(form, started=started)

        assert f'name="{form.name("started")}" value="{started}"' in response.content.decode()

    def test_a_form_open_for_more_than_a_day_is_refused(self, client, page):
        with time_machine.travel("2030-01-01 12:00", tick=False):
            old = started_long_ago()
        form = VisitorForm.of(client, page)

        with time_machine.travel("2030-01-02 12:01", tick=False):
            response = send(form, started=old)

        assert response.status_code == 200
        assert "This form was open too long or was changed" in response.content.decode()
        assert not FormSubmission.objects.exists()


class TestRateLimits:
    def post_from(self, form, ip, email):
        return form.client.post(SUBMIT_URL, form.data(email=email), REMOTE_ADDR=ip)

    def test_too_many_posts_from_one_address_are_refused(self, client, page, settings):
        settings.WAGTAIL_PREFERENCES = {"RATE_LIMITS": {"form_per_ip": "2/hour"}}
        form = VisitorForm.of(client, page)

        statuses = [
            self.post_from(form, "192.0.2.1", f"person{n}@example.com").status_code
            for n in range(2)
        ]
        before = db_state()
        refused = self.post_from(form, "192.0.2.1", "person2@example.com")

        assert statuses == [303, 303]
        assert refused.status_code == 429
        assert "Too many attempts" in refused.content.decode()
        assert db_state() == before
        assert self.post_from(form, "192.0.2.2", "person3@example.com").status_code == 303

    @pytest.mark.parametrize("known", [True, False], ids=["known", "unknown"])
    def test_too_many_posts_for_one_email_address_are_refused(self, client, page, settings, known):
        settings.WAGTAIL_PREFERENCES = {"RATE_LIMITS": {"form_per_email": "2/hour"}}
        if known:
            ContactFactory(email="target@example.com", confirmed=True)
        form = VisitorForm.of(client, page)

        statuses = [
            self.post_from(form, f"192.0.2.{n}", email).status_code
            for n, email in enumerate(["target@example.com", "Target@Example.com"])
        ]
        before = db_state()
        refused = self.post_from(form, "192.0.2.9", " TARGET@example.com")

        assert statuses == [303, 303]
        assert refused.status_code == 429
        assert db_state() == before
        assert self.post_from(form, "192.0.2.9", "other@example.com").status_code == 303

    def test_known_and_unknown_addresses_count_alike(self, client, page, settings):
        settings.WAGTAIL_PREFERENCES = {"RATE_LIMITS": {"form_per_email": "3/hour"}}
        ContactFactory(email="known@example.com", confirmed=True)
        ContactFactory(email="blocked@example.com", blocked=True)
        form = VisitorForm.of(client, page)

        def statuses(email):
            return [self.post_from(form, "192.0.2.1", email).status_code for _ in range(4)]

        assert statuses("known@example.com") == [303, 303, 303, 429]
        assert statuses("blocked@example.com") == [303, 303, 303, 429]
        assert statuses("unknown@example.com") == [303, 303, 303, 429]
