"""A contact's status and details, created or updated one by one or in bulk."""

import pytest

from tests.factories import ContactFactory, UserFactory
from tests.services.service_helpers import (
    as_kind,
    assert_stamped,
    insert_statements,
    logged,
    make_contacts,
)
from wagtail_preferences import services, signals
from wagtail_preferences.exceptions import InvalidChange
from wagtail_preferences.models import ConsentEvent, ConsentSubject, Contact, ContactStatus

pytestmark = pytest.mark.django_db


class TestSetStatus:
    @pytest.mark.parametrize("contacts_kind", ["queryset", "instances", "ids"])
    def test_contacts_that_change_are_logged(self, contacts_kind, form_origin, sent_signals):
        pending = ContactFactory()
        confirmed = ContactFactory(confirmed=True)
        unsubscribed = ContactFactory(unsubscribed=True)
        bystander = ContactFactory(confirmed=True)

        changed = services.set_status(
            as_kind([pending, confirmed, unsubscribed], contacts_kind),
            ContactStatus.UNSUBSCRIBED,
            form_origin,
        )

        assert changed == {pending.pk, confirmed.pk}
        assert dict(Contact.objects.values_list("pk", "status")) == {
            pending.pk: "unsubscribed",
            confirmed.pk: "unsubscribed",
            unsubscribed.pk: "unsubscribed",
            bystander.pk: "confirmed",
        }
        assert logged() == {
            (pending.pk, None, "", "status", "pending", "unsubscribed"),
            (confirmed.pk, None, "", "status", "confirmed", "unsubscribed"),
        }
        assert set(ConsentEvent.objects.values_list("subject", flat=True)) == {"status"}
        assert_stamped(ConsentEvent.objects.all(), form_origin)
        assert sent_signals == [
            (
                "contact_status_changed",
                {
                    "sender": Contact,
                    "contact_ids": frozenset({pending.pk, confirmed.pk}),
                    "status": ContactStatus.UNSUBSCRIBED,
                    "origin": form_origin,
                },
            )
        ]

    def test_status_given_as_a_string(self, origin):
        contact = ContactFactory()

        services.set_status([contact], "confirmed", origin)

        contact.refresh_from_db()
        assert contact.status == ContactStatus.CONFIRMED

    def test_the_changed_contacts_are_marked_updated(self, origin):
        changed, unchanged = ContactFactory(), ContactFactory(confirmed=True)
        before = {c.pk: c.updated_at for c in Contact.objects.all()}

        services.set_status([changed, unchanged], ContactStatus.CONFIRMED, origin)

        after = dict(Contact.objects.values_list("pk", "updated_at"))
        assert after[changed.pk] > before[changed.pk]
        assert after[unchanged.pk] == before[unchanged.pk]

    def test_no_change_no_event_no_signal(self, origin, sent_signals):
        contact = ContactFactory(confirmed=True)

        assert services.set_status([contact], "confirmed", origin) == frozenset()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_an_unknown_status_raises_and_changes_nothing(self, origin, sent_signals):
        contact = ContactFactory()

        with pytest.raises(InvalidChange, match="subscribed-ish"):
            services.set_status([contact], "subscribed-ish", origin)

        assert Contact.objects.get().status == ContactStatus.PENDING
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_a_failing_receiver_rolls_the_change_back(self, origin, failing_receiver):
        failing_receiver(signals.contact_status_changed)
        contact = ContactFactory()

        with pytest.raises(RuntimeError):
            services.set_status([contact], ContactStatus.BLOCKED, origin)

        assert Contact.objects.get().status == ContactStatus.PENDING
        assert not ConsentEvent.objects.exists()

    def test_queries_do_not_grow_with_the_number_of_contacts(
        self, origin, django_assert_num_queries
    ):
        make_contacts(500)

        # SAVEPOINT, contact ids, current statuses, UPDATE, RELEASE
        with django_assert_num_queries(5 + insert_statements(ConsentEvent, 500)):
            changed = services.set_status(Contact.objects.all(), "confirmed", origin)

        assert len(changed) == 500


class TestUpdateDetails:
    def test_changed_fields_are_saved_and_logged(self, form_origin, sent_signals):
        contact = ContactFactory(email="ada@example.com", first_name="Ada", last_name="King")

        changed = services.update_details(
            contact,
            {"email": "  Ada.Lovelace@Example.com", "first_name": "Ada", "last_name": "Lovelace"},
            form_origin,
        )

        assert changed == {"email", "last_name"}
        stored = Contact.objects.get()
        assert (stored.email, stored.first_name, stored.last_name) == (
            "ada.lovelace@example.com",
            "Ada",
            "Lovelace",
        )
        assert logged() == {
            (contact.pk, None, "", "email", "ada@example.com", "ada.lovelace@example.com"),
            (contact.pk, None, "", "last_name", "King", "Lovelace"),
        }
        assert set(ConsentEvent.objects.values_list("subject", flat=True)) == {"contact"}
        assert_stamped(ConsentEvent.objects.all(), form_origin)
        assert sent_signals == [
            (
                "contact_details_changed",
                {
                    "sender": Contact,
                    "contact_ids": frozenset({contact.pk}),
                    "fields": frozenset({"email", "last_name"}),
                    "origin": form_origin,
                },
            )
        ]

    def test_linking_a_user_logs_its_id(self, origin):
        contact, user = ContactFactory(), UserFactory()

        services.update_details(contact, {"user": user}, origin)

        assert Contact.objects.get().user == user
        assert logged() == {(contact.pk, None, "", "user", None, user.pk)}

    def test_custom_data_is_logged_as_json(self, origin):
        contact = ContactFactory(data={"source": "fair"})

        services.update_details(contact, {"data": {"source": "fair", "stand": 12}}, origin)

        assert Contact.objects.get().data == {"source": "fair", "stand": 12}
        event = ConsentEvent.objects.get()
        assert (event.field, event.old_value, event.new_value) == (
            "data",
            {"source": "fair"},
            {"source": "fair", "stand": 12},
        )

    def test_no_change_no_event_no_signal(self, origin, sent_signals):
        contact = ContactFactory(first_name="Ada", email="ada@example.com")

        changed = services.update_details(
            contact, {"first_name": "Ada", "email": "ADA@example.com"}, origin
        )

        assert changed == frozenset()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_a_stale_instance_does_not_undo_other_changes(self, origin):
        contact = ContactFactory(confirmed=True)
        services.set_status(Contact.objects.filter(pk=contact.pk), "unsubscribed", origin)

        services.update_details(contact, {"first_name": "Grace"}, origin)

        stored = Contact.objects.get()
        assert (stored.first_name, stored.status) == ("Grace", ContactStatus.UNSUBSCRIBED)

    def test_unknown_fields_raise_and_change_nothing(self, origin, sent_signals):
        contact = ContactFactory(first_name="Ada")

        with pytest.raises(InvalidChange, match="secret, status"):
            services.update_details(
                contact, {"first_name": "Eve", "status": "confirmed", "secret": "x"}, origin
            )

        assert Contact.objects.get().first_name == "Ada"
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    @pytest.mark.parametrize("email", ["", "   ", "not-an-address", "two@@example.com"])
    def test_an_invalid_email_raises_and_changes_nothing(self, email, origin, sent_signals):
        contact = ContactFactory(email="ada@example.com")

        with pytest.raises(InvalidChange):
            services.update_details(contact, {"email": email}, origin)

        assert Contact.objects.get().email == "ada@example.com"
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_an_email_taken_by_another_contact_raises_and_changes_nothing(
        self, origin, sent_signals
    ):
        ContactFactory(email="taken@example.com")
        contact = ContactFactory(email="ada@example.com", first_name="Ada")

        with pytest.raises(InvalidChange, match="taken@example.com is another contact's"):
            services.update_details(
                contact, {"email": "TAKEN@example.com", "first_name": "Eve"}, origin
            )

        stored = Contact.objects.get(pk=contact.pk)
        assert (stored.email, stored.first_name) == ("ada@example.com", "Ada")
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_a_failing_receiver_rolls_the_change_back(self, origin, failing_receiver):
        failing_receiver(signals.contact_details_changed)
        contact = ContactFactory(first_name="Ada")

        with pytest.raises(RuntimeError):
            services.update_details(contact, {"first_name": "Eve"}, origin)

        assert Contact.objects.get().first_name == "Ada"
        assert not ConsentEvent.objects.exists()


class TestGetOrCreateContact:
    def test_a_new_address_creates_a_contact(self, form_origin, sent_signals):
        contact, created = services.get_or_create_contact(
            "  New.Person@Example.COM ", form_origin, first_name="New", locale="nl"
        )

        assert created is True
        stored = Contact.objects.get()
        assert stored == contact
        assert (stored.email, stored.first_name, stored.locale, stored.status) == (
            "new.person@example.com",
            "New",
            "nl",
            ContactStatus.PENDING,
        )
        event = ConsentEvent.objects.get()
        assert (event.contact, event.subject, event.subject_id, event.field) == (
            contact,
            ConsentSubject.CONTACT,
            None,
            "created",
        )
        assert event.old_value is None
        assert event.new_value == {"email": "new.person@example.com", "status": "pending"}
        assert_stamped([event], form_origin)
        assert sent_signals == [
            (
                "contact_created",
                {
                    "sender": Contact,
                    "contact_ids": frozenset({contact.pk}),
                    "origin": form_origin,
                },
            )
        ]

    def test_an_address_in_another_case_finds_the_contact(self, origin, sent_signals):
        existing = ContactFactory(email="ada@example.com", first_name="Ada")

        contact, created = services.get_or_create_contact(
            "ADA@Example.com", origin, first_name="Someone else"
        )

        assert (contact, created) == (existing, False)
        assert Contact.objects.get().first_name == "Ada"
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_details_may_set_the_status(self, origin):
        contact, _ = services.get_or_create_contact(
            "new@example.com", origin, status=ContactStatus.CONFIRMED
        )

        assert ConsentEvent.objects.get().new_value == {
            "email": "new@example.com",
            "status": "confirmed",
        }
        assert contact.status == ContactStatus.CONFIRMED

    @pytest.mark.parametrize("email", ["", "   ", "no-at-sign", "a@b@example.com"])
    def test_an_invalid_email_raises_and_creates_nothing(self, email, origin, sent_signals):
        with pytest.raises(InvalidChange):
            services.get_or_create_contact(email, origin)

        assert not Contact.objects.exists()
        assert not ConsentEvent.objects.exists()
        assert sent_signals == []

    def test_a_failing_receiver_rolls_the_creation_back(self, origin, failing_receiver):
        failing_receiver(signals.contact_created)

        with pytest.raises(RuntimeError):
            services.get_or_create_contact("new@example.com", origin)

        assert not Contact.objects.exists()
        assert not ConsentEvent.objects.exists()


class TestCreateContacts:
    def test_creates_each_with_its_details_one_event_each_and_one_signal(
        self, form_origin, sent_signals
    ):
        ids = services.create_contacts(
            [
                {"email": " Ann@Example.com ", "first_name": "Ann", "data": {"club": "Ghent"}},
                {"email": "bob@example.com", "status": ContactStatus.CONFIRMED},
            ],
            form_origin,
        )

        ann, bob = (
            Contact.objects.get(email="ann@example.com"),
            Contact.objects.get(email="bob@example.com"),
        )
        assert ids == {"ann@example.com": ann.pk, "bob@example.com": bob.pk}
        assert (ann.first_name, ann.data, ann.status) == ("Ann", {"club": "Ghent"}, "pending")
        assert (bob.first_name, bob.data, bob.status) == ("", {}, "confirmed")
        assert ann.secret and bob.secret and ann.secret != bob.secret
        events = ConsentEvent.objects.order_by("contact__email")
        assert [(e.contact_id, e.field, e.new_value) for e in events] == [
            (ann.pk, "created", {"email": "ann@example.com", "status": "pending"}),
            (bob.pk, "created", {"email": "bob@example.com", "status": "confirmed"}),
        ]
        assert_stamped(events, form_origin)
        assert [(name, kwargs["contact_ids"]) for name, kwargs in sent_signals] == [
            ("contact_created", frozenset([ann.pk, bob.pk]))
        ]

    def test_nothing_to_create(self, origin, sent_signals):
        assert services.create_contacts([], origin) == {}
        assert sent_signals == []


class TestUpdateContacts:
    def test_changes_only_what_differs_and_logs_each_field(self, form_origin, sent_signals):
        ann = ContactFactory(first_name="Ann", last_name="Old", data={"a": 1})
        bob = ContactFactory(first_name="Bob")

        changed = services.update_contacts(
            {
                ann.pk: {"first_name": "Ann", "last_name": "New", "data": {"a": 1, "b": 2}},
                bob.pk: {"first_name": "Bob"},
            },
            form_origin,
        )

        assert changed == frozenset([ann.pk])
        ann.refresh_from_db()
        assert (ann.first_name, ann.last_name, ann.data) == ("Ann", "New", {"a": 1, "b": 2})
        events = ConsentEvent.objects.order_by("field")
        assert [(e.field, e.old_value, e.new_value) for e in events] == [
            ("data", {"a": 1}, {"a": 1, "b": 2}),
            ("last_name", "Old", "New"),
        ]
        assert_stamped(events, form_origin)
        ((name, kwargs),) = sent_signals
        assert name == "contact_details_changed"
        assert (kwargs["contact_ids"], kwargs["fields"]) == (
            frozenset([ann.pk]),
            frozenset(["last_name", "data"]),
        )

    def test_refuses_fields_it_does_not_change_in_bulk(self, origin):
        contact = ContactFactory()

        with pytest.raises(InvalidChange, match="email"):
            services.update_contacts({contact.pk: {"email": "x@example.com"}}, origin)
