"""Demo messages and a campaign sent with one of them.

"Monthly newsletter" is plain; "What's new for you" has sections chosen by each recipient's
preferences, as the home page has, and an SMS version. The "November newsletter" campaign is
sent when the demo is loaded, so its emails can be read in ``example_site/sent_emails/``.
"""

from wagtail.models import Site

from wagtail_preferences.messaging import campaigns
from wagtail_preferences.models import (
    Campaign,
    CampaignStatus,
    Message,
    PreferencePageSettings,
    WhenHeld,
)

from .personalised import condition, section


def _button(text: str, url: str) -> dict:
    return {"type": "button", "value": {"text": text, "url": url}}


def _messages(preferences, categories, site_url: str) -> list[dict]:
    return [
        {
            "name": "Monthly newsletter",
            "subject": "{{ first_name }}, your November news",
            "preheader": "A new office, a new team member and a recipe for winter.",
            "category": categories["Product updates"],
            "body": [
                {"type": "heading", "value": "Hello {{ first_name }},"},
                {
                    "type": "paragraph",
                    "value": "<p>November brought us a <b>new office</b> in Ghent and a new "
                    "colleague, Lotte, who joins the support team.</p>",
                },
                {"type": "divider", "value": None},
                *section(
                    "What we are working on",
                    "<p>Faster search, a dark mode and the shared inbox many of you asked for.</p>",
                ),
                _button("Read the whole story", f"{site_url}/"),
            ],
            "sms_text": "",
        },
        {
            "name": "What's new for you",
            "subject": "What's new for you, {{ first_name }}",
            "preheader": "Chosen by what you told us you like.",
            "category": categories["Promotions"],
            "body": [
                {"type": "heading", "value": "Picked for you, {{ first_name }}"},
                {
                    "type": "dynamic",
                    "value": {
                        "condition": condition(preferences["Products"]),
                        "content": section(
                            "Version 5 is out",
                            "<p>A new shared inbox, faster search and dark mode: your "
                            "account team can switch it on today.</p>",
                        ),
                        "fallback": section(
                            "Curious about our products?",
                            "<p>Tick <i>Products</i> on your preferences page to hear about "
                            "launches first.</p>",
                        ),
                    },
                },
                {
                    "type": "variants",
                    "value": {
                        "variants": [
                            {
                                "condition": condition(preferences["Events"]),
                                "content": section(
                                    "See you at the customer day",
                                    "<p>12 March in Brussels: talks, workshops and lunch.</p>",
                                ),
                            },
                            {
                                "condition": condition(preferences["Trainings"]),
                                "content": section(
                                    "New webinars this winter",
                                    "<p>Six one-hour sessions, from first steps to admin.</p>",
                                ),
                            },
                        ],
                        "default": section(
                            "Meet us",
                            "<p>Trainings and events all year round, online and on site.</p>",
                        ),
                    },
                },
                _button("Visit the site", f"{site_url}/"),
            ],
            "sms_text": "Hi {{ first_name }}, version 5 is out: shared inbox, faster search "
            "and dark mode. Details on our site.",
        },
    ]


def ensure_messages(preferences, categories, admin, site_url: str) -> list[Message]:
    """Create and publish the demo messages if missing."""
    messages = []
    for spec in _messages(preferences, categories, site_url.rstrip("/")):
        message = Message.objects.filter(name=spec["name"]).first()
        if message is None:
            message = Message.objects.create(**spec)
            message.save_revision(user=admin).publish(user=admin)
            message.refresh_from_db()
        messages.append(message)
    return messages


def allow_tracking() -> None:
    """The demo site allows open and click tracking (a new site does not), so that its sent
    campaign's emails carry tracked links and its report shows opens and clicks."""
    settings = PreferencePageSettings.for_site(Site.objects.get(is_default_site=True))
    settings.track_opens = settings.track_clicks = True
    settings.save()


def ensure_sent_campaign(message: Message, preferences, admin) -> Campaign:
    """The demo's sent campaign: the newsletter to who holds the Newsletter preference,
    tracked, skipping contacts who paused or reached their limit so that it is sent at once."""
    campaign, created = Campaign.objects.get_or_create(
        slug="november-newsletter",
        defaults={
            "name": "November newsletter",
            "message": message,
            "created_by": admin,
            "track_opens": True,
            "track_clicks": True,
            "when_paused": WhenHeld.SKIP,
            "when_capped": WhenHeld.SKIP,
        },
    )
    if created:
        campaign.preferences.set([preferences["Newsletter"]])
    if campaign.status == CampaignStatus.DRAFT:
        campaigns.start(campaign)
    return campaign


def ensure_draft_campaign(message: Message, preferences, segments, admin) -> Campaign:
    """A campaign ready to review and send: the personalised message to product and event
    fans, except the beta testers."""
    campaign, created = Campaign.objects.get_or_create(
        slug="whats-new-for-you",
        defaults={
            "name": "What's new for you",
            "message": message,
            "created_by": admin,
            "match": "any",
        },
    )
    if created:
        campaign.preferences.set([preferences["Products"], preferences["Events"]])
        campaign.exclude_segments.set([s for s in segments if s.name == "Beta testers"])
    return campaign
