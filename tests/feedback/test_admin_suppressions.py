"""Preference center → Suppressed addresses: the list, the evidence, blocking and lifting."""

import pytest
from django.urls import NoReverseMatch, reverse
from wagtail.models import ModelLogEntry

from tests.factories import ContactFactory, UserFactory
from tests.feedback import payloads
from wagtail_preferences.models import (
    ChangePath,
    ConsentEvent,
    ContactStatus,
    Suppression,
    SuppressionReason,
)
from wagtail_preferences.services import Origin, suppressions

pytestmark = pytest.mark.django_db

SUPPRESSIONS = "preference_center_suppressions"
PROVIDER = Origin(path=ChangePath.PROVIDER, reference="postmark bounced 1")


def editor(*codenames):
    return UserFactory(
        staff=True,
        permissions=[
            "wagtailadmin.access_admin",
            *(f"wagtail_preferences.{c}_suppression" for c in codenames),
        ],
    )


@pytest.fixture
def blocks():
    return [
        suppressions.block("email", "ann@example.com", "hard_bounce", PROVIDER, {"provider": "x"}),
        suppressions.block("email", "bob@example.com", "complaint", PROVIDER),
        suppressions.block("sms", "+32470000000", "manual", PROVIDER),
    ]


def listed(client, **query):
    response = client.get(reverse(f"{SUPPRESSIONS}:index"), query)
    assert response.status_code == 200
    return [s.address for s in response.context["object_list"]]


def test_the_list_filters_by_reason_and_channel_and_searches_by_address(admin_client, blocks):
    assert sorted(listed(admin_client)) == sorted(b.address for b in blocks)
    assert listed(admin_client, reason="complaint") == ["bob@example.com"]
    assert listed(admin_client, channel="sms") == ["+32470000000"]
    assert listed(admin_client, q="ann@") == ["ann@example.com"]
    page = admin_client.get(reverse(f"{SUPPRESSIONS}:index")).content.decode()
    assert "Lift block" in page
    assert ">Delete<" not in page


def test_the_menu_offers_the_list(admin_client, blocks):
    response = admin_client.get(reverse("wagtailadmin_home"))

    assert reverse(f"{SUPPRESSIONS}:index").encode() in response.content


def test_the_evidence_shows_the_providers_event(admin_client, webhook):
    contact = ContactFactory(email="jane@example.com")
    webhook(payloads.event("postmark", "hard_bounce", contact.email))
    block = Suppression.objects.get()

    response = admin_client.get(reverse(f"{SUPPRESSIONS}:inspect", args=[block.pk]))

    page = response.content.decode()
    assert "Hard bounce" in page
    assert "postmark" in page
    assert "The email account that you tried to reach does not exist" in page
    assert "&quot;HardBounce&quot;" in page  # the stored event, escaped


def test_an_editor_blocks_an_address_by_hand(admin_client, admin_user):
    contact = ContactFactory(email="ann@example.com")

    response = admin_client.post(
        reverse(f"{SUPPRESSIONS}:add"), {"channel": "email", "address": " ANN@example.com"}
    )

    assert response.status_code == 302
    block = Suppression.objects.get()
    assert (block.address, block.reason) == ("ann@example.com", SuppressionReason.MANUAL)
    assert block.evidence == {"by": admin_user.get_username()}
    logged = ConsentEvent.objects.get(contact=contact)
    assert (logged.field, logged.new_value, logged.actor) == ("blocked", True, admin_user)
    entry = ModelLogEntry.objects.get(action="wagtail.create")
    assert (entry.label, entry.user) == ("ann@example.com (email)", admin_user)


def test_blocking_an_address_already_blocked_says_so(admin_client, blocks):
    response = admin_client.post(
        reverse(f"{SUPPRESSIONS}:add"), {"channel": "email", "address": "Ann@example.com"}
    )

    assert response.status_code == 200
    assert "already blocked" in response.content.decode()
    assert Suppression.objects.count() == 3


def test_lifting_asks_first_then_lifts_and_logs(client, blocks):
    user = editor("view", "delete")
    client.force_login(user)
    contact = ContactFactory(email="bob@example.com", status=ContactStatus.BLOCKED)
    url = reverse(f"{SUPPRESSIONS}:delete", args=[blocks[1].pk])

    assert "Yes, lift the block" in client.get(url).content.decode()
    response = client.post(url)

    assert response.status_code == 302
    assert not Suppression.objects.filter(pk=blocks[1].pk).exists()
    logged = ConsentEvent.objects.filter(contact=contact).order_by("pk")
    assert [(e.field, e.new_value) for e in logged] == [
        ("blocked", False),
        ("status", ContactStatus.UNSUBSCRIBED),
    ]
    assert logged[0].actor == user
    assert logged[0].reference == "Block lifted by an editor"
    entry = ModelLogEntry.objects.get(action="wagtail.delete")
    assert (entry.label, entry.user) == (str(blocks[1]), user)


def test_lifting_the_block_of_an_address_no_contact_has_is_logged(admin_client, admin_user):
    block = Suppression.objects.create(
        channel="email", address="gone@example.com", reason=SuppressionReason.HARD_BOUNCE
    )

    admin_client.post(reverse(f"{SUPPRESSIONS}:delete", args=[block.pk]))

    assert not Suppression.objects.exists()
    entry = ModelLogEntry.objects.get(action="wagtail.delete")
    assert (entry.label, entry.user) == ("gone@example.com (email)", admin_user)


def test_an_editor_without_the_permission_cannot_lift(client, blocks):
    client.force_login(editor("view"))
    url = reverse(f"{SUPPRESSIONS}:delete", args=[blocks[0].pk])

    assert client.get(url).status_code == 302  # Wagtail's "permission denied" redirect
    client.post(url)

    assert Suppression.objects.filter(pk=blocks[0].pk).exists()
    assert "Lift block" not in client.get(reverse(f"{SUPPRESSIONS}:index")).content.decode()


def test_an_editor_without_any_permission_cannot_see_the_list(client, blocks):
    client.force_login(editor())

    response = client.get(reverse(f"{SUPPRESSIONS}:index"))

    assert response.status_code == 302


def test_the_evidence_cannot_be_edited(admin_client, blocks):
    with pytest.raises(NoReverseMatch):
        reverse(f"{SUPPRESSIONS}:edit", args=[blocks[0].pk])


def test_the_consent_log_says_an_address_was_blocked_and_unblocked(admin_client):
    contact = ContactFactory(email="ann@example.com")
    block = suppressions.block("email", contact.email, "hard_bounce", PROVIDER)
    suppressions.lift(block, PROVIDER)

    response = admin_client.get(reverse("preference_center_consent:index"))

    page = response.content.decode()
    assert "Email address blocked" in page
    assert "Email address no longer blocked" in page
