"""The "Submitted a form" segment criterion: applied or confirmed submissions only."""

import datetime

import pytest
from django.utils import timezone

from tests.factories import ContactFactory, PreferenceFactory, SegmentFactory
from tests.segment_helpers import form_submitted as submitted
from tests.segment_helpers import fresh, matching_ids, member_ids
from tests.visitor_helpers import VisitorForm, form_page, form_value
from wagtail_preferences import services
from wagtail_preferences.models import ChangePath, FormSubmission, SubmissionStatus

pytestmark = pytest.mark.django_db


def submission(contact, page, status, *, days_ago=0):
    return FormSubmission.objects.create(
        contact=contact,
        page=page,
        page_title=page.title,
        status=status,
        created_at=timezone.now() - datetime.timedelta(days=days_ago),
    )


@pytest.fixture
def pages():
    return form_page(title="Sign up"), form_page(title="Webinar")


@pytest.fixture
def people(pages):
    signup, webinar = pages
    people = {name: ContactFactory() for name in ("applied", "confirmed", "pending", "webinar")}
    submission(people["applied"], signup, SubmissionStatus.APPLIED)
    submission(people["confirmed"], signup, SubmissionStatus.CONFIRMED, days_ago=40)
    submission(people["pending"], signup, SubmissionStatus.PENDING)
    submission(people["webinar"], webinar, SubmissionStatus.APPLIED)
    ContactFactory()  # never sent a form
    return people


def names(segment, people) -> set[str]:
    found = matching_ids(fresh(segment))
    return {name for name, contact in people.items() if contact.pk in found}


def test_a_page_matches_applied_and_confirmed_submissions_not_pending_ones(pages, people):
    segment = SegmentFactory(criteria=[submitted(pages[0])])
    assert names(segment, people) == {"applied", "confirmed"}


def test_no_page_means_a_form_on_any_page(people):
    assert names(SegmentFactory(criteria=[submitted()]), people) == {
        "applied",
        "confirmed",
        "webinar",
    }


def test_within_days_leaves_out_older_submissions(pages, people):
    segment = SegmentFactory(criteria=[submitted(pages[0], days=30)])
    assert names(segment, people) == {"applied"}


def test_a_deleted_page_makes_the_segment_invalid_instead_of_widening(pages, people):
    segment = SegmentFactory(criteria=[submitted(pages[1])])
    pages[1].delete()
    problems = fresh(segment).criteria_problems()
    assert problems == ["A page this criterion names has been deleted."]


def test_submitting_a_form_joins_the_segment_when_the_change_commits(
    client, django_capture_on_commit_callbacks
):
    products = PreferenceFactory(name="Products")
    page = form_page(form_value(preferences=[products], double_opt_in=False))
    segment = SegmentFactory(criteria=[submitted(page)])
    form = VisitorForm.of(client, page)
    with django_capture_on_commit_callbacks(execute=True):
        form.post(email="joiner@example.com", preferences=[products])
    contact = FormSubmission.objects.get().contact
    assert member_ids(segment) == {contact.pk}


def test_a_submission_that_changes_nothing_still_refreshes_the_segment(
    client, django_capture_on_commit_callbacks
):
    page = form_page(form_value(double_opt_in=False))
    known = ContactFactory(email="known@example.com", confirmed=True, first_name="K", last_name="N")
    segment = SegmentFactory(criteria=[submitted(page)])
    services.refresh_segment(segment, origin=services.Origin(path=ChangePath.SYSTEM))
    assert member_ids(segment) == set()
    form = VisitorForm.of(client, page)
    with django_capture_on_commit_callbacks(execute=True):
        form.post(email="known@example.com")
    assert member_ids(segment) == {known.pk}
