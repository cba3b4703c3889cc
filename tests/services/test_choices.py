"""``services.apply_choices``: one set of rules and one transaction for every path."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import segment_helpers as crit
from tests.admin.admin_helpers import contact_form_data
from tests.factories import (
    CategoryFactory,
    ContactFactory,
    ContactPreferenceFactory,
    PreferenceFactory,
    SegmentFactory,
)
from tests.import_helpers import csv_text, make_run
from wagtail_preferences import services
from wagtail_preferences.admin.consent_text import describe
from wagtail_preferences.exceptions import InvalidChange, InvalidChoices
from wagtail_preferences.models import (
    CategoryChoice,
    ChangePath,
    ConsentEvent,
    ContactChannel,
    ContactStatus,
    ImportRowError,
    ImportStatus,
    SegmentInclusion,
    SegmentOptOut,
)
from wagtail_preferences.services import ChannelSettings, Choices, Origin
from wagtail_preferences.services.choices import SEGMENT_CHANGES
from wagtail_preferences.transfers.imports.runner import ImportRunner

pytestmark = pytest.mark.django_db

ADMIN = Origin(path=ChangePath.ADMIN, wording="Edited in the admin")
SELF = Origin(path=ChangePath.SELF_SERVICE, wording="Your choices")
FORM = Origin(path=ChangePath.FORM, wording="Yes, send me news")


def held(contact) -> set[int]:
    return set(contact.preference_holdings.values_list("preference_id", flat=True))


def refused(choices: Choices, origin: Origin = ADMIN, contact=None) -> dict[str, list[str]]:
    """The errors ``apply_choices`` refuses ``choices`` with; it must refuse them."""
    with pytest.raises(InvalidChoices) as refusal:
        services.apply_choices(contact or ContactFactory(), choices, origin)
    return refusal.value.errors


def broken_segment(name="Broken"):
    """A segment whose criteria name a deleted preference: they cannot be evaluated."""
    gone = PreferenceFactory()
    segment = SegmentFactory(name=name, criteria=[crit.preferences("any", gone)])
    gone.delete()
    return segment


class TestRules:
    def test_an_unknown_preference_is_refused(self):
        assert refused(Choices(preferences={999_999: True})) == {
            "preferences": ["There is no preference 999999."]
        }

    def test_a_visitor_chooses_only_public_preferences(self):
        internal = PreferenceFactory(name="Internal", internal=True)
        for origin in (SELF, FORM):
            assert refused(Choices(preferences={internal: True}), origin) == {
                "preferences": ["“Internal” is not offered to visitors."]
            }
        contact = ContactFactory()
        services.apply_choices(contact, Choices(preferences={internal: True}), ADMIN)
        assert held(contact) == {internal.pk}

    def test_unknown_categories_and_values_other_than_in_out_or_forgotten(self, promotions):
        assert refused(Choices(categories={999_999: False, promotions: "yes"})) == {
            "categories": [
                "There is no category 999999.",
                "A category is opted in, out, or neither.",
            ]
        }

    def test_channels_must_exist_and_be_settings_with_one_preferred(self):
        preferred = ChannelSettings(is_preferred=True)
        assert refused(Choices(channels={"pigeon": ChannelSettings(), "email": {}})) == {
            "channels": ["There is no channel “pigeon”.", "Channel settings are not valid."]
        }
        assert refused(Choices(channels={"email": preferred, "sms": preferred})) == {
            "channels": ["Only one channel can be preferred."]
        }

    def test_settings_out_of_range_cannot_even_be_made(self):
        with pytest.raises(InvalidChange):
            ChannelSettings(frequency_count=0, frequency_period="week")

    def test_a_segment_that_cannot_be_evaluated_takes_nobody_in_or_out_by_hand(self):
        broken = broken_segment()
        message = "“Broken” cannot be evaluated until its criteria are fixed"
        for added in (True, False):
            errors = refused(Choices(segments_added_by_hand={broken: added}))
            assert list(errors) == ["segments_added_by_hand"]
            assert errors["segments_added_by_hand"][0].startswith(message)

    def test_opting_out_of_a_segment_works_whatever_its_criteria(self):
        broken, contact = broken_segment(), ContactFactory()
        services.apply_choices(contact, Choices(segments_opted_out={broken: True}), ADMIN)
        assert SegmentOptOut.objects.filter(contact=contact, segment=broken).exists()

    def test_a_visitor_opts_in_and_out_of_public_segments_only(self):
        private, public = SegmentFactory(name="Staff"), SegmentFactory(is_public=True)
        assert refused(Choices(segments_opted_out={private: True}), SELF) == {
            "segments_opted_out": ["“Staff” is not a list visitors choose."]
        }
        assert refused(Choices(segments_added_by_hand={public: True}), SELF) == {
            "segments_added_by_hand": [f"“{public.name}” is not a list visitors choose."]
        }
        contact = ContactFactory()
        services.apply_choices(contact, Choices(segments_opted_out={public: True}), SELF)
        assert SegmentOptOut.objects.filter(contact=contact, segment=public).exists()

    def test_a_form_only_adds_to_segments(self):
        segment = SegmentFactory(name="Readers")
        assert refused(Choices(segments_opted_out={segment: True}), FORM) == {
            "segments_opted_out": ["A form only adds contacts to segments."]
        }
        assert refused(Choices(segments_added_by_hand={segment: False}), FORM) == {
            "segments_added_by_hand": ["A form only adds contacts to segments."]
        }

    def test_an_unknown_segment_or_status_is_refused(self):
        assert refused(Choices(segments_opted_out={999_999: True}, status="asleep")) == {
            "segments_opted_out": ["There is no segment 999999."],
            "status": ["“asleep” is not a status."],
        }

    def test_every_refused_choice_is_reported_and_nothing_is_changed(self, products):
        contact = ContactFactory()
        errors = refused(
            Choices(
                preferences={products: True, 999_999: True},
                channels={"pigeon": ChannelSettings()},
                status="asleep",
            ),
            contact=contact,
        )
        assert set(errors) == {"preferences", "channels", "status"}
        assert held(contact) == set()
        assert not ConsentEvent.objects.filter(contact=contact).exists()

    def test_choices_without_refusals_leave_out_only_what_was_refused(self, products, events):
        choices = Choices(preferences={products: True, 999_999: True}, status="asleep")
        refusals = services.check_choices([choices], ADMIN)
        assert choices.without(refusals) == Choices(preferences={products: True})

    def test_skip_refused_makes_the_rest_and_returns_what_it_left_out(self, products):
        contact = ContactFactory()

        refusals = services.apply_choices(
            contact,
            Choices(preferences={products: True, 999_999: True}, status="asleep"),
            ADMIN,
            skip_refused=True,
        )

        assert [(r.field, r.item) for r in refusals] == [("preferences", 999_999), ("status", None)]
        assert held(contact) == {products.pk}
        assert services.apply_choices(contact, Choices(), ADMIN, skip_refused=True) == []

    def test_exactly_maps_each_offered_box_to_whether_it_was_ticked(self, products, events):
        assert Choices.exactly([products.pk], [products, events]) == {
            products: True,
            events: False,
        }


class TestOneTransaction:
    def test_a_failure_half_way_changes_nothing(self, monkeypatch, products, promotions):
        contact = ContactFactory()

        def fails(*args, **kwargs):
            raise RuntimeError("the database went away")

        monkeypatch.setattr("wagtail_preferences.services.choices.update_channels", fails)
        with pytest.raises(RuntimeError):
            services.apply_choices(
                contact,
                Choices(
                    preferences={products: True},
                    categories={promotions: False},
                    channels={"email": ChannelSettings(enabled=False)},
                ),
                ADMIN,
            )
        assert held(contact) == set()
        assert not CategoryChoice.objects.filter(contact=contact).exists()
        assert not ConsentEvent.objects.filter(contact=contact).exists()

    def test_a_failure_half_way_through_a_batch_changes_nothing(self, monkeypatch, products):
        contacts = ContactFactory.create_batch(3)
        segment = SegmentFactory()

        def fails(*args, **kwargs):
            raise RuntimeError("the database went away")

        monkeypatch.setitem(SEGMENT_CHANGES, "segments_added_by_hand", (fails, fails))
        with pytest.raises(RuntimeError):
            services.apply_choices_to_many(
                {
                    c.pk: Choices(
                        preferences={products: True}, segments_added_by_hand={segment: True}
                    )
                    for c in contacts
                },
                ADMIN,
            )
        assert not ConsentEvent.objects.exists()
        assert not any(held(c) for c in contacts)


class TestEventsAndSignals:
    def choices(self, products, events, promotions):
        return Choices(
            preferences={products: True, events: False},
            categories={promotions: False},
            channels={"email": ChannelSettings(frequency_count=2, frequency_period="week")},
            segments_added_by_hand={SegmentFactory(name="VIP"): True},
            status=ContactStatus.CONFIRMED,
        )

    def test_each_change_is_logged_and_signalled_once(
        self, products, events, promotions, sent_signals
    ):
        contact = ContactFactory()
        ContactPreferenceFactory(contact=contact, preference=events)
        choices = self.choices(products, events, promotions)

        services.apply_choices(contact, choices, ADMIN)

        assert [name for name, _ in sent_signals] == [
            "preferences_added",
            "preferences_removed",
            "categories_changed",
            "channels_changed",
            "contact_status_changed",
        ]
        summaries = [describe(e) for e in ConsentEvent.objects.filter(contact=contact)]
        assert len(summaries) == len(set(summaries)) == 6
        assert "Joined segment “VIP”" in summaries
        assert contact.status == ContactStatus.CONFIRMED
        assert held(contact) == {products.pk}

        sent_signals.clear()
        services.apply_choices(contact, choices, ADMIN)
        assert sent_signals == []
        assert ConsentEvent.objects.filter(contact=contact).count() == 6

    def test_a_batch_signals_once_per_kind_of_change(self, products, promotions, sent_signals):
        contacts = ContactFactory.create_batch(3)
        services.apply_choices_to_many(
            {
                c.pk: Choices(preferences={products: True}, categories={promotions: False})
                for c in contacts
            },
            ADMIN,
        )
        assert [name for name, _ in sent_signals] == ["preferences_added", "categories_changed"]
        assert sent_signals[0][1]["contact_ids"] == {c.pk for c in contacts}
        assert ConsentEvent.objects.count() == 6

    def test_nothing_to_change_writes_nothing(self, sent_signals):
        contact = ContactFactory()
        with CaptureQueriesContext(connection) as queries:
            services.apply_choices(contact, Choices(), ADMIN)
        assert not [q for q in queries if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE"))]
        assert sent_signals == []


class TestPaths:
    @pytest.mark.parametrize("origin", [ADMIN, SELF, FORM], ids=lambda o: o.path)
    def test_each_path_stamps_its_own_wording(self, origin, products):
        contact = ContactFactory()
        services.apply_choices(contact, Choices(preferences={products: True}), origin)
        event = ConsentEvent.objects.get(contact=contact)
        assert (event.path, event.wording) == (origin.path, origin.wording)

    def test_the_contact_form_shows_refusals_on_its_own_fields(self, admin_client):
        broken, contact = broken_segment(), ContactFactory()
        response = admin_client.post(
            reverse("preference_center_contacts:edit", args=[contact.pk]),
            contact_form_data(contact, segments_added_by_hand=[broken.pk]),
        )
        errors = response.context["form"].errors
        assert list(errors) == ["segments_added_by_hand"]

    def test_a_submission_leaves_out_what_has_changed_since_and_keeps_the_rest(
        self, products, caplog
    ):
        internal = PreferenceFactory(name="Internal")
        submission = services.record_submission(
            "ann@example.com",
            services.choices_record(preferences={products: True, internal: True}),
            FORM,
        )
        internal.is_public = False
        internal.save()
        services.confirm_submission(submission, FORM)
        assert held(submission.contact) == {products.pk}
        assert "'Internal' left out: “Internal” is not offered to visitors." in caplog.text

    def test_a_submission_leaves_out_a_preference_deleted_since(self, products, caplog):
        gone = PreferenceFactory(name="Gone")
        submission = services.record_submission(
            "ann@example.com",
            services.choices_record(preferences={products: True, gone: True}),
            FORM,
        )
        gone_pk = gone.pk
        gone.delete()

        services.confirm_submission(submission, FORM)

        assert held(submission.contact) == {products.pk}
        assert f"There is no preference {gone_pk}." in caplog.text

    def test_an_import_refuses_rows_joining_a_segment_that_cannot_be_evaluated(self):
        broken_segment()
        SegmentFactory(name="Readers")
        run = make_run(
            csv_text("email,segments", "ann@example.com,Broken", "bob@example.com,Readers")
        )
        run.skip_invalid = True
        run.save()
        ImportRunner(run).apply()
        run.refresh_from_db()
        assert run.status == ImportStatus.DONE
        assert (run.new_rows, run.failed_rows) == (1, 1)
        error = ImportRowError.objects.get(run=run)
        assert (error.row, error.column) == (2, "segments")
        assert error.message.startswith("“Broken” cannot be evaluated")
        assert SegmentInclusion.objects.get().contact.email == "bob@example.com"

    def test_an_import_stamps_its_wording(self, products):
        run = make_run(csv_text("email,preferences", "ann@example.com,Products"))
        ImportRunner(run).apply()
        event = ConsentEvent.objects.get(subject_label="Products")
        assert event.path == ChangePath.IMPORT
        assert event.wording.startswith("Imported on the legal basis")


class TestQueries:
    def count(self, apply) -> int:
        with CaptureQueriesContext(connection) as queries:
            apply()
        return len(queries)

    def test_one_contact_costs_the_same_for_two_preferences_or_twenty(self):
        def apply(n):
            contact = ContactFactory()
            removed = PreferenceFactory.create_batch(n)
            for preference in removed:
                ContactPreferenceFactory(contact=contact, preference=preference)
            choices = Choices(
                preferences={
                    **dict.fromkeys(PreferenceFactory.create_batch(n), True),
                    **dict.fromkeys(removed, False),
                },
                categories=dict.fromkeys(CategoryFactory.create_batch(n), False),
            )
            return lambda: services.apply_choices(contact, choices, ADMIN)

        assert self.count(apply(2)) == self.count(apply(20))

    def test_a_batch_costs_the_same_for_three_contacts_or_thirty(self, promotions):
        segment = SegmentFactory()

        def apply(n):
            preferences = PreferenceFactory.create_batch(n)
            choices = {
                c.pk: Choices(
                    preferences=dict.fromkeys(preferences, True),
                    categories={promotions: False},
                    segments_added_by_hand={segment: True},
                    status=ContactStatus.CONFIRMED,
                )
                for c in ContactFactory.create_batch(n)
            }
            return lambda: services.apply_choices_to_many(choices, ADMIN)

        assert self.count(apply(3)) == self.count(apply(30))


def test_a_pause_is_a_channel_setting_like_any_other():
    contact = ContactFactory()
    pause = ChannelSettings(
        pause_from=datetime.date(2026, 1, 1), pause_to=datetime.date(2026, 2, 1)
    )
    services.apply_choices(contact, Choices(channels={"email": pause}), SELF)
    assert ContactChannel.objects.get(contact=contact).pause_to == datetime.date(2026, 2, 1)
