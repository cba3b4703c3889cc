import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactChannelFactory,
    ContactFactory,
    ContactPreferenceFactory,
    PreferenceFactory,
    UserFactory,
)
from wagtail_preferences import services
from wagtail_preferences.exceptions import InvalidChange, PreferencesError
from wagtail_preferences.models import (
    Category,
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    Contact,
    ContactChannel,
    Preference,
    normalise_email,
)
from wagtail_preferences.models.contacts import SECRET_LENGTH, new_secrets

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 3, 10)


class TestContactEmail:
    @pytest.mark.parametrize(
        ("given", "stored"),
        [
            ("Ada@Example.COM", "ada@example.com"),
            ("  grace@example.org\n", "grace@example.org"),
            ("ÉLODIE@Example.fr", "élodie@example.fr"),
            ("plain@example.net", "plain@example.net"),
        ],
    )
    def test_save_stores_the_trimmed_lower_case_address(self, given, stored):
        contact = Contact.objects.create(email=given)

        assert contact.email == stored
        assert Contact.objects.get(pk=contact.pk).email == stored
        assert normalise_email(given) == stored

    def test_addresses_differing_only_in_case_are_one_contact(self):
        Contact.objects.create(email="ada@example.com")

        with transaction.atomic(), pytest.raises(IntegrityError):
            Contact.objects.create(email="ADA@example.com")
        assert Contact.objects.count() == 1

    def test_bulk_create_with_upper_case_email_is_refused_by_the_database(self):
        with transaction.atomic(), pytest.raises(IntegrityError):
            Contact.objects.bulk_create([Contact(email="Upper@Example.com")])
        assert not Contact.objects.exists()

    def test_queryset_update_to_upper_case_email_is_refused_by_the_database(self):
        contact = ContactFactory(email="lower@example.com")

        with transaction.atomic(), pytest.raises(IntegrityError):
            Contact.objects.filter(pk=contact.pk).update(email="LOWER@example.com")
        assert Contact.objects.get(pk=contact.pk).email == "lower@example.com"

    def test_bulk_create_with_lower_case_email_is_accepted(self):
        Contact.objects.bulk_create(
            [Contact(email="a@example.com"), Contact(email="b@example.com")]
        )

        assert set(Contact.objects.values_list("email", flat=True)) == {
            "a@example.com",
            "b@example.com",
        }

    def test_full_clean_reports_the_constraint_message(self):
        contact = Contact(email="Mixed@Example.com")

        with pytest.raises(ValidationError) as excinfo:
            contact.full_clean()

        assert "Email addresses are stored in lower case." in str(excinfo.value)

    def test_str_and_full_name(self):
        contact = ContactFactory(email="ada@example.com", first_name="Ada", last_name="Lovelace")
        nameless = ContactFactory(first_name="", last_name="Hopper")

        assert str(contact) == "ada@example.com"
        assert contact.full_name == "Ada Lovelace"
        assert nameless.full_name == "Hopper"


class TestContactSecret:
    def test_each_contact_gets_its_own_secret(self):
        first, second = ContactFactory.create_batch(2)

        assert len(first.secret) >= 43
        assert first.secret != second.secret

    def test_secrets_made_at_once_are_distinct_url_safe_and_of_full_length(self):
        made = new_secrets(1000)

        assert len(made) == len(set(made)) == 1000
        assert {len(secret) for secret in made} == {SECRET_LENGTH}
        assert all(re.fullmatch(r"[A-Za-z0-9_-]+", secret) for secret in made)

    def test_rotate_secret_saves_a_new_secret(self):
        contact = ContactFactory()
        old_secret, old_updated = contact.secret, contact.updated_at

        contact.rotate_secret()

        stored = Contact.objects.get(pk=contact.pk)
        assert stored.secret == contact.secret
        assert stored.secret != old_secret
        assert len(stored.secret) >= 43
        assert stored.updated_at > old_updated

    def test_rotate_secret_saves_nothing_else(self):
        contact = ContactFactory(first_name="Ada")
        contact.first_name = "Not saved"

        contact.rotate_secret()

        assert Contact.objects.get(pk=contact.pk).first_name == "Ada"


class TestInterestSlug:
    @pytest.mark.parametrize("model", [Preference, Category])
    def test_slug_is_made_from_the_name(self, model):
        interest = model.objects.create(name="Product News & Offers")

        assert interest.slug == "product-news-offers"
        assert model.objects.get(pk=interest.pk).slug == "product-news-offers"

    @pytest.mark.parametrize("model", [Preference, Category])
    def test_accented_names_give_ascii_slugs(self, model):
        assert model.objects.create(name="Événements à Paris").slug == "evenements-a-paris"

    @pytest.mark.parametrize("model", [Preference, Category])
    def test_a_given_slug_is_kept(self, model):
        interest = model.objects.create(name="Trainings", slug="courses")
        interest.name = "Workshops"
        interest.save()

        assert model.objects.get(pk=interest.pk).slug == "courses"

    def test_names_are_unique(self):
        PreferenceFactory(name="Events")

        with transaction.atomic(), pytest.raises(IntegrityError):
            PreferenceFactory(name="Events")

    def test_ordering_is_sort_order_then_name(self):
        b = PreferenceFactory(name="B", sort_order=1)
        a = PreferenceFactory(name="A", sort_order=1)
        z = PreferenceFactory(name="Z", sort_order=0)

        assert list(Preference.objects.all()) == [z, a, b]
        assert str(z) == "Z"


class TestChannelConstraints:
    def test_one_preferred_channel_per_contact(self):
        contact = ContactFactory()
        ContactChannelFactory(contact=contact, channel="email", preferred=True)

        with transaction.atomic(), pytest.raises(IntegrityError):
            ContactChannelFactory(contact=contact, channel="sms", preferred=True)

    def test_other_contacts_may_each_prefer_a_channel(self):
        ContactChannelFactory(channel="email", preferred=True)
        ContactChannelFactory(channel="email", preferred=True)

        assert ContactChannel.objects.filter(is_preferred=True).count() == 2

    def test_any_number_of_channels_that_are_not_preferred(self):
        contact = ContactFactory()
        ContactChannelFactory(contact=contact, channel="email", preferred=True)
        ContactChannelFactory(contact=contact, channel="sms")
        ContactChannelFactory(contact=contact, channel="push")

        assert contact.channel_settings.count() == 3

    def test_one_row_per_contact_and_channel(self):
        row = ContactChannelFactory(channel="sms")

        with transaction.atomic(), pytest.raises(IntegrityError):
            ContactChannelFactory(contact=row.contact, channel="sms")

    def test_pause_cannot_end_before_it_starts(self):
        with transaction.atomic(), pytest.raises(IntegrityError):
            ContactChannelFactory(pause_from=TODAY, pause_to=TODAY - datetime.timedelta(days=1))

    @pytest.mark.parametrize(
        ("pause_from", "pause_to"),
        [(TODAY, TODAY), (TODAY, TODAY + datetime.timedelta(days=3)), (TODAY, None), (None, TODAY)],
    )
    def test_valid_pauses(self, pause_from, pause_to):
        row = ContactChannelFactory(pause_from=pause_from, pause_to=pause_to)

        assert ContactChannel.objects.get(pk=row.pk).pause_to == pause_to

    @pytest.mark.parametrize(
        ("count", "period"),
        [(3, ""), (0, "week"), (0, ""), (None, "week")],
        ids=["count-without-period", "zero-count", "zero-count-without-period", "period-only"],
    )
    def test_frequency_needs_both_a_count_and_a_period(self, count, period):
        with transaction.atomic(), pytest.raises(IntegrityError):
            ContactChannelFactory(frequency_count=count, frequency_period=period)

    @pytest.mark.parametrize(("count", "period"), [(None, ""), (2, "week"), (1, "day")])
    def test_valid_frequencies(self, count, period):
        row = ContactChannelFactory(frequency_count=count, frequency_period=period)

        assert ContactChannel.objects.filter(pk=row.pk, frequency_count=count).exists()

    def test_queryset_update_cannot_break_the_constraints(self):
        row = ContactChannelFactory(weekly=True)

        with transaction.atomic(), pytest.raises(IntegrityError):
            ContactChannel.objects.filter(pk=row.pk).update(frequency_period="")
        assert ContactChannel.objects.get(pk=row.pk).frequency_period == "week"


class TestUniqueRows:
    def test_a_contact_holds_a_preference_once(self):
        holding = ContactPreferenceFactory()

        with transaction.atomic(), pytest.raises(IntegrityError):
            ContactPreferenceFactory(contact=holding.contact, preference=holding.preference)

    def test_a_contact_has_one_choice_per_category(self):
        choice = CategoryChoiceFactory()

        with transaction.atomic(), pytest.raises(IntegrityError):
            CategoryChoiceFactory(contact=choice.contact, category=choice.category, subscribed=True)


class TestConsentEventIsAppendOnly:
    @pytest.fixture
    def event(self):
        return ConsentEvent.objects.create(
            contact=ContactFactory(),
            subject=ConsentSubject.STATUS,
            field="status",
            old_value="pending",
            new_value="confirmed",
            path=ChangePath.FORM,
        )

    def test_new_events_can_be_saved(self, event):
        assert ConsentEvent.objects.get(pk=event.pk).new_value == "confirmed"

    def test_save_on_an_existing_event_raises(self, event):
        event.new_value = "unsubscribed"

        with pytest.raises(InvalidChange):
            event.save()
        assert ConsentEvent.objects.get(pk=event.pk).new_value == "confirmed"

    def test_save_on_a_fetched_event_raises(self, event):
        fetched = ConsentEvent.objects.get(pk=event.pk)

        with pytest.raises(InvalidChange):
            fetched.save(update_fields=["field"])

    def test_queryset_update_raises(self, event):
        with pytest.raises(InvalidChange):
            ConsentEvent.objects.filter(pk=event.pk).update(new_value="unsubscribed")
        with pytest.raises(InvalidChange):
            ConsentEvent.objects.update(path=ChangePath.ADMIN)
        assert ConsentEvent.objects.get(pk=event.pk).new_value == "confirmed"

    def test_related_manager_update_raises(self, event):
        with pytest.raises(InvalidChange):
            event.contact.consent_events.update(path=ChangePath.ADMIN)
        assert ConsentEvent.objects.get(pk=event.pk).path == ChangePath.FORM

    def test_bulk_update_raises(self, event):
        event.new_value = "unsubscribed"

        with pytest.raises(InvalidChange):
            ConsentEvent.objects.bulk_update([event], ["new_value"])
        assert ConsentEvent.objects.get(pk=event.pk).new_value == "confirmed"

    def test_the_error_is_a_preferences_error_and_a_value_error(self, event):
        with pytest.raises(PreferencesError) as excinfo:
            event.save()

        assert isinstance(excinfo.value, ValueError)

    def test_for_subject(self, event):
        contact = event.contact
        other = ConsentEvent.objects.create(
            contact=contact,
            subject=ConsentSubject.PREFERENCE,
            subject_id=7,
            path=ChangePath.FORM,
        )
        ConsentEvent.objects.create(
            contact=contact, subject=ConsentSubject.CATEGORY, subject_id=7, path=ChangePath.FORM
        )

        assert list(ConsentEvent.objects.for_subject(ConsentSubject.PREFERENCE, 7)) == [other]


class TestConsentEventsOutliveWhatTheyMention:
    def test_deleting_a_preference_keeps_its_events_and_label(self, origin):
        contact = ContactFactory()
        preference = PreferenceFactory(name="Trainings")
        preference_id = preference.pk
        services.add_preferences([contact], [preference], origin)

        preference.delete()

        added, removed = ConsentEvent.objects.filter(contact=contact).order_by("pk")
        for event in (added, removed):
            assert event.subject == ConsentSubject.PREFERENCE
            assert event.subject_id == preference_id
            assert event.subject_label == "Trainings"
            assert "Trainings" in str(event)
        assert (added.new_value, removed.new_value) == (True, False)
        assert not contact.preference_holdings.exists()

    def test_deleting_a_category_keeps_its_events_and_label(self, origin):
        contact = ContactFactory()
        category = CategoryFactory(name="Promotions")
        services.set_category_choices([contact], {category: False}, origin)

        category.delete()

        opted_out, forgotten = ConsentEvent.objects.filter(contact=contact).order_by("pk")
        for event in (opted_out, forgotten):
            assert (event.subject, event.subject_label) == (ConsentSubject.CATEGORY, "Promotions")
        assert (opted_out.new_value, forgotten.new_value) == (False, None)
        assert not contact.category_choices.exists()

    def test_deleting_the_actor_keeps_the_event_and_the_actor_label(self):
        user = UserFactory(username="editor")
        contact = ContactFactory()
        services.set_status([contact], "confirmed", services.Origin(ChangePath.ADMIN, user=user))

        user.delete()

        event = ConsentEvent.objects.get(contact=contact)
        assert event.actor is None
        assert event.actor_label == "editor"

    def test_an_actor_removed_outside_django_leaves_the_event_readable(self):
        # No database constraint ties the event to its actor (decision 0018), as for
        # Wagtail's log entries: the label still says who it was.
        user = UserFactory(username="editor")
        contact = ContactFactory()
        services.set_status([contact], "confirmed", services.Origin(ChangePath.ADMIN, user=user))

        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {user._meta.db_table} WHERE id = %s", [user.pk])  # noqa: S608
        connection.check_constraints(table_names=[ConsentEvent._meta.db_table])

        event = ConsentEvent.objects.select_related("actor").get(contact=contact)
        assert event.actor is None
        assert event.actor_label == "editor"

    def test_deleting_a_contact_deletes_its_events(self, origin):
        contact = ContactFactory()
        services.set_status([contact], "confirmed", origin)

        contact.delete()

        assert not ConsentEvent.objects.exists()
