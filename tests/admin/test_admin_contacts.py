"""The contacts in the admin: list, edit, create, their interests, overview and consent log."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.admin.admin_helpers import CONTACTS, contact_form_data
from tests.factories import (
    CategoryChoiceFactory,
    CategoryFactory,
    ContactChannelFactory,
    ContactFactory,
    PreferenceFactory,
    UserFactory,
)
from wagtail_preferences import services
from wagtail_preferences.admin.consent_text import describe
from wagtail_preferences.admin.paginators import CappedCountPaginator
from wagtail_preferences.audience import compiler
from wagtail_preferences.conf import get_setting
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    Contact,
    ContactStatus,
)

pytestmark = pytest.mark.django_db


def listed_emails(response) -> list[str]:
    return re.findall(r"[\w.+-]+@[\w.-]+\.(?:com|org|net|example)", response.content.decode())


class TestContactList:
    def test_filters(self, admin_client):
        products, trainings = PreferenceFactory(name="Products"), PreferenceFactory()
        promotions = CategoryFactory(name="Promotions")
        holder = ContactFactory(email="holder@example.com", preferences=[products])
        other = ContactFactory(email="other@example.com", preferences=[trainings], confirmed=True)
        opted_out = ContactFactory(email="optout@example.com")
        CategoryChoiceFactory(contact=opted_out, category=promotions)
        no_sms = ContactFactory(email="nosms@example.com")
        ContactChannelFactory(contact=no_sms, channel="sms", disabled=True)
        url = reverse(f"{CONTACTS}:index")

        def emails(**params):
            return set(listed_emails(admin_client.get(url, params))) - {"admin@example.com"}

        assert emails(preference=products.pk) == {holder.email}
        assert emails(category_opt_out=promotions.pk) == {opted_out.email}
        assert emails(status="confirmed") == {other.email}
        assert emails(channel_disabled="sms") == {no_sms.email}
        assert no_sms.email not in emails(channel_enabled="sms")
        assert holder.email in emails(channel_enabled="sms")
        assert emails(q="optout") == {opted_out.email}

    def test_a_wrong_filter_value_is_ignored_not_an_error(self, admin_client):
        ContactFactory(email="someone@example.com")
        response = admin_client.get(reverse(f"{CONTACTS}:index"), {"preference": "999999"})
        assert response.status_code == 200

    @pytest.mark.parametrize("filters", [{}, {"preference": "held"}])
    def test_constant_number_of_queries_whatever_the_page_size(
        self, admin_client, settings, filters
    ):
        preferences = PreferenceFactory.create_batch(3)
        for _ in range(60):
            ContactFactory(preferences=preferences)
        params = {"preference": preferences[0].pk} if filters else {}
        url = reverse(f"{CONTACTS}:index")
        counts = []
        for per_page in (5, 50):
            settings.WAGTAIL_PREFERENCES = {"CONTACTS_PER_PAGE": per_page}
            admin_client.get(url, params)  # warm per-request caches
            with CaptureQueriesContext(connection) as queries:
                response = admin_client.get(url, params)
            assert len(response.context["object_list"]) == per_page
            counts.append(len(queries))
        assert counts[0] == counts[1]


class TestContactEdit:
    def test_every_change_lands_in_the_history_with_who_made_it(self, admin_client, superuser):
        products, trainings = (
            PreferenceFactory(name="Products"),
            PreferenceFactory(name="Trainings"),
        )
        promotions = CategoryFactory(name="Promotions")
        contact = ContactFactory(email="ann@example.com", first_name="Ann", preferences=[products])
        data = contact_form_data(
            contact,
            first_name="Anna",
            status=ContactStatus.CONFIRMED,
            preferences=[trainings.pk],
            opted_out_categories=[promotions.pk],
            **{
                "channels-email-frequency_count": "2",
                "channels-email-frequency_period": "week",
                "channels-email-pause_from": "2026-12-01",
                "channels-email-pause_to": "2026-12-31",
                "channels-sms-enabled": "",
                "channels-preferred": "email",
            },
        )
        response = admin_client.post(
            reverse(f"{CONTACTS}:edit", args=[contact.pk]),
            data,
            HTTP_USER_AGENT="pytest-browser",
        )
        assert response.status_code == 302

        events = list(ConsentEvent.objects.filter(contact=contact))
        assert {e.actor_id for e in events} == {superuser.pk}
        assert {e.actor_label for e in events} == {superuser.get_username()}
        assert {e.path for e in events} == {ChangePath.ADMIN}
        assert {e.ip_address for e in events} == {"127.0.0.1"}
        assert {e.user_agent for e in events} == {"pytest-browser"}
        summaries = {describe(e) for e in events}
        assert summaries == {
            "First name: Ann → Anna",
            "Status: Pending confirmation → Confirmed",
            "Added preference “Trainings”",
            "Removed preference “Products”",
            "Opted out of category “Promotions”",
            "Email frequency: 2 per week",
            "Email paused from 2026-12-01 to 2026-12-31",
            "Email made the preferred channel",
            "SMS disabled (do not contact)",
        }

        contact.refresh_from_db()
        assert contact.first_name == "Anna"
        assert contact.status == ContactStatus.CONFIRMED
        assert list(contact.preferences.all()) == [trainings]
        assert Contact.objects.filter(compiler.opted_out_of(promotions)).get() == contact
        email = services.channel_settings(contact)["email"]
        assert (email.frequency_count, email.frequency_period) == (2, "week")
        assert (email.pause_from, email.pause_to) == (
            datetime.date(2026, 12, 1),
            datetime.date(2026, 12, 31),
        )
        assert email.is_preferred

        history = admin_client.get(reverse(f"{CONTACTS}:edit", args=[contact.pk]))
        assert "Opted out of category “Promotions”" in history.content.decode()

    def test_saving_without_changes_records_nothing(self, admin_client):
        promotions = CategoryFactory()
        contact = ContactFactory(preferences=[PreferenceFactory()])
        CategoryChoiceFactory(contact=contact, category=promotions)
        response = admin_client.post(
            reverse(f"{CONTACTS}:edit", args=[contact.pk]), contact_form_data(contact)
        )
        assert response.status_code == 302
        assert not ConsentEvent.objects.exists()

    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            (
                {
                    "channels-email-pause_from": "2027-01-10",
                    "channels-email-pause_to": "2027-01-01",
                },
                "Email: A pause cannot end before it starts.",
            ),
            (
                {"channels-sms-frequency_count": "3"},
                "SMS: A frequency needs both a number of messages and a period.",
            ),
            (
                {"channels-email-frequency_count": "0"},
                "Email: Enter a number of messages from 1 to 1000.",
            ),
            ({"channels-preferred": "pigeon"}, "Choose a valid preferred channel."),
            ({"email": "not-an-email"}, "Enter a valid email address."),
        ],
    )
    def test_bad_input_is_refused_with_a_clear_error_and_changes_nothing(
        self, admin_client, overrides, message
    ):
        contact = ContactFactory(first_name="Ann")
        response = admin_client.post(
            reverse(f"{CONTACTS}:edit", args=[contact.pk]),
            contact_form_data(contact, first_name="Changed", **overrides),
        )
        assert response.status_code == 200
        assert message in response.content.decode()
        contact.refresh_from_db()
        assert contact.first_name == "Ann"
        assert not ConsentEvent.objects.exists()


class TestContactCreate:
    def test_creating_normalises_the_email_and_logs_the_creation(self, admin_client, superuser):
        products = PreferenceFactory(name="Products")
        data = contact_form_data(
            Contact(email="", status=ContactStatus.CONFIRMED),
            email="  New.Person@Example.COM ",
            preferences=[products.pk],
        )
        response = admin_client.post(reverse(f"{CONTACTS}:add"), data)
        assert response.status_code == 302
        contact = Contact.objects.get()
        assert contact.email == "new.person@example.com"
        assert contact.status == ContactStatus.CONFIRMED
        assert {describe(e) for e in contact.consent_events.all()} == {
            "Contact created (Confirmed)",
            "Added preference “Products”",
        }
        assert {e.actor_id for e in contact.consent_events.all()} == {superuser.pk}

    def test_an_email_differing_only_in_case_is_the_same_contact(self, admin_client):
        ContactFactory(email="ann@example.com")
        data = contact_form_data(Contact(email="", status="pending"), email="ANN@Example.com")
        response = admin_client.post(reverse(f"{CONTACTS}:add"), data)
        assert response.status_code == 200
        assert "already exists" in response.content.decode()
        assert Contact.objects.count() == 1


class TestPreferencesAndCategories:
    def test_preference_list_shows_counts_and_links(self, admin_client):
        products = PreferenceFactory(name="Products")
        ContactFactory.create_batch(3, preferences=[products])
        html = admin_client.get(reverse("preference_center_preferences:list")).content.decode()
        contacts_url = f"{reverse(f'{CONTACTS}:index')}?preference={products.pk}"
        assert "3 contacts" in html
        assert f'href="{contacts_url}"' in html
        assert "Export" in html

    def test_export_link_needs_the_export_permission(self, client):
        PreferenceFactory()
        user = UserFactory(
            staff=True,
            permissions=["wagtailadmin.access_admin", "wagtail_preferences.view_preference"],
        )
        client.force_login(user)
        html = client.get(reverse("preference_center_preferences:list")).content.decode()
        assert "0 contacts" in html
        assert "Export" not in html

    def test_category_list_counts_opt_outs(self, admin_client):
        promotions = CategoryFactory(name="Promotions")
        CategoryChoiceFactory.create_batch(2, category=promotions)
        CategoryChoiceFactory(category=promotions, subscribed=True)
        html = admin_client.get(reverse("preference_center_categories:list")).content.decode()
        assert "2 contacts" in html

    def test_deleting_a_held_preference_names_the_count_and_keeps_history(self, admin_client):
        products = PreferenceFactory(name="Products")
        contacts = ContactFactory.create_batch(4)
        services.add_preferences(contacts, [products], services.Origin(path=ChangePath.SYSTEM))
        url = reverse("preference_center_preferences:delete", args=[products.pk])
        html = admin_client.get(url).content.decode()
        assert "4 contacts hold “Products”" in html
        assert admin_client.post(url).status_code == 302
        events = ConsentEvent.objects.filter(subject=ConsentSubject.PREFERENCE)
        assert events.count() == 8
        assert {describe(e) for e in events} == {
            "Added preference “Products”",
            "Removed preference “Products”",
        }


class TestOverviewAndConsentLog:
    def test_overview_counts_and_recent_changes(self, admin_client):
        products = PreferenceFactory(name="Products")
        promotions = CategoryFactory(name="Promotions")
        origin = services.Origin(path=ChangePath.FORM)
        contacts = ContactFactory.create_batch(3)
        services.add_preferences(contacts[:2], [products], origin)
        services.set_category_choices(contacts[:1], {promotions: False}, origin)
        response = admin_client.get(reverse("preference_center:index"))
        html = response.content.decode()
        assert response.context["contact_count"] == 3
        assert {p.name: p.contact_count for p in response.context["preferences"]} == {"Products": 2}
        assert {c.name: c.opted_out_count for c in response.context["categories"]} == {
            "Promotions": 1
        }
        assert "Opted out of category “Promotions”" in html
        assert html.count("Added preference “Products”") == 2

    def test_overview_counts_the_reasons_to_leave_without_the_comments(self, admin_client):
        for reason, comment in [("too_many", "Daily is a lot"), ("too_many", ""), ("other", "")]:
            services.record_unsubscribe_reason(ContactFactory(), reason, comment)

        response = admin_client.get(reverse("preference_center:index"))

        assert response.context["leaving_reasons"] == [
            ("I receive too many messages", 2),
            ("The messages are not relevant to me", 0),
            ("I never asked to receive them", 0),
            ("Another reason", 1),
        ]
        html = response.content.decode()
        assert "Why contacts unsubscribed" in html
        assert "Daily is a lot" not in html

    def test_a_contacts_answer_and_comment_show_only_on_their_own_page(self, admin_client):
        ann, bob = ContactFactory(), ContactFactory()
        services.record_unsubscribe_reason(ann, "other", "Daily is a lot")

        ann_page = admin_client.get(reverse(f"{CONTACTS}:inspect", args=[ann.pk]))
        bob_page = admin_client.get(reverse(f"{CONTACTS}:inspect", args=[bob.pk]))

        assert "Another reason (" in ann_page.content.decode()
        assert "“Daily is a lot”" in ann_page.content.decode()
        assert "Daily is a lot" not in bob_page.content.decode()
        assert "Unsubscribe reason" in bob_page.content.decode()

    def test_consent_log_filters_by_contact_and_offers_no_editing(self, admin_client):
        products = PreferenceFactory(name="Products")
        ann, bob = ContactFactory(email="ann@example.com"), ContactFactory(email="bob@example.com")
        services.add_preferences([ann, bob], [products], services.Origin(path=ChangePath.IMPORT))
        response = admin_client.get(reverse("preference_center_consent:index"), {"contact": ann.pk})
        assert response.status_code == 200
        assert [e.contact for e in response.context["object_list"]] == [ann]
        response = admin_client.get(
            reverse("preference_center_consent:index"), {"email": "BOB@example.com"}
        )
        assert [e.contact for e in response.context["object_list"]] == [bob]
        assert "Add consent event" not in response.content.decode()


class TestCappedCount:
    def test_a_long_list_says_more_than_the_cap_and_still_pages(self, admin_client, monkeypatch):
        monkeypatch.setattr(CappedCountPaginator, "cap", 5)
        products = PreferenceFactory(name="Products")
        ContactFactory.create_batch(12, preferences=[products])
        url = reverse(f"{CONTACTS}:index")
        html = admin_client.get(url, {"preference": products.pk}).content.decode()
        assert "More than 5 matches" in html
        assert "There are" not in html
        assert "More than 5 contacts" in html
        response = admin_client.get(url, {"preference": products.pk, "p": 1})
        assert len(response.context["object_list"]) == 12

    def test_a_search_that_finds_one_contact_asks_for_a_whole_page(self, admin_client):
        # Asked for one row, PostgreSQL may walk the address index to meet it early and read
        # most of a large table instead of using the search index.
        ContactFactory(email="lukas.walter16@example.com")
        ContactFactory.create_batch(3)
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(reverse(f"{CONTACTS}:index"), {"q": "lukas.walter16"})

        assert [c.email for c in response.context["object_list"]] == ["lukas.walter16@example.com"]
        pages = [q["sql"] for q in captured if "LIKE" in q["sql"] and "ORDER BY" in q["sql"]]
        assert len(pages) == 1
        assert pages[0].endswith(f"LIMIT {get_setting('CONTACTS_PER_PAGE')}")

    def test_a_short_list_gives_the_exact_count(self, admin_client, monkeypatch):
        monkeypatch.setattr(CappedCountPaginator, "cap", 5)
        products = PreferenceFactory(name="Products")
        ContactFactory.create_batch(4, preferences=[products])
        html = admin_client.get(
            reverse(f"{CONTACTS}:index"), {"preference": products.pk}
        ).content.decode()
        assert "There are 4 matches" in html
