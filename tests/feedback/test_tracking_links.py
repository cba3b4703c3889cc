"""Tracked links and the open pixel in campaign emails: only where tracking is allowed."""

from unittest import mock

import mjml
import pytest
from django.test import Client

from tests.factories import CampaignFactory, ContactFactory
from wagtail_preferences.feedback.tracking import register_links
from wagtail_preferences.identity import tokens
from wagtail_preferences.messaging import dispatch
from wagtail_preferences.messaging.links import site_base_url
from wagtail_preferences.messaging.rendering import MessageRenderer, Recipient, Tracking
from wagtail_preferences.models import CampaignLink, Delivery, EngagementKind

from .tracking_helpers import (
    CLICK_PATH,
    HREF,
    PIXEL_PATH,
    allow,
    html_of,
    path_and_query,
    send,
    tracking_campaign,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_renderers():
    """Senders keep a renderer per message revision; a test's ids may be an earlier test's."""
    dispatch._renderer.cache_clear()


ABSOLUTE = {"https://shop.example/bread?kind=rye&size=2", "https://example.com/o"}


@pytest.fixture
def holders(products):
    return [ContactFactory(confirmed=True, preferences=[products]) for _ in range(2)]


def links_of(campaign) -> dict[int, str]:
    return dict(CampaignLink.objects.filter(campaign=campaign).values_list("number", "url"))


def test_a_tracked_campaigns_links_lead_through_click_links_to_the_same_urls(
    products, holders, django_capture_on_commit_callbacks
):
    allow()
    campaign = tracking_campaign([products])

    emails = send(campaign, django_capture_on_commit_callbacks)

    links = links_of(campaign)
    assert set(links.values()) == ABSOLUTE | {site_base_url() + "/news/"}
    assert sorted(links) == list(range(1, len(links) + 1))
    for contact in holders:
        delivery = Delivery.objects.get(campaign=campaign, contact=contact)
        email = emails[contact.email]
        hrefs = HREF.findall(html_of(email))
        clicks = [CLICK_PATH.search(href) for href in hrefs if CLICK_PATH.search(href)]
        assert {int(m[2]) for m in clicks} == set(links)
        for match in clicks:
            response = Client().get(path_and_query(match[0]))
            assert response.status_code == 302
            assert response["Location"] == links[int(match[2])]
        assert {tokens.delivery_from_token(m[1]) for m in clicks} == {delivery.pk}
        # Neither the manage and unsubscribe links nor the per-recipient or mailto links
        # are rewritten.
        assert any("/preferences/manage/" in href for href in hrefs)
        assert any("/preferences/unsubscribe/" in href for href in hrefs)
        assert f"https://shop.example/me?who={contact.email}" in hrefs
        assert "mailto:bakery@example.com" in hrefs
        assert not any(url in html_of(email) for url in ABSOLUTE - {"https://example.com/o"})
        [pixel] = PIXEL_PATH.findall(html_of(email))
        assert tokens.delivery_from_token(pixel) == delivery.pk


def test_the_plain_text_links_are_tracked_too(
    products, holders, django_capture_on_commit_callbacks
):
    allow()
    campaign = tracking_campaign([products], opens=False)

    emails = send(campaign, django_capture_on_commit_callbacks)

    text = emails[holders[0].email].body
    numbers = {int(m[2]) for m in CLICK_PATH.finditer(text)}
    assert numbers == set(links_of(campaign))
    assert "https://example.com/o" not in text
    assert "/preferences/unsubscribe/" in text and "/preferences/manage/" in text
    assert not PIXEL_PATH.search(html_of(emails[holders[0].email]))


@pytest.mark.parametrize(
    ("site", "campaign_tracks"),
    [
        ({"opens": False, "clicks": False}, {"opens": True, "clicks": True}),
        ({"opens": True, "clicks": True}, {"opens": False, "clicks": False}),
    ],
    ids=["site-does-not-allow", "campaign-does-not-track"],
)
def test_without_both_the_site_and_the_campaign_nothing_is_tracked(
    products, holders, django_capture_on_commit_callbacks, site, campaign_tracks
):
    allow(**site)
    campaign = tracking_campaign([products], **campaign_tracks)

    emails = send(campaign, django_capture_on_commit_callbacks)

    for email in emails.values():
        assert not CLICK_PATH.search(html_of(email)) and not CLICK_PATH.search(email.body)
        assert not PIXEL_PATH.search(html_of(email))
        assert "https://example.com/o" in html_of(email)
    assert not CampaignLink.objects.exists()


def test_a_contact_who_refuses_tracking_gets_the_links_untouched(
    products, holders, django_capture_on_commit_callbacks
):
    allow()
    refusing = ContactFactory(confirmed=True, preferences=[products], refuses_tracking=True)
    campaign = tracking_campaign([products])

    with mock.patch("mjml.mjml2html", wraps=mjml.mjml2html) as render:
        emails = send(campaign, django_capture_on_commit_callbacks)

    untouched = emails[refusing.email]
    assert not CLICK_PATH.search(html_of(untouched)) and not CLICK_PATH.search(untouched.body)
    assert not PIXEL_PATH.search(html_of(untouched))
    assert "https://example.com/o" in html_of(untouched)
    assert all(CLICK_PATH.search(html_of(emails[c.email])) for c in holders)
    # One variant with tracking, one without: each rendered once.
    assert render.call_count == 2


def test_transactional_messages_are_never_tracked(
    products, holders, django_capture_on_commit_callbacks
):
    allow()
    campaign = tracking_campaign([products], transactional=True)

    emails = send(campaign, django_capture_on_commit_callbacks)

    for email in emails.values():
        assert not CLICK_PATH.search(html_of(email)) and not PIXEL_PATH.search(html_of(email))


def test_previews_and_tests_without_a_delivery_are_not_tracked(products):
    allow()
    campaign = tracking_campaign([products])
    renderer = MessageRenderer(campaign.message, base_url="https://news.example.com")
    contact = ContactFactory()
    tracking = Tracking(campaign.pk, frozenset(EngagementKind))

    [outgoing] = renderer.render(
        "email", [Recipient(None, contact, contact.email)], {}, tracking=tracking
    )

    assert "https://example.com/o" in outgoing.html
    assert not CLICK_PATH.search(outgoing.html) and not PIXEL_PATH.search(outgoing.html)
    assert not CampaignLink.objects.exists()


class TestRegisteringLinks:
    def test_each_url_is_registered_once_and_keeps_its_number(self):
        campaign = CampaignFactory()

        first = register_links(campaign.pk, ["https://a.example/", "https://b.example/"])
        again = register_links(
            campaign.pk, ["https://c.example/", "https://b.example/", "https://a.example/"]
        )

        assert first == {"https://a.example/": 1, "https://b.example/": 2}
        assert again == {**first, "https://c.example/": 3}
        assert CampaignLink.objects.filter(campaign=campaign).count() == 3

    def test_another_campaigns_links_are_its_own(self):
        one, two = CampaignFactory(), CampaignFactory()

        register_links(one.pk, ["https://a.example/"])

        assert register_links(two.pk, ["https://b.example/"]) == {"https://b.example/": 1}
