"""Adding, removing and setting the preferences contacts hold, also as contact-preference pairs."""

import pytest
from django.db import connection

from tests.factories import ContactFactory, PreferenceFactory
from tests.services.service_helpers import (
    as_kind,
    assert_stamped,
    insert_statements,
    logged,
    make_contacts,
)
from wagtail_preferences import services, signals
from wagtail_preferences.db.batches import COPY_AFTER
from wagtail_preferences.exceptions import InvalidChange
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    Contact,
    ContactPreference,
    Preference,
)

pytestmark = pytest.mark.django_db


def held_pairs():
    return set(ContactPreference.objects.values_list("contact_id", "preference_id"))


class TestAddPreferences:
    @pytest.mark.parametrize("contacts_kind", ["queryset", "instances", "ids"])
    @pytest.mark.parametrize("preferences_kind", ["queryset", "instances", "ids"])
    def test_every_contact_gets_every_preference(
        self, contacts_kind, preferences_kind, form_origin, sent_signals
    ):
        contacts = ContactFactory.create_batch(3)
        preferences = PreferenceFactory.create_batch(2)
        ContactFactory()  # not asked for: must stay untouched
        expected = {(c.pk, p.pk) for c in contacts for p in preferences}

        added = services.add_preferences(
            as_kind(contacts, contacts_kind), as_kind(preferences, preferences_kind), form_origin
        )

        assert added == expected
        assert held_pairs() == expected
        assert logged() == {
            (c.pk, p.pk, p.name, "held", False, True) for c in contacts for p in preferences
        }
        assert_stamped(ConsentEvent.objects.all(), form_origin)
        assert set(ConsentEvent.objects.values_list("subject", flat=True)) == {
            ConsentSubject.PREFERENCE
        }
        assert sent_signals == [
            (
                "preferences_added",
                {
                    "sender": Preference,
                    "contact_ids": frozenset(c.pk for c in contacts),
                    "pairs": frozenset(expected),
                    "origin": form_origin,
                },
            )
        ]

    def test_a_single_contact_and_a_single_preference(self, origin, sent_signals):
        contact, preference = ContactFactory(), PreferenceFactory()

        assert services.add_preferences(contact, preference, origin) == {
            (contact.pk, preference.pk)
        }
        assert held_pairs() == {(contact.pk, preference.pk)}
        assert [name for name, _ in sent_signals] == ["preferences_added"]

    def test_holdings_record_the_path(self, form_origin):
        contact, preference = ContactFactory(), PreferenceFactory()

        services.add_preferences([contact], [preference], form_origin)

        assert ContactPreference.objects.get().source == ChangePath.FORM

    def test_adding_twice_adds_once_and_logs_once(self, origin, sent_signals):
        contacts = ContactFactory.create_batch(2)
        preference = PreferenceFactory()
        services.add_preferences(contacts, [preference], origin)

        again = services.add_preferences(contacts, [preference], origin)

        assert again == frozenset()
        assert ContactPreference.objects.count() == 2
        assert ConsentEvent.objects.count() == 2
        assert len(sent_signals) == 1

    def test_only_missing_holdings_are_added_and_logged(self, origin, sent_signals):
        products, events = PreferenceFactory(name="Products"), PreferenceFactory(name="Events")
        ann = ContactFactory(preferences=[products])
        bob = ContactFactory(preferences=[products, events])
        cat = ContactFactory()

        added = services.add_preferences([ann, bob, cat], [products, events], origin)

        assert added == {(ann.pk, events.pk), (cat.pk, products.pk), (cat.pk, events.pk)}
        assert logged() == {
            (ann.pk, events.pk, "Events", "held", False, True),
            (cat.pk, products.pk, "Products", "held", False, True),
            (cat.pk, events.pk, "Events", "held", False, True),
        }
        (_, kwargs), *_ = sent_signals
        assert kwargs["contact_ids"] == {ann.pk, cat.pk}
        assert kwargs["pairs"] == added

    def test_a_contact_given_twice_is_handled_once(self, origin):
        contact, preference = ContactFactory(), PreferenceFactory()

        added = services.add_preferences([contact, contact.pk], [preference], origin)

        assert added == {(contact.pk, preference.pk)}
        assert ConsentEvent.objects.count() == 1

    @pytest.mark.parametrize("empty", ["contacts", "preferences"])
    def test_nothing_to_add(self, empty, origin, sent_signals):
        contacts = [] if empty == "contacts" else [ContactFactory()]
        preferences = [] if empty == "preferences" else [PreferenceFactory()]

        assert services.add_preferences(contacts, preferences, origin) == frozenset()
        assert not ContactPreference.objects.exists()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_preference_ids_that_do_not_exist_are_ignored(self, origin):
        contact, preference = ContactFactory(), PreferenceFactory()

        added = services.add_preferences([contact], [preference.pk, preference.pk + 1000], origin)

        assert added == {(contact.pk, preference.pk)}

    def test_unknown_contact_ids_raise_and_change_nothing(self, origin, sent_signals):
        contact, preference = ContactFactory(), PreferenceFactory()
        missing = contact.pk + 1000

        with pytest.raises(InvalidChange, match=str(missing)):
            services.add_preferences([contact.pk, missing], [preference], origin)

        assert not ContactPreference.objects.exists()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_an_unsaved_contact_raises(self, origin):
        with pytest.raises(InvalidChange):
            services.add_preferences(
                [Contact(email="new@example.com")], [PreferenceFactory()], origin
            )
        assert not ContactPreference.objects.exists()

    def test_a_failing_receiver_rolls_the_change_back(self, origin, failing_receiver):
        failing_receiver(signals.preferences_added)
        contacts = ContactFactory.create_batch(2)

        with pytest.raises(RuntimeError):
            services.add_preferences(contacts, [PreferenceFactory()], origin)

        assert not ContactPreference.objects.exists()
        assert not ConsentEvent.objects.exists()

    @pytest.mark.parametrize("contacts_kind", ["queryset", "instances", "ids"])
    @pytest.mark.parametrize("size", [5, 500])
    def test_queries_do_not_grow_with_the_number_of_contacts(
        self, size, contacts_kind, origin, django_assert_num_queries
    ):
        contacts = make_contacts(size)
        preferences = PreferenceFactory.create_batch(3)
        given = as_kind(contacts, contacts_kind)
        rows = size * 3
        # SAVEPOINT, the contact ids (a queryset) or a check that they exist, current
        # holdings, RELEASE; then the bulk inserts. Preferences given as instances are not
        # read again.
        expected = (
            4
            + insert_statements(ContactPreference, rows, ignore_conflicts=True)
            + insert_statements(ConsentEvent, rows)
        )

        with django_assert_num_queries(expected):
            added = services.add_preferences(given, preferences, origin)

        assert len(added) == rows
        assert ConsentEvent.objects.count() == rows
        if connection.vendor == "postgresql" and rows < COPY_AFTER:
            assert expected == 6


class TestGivePreferences:
    def test_holdings_and_their_events_are_written_in_contact_order(self, origin):
        contacts = make_contacts(20)
        preference = PreferenceFactory()
        ids = [contact.pk for contact in reversed(contacts)]

        services.preferences.give_preferences(ids, [preference], origin)

        in_order = sorted(ids)
        holdings = ContactPreference.objects.order_by("pk").values_list("contact_id", flat=True)
        assert list(holdings) == in_order
        events = ConsentEvent.objects.order_by("pk").values_list("contact_id", flat=True)
        assert list(events) == in_order


class TestRemovePreferences:
    @pytest.mark.parametrize("contacts_kind", ["queryset", "instances", "ids"])
    @pytest.mark.parametrize("preferences_kind", ["queryset", "instances", "ids"])
    def test_holdings_are_removed_and_logged(
        self, contacts_kind, preferences_kind, form_origin, sent_signals
    ):
        products, events, news = (
            PreferenceFactory(name=name) for name in ("Products", "Events", "News")
        )
        ann = ContactFactory(preferences=[products, news])
        bob = ContactFactory(preferences=[events, news])
        cat = ContactFactory(preferences=[news])
        dan = ContactFactory(preferences=[products])  # not asked for

        removed = services.remove_preferences(
            as_kind([ann, bob, cat], contacts_kind),
            as_kind([products, events], preferences_kind),
            form_origin,
        )

        assert removed == {(ann.pk, products.pk), (bob.pk, events.pk)}
        assert held_pairs() == {
            (ann.pk, news.pk),
            (bob.pk, news.pk),
            (cat.pk, news.pk),
            (dan.pk, products.pk),
        }
        assert logged() == {
            (ann.pk, products.pk, "Products", "held", True, False),
            (bob.pk, events.pk, "Events", "held", True, False),
        }
        assert_stamped(ConsentEvent.objects.all(), form_origin)
        assert sent_signals == [
            (
                "preferences_removed",
                {
                    "sender": Preference,
                    "contact_ids": frozenset({ann.pk, bob.pk}),
                    "pairs": frozenset(removed),
                    "origin": form_origin,
                },
            )
        ]

    def test_removing_what_is_not_held_does_nothing(self, origin, sent_signals):
        contact, preference = ContactFactory(), PreferenceFactory()

        assert services.remove_preferences([contact], [preference], origin) == frozenset()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_removing_twice_logs_once(self, origin, sent_signals):
        preference = PreferenceFactory()
        contact = ContactFactory(preferences=[preference])

        services.remove_preferences([contact], [preference], origin)
        services.remove_preferences([contact], [preference], origin)

        assert ConsentEvent.objects.count() == 1
        assert len(sent_signals) == 1

    def test_a_failing_receiver_rolls_the_change_back(self, origin, failing_receiver):
        failing_receiver(signals.preferences_removed)
        preference = PreferenceFactory()
        contact = ContactFactory(preferences=[preference])

        with pytest.raises(RuntimeError):
            services.remove_preferences([contact], [preference], origin)

        assert held_pairs() == {(contact.pk, preference.pk)}
        assert not ConsentEvent.objects.exists()

    def test_queries_do_not_grow_with_the_number_of_contacts(
        self, origin, django_assert_num_queries
    ):
        preferences = PreferenceFactory.create_batch(3)
        contacts = make_contacts(500)
        services.add_preferences(Contact.objects.all(), preferences, origin)
        ConsentEvent.objects.all().delete()

        # SAVEPOINT, contact ids, holdings, DELETE, RELEASE (instances: no preferences query)
        with django_assert_num_queries(5 + insert_statements(ConsentEvent, 1500)):
            removed = services.remove_preferences(Contact.objects.all(), preferences, origin)

        assert len(removed) == 1500
        assert not ContactPreference.objects.filter(contact__in=contacts).exists()


class TestSetPreferences:
    @pytest.fixture
    def interests(self):
        return {
            name: PreferenceFactory(name=name)
            for name in ("Products", "Trainings", "Events", "Newsletter")
        }

    def test_the_contact_ends_up_holding_exactly_the_chosen(
        self, interests, form_origin, sent_signals
    ):
        products, trainings, events = (interests[n] for n in ("Products", "Trainings", "Events"))
        contact = ContactFactory(preferences=[products, trainings])

        added, removed = services.set_preferences(contact, [trainings, events], form_origin)

        assert (added, removed) == (
            frozenset({(contact.pk, events.pk)}),
            frozenset({(contact.pk, products.pk)}),
        )
        assert set(contact.preferences.all()) == {trainings, events}
        assert logged() == {
            (contact.pk, products.pk, "Products", "held", True, False),
            (contact.pk, events.pk, "Events", "held", False, True),
        }
        assert_stamped(ConsentEvent.objects.all(), form_origin)
        assert sent_signals == [
            (
                "preferences_removed",
                {
                    "sender": Preference,
                    "contact_ids": frozenset({contact.pk}),
                    "pairs": frozenset({(contact.pk, products.pk)}),
                    "origin": form_origin,
                },
            ),
            (
                "preferences_added",
                {
                    "sender": Preference,
                    "contact_ids": frozenset({contact.pk}),
                    "pairs": frozenset({(contact.pk, events.pk)}),
                    "origin": form_origin,
                },
            ),
        ]

    def test_preferences_that_were_not_offered_are_left_alone(self, interests, origin):
        products, trainings, events, newsletter = interests.values()
        # Products was not offered: neither choosing nor not choosing it changes it.
        contact = ContactFactory(preferences=[products, trainings])

        services.set_preferences(contact, [events, newsletter], origin, offered=[trainings, events])

        assert set(contact.preferences.all()) == {products, events}
        assert {(e.subject_label, e.new_value) for e in ConsentEvent.objects.all()} == {
            ("Trainings", False),
            ("Events", True),
        }

    def test_offered_as_ids_and_chosen_as_a_queryset(self, interests, origin):
        products, trainings, events, _ = interests.values()
        contact = ContactFactory(preferences=[products])

        services.set_preferences(
            contact,
            Preference.objects.filter(name__in=["Trainings", "Events"]),
            origin,
            offered=[products.pk, trainings.pk, events.pk],
        )

        assert set(contact.preferences.all()) == {trainings, events}

    def test_no_change_no_event_no_signal(self, interests, origin, sent_signals):
        products = interests["Products"]
        contact = ContactFactory(preferences=[products])

        services.set_preferences(contact, [products], origin)

        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_choosing_nothing_removes_every_offered_preference(self, interests, origin):
        contact = ContactFactory(preferences=list(interests.values()))

        services.set_preferences(contact, [], origin)

        assert not contact.preferences.exists()
        assert ConsentEvent.objects.count() == 4


class TestPreferencePairs:
    def test_adds_and_removes_per_contact(self, origin, products, events, sent_signals):
        ann, bob = ContactFactory(preferences=[events]), ContactFactory()

        added = services.add_preference_pairs(
            [(ann.pk, products.pk), (ann.pk, events.pk), (bob.pk, events.pk)], origin
        )
        removed = services.remove_preference_pairs(
            [(ann.pk, events.pk), (bob.pk, products.pk)], origin
        )

        assert added == frozenset([(ann.pk, products.pk), (bob.pk, events.pk)])
        assert removed == frozenset([(ann.pk, events.pk)])
        assert set(ann.preferences.all()) == {products}
        assert set(bob.preferences.all()) == {events}
        assert [name for name, _ in sent_signals] == ["preferences_added", "preferences_removed"]
        assert ConsentEvent.objects.count() == 3

    def test_pairs_of_a_preference_that_does_not_exist_change_nothing(
        self, origin, products, sent_signals
    ):
        contact = ContactFactory(preferences=[products])
        gone = PreferenceFactory()
        gone_pk = gone.pk
        Preference.objects.filter(pk=gone_pk).delete()

        assert services.add_preference_pairs([(contact.pk, gone_pk)], origin) == frozenset()
        assert services.remove_preference_pairs([(contact.pk, gone_pk)], origin) == frozenset()
        assert sent_signals == []
