"""Made-up feedback for the demo's sent campaign: what the provider and the tracking would
have reported, so that its report shows something. Demo data only: a real site gets these
from its provider's webhooks and from tracked opens and clicks."""

import random
from datetime import timedelta

from django.db import transaction

from wagtail_preferences.models import (
    Campaign,
    CampaignLink,
    Delivery,
    DeliveryOutcome,
    DeliveryStatus,
    Engagement,
    EngagementSource,
)

#: The demo campaign is moved back this far, as if it had been sent then.
SENT_AGO = timedelta(hours=30)
#: Made-up outcomes and how often each comes up; the rest are delivered.
OUTCOME_SHARES = (
    (DeliveryOutcome.HARD_BOUNCE, 0.015),
    (DeliveryOutcome.SOFT_BOUNCE, 0.02),
    (DeliveryOutcome.COMPLAINED, 0.005),
)


def demo_links(site_url: str) -> list[str]:
    return [f"{site_url}/", f"{site_url}/news/", f"{site_url}/events/"]


@transaction.atomic
def ensure_demo_feedback(campaign: Campaign, site_url: str, seed: int) -> bool:
    """Give the campaign's sent deliveries outcomes, opens and clicks, once: False when it
    has them already or sent nothing."""
    if campaign.engagements.exists() or campaign.started_at is None:
        return False
    deliveries = list(campaign.deliveries.filter(status=DeliveryStatus.SENT).order_by("pk"))
    if not deliveries:
        return False
    rng = random.Random(f"{seed}-feedback")
    started = campaign.started_at - SENT_AGO
    Campaign.objects.filter(pk=campaign.pk).update(
        track_opens=True,
        track_clicks=True,
        started_at=started,
        finished_at=campaign.finished_at and campaign.finished_at - SENT_AGO,
    )
    links = [
        CampaignLink.objects.get_or_create(campaign=campaign, number=n, defaults={"url": url})[0]
        for n, url in enumerate(demo_links(site_url.rstrip("/")), start=1)
    ]
    engagements = []
    for delivery in deliveries:
        delivery.sent_at = started + timedelta(minutes=rng.uniform(0, 20))
        delivery.outcome = _outcome(rng)
        delivery.outcome_at = delivery.sent_at + timedelta(minutes=rng.uniform(1, 45))
        bounced = delivery.outcome in (DeliveryOutcome.HARD_BOUNCE, DeliveryOutcome.SOFT_BOUNCE)
        if bounced:
            continue
        if rng.random() < 0.15:  # a mail privacy proxy fetches the pixel at once
            engagements.append(_engagement(delivery, "open", delivery.outcome_at, machine=True))
        if rng.random() < 0.45:
            opened = delivery.outcome_at + timedelta(hours=min(rng.expovariate(1 / 4), 28))
            engagements.append(_engagement(delivery, "open", opened))
            if rng.random() < 0.4:
                clicked = opened + timedelta(minutes=rng.uniform(0, 5))
                engagements.append(_engagement(delivery, "click", clicked, rng.choice(links)))
            if rng.random() < 0.02:
                delivery.unsubscribed_at = opened + timedelta(minutes=1)
    Delivery.objects.bulk_update(
        deliveries, ["sent_at", "outcome", "outcome_at", "unsubscribed_at"]
    )
    Engagement.objects.bulk_create(engagements)
    return True


def _outcome(rng: random.Random) -> str:
    draw = rng.random()
    for outcome, share in OUTCOME_SHARES:
        if draw < share:
            return outcome
        draw -= share
    return DeliveryOutcome.DELIVERED


def _engagement(delivery, kind, at, link=None, machine=False) -> Engagement:
    return Engagement(
        delivery=delivery,
        campaign_id=delivery.campaign_id,
        kind=kind,
        link=link,
        machine=machine,
        source=EngagementSource.TRACKING,
        created_at=at,
    )
