"""What a form submission stores, and in how many queries."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import segment_helpers as crit
from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory, SegmentFactory
from tests.submission_fixtures import CONSENT_TEXT, VISITOR_AGENT, VISITOR_IP, held, send
from tests.visitor_helpers import VisitorForm, form_page, form_value
from tests.visitors.submission_helpers import recognise
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    Contact,
    FormSubmission,
    SegmentInclusion,
)

pytestmark = pytest.mark.django_db


class TestRecords:
    def test_the_submission_keeps_the_consent_text_page_block_choices_and_origin(
        self, client, form, page, preference, category
    ):
        send(form, email="ada@example.com", first_name="Ada", preferences=[preference])

        submission = FormSubmission.objects.get()
        assert submission.consent_text == CONSENT_TEXT
        assert submission.page_id == page.pk
        assert submission.page_title == "Stay in touch"
        assert submission.form_label == "Sign up"
        assert submission.block_key == form.key
        assert submission.ip_address == VISITOR_IP
        assert submission.user_agent == VISITOR_AGENT
        assert submission.choices == {
            "details": {"first_name": "Ada", "last_name": ""},
            "preferences": [{"id": preference.pk, "name": "Products", "chosen": True}],
            "categories": [{"id": category.pk, "name": "Promotions", "chosen": False}],
            "segments": [],
        }

    def test_a_form_without_heading_is_named_after_its_page(self, client):
        form = VisitorForm.of(client, form_page(form_value(heading=""), title="Join us"))

        send(form)

        assert FormSubmission.objects.get().form_label == "Join us"

    def test_every_consent_event_names_the_form_and_carries_its_wording_and_origin(
        self, client, preference, category
    ):
        page = form_page(
            form_value(preferences=[preference], categories=[category], double_opt_in=False)
        )
        form = VisitorForm.of(client, page)

        send(form, email="ada@example.com", first_name="Ada", preferences=[preference])

        submission = FormSubmission.objects.get()
        events = list(ConsentEvent.objects.all())
        assert {(e.subject, e.field) for e in events} == {
            ("contact", "created"),
            ("contact", "first_name"),
            ("preference", "held"),
            ("category", "subscribed"),
            ("status", "status"),
        }
        for event in events:
            assert event.path == ChangePath.FORM
            assert event.wording == CONSENT_TEXT
            assert event.reference.startswith("form “Sign up” on page “Stay in touch”")
            assert event.ip_address == VISITOR_IP
            assert event.user_agent == VISITOR_AGENT
        assert {e.reference for e in events if e.field != "created"} == {submission.reference}

    def test_the_segments_of_the_block_get_the_contact_as_a_manual_member(self, client, caplog):
        broken = SegmentFactory(name="Broken", criteria=[crit.preferences("any")])
        working = SegmentFactory(name="Working")
        preference = PreferenceFactory()
        page = form_page(
            form_value(preferences=[preference], segments=[broken, working], double_opt_in=False)
        )
        form = VisitorForm.of(client, page)
        assert "Working" not in form.html

        with caplog.at_level(logging.WARNING):
            response = send(form, preferences=[preference])

        assert response.status_code == 303
        contact = Contact.objects.get()
        assert SegmentInclusion.objects.filter(contact=contact).count() == 1
        assert crit.member_ids(working) == {contact.pk}
        assert crit.member_ids(broken) == set()
        assert held(contact) == {preference.pk}
        assert any(
            "'Broken'" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
        )


class TestQueries:
    def queries(self, client, count, *, double_opt_in, email, segment):
        preferences = PreferenceFactory.create_batch(count)
        categories = CategoryFactory.create_batch(count)
        page = form_page(
            form_value(
                preferences=preferences,
                categories=categories,
                segments=[segment],
                double_opt_in=double_opt_in,
            ),
            title=f"Form {email}",
        )
        form = VisitorForm.of(client, page)
        with CaptureQueriesContext(connection) as queries:
            response = send(
                form,
                email=email,
                first_name="Ada",
                preferences=preferences[::2],
                categories=categories[::2],
            )
        assert response.status_code == 303
        return len(queries)

    @pytest.mark.parametrize("double_opt_in", [True, False])
    def test_a_submission_does_not_query_more_for_more_preferences(self, client, double_opt_in):
        segment = SegmentFactory()
        few = self.queries(
            client, 2, double_opt_in=double_opt_in, email="few@ex.com", segment=segment
        )
        many = self.queries(
            client, 12, double_opt_in=double_opt_in, email="many@ex.com", segment=segment
        )

        assert many == few

    def test_a_recognised_visitors_update_does_not_query_more_for_more_preferences(self, client):
        def queries(count):
            preferences = PreferenceFactory.create_batch(count)
            contact = ContactFactory(confirmed=True, preferences=preferences[1::2])
            recognise(client, contact)
            page = form_page(form_value(mode="update", preferences=preferences), title=f"U{count}")
            form = VisitorForm.of(client, page)
            with CaptureQueriesContext(connection) as captured:
                send(form, email=None, preferences=preferences[::2])
            assert held(contact) == {p.pk for p in preferences[::2]}
            return len(captured)

        assert queries(12) == queries(2)
