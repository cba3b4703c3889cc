"""The endpoint every preference form posts to: what it refuses, what it stores, what it
answers, and that the answer does not tell one address from another."""

import logging
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail import hooks
from wagtail.models import PageViewRestriction

from tests import segment_helpers as crit
from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactFactory,
    PreferenceFactory,
    SegmentFactory,
    UserFactory,
)
from tests.submission_fixtures import (
    CONSENT_TEXT,
    VISITOR_AGENT,
    VISITOR_IP,
    category_choices,
    held,
    send,
)
from tests.visitor_helpers import (
    SUBMIT_URL,
    VisitorForm,
    block_keys,
    confirmation_path,
    db_state,
    form_page,
    form_value,
    started_long_ago,
)
from wagtail_preferences import signals
from wagtail_preferences.conf import get_setting
from wagtail_preferences.identity import tokens
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    Contact,
    ContactStatus,
    FormSubmission,
    SegmentInclusion,
    SubmissionStatus,
)
from wagtail_preferences.visitors.forms import form_prefix

pytestmark = pytest.mark.django_db


@pytest.fixture
def preference():
    return PreferenceFactory(name="Products")


@pytest.fixture
def category():
    return CategoryFactory(name="Promotions")


@pytest.fixture
def page(preference, category):
    return form_page(preferences=[preference], categories=[category])


@pytest.fixture
def form(client, page):
    return VisitorForm.of(client, page)


@pytest.fixture
def submitted():
    """Submissions the ``form_submitted`` signal was sent for, by pk."""
    sent = []

    def receiver(submission, **kwargs):
        sent.append(submission.pk)

    signals.form_submitted.connect(receiver)
    yield sent
    signals.form_submitted.disconnect(receiver)


def recognise(client, contact):
    """This browser is recognised as ``contact``, as after a confirmed link."""
    client.cookies[get_setting("IDENTITY_COOKIE_NAME")] = tokens.contact_token(
        contact, purpose="cookie"
    )


def success_url(page, key, result):
    return f"{page.url}?wp-sent={key}&wp-result={result}#{form_prefix(key)}"


def input_tag(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html).group(0)


class TestTampering:
    """A post that does not name a form of a page the visitor may see changes nothing."""

    def assert_refused(self, client, data):
        before = db_state()

        response = client.post(SUBMIT_URL, data)

        assert response.status_code == 400
        assert "This form is not available" in response.content.decode()
        assert db_state() == before

    @pytest.mark.parametrize("page_id", ["999999", "abc", "", "3.0", "9" * 30])
    def test_a_page_id_that_names_no_page_is_refused(self, client, form, page_id):
        self.assert_refused(client, {**form.data(), "wagtail_preferences_page": page_id})

    def test_a_post_without_page_or_block_is_refused(self, client, form):
        data = form.data()
        del data["wagtail_preferences_page"], data["wagtail_preferences_block"]

        self.assert_refused(client, data)

    @pytest.mark.parametrize("key", ["", "not-a-block", "body", "body.0"])
    def test_a_block_key_not_on_the_page_is_refused(self, client, form, key):
        self.assert_refused(client, {**form.data(), "wagtail_preferences_block": key})

    def test_the_block_of_one_page_with_the_id_of_another_is_refused(self, client, form):
        other = form_page(title="Other page")

        self.assert_refused(client, {**form.data(), "wagtail_preferences_page": str(other.pk)})

    def test_a_page_without_forms_is_refused(self, client, form, page):
        self.assert_refused(
            client, {**form.data(), "wagtail_preferences_page": page.get_parent().pk}
        )

    def test_a_form_of_an_unpublished_page_is_refused(self, client, form, page):
        page.unpublish()

        self.assert_refused(client, form.data())

    def test_a_page_the_visitor_may_not_view_is_refused(self, client, form, page):
        PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)

        self.assert_refused(client, form.data())

    def test_a_page_under_a_restricted_page_is_refused(self, client):
        parent = form_page(title="Members")
        PageViewRestriction.objects.create(
            page=parent, restriction_type=PageViewRestriction.PASSWORD, password="secret"
        )
        child = form_page(title="Members signup")
        child.move(parent, pos="last-child")
        data = {
            **VisitorForm.of(client, form_page(title="Public")).data(),
            "wagtail_preferences_page": str(child.pk),
            "wagtail_preferences_block": block_keys(child)[0],
        }

        self.assert_refused(client, data)

    def test_a_restricted_page_accepts_a_visitor_who_may_view_it(self, client, form, page):
        PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
        client.force_login(UserFactory())

        response = send(form)

        assert response.status_code == 303
        assert FormSubmission.objects.count() == 1

    def test_a_preference_the_block_does_not_offer_is_not_changed(self, client, preference):
        other = PreferenceFactory()
        form = VisitorForm.of(
            client, form_page(form_value(preferences=[preference], double_opt_in=False))
        )

        send(form, preferences=[preference], **{f"preference-{other.pk}": "on"})

        contact = Contact.objects.get()
        assert held(contact) == {preference.pk}
        offered = FormSubmission.objects.get().choices["preferences"]
        assert [item["id"] for item in offered] == [preference.pk]

    def test_a_category_the_block_does_not_offer_is_not_changed(self, client):
        offered, other = CategoryFactory(), CategoryFactory()
        form = VisitorForm.of(
            client, form_page(form_value(categories=[offered], double_opt_in=False))
        )

        send(form, **{f"category-{other.pk}": "on"})

        assert category_choices(Contact.objects.get()) == {offered.pk: False}

    def test_exact_choices_never_touch_what_the_block_does_not_offer(self, client, preference):
        other, other_category = PreferenceFactory(), CategoryFactory()
        contact = ContactFactory(confirmed=True, preferences=[preference, other])
        CategoryChoiceFactory(contact=contact, category=other_category, subscribed=True)
        recognise(client, contact)
        form = VisitorForm.of(
            client, form_page(form_value(mode="update", preferences=[preference]))
        )

        send(form, email=None, **{f"preference-{other.pk}": ""})

        assert held(contact) == {other.pk}
        assert category_choices(contact) == {other_category.pk: True}

    def test_an_internal_preference_in_the_block_is_neither_shown_nor_chosen(
        self, client, preference
    ):
        internal = PreferenceFactory(internal=True, name="Internal scoring")
        page = form_page(form_value(preferences=[preference, internal], double_opt_in=False))
        form = VisitorForm.of(client, page)

        assert form.name(f"preference-{internal.pk}") not in form.inputs
        assert "Internal scoring" not in form.html

        send(form, preferences=[preference, internal])

        assert held(Contact.objects.get()) == {preference.pk}
        assert internal.pk not in [
            p["id"] for p in FormSubmission.objects.get().choices["preferences"]
        ]

    def test_an_update_form_takes_a_recognised_visitors_own_address_whatever_is_posted(
        self, client, preference
    ):
        contact = ContactFactory(confirmed=True)
        recognise(client, contact)
        form = VisitorForm.of(
            client, form_page(form_value(mode="update", preferences=[preference]))
        )

        send(form, email="someone.else@example.com", preferences=[preference])

        assert list(Contact.objects.values_list("email", flat=True)) == [contact.email]
        assert held(contact) == {preference.pk}


class TestValidation:
    @pytest.fixture
    def page(self, preference):
        return form_page(
            form_value(
                first_name="required",
                preferences=[{"preference": preference, "required": True}],
            ),
            form_value(heading="Second form"),
        )

    def assert_shown_again(self, response, form, field, message, before) -> str:
        """The page again, status 200, this form showing ``message`` on ``field``."""
        html = response.content.decode()
        assert response.status_code == 200
        assert db_state() == before
        assert html.count("There is a problem") == 1
        assert f'<a href="#id_{form.name(field)}">' in html
        assert f"{message}</p>" in html
        tag = input_tag(html, form.name(field))
        assert 'aria-invalid="true"' in tag
        assert f"id_{form.name(field)}-error" in tag
        assert "private" in response["Cache-Control"]
        return html

    def test_an_invalid_email_shows_the_form_again_with_what_was_typed(
        self, client, page, preference
    ):
        form = VisitorForm.of(client, page)
        before = db_state()

        response = send(form, email="not-an-email", first_name="Ada", preferences=[preference])

        html = self.assert_shown_again(
            response, form, "email", "Enter a valid email address.", before
        )
        assert 'value="not-an-email"' in input_tag(html, form.name("email"))
        assert 'value="Ada"' in input_tag(html, form.name("first_name"))
        assert "checked" in input_tag(html, form.name(f"preference-{preference.pk}"))

    def test_a_missing_required_first_name_is_an_error(self, client, page, preference):
        form = VisitorForm.of(client, page)
        before = db_state()

        response = send(form, email="ada@example.com", preferences=[preference])

        html = self.assert_shown_again(
            response, form, "first_name", "This field is required.", before
        )
        assert 'value="ada@example.com"' in input_tag(html, form.name("email"))

    def test_a_required_preference_left_unticked_is_an_error(self, client, page, preference):
        form = VisitorForm.of(client, page)
        before = db_state()

        response = send(form, email="ada@example.com", first_name="Ada")

        self.assert_shown_again(
            response, form, f"preference-{preference.pk}", "This field is required.", before
        )

    def test_the_page_is_shown_again_as_a_get_through_the_sites_serve_hooks(self, client, page):
        form = VisitorForm.of(client, page)
        served = []

        def before_serve(page, request, args, kwargs):
            served.append((page.pk, request.method))

        with hooks.register_temporarily("before_serve_page", before_serve):
            response = send(form, email="not-an-email")

        assert response.status_code == 200
        assert served == [(page.pk, "GET")]

    def test_the_other_forms_of_the_page_are_shown_unbound(self, client, page):
        first, second = VisitorForm.of(client, page), VisitorForm.of(client, page, index=1)

        response = send(first, email="not-an-email")

        html = response.content.decode()
        forms = re.findall(r'<form class="wp-form".*?</form>', html, re.S)
        assert len(forms) == 2
        assert "There is a problem" in forms[0]
        assert "There is a problem" not in forms[1]
        assert "not-an-email" not in forms[1]
        assert "value=" not in input_tag(forms[1], second.name("email"))


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
