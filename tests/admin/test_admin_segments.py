import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import segment_helpers as helpers
from tests.admin.admin_helpers import contact_form_data
from tests.factories import (
    CategoryFactory,
    ContactFactory,
    PreferenceFactory,
    SegmentFactory,
    UserFactory,
)
from tests.visitor_helpers import form_page
from wagtail_preferences import services
from wagtail_preferences.admin.consent_text import describe
from wagtail_preferences.audience import compiler
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    ConsentSubject,
    Contact,
    Segment,
    SegmentMember,
)

pytestmark = pytest.mark.django_db

SEGMENTS = "preference_center_segments"


def make_segment(name="Fans", **criteria_by_type):
    """A segment with one criterion per keyword: ``preferences={"mode": "any", ...}``."""
    segment = Segment.objects.create(
        name=name,
        criteria=[{"type": kind, "value": value} for kind, value in criteria_by_type.items()],
    )
    if not segment.criteria_problems():
        services.refresh_segment(segment)
    return segment


def criteria_post_data(prefix_values: list[tuple[str, dict]]) -> dict:
    """The POST data of a StreamField of simple StructBlocks (no nested lists)."""
    data = {"criteria-count": str(len(prefix_values))}
    for index, (kind, value) in enumerate(prefix_values):
        data[f"criteria-{index}-type"] = kind
        data[f"criteria-{index}-deleted"] = ""
        data[f"criteria-{index}-order"] = str(index)
        data[f"criteria-{index}-id"] = f"block-{index}"
        for name, item in value.items():
            data[f"criteria-{index}-value-{name}"] = item
    return data


class TestSegmentList:
    def test_list_shows_member_counts_and_invalid_criteria(self, admin_client):
        products = PreferenceFactory(name="Products")
        ContactFactory.create_batch(3, preferences=[products])
        make_segment("Product fans", preferences={"mode": "any", "preferences": [products.pk]})
        broken = make_segment("Broken", category={"state": "opted_out", "category": 999999})
        html = admin_client.get(reverse(f"{SEGMENTS}:list")).content.decode()
        assert "Product fans" in html and "3 contacts" in html
        assert "Invalid" in html and "has been deleted" in html
        assert broken.criteria_problems()

    def test_contact_list_filters_by_segment(self, admin_client):
        products = PreferenceFactory(name="Products")
        fan = ContactFactory(email="fan@example.com", preferences=[products])
        ContactFactory(email="other@example.com")
        segment = make_segment(preferences={"mode": "any", "preferences": [products.pk]})
        response = admin_client.get(
            reverse("preference_center_contacts:index"), {"segment": segment.pk}
        )
        assert list(response.context["object_list"]) == [fan]


class TestMatchingCount:
    def test_the_count_follows_the_posted_criteria(self, admin_client):
        ContactFactory.create_batch(2, confirmed=True)
        ContactFactory()
        url = reverse(f"{SEGMENTS}:count")
        data = {
            "name": "x",
            "match": "all",
            **criteria_post_data([("status", {"status": "confirmed"})]),
        }
        response = admin_client.post(url, data)
        assert response.json() == {"count": 2, "message": "2 contacts match these criteria."}
        data = {
            "name": "x",
            "match": "any",
            **criteria_post_data(
                [("status", {"status": "confirmed"}), ("status", {"status": "pending"})]
            ),
        }
        assert admin_client.post(url, data).json()["count"] == 3

    def test_no_criteria_says_so(self, admin_client):
        response = admin_client.post(
            reverse(f"{SEGMENTS}:count"), {"name": "x", "match": "all", "criteria-count": "0"}
        )
        assert "only contacts added by hand" in response.json()["message"]

    def test_counting_needs_a_segment_permission(self, client):
        client.force_login(UserFactory(staff=True, permissions=["wagtailadmin.access_admin"]))
        response = client.post(reverse(f"{SEGMENTS}:count"), {"criteria-count": "0"})
        assert (response.status_code, response["Location"]) == (302, reverse("wagtailadmin_home"))


class TestPreferenceForWholeSegment:
    def test_assigning_asks_for_confirmation_then_logs_per_contact(self, admin_client, superuser):
        products, trainings = (
            PreferenceFactory(name="Products"),
            PreferenceFactory(name="Trainings"),
        )
        fans = ContactFactory.create_batch(3, preferences=[products])
        ContactFactory()
        segment = make_segment(preferences={"mode": "any", "preferences": [products.pk]})
        url = reverse(f"{SEGMENTS}:preferences", args=[segment.pk])
        response = admin_client.post(url, {"preference": trainings.pk, "action": "add"})
        html = response.content.decode()
        assert "Give “Trainings” to all 3 members of “Fans”?" in html
        assert not Contact.objects.filter(compiler.holds_any([trainings])).exists()

        response = admin_client.post(
            url, {"preference": trainings.pk, "action": "add", "confirmed": "True"}
        )
        assert response.status_code == 302
        assert set(Contact.objects.filter(compiler.holds_any([trainings]))) == set(fans)
        events = ConsentEvent.objects.filter(
            subject=ConsentSubject.PREFERENCE, subject_id=trainings.pk
        )
        assert events.count() == 3
        assert {(e.actor_id, e.path, e.reference) for e in events} == {
            (superuser.pk, ChangePath.ADMIN, "segment “Fans”")
        }

    def test_removing_takes_it_from_members_only(self, admin_client):
        products = PreferenceFactory(name="Products")
        newsletter = PreferenceFactory(name="Newsletter")
        fans = ContactFactory.create_batch(2, preferences=[products, newsletter])
        outsider = ContactFactory(preferences=[newsletter])
        segment = make_segment(preferences={"mode": "any", "preferences": [products.pk]})
        admin_client.post(
            reverse(f"{SEGMENTS}:preferences", args=[segment.pk]),
            {"preference": newsletter.pk, "action": "remove", "confirmed": "True"},
        )
        assert list(Contact.objects.filter(compiler.holds_any([newsletter]))) == [outsider]
        assert all(newsletter not in c.preferences.all() for c in fans)

    def test_needs_the_change_contact_permission(self, client):
        segment = make_segment()
        client.force_login(
            UserFactory(
                staff=True,
                permissions=["wagtailadmin.access_admin", "wagtail_preferences.change_segment"],
            )
        )
        response = client.get(reverse(f"{SEGMENTS}:preferences", args=[segment.pk]))
        assert (response.status_code, response["Location"]) == (302, reverse("wagtailadmin_home"))


class TestDeletingASegment:
    def test_members_leave_with_a_record(self, admin_client, superuser):
        products = PreferenceFactory(name="Products")
        ContactFactory.create_batch(2, preferences=[products])
        segment = make_segment(preferences={"mode": "any", "preferences": [products.pk]})
        url = reverse(f"{SEGMENTS}:delete", args=[segment.pk])
        assert "2 contacts are members of “Fans”" in admin_client.get(url).content.decode()
        assert admin_client.post(url).status_code == 302
        assert not SegmentMember.objects.exists()
        left = ConsentEvent.objects.filter(subject=ConsentSubject.SEGMENT, new_value=False)
        assert {(describe(e), e.actor_id) for e in left} == {("Left segment “Fans”", superuser.pk)}
        assert left.count() == 2


class TestContactSegmentsTab:
    def post(self, client, contact, **overrides):
        return client.post(
            reverse("preference_center_contacts:edit", args=[contact.pk]),
            contact_form_data(contact, **overrides),
        )

    def test_adding_by_hand_and_opting_out_go_through_the_services(self, admin_client, superuser):
        vip = make_segment("VIP")
        products = PreferenceFactory(name="Products")
        fans = make_segment("Fans", preferences={"mode": "any", "preferences": [products.pk]})
        contact = ContactFactory(preferences=[products])
        services.refresh_segment(fans)

        response = self.post(
            admin_client,
            contact,
            preferences=[products.pk],
            segments_added_by_hand=[vip.pk],
            segments_opted_out=[fans.pk],
        )
        assert response.status_code == 302
        assert list(services.members(vip)) == [contact]
        assert not services.members(fans).exists()
        summaries = {
            describe(e) for e in ConsentEvent.objects.filter(contact=contact, actor=superuser)
        }
        assert {
            "Joined segment “VIP”",
            "Opted out of segment “Fans”",
            "Left segment “Fans”",
        } <= summaries

        html = admin_client.get(
            reverse("preference_center_contacts:edit", args=[contact.pk])
        ).content.decode()
        assert "added by hand" in html

        self.post(admin_client, contact, preferences=[products.pk])
        assert not services.members(vip).exists()
        assert list(services.members(fans)) == [contact]

    def test_an_opted_out_contact_stays_out_when_added_by_hand(self, admin_client):
        vip = make_segment("VIP")
        contact = ContactFactory()
        self.post(
            admin_client, contact, segments_added_by_hand=[vip.pk], segments_opted_out=[vip.pk]
        )
        assert not services.members(vip).exists()


class TestInvalidSegmentsInTheContactForm:
    def test_changing_membership_of_an_invalid_segment_is_a_form_error(self, admin_client):
        promotions = PreferenceFactory(name="Promotions")
        broken = make_segment("Broken", preferences={"mode": "any", "preferences": [promotions.pk]})
        promotions.delete()
        contact = ContactFactory(first_name="Ann")
        response = admin_client.post(
            reverse("preference_center_contacts:edit", args=[contact.pk]),
            contact_form_data(contact, first_name="Anna", segments_added_by_hand=[broken.pk]),
        )
        assert response.status_code == 200
        assert "“Broken” cannot be evaluated until its criteria are fixed" in (
            response.content.decode()
        )
        contact.refresh_from_db()
        assert contact.first_name == "Ann"


def criteria_cells(response) -> dict[str, str]:
    """Each listed segment's criteria summary, by the segment's name."""
    column = response.context["table"].columns["criteria"]
    return {
        segment.name: column.get_cell_context_data(segment, response.context)["summary"]
        for segment in response.context["object_list"]
    }


class TestCriteriaColumn:
    def test_the_column_says_what_the_criteria_are(self, admin_client):
        products = PreferenceFactory(name="Products")
        events = PreferenceFactory(name="Events")
        promotions = CategoryFactory(name="Promotions")
        readers = SegmentFactory(name="Readers")
        SegmentFactory(
            name="Buyers",
            criteria=[
                helpers.preferences("any", products, events),
                helpers.category("opted_out", promotions),
                helpers.channel("email", "enabled"),
                helpers.status("confirmed"),
                helpers.created("after", date=datetime.date(2026, 1, 1)),
                helpers.created("within", days=30),
                helpers.email_domain("example.com"),
                helpers.locale("nl"),
                helpers.name_contains("Ann"),
                helpers.custom_data("plan", "equals", "gold"),
                helpers.segment("not_member", readers),
                helpers.form_submitted(days=7),
            ],
        )
        SegmentFactory(
            name="Either",
            match="any",
            criteria=[helpers.status("pending"), helpers.locale("fr")],
        )

        response = admin_client.get(reverse(f"{SEGMENTS}:list"))

        assert criteria_cells(response)["Buyers"] == (
            "holds any of Products, Events · opted out of Promotions · Email enabled · "
            "status Confirmed · created on or after 2026-01-01 · created within the last 30 "
            "days · email at example.com · locale nl · name contains “Ann” · plan equals “gold” · "
            "not a member of Readers · submitted a form within the last 7 days"
        )
        assert criteria_cells(response)["Either"] == "status Pending confirmation or locale fr"
        html = response.content.decode()
        assert "holds any of Products, Events · opted out of Promotions" in html
        assert "No criteria: only contacts added by hand" in html  # Readers

    def test_a_retired_criterion_type_shows_as_invalid_in_the_list(self, admin_client):
        old = SegmentFactory(name="Old", criteria=[helpers.status("confirmed")])
        Segment.objects.filter(pk=old.pk).update(
            criteria=[{"type": "retired_kind", "value": {}, "id": "x"}, helpers.locale("nl")]
        )

        response = admin_client.get(reverse(f"{SEGMENTS}:list"))

        assert response.status_code == 200
        assert criteria_cells(response) == {"Old": "locale nl"}
        assert "The criterion type “retired_kind” is no longer installed." in (
            response.content.decode()
        )

    def test_the_list_costs_the_same_queries_however_many_segments(self, admin_client):
        def list_queries() -> int:
            with CaptureQueriesContext(connection) as queries:
                response = admin_client.get(reverse(f"{SEGMENTS}:list"))
            assert response.status_code == 200
            return len(queries)

        def add_segments(count):
            for _ in range(count):
                preference, category = PreferenceFactory(), CategoryFactory()
                other = SegmentFactory()
                SegmentFactory(
                    criteria=[
                        helpers.preferences("all", preference, PreferenceFactory()),
                        helpers.category("subscribed", category),
                        helpers.segment("member", other),
                        helpers.form_submitted(form_page(title=f"Form {other.pk}"), days=3),
                    ]
                )

        add_segments(1)
        few = list_queries()
        add_segments(4)

        assert list_queries() == few
