"""The rules of ``services.record_submission`` and ``services.confirm_submission``: who may
change what, what waits for confirmation, and what a submission records."""

import logging

import pytest

from tests import segment_helpers as crit
from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactFactory,
    PreferenceFactory,
    SegmentFactory,
)
from tests.submission_fixtures import (
    CONSENT_TEXT,
    VISITOR_AGENT,
    VISITOR_IP,
    category_choices,
    form_origin,
    held,
)
from tests.visitor_helpers import form_page
from wagtail_preferences import services, signals
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    Contact,
    ContactStatus,
    FormSubmission,
    SegmentInclusion,
    SubmissionStatus,
)

pytestmark = pytest.mark.django_db

CONFIRMING_IP = "198.51.100.9"


@pytest.fixture
def page():
    return form_page(title="Newsletter page")


@pytest.fixture
def submitted():
    """The ``form_submitted`` signals sent during the test: (contact_ids, submission)."""
    sent = []

    def receiver(contact_ids, submission, origin, **kwargs):
        sent.append((contact_ids, submission.pk))

    signals.form_submitted.connect(receiver)
    yield sent
    signals.form_submitted.disconnect(receiver)


def submit(email, page, *, double_opt_in=True, identified_as=None, update=False, **choices):
    return services.record_submission(
        email,
        services.choices_record(**choices),
        form_origin(),
        identified_as=identified_as,
        update=update,
        double_opt_in=double_opt_in,
        form_label="Sign up",
        page=page,
        block_key="block-1",
    )


def confirm(submission):
    return services.confirm_submission(
        submission,
        services.Origin(path=ChangePath.FORM, ip_address=CONFIRMING_IP, user_agent="Confirmer"),
    )


def reloaded(submission) -> FormSubmission:
    return FormSubmission.objects.get(pk=submission.pk)


class TestNewAddress:
    def test_with_double_opt_in_the_contact_waits_pending_holding_nothing(self, page, submitted):
        preference, category = PreferenceFactory(), CategoryFactory()
        segment = SegmentFactory()

        submission = submit(
            "New.Person@Example.com",
            page,
            details={"first_name": "Ada", "last_name": "Lovelace"},
            preferences={preference: True},
            categories={category: False},
            segments=[segment],
        )

        contact = Contact.objects.get()
        assert contact.email == "new.person@example.com"
        assert contact.status == ContactStatus.PENDING
        assert (contact.first_name, contact.last_name) == ("", "")
        assert held(contact) == set()
        assert category_choices(contact) == {}
        assert not SegmentInclusion.objects.exists()
        assert reloaded(submission).status == SubmissionStatus.PENDING
        assert submission.created_contact is True
        assert submission.identified is False
        assert submitted == []

    def test_confirming_makes_the_choices_and_opts_out_of_unticked_categories(
        self, page, submitted
    ):
        preference, wanted, unwanted = PreferenceFactory(), CategoryFactory(), CategoryFactory()
        submission = submit(
            "new@example.com",
            page,
            details={"first_name": "Ada"},
            preferences={preference: True},
            categories={wanted: True, unwanted: False},
        )

        assert confirm(submission) is True

        contact = Contact.objects.get()
        assert contact.status == ContactStatus.CONFIRMED
        assert contact.first_name == "Ada"
        assert held(contact) == {preference.pk}
        assert category_choices(contact) == {wanted.pk: True, unwanted.pk: False}
        assert submitted == [(frozenset({contact.pk}), submission.pk)]

    def test_without_double_opt_in_the_choices_apply_at_once(self, page, submitted):
        preference, unticked = PreferenceFactory(), PreferenceFactory()
        category = CategoryFactory()

        submission = submit(
            "new@example.com",
            page,
            double_opt_in=False,
            details={"first_name": "Ada", "last_name": "Lovelace"},
            preferences={preference: True, unticked: False},
            categories={category: False},
        )

        contact = Contact.objects.get()
        assert submission.status == SubmissionStatus.APPLIED
        assert reloaded(submission).status == SubmissionStatus.APPLIED
        assert contact.status == ContactStatus.CONFIRMED
        assert (contact.first_name, contact.last_name) == ("Ada", "Lovelace")
        assert held(contact) == {preference.pk}
        assert category_choices(contact) == {category.pk: False}
        assert submitted == [(frozenset({contact.pk}), submission.pk)]


class TestUnrecognisedVisitorOnlyAdds:
    @pytest.fixture
    def kept(self):
        return PreferenceFactory()

    @pytest.fixture
    def opted_out(self):
        return CategoryFactory()

    @pytest.fixture
    def contact(self, kept, opted_out):
        contact = ContactFactory(
            confirmed=True,
            email="grace@example.com",
            first_name="Grace",
            last_name="",
            preferences=[kept],
        )
        CategoryChoiceFactory(contact=contact, category=opted_out, subscribed=False)
        return contact

    @pytest.mark.parametrize("double_opt_in", [True, False])
    def test_nothing_is_taken_away_and_only_blank_names_are_filled(
        self, page, contact, kept, opted_out, double_opt_in
    ):
        added = PreferenceFactory()
        subscribed, now_wanted = CategoryFactory(), CategoryFactory()
        CategoryChoiceFactory(contact=contact, category=now_wanted, subscribed=False)

        submission = submit(
            contact.email.upper(),
            page,
            double_opt_in=double_opt_in,
            details={"first_name": "Mallory", "last_name": "Hopper"},
            preferences={kept: False, added: True},
            categories={opted_out: False, subscribed: False, now_wanted: True},
        )
        if double_opt_in:
            assert submission.status == SubmissionStatus.PENDING
            assert held(contact) == {kept.pk}
            assert confirm(submission) is True

        contact.refresh_from_db()
        assert (contact.first_name, contact.last_name) == ("Grace", "Hopper")
        assert held(contact) == {kept.pk, added.pk}
        assert category_choices(contact) == {opted_out.pk: False, now_wanted.pk: True}
        assert contact.status == ContactStatus.CONFIRMED
        assert Contact.objects.count() == 1

    def test_a_visitor_recognised_as_someone_else_is_not_recognised(self, page, contact, kept):
        other = ContactFactory(confirmed=True)

        submission = submit(
            contact.email, page, identified_as=other, update=True, preferences={kept: False}
        )

        assert submission.identified is False
        assert submission.status == SubmissionStatus.PENDING
        assert confirm(submission) is True
        assert held(contact) == {kept.pk}


class TestRecognisedVisitor:
    def test_an_update_form_makes_its_choices_exactly(self, page, submitted):
        unticked, ticked = PreferenceFactory(), PreferenceFactory()
        leaving, staying = CategoryFactory(), CategoryFactory()
        contact = ContactFactory(confirmed=True, first_name="Grace", preferences=[unticked])
        CategoryChoiceFactory(contact=contact, category=staying, subscribed=False)

        submission = submit(
            contact.email,
            page,
            identified_as=contact,
            update=True,
            details={"first_name": "", "last_name": "Hopper"},
            preferences={unticked: False, ticked: True},
            categories={leaving: False, staying: True},
        )

        contact.refresh_from_db()
        assert submission.identified is True
        assert submission.status == SubmissionStatus.APPLIED
        assert (contact.first_name, contact.last_name) == ("", "Hopper")
        assert held(contact) == {ticked.pk}
        assert category_choices(contact) == {leaving.pk: False, staying.pk: True}
        assert submitted == [(frozenset({contact.pk}), submission.pk)]

    def test_an_opt_in_form_only_adds_and_needs_no_confirmation(self, page):
        kept, added = PreferenceFactory(), PreferenceFactory()
        category = CategoryFactory()
        contact = ContactFactory(confirmed=True, first_name="Grace", preferences=[kept])

        submission = submit(
            contact.email,
            page,
            identified_as=contact,
            update=False,
            details={"first_name": "Other"},
            preferences={kept: False, added: True},
            categories={category: False},
        )

        contact.refresh_from_db()
        assert submission.status == SubmissionStatus.APPLIED
        assert contact.first_name == "Grace"
        assert held(contact) == {kept.pk, added.pk}
        assert category_choices(contact) == {}

    def test_exact_choices_leave_what_the_form_did_not_offer(self, page):
        offered, not_offered = PreferenceFactory(), PreferenceFactory()
        offered_category, other_category = CategoryFactory(), CategoryFactory()
        contact = ContactFactory(confirmed=True, preferences=[offered, not_offered])
        CategoryChoiceFactory(contact=contact, category=other_category, subscribed=False)

        submit(
            contact.email,
            page,
            identified_as=contact,
            update=True,
            preferences={offered: False},
            categories={offered_category: False},
        )

        assert held(contact) == {not_offered.pk}
        assert category_choices(contact) == {other_category.pk: False, offered_category.pk: False}


class TestBlockedContact:
    @pytest.mark.parametrize("double_opt_in", [True, False])
    @pytest.mark.parametrize("recognised", [True, False])
    def test_is_never_changed_and_the_submission_is_ignored(
        self, page, submitted, double_opt_in, recognised
    ):
        kept, offered = PreferenceFactory(), PreferenceFactory()
        contact = ContactFactory(
            blocked=True, email="blocked@example.com", first_name="", preferences=[kept]
        )

        submission = submit(
            contact.email,
            page,
            double_opt_in=double_opt_in,
            identified_as=contact if recognised else None,
            update=recognised,
            details={"first_name": "Bob"},
            preferences={kept: False, offered: True},
        )

        contact.refresh_from_db()
        assert reloaded(submission).status == SubmissionStatus.IGNORED
        assert contact.status == ContactStatus.BLOCKED
        assert contact.first_name == ""
        assert held(contact) == {kept.pk}
        assert not ConsentEvent.objects.filter(contact=contact).exists()
        assert submitted == []

    def test_a_pending_submission_of_a_contact_blocked_since_is_not_applied(self, page):
        preference = PreferenceFactory()
        contact = ContactFactory(confirmed=True)
        submission = submit(contact.email, page, preferences={preference: True})
        Contact.objects.filter(pk=contact.pk).update(status=ContactStatus.BLOCKED)

        assert confirm(submission) is False

        assert reloaded(submission).status == SubmissionStatus.IGNORED
        assert held(contact) == set()
        assert Contact.objects.get(pk=contact.pk).status == ContactStatus.BLOCKED


class TestUnsubscribedContact:
    @pytest.mark.parametrize("recognised", [True, False])
    def test_comes_back_only_through_a_confirmed_submission(self, page, submitted, recognised):
        preference = PreferenceFactory()
        contact = ContactFactory(unsubscribed=True)

        submission = submit(
            contact.email,
            page,
            double_opt_in=False,
            identified_as=contact if recognised else None,
            update=recognised,
            preferences={preference: True},
        )

        contact.refresh_from_db()
        assert submission.status == SubmissionStatus.PENDING
        assert contact.status == ContactStatus.UNSUBSCRIBED
        assert held(contact) == set()
        assert submitted == []

        assert confirm(submission) is True

        contact.refresh_from_db()
        assert contact.status == ContactStatus.CONFIRMED
        assert held(contact) == {preference.pk}
        assert reloaded(submission).status == SubmissionStatus.CONFIRMED

    def test_a_recognised_update_form_is_made_exactly_once_confirmed(self, page):
        unticked, ticked = PreferenceFactory(), PreferenceFactory()
        leaving = CategoryFactory()
        contact = ContactFactory(unsubscribed=True, preferences=[unticked])

        submission = submit(
            contact.email,
            page,
            identified_as=contact,
            update=True,
            preferences={unticked: False, ticked: True},
            categories={leaving: False},
        )
        assert submission.status == SubmissionStatus.PENDING
        assert submission.replaces_choices is True
        assert held(contact) == {unticked.pk}

        confirm(submission)

        assert held(contact) == {ticked.pk}
        assert category_choices(contact) == {leaving.pk: False}

    def test_an_unrecognised_update_form_only_adds_once_confirmed(self, page):
        kept, ticked = PreferenceFactory(), PreferenceFactory()
        contact = ContactFactory(unsubscribed=True, preferences=[kept])

        submission = submit(
            contact.email, page, update=True, preferences={kept: False, ticked: True}
        )
        assert submission.replaces_choices is False

        confirm(submission)

        assert held(contact) == {kept.pk, ticked.pk}


class TestConfirmation:
    def test_records_when_and_from_where(self, page):
        submission = submit("new@example.com", page, preferences={PreferenceFactory(): True})

        confirm(submission)

        confirmed = reloaded(submission)
        assert confirmed.status == SubmissionStatus.CONFIRMED
        assert confirmed.confirmed_at is not None
        assert confirmed.confirmation_ip == CONFIRMING_IP
        assert confirmed.confirmation_user_agent == "Confirmer"
        assert confirmed.ip_address == VISITOR_IP

    def test_a_second_confirmation_changes_nothing(self, page, submitted):
        submission = submit("new@example.com", page, preferences={PreferenceFactory(): True})
        confirm(submission)
        events = ConsentEvent.objects.count()
        confirmed_at = reloaded(submission).confirmed_at

        assert confirm(submission) is False

        assert ConsentEvent.objects.count() == events
        assert reloaded(submission).confirmed_at == confirmed_at
        assert len(submitted) == 1

    def test_an_offered_preference_deleted_meanwhile_is_skipped(self, page):
        gone, staying = PreferenceFactory(), PreferenceFactory()
        submission = submit("new@example.com", page, preferences={gone: True, staying: True})
        gone.delete()

        assert confirm(submission) is True

        assert held(Contact.objects.get()) == {staying.pk}


class TestRecords:
    def test_the_submission_keeps_what_the_visitor_was_shown_and_chose(self, page):
        preference, category = PreferenceFactory(name="Events"), CategoryFactory(name="News")

        submission = reloaded(
            submit(
                "new@example.com",
                page,
                details={"first_name": "Ada"},
                preferences={preference: True},
                categories={category: False},
            )
        )

        assert submission.consent_text == CONSENT_TEXT
        assert submission.page_id == page.pk
        assert submission.page_title == "Newsletter page"
        assert submission.form_label == "Sign up"
        assert submission.block_key == "block-1"
        assert submission.ip_address == VISITOR_IP
        assert submission.user_agent == VISITOR_AGENT
        assert submission.choices == {
            "details": {"first_name": "Ada"},
            "preferences": [{"id": preference.pk, "name": "Events", "chosen": True}],
            "categories": [{"id": category.pk, "name": "News", "chosen": False}],
            "segments": [],
        }

    def test_every_consent_event_names_the_form_its_wording_and_where_from(self, page):
        segment = SegmentFactory()
        submission = submit(
            "new@example.com",
            page,
            double_opt_in=False,
            details={"first_name": "Ada"},
            preferences={PreferenceFactory(): True},
            categories={CategoryFactory(): False},
            segments=[segment],
        )

        events = list(ConsentEvent.objects.filter(contact=submission.contact))
        assert {(e.subject, e.field) for e in events} == {
            ("contact", "created"),
            ("contact", "first_name"),
            ("preference", "held"),
            ("category", "subscribed"),
            ("segment", "member"),
            ("status", "status"),
        }
        for event in events:
            assert event.path == ChangePath.FORM
            assert event.wording == CONSENT_TEXT
            assert "“Sign up”" in event.reference
            assert "“Newsletter page”" in event.reference
            assert event.ip_address == VISITOR_IP
            assert event.user_agent == VISITOR_AGENT

    def test_the_events_of_a_confirmation_carry_the_consent_text_and_the_confirming_ip(self, page):
        submission = submit("new@example.com", page, preferences={PreferenceFactory(): True})
        before = set(ConsentEvent.objects.values_list("pk", flat=True))

        confirm(submission)

        events = ConsentEvent.objects.exclude(pk__in=before)
        assert {e.subject for e in events} == {"preference", "status"}
        for event in events:
            assert event.path == ChangePath.FORM
            assert event.wording == CONSENT_TEXT
            assert event.reference == f"{reloaded(submission).reference}, confirmed"
            assert event.ip_address == CONFIRMING_IP


class TestSegments:
    def test_the_contact_joins_the_segments_of_the_form_as_a_manual_member(self, page):
        segment = SegmentFactory()

        submission = submit("new@example.com", page, double_opt_in=False, segments=[segment])

        contact = submission.contact
        assert SegmentInclusion.objects.filter(segment=segment, contact=contact).exists()
        assert set(crit.member_ids(segment)) == {contact.pk}

    def test_a_segment_that_cannot_be_evaluated_is_skipped_with_a_warning(self, page, caplog):
        broken = SegmentFactory(name="Broken", criteria=[crit.preferences("any")])
        working = SegmentFactory(name="Working")
        preference = PreferenceFactory()

        with caplog.at_level(logging.WARNING, logger="wagtail_preferences.services.submissions"):
            submission = submit(
                "new@example.com",
                page,
                double_opt_in=False,
                preferences={preference: True},
                segments=[broken, working],
            )

        contact = submission.contact
        assert crit.member_ids(broken) == set()
        assert not SegmentInclusion.objects.filter(segment=broken).exists()
        assert crit.member_ids(working) == {contact.pk}
        assert held(contact) == {preference.pk}
        assert reloaded(submission).status == SubmissionStatus.APPLIED
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "'Broken'" in warnings[0].getMessage()
        assert "Choose at least one preference." in warnings[0].getMessage()


class TestChoicesSummary:
    def test_a_new_contact_is_told_the_categories_they_will_not_receive(self, page):
        products, wanted, unwanted = (
            PreferenceFactory(name="Products"),
            CategoryFactory(name="Event invitations"),
            CategoryFactory(name="Promotions"),
        )
        submission = submit(
            "new@example.com",
            page,
            preferences={products: True},
            categories={wanted: True, unwanted: False},
        )

        assert services.choices_summary(submission) == {
            "preferences": ["Products"],
            "categories": ["Event invitations"],
            "declined": ["Promotions"],
            "unchanged_kept": False,
        }

    def test_an_existing_contact_declines_nothing_by_leaving_a_box_unticked(self, page):
        ContactFactory(email="known@example.com", confirmed=True)
        submission = submit(
            "known@example.com", page, categories={CategoryFactory(name="Promotions"): False}
        )

        summary = services.choices_summary(submission)

        assert summary["declined"] == []
        assert summary["unchanged_kept"] is True
