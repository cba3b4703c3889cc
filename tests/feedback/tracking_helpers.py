"""Sites, campaigns and deliveries shared by the tests of open and click tracking."""

import datetime
import re
from urllib.parse import urlsplit

from django.core import mail
from django.utils import timezone

from tests.factories import CampaignFactory, ContactFactory, DeliveryFactory, MessageFactory
from tests.link_fixtures import default_site
from wagtail_preferences.identity import tokens
from wagtail_preferences.messaging import campaigns
from wagtail_preferences.models import CampaignLink, PreferencePageSettings

HREF = re.compile(r'href="([^"]+)"')
CLICK_PATH = re.compile(r"/preferences/t/c/([^/]+)/(\d+)/")
PIXEL_PATH = re.compile(r"/preferences/t/o/([^/\"]+)\.gif")
#: A message with an absolute link, a relative one, a per-recipient one and a button.
BODY = [
    {"type": "heading", "value": "Fresh bread"},
    {
        "type": "paragraph",
        "value": (
            '<p>Read <a href="https://shop.example/bread?kind=rye&amp;size=2">about rye</a>, '
            '<a href="/news/">our news</a>, '
            '<a href="https://shop.example/me?who={{ email }}">your page</a> and '
            '<a href="mailto:bakery@example.com">write</a>.</p>'
        ),
    },
    {"type": "button", "value": {"text": "Order now", "url": "https://example.com/o"}},
]


def allow(*, opens=True, clicks=True) -> PreferencePageSettings:
    """The default site allows (or not) open and click tracking."""
    settings = PreferencePageSettings.for_site(default_site())
    settings.track_opens, settings.track_clicks = opens, clicks
    settings.save()
    return settings


def tracking_campaign(preferences, *, opens=True, clicks=True, **message):
    return CampaignFactory(
        preferences=preferences,
        track_opens=opens,
        track_clicks=clicks,
        message=MessageFactory(body=BODY, **message),
    )


def send(campaign, capture) -> dict:
    """Start ``campaign`` and send it at once; its emails by address."""
    with capture(execute=True):
        campaigns.start(campaign)
    return {message.to[0]: message for message in mail.outbox}


def html_of(email) -> str:
    return email.alternatives[0][0]


def sent_delivery(*, opens=True, clicks=True, url="https://shop.example/bread", **kwargs):
    """A delivery sent an hour ago of a campaign that tracks, with link number 1 to ``url``."""
    campaign = CampaignFactory(track_opens=opens, track_clicks=clicks)
    CampaignLink.objects.create(campaign=campaign, number=1, url=url)
    contact = ContactFactory(confirmed=True, **kwargs)
    return DeliveryFactory(campaign=campaign, contact=contact)


def click_path(delivery, number=1) -> str:
    return f"/preferences/t/c/{tokens.delivery_token(delivery.pk)}/{number}/"


def open_path(delivery) -> str:
    return f"/preferences/t/o/{tokens.delivery_token(delivery.pk)}.gif"


def just_sent(delivery, seconds=2):
    delivery.sent_at = timezone.now() - datetime.timedelta(seconds=seconds)
    delivery.save(update_fields=["sent_at"])


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
