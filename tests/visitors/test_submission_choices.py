"""What a form submission changes: choices that wait for confirmation or apply at once."""

import re

import pytest

from tests.factories import CategoryFactory, ContactFactory, PreferenceFactory, UserFactory
from tests.submission_fixtures import category_choices, held, send
from tests.visitor_helpers import VisitorForm, confirmation_path, form_page, form_value
from tests.visitors.submission_helpers import recognise, success_url
from wagtail_preferences import signals
from wagtail_preferences.models import Contact, ContactStatus, FormSubmission, SubmissionStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted():
    """Submissions the ``form_submitted`` signal was sent for, by pk."""
    sent = []

    def receiver(submission, **kwargs):
        sent.append(submission.pk)

    signals.form_submitted.connect(receiver)
    yield sent
    signals.form_submitted.disconnect(receiver)


class TestDoubleOptIn:
    def test_the_choices_wait_for_the_confirmation_link(
        self, client, form, page, preference, category, mailoutbox, submitted
    ):
        response = send(form, email="Ada@Example.com", first_name="Ada", preferences=[preference])

        assert response.status_code == 303
        assert response["Location"] == success_url(page, form.key, "check_inbox")
        submission = FormSubmission.objects.get()
        contact = Contact.objects.get()
        assert submission.status == SubmissionStatus.PENDING
        assert submission.contact == contact
        assert contact.email == "ada@example.com"
        assert contact.status == ContactStatus.PENDING
        assert contact.first_name == ""
        assert held(contact) == set()
        assert category_choices(contact) == {}
        assert len(mailoutbox) == 1
        assert mailoutbox[0].to == ["ada@example.com"]
        assert submitted == []

        path = confirmation_path(mailoutbox[0])
        assert client.get(path).status_code == 200
        assert held(contact) == set()
        confirmed = client.post(path, REMOTE_ADDR="198.51.100.3")

        assert confirmed.status_code == 302
        contact.refresh_from_db()
        assert contact.status == ContactStatus.CONFIRMED
        assert contact.first_name == "Ada"
        assert held(contact) == {preference.pk}
        assert category_choices(contact) == {category.pk: False}
        submission.refresh_from_db()
        assert submission.status == SubmissionStatus.CONFIRMED
        assert submission.confirmed_at is not None
        assert submission.confirmation_ip == "198.51.100.3"
        assert submitted == [submission.pk]

    def test_a_blocked_address_gets_no_email(self, client, form, mailoutbox):
        contact = ContactFactory(email="blocked@example.com", blocked=True)

        send(form, email="blocked@example.com")

        assert mailoutbox == []
        assert FormSubmission.objects.get().status == SubmissionStatus.IGNORED
        assert Contact.objects.get() == contact

    def test_without_double_opt_in_the_choices_apply_at_once(
        self, client, preference, category, mailoutbox, submitted
    ):
        page = form_page(
            form_value(preferences=[preference], categories=[category], double_opt_in=False)
        )
        form = VisitorForm.of(client, page)

        response = send(
            form, email="ada@example.com", preferences=[preference], categories=[category]
        )

        assert response["Location"] == success_url(page, form.key, "thanks")
        contact = Contact.objects.get()
        assert contact.status == ContactStatus.CONFIRMED
        assert held(contact) == {preference.pk}
        assert category_choices(contact) == {category.pk: True}
        submission = FormSubmission.objects.get()
        assert submission.status == SubmissionStatus.APPLIED
        assert mailoutbox == []
        assert submitted == [submission.pk]

    def test_an_unsubscribed_address_needs_confirming_even_without_double_opt_in(
        self, client, preference, mailoutbox
    ):
        contact = ContactFactory(email="gone@example.com", unsubscribed=True)
        form = VisitorForm.of(
            client, form_page(form_value(preferences=[preference], double_opt_in=False))
        )

        response = send(form, email="gone@example.com", preferences=[preference])

        assert response.status_code == 303
        contact.refresh_from_db()
        assert contact.status == ContactStatus.UNSUBSCRIBED
        assert held(contact) == set()
        assert len(mailoutbox) == 1
        client.post(confirmation_path(mailoutbox[0]))
        contact.refresh_from_db()
        assert contact.status == ContactStatus.CONFIRMED
        assert held(contact) == {preference.pk}


class TestRecognisedVisitor:
    @pytest.fixture
    def kept(self):
        return PreferenceFactory()

    @pytest.fixture
    def contact(self, preference, category):
        return ContactFactory(confirmed=True, preferences=[preference])

    def update_form(self, client, preference, category, kept=None):
        offered = [preference, kept] if kept else [preference]
        page = form_page(form_value(mode="update", preferences=offered, categories=[category]))
        return VisitorForm.of(client, page)

    @pytest.mark.parametrize("by", ["cookie", "user"])
    def test_an_update_form_makes_the_choices_exactly_at_once(
        self, client, contact, preference, category, kept, mailoutbox, by
    ):
        if by == "cookie":
            recognise(client, contact)
        else:
            user = UserFactory()
            Contact.objects.filter(pk=contact.pk).update(user=user)
            client.force_login(user)
        form = self.update_form(client, preference, category, kept)

        response = send(form, email=None, preferences=[kept])

        assert response["Location"] == success_url(form.page, form.key, "saved")
        assert held(contact) == {kept.pk}
        assert category_choices(contact) == {category.pk: False}
        submission = FormSubmission.objects.get()
        assert submission.identified is True
        assert submission.status == SubmissionStatus.APPLIED
        assert mailoutbox == []

    def test_an_opt_in_form_showing_the_subscribed_line_only_adds_if_sent_anyway(
        self, client, contact, preference, category, kept
    ):
        offered = form_value(preferences=[preference, kept], categories=[category])
        # Opened before the visitor was recognised, so the form was shown.
        form = VisitorForm.of(client, form_page({**offered, "recognised": "line"}))
        recognise(client, contact)

        response = send(form, email=contact.email, preferences=[kept])

        assert response["Location"] == success_url(form.page, form.key, "saved")
        assert held(contact) == {preference.pk, kept.pk}
        assert category_choices(contact) == {}

    def test_an_unrecognised_visitor_sending_an_update_form_only_adds(
        self, client, contact, preference, category, kept, mailoutbox
    ):
        form = self.update_form(client, preference, category, kept)

        send(form, email=contact.email, preferences=[kept])
        assert FormSubmission.objects.get().status == SubmissionStatus.PENDING
        assert held(contact) == {preference.pk}
        client.post(confirmation_path(mailoutbox[0]))

        assert held(contact) == {preference.pk, kept.pk}
        assert category_choices(contact) == {}

    def test_a_subscriber_sending_their_opt_in_update_form_makes_the_choices_exactly(
        self, client, contact, preference, category, kept
    ):
        recognise(client, contact)
        form = VisitorForm.of(
            client, form_page(form_value(preferences=[preference, kept], categories=[category]))
        )

        response = send(form, email=None, preferences=[kept])

        assert response["Location"] == success_url(form.page, form.key, "saved")
        assert held(contact) == {kept.pk}
        assert category_choices(contact) == {category.pk: False}


class TestCategoryBoxes:
    """Each "Send me" box starts as the editor chose and means what it shows when sent."""

    @pytest.fixture
    def events(self):
        return PreferenceFactory(name="Events")

    @pytest.fixture
    def invitations(self):
        return CategoryFactory(name="Event invitations")

    @pytest.fixture
    def form(self, client, events, invitations, category):
        page = form_page(
            form_value(
                preferences=[events],
                categories=[category, invitations],
                ticked_categories=[invitations],
                double_opt_in=False,
            )
        )
        return VisitorForm.of(client, page)

    @staticmethod
    def ticked(form) -> set[str]:
        """The fields the form shows ticked, which a browser sends as they are."""
        names = re.findall(r'<input type="checkbox" name="([^"]+)"[^>]*\schecked', form.html)
        return {name.removeprefix(f"{form.prefix}-") for name in names}

    def test_a_box_starts_ticked_only_if_the_editor_chose_so(self, form, invitations):
        assert self.ticked(form) == {f"category-{invitations.pk}"}
        assert "We send you what is ticked, and not what is unticked." in form.html

    def test_a_visitor_who_ticks_an_interest_and_leaves_the_boxes_receives_what_they_showed(
        self, form, events, invitations, category
    ):
        send(form, preferences=[events], **dict.fromkeys(self.ticked(form), "on"))

        contact = Contact.objects.get()
        assert held(contact) == {events.pk}
        assert category_choices(contact) == {invitations.pk: True, category.pk: False}

    def test_unticking_a_box_that_started_ticked_opts_out(self, form, events, invitations):
        send(form, preferences=[events])

        assert category_choices(Contact.objects.get())[invitations.pk] is False
