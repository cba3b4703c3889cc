"""Whether opens and clicks of a message may be recorded: private by default.

Tracking needs all of: the site allows it (Settings → Preference pages), the campaign switches
it on, the message is not transactional, and the contact has not refused it. Where it is not
allowed, nothing about the contact's opens or clicks is stored.
"""

from ..models import Campaign, Contact, EngagementKind, PreferencePageSettings
from ..models.site_settings import tracking_default

#: The site setting's field for each kind of tracking.
SITE_FIELDS = {EngagementKind.OPEN: "track_opens", EngagementKind.CLICK: "track_clicks"}
#: The ``TRACKING`` setting's key for each kind: a site whose settings were never saved.
SETTING_KEYS = {EngagementKind.OPEN: "OPENS", EngagementKind.CLICK: "CLICKS"}


def site_allows() -> frozenset[str]:
    """The kinds of tracking the default site (the one campaign links point to) allows."""
    from wagtail.models import Site

    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return frozenset()
    settings = PreferencePageSettings.for_site(site)
    return _kinds(settings.track_opens, settings.track_clicks)


def site_setting(kind: str):
    """A query of whether the default site allows ``kind``: one row and column, or none when
    the site's settings were never saved (``site_allows_stored`` reads the default then).

    Annotated onto another query, it makes the check part of that query."""
    return PreferencePageSettings.objects.filter(site__is_default_site=True).values(
        SITE_FIELDS[kind]
    )[:1]


def site_allows_stored(kind: str, stored: bool | None) -> bool:
    """Whether the site allows ``kind``, given what ``site_setting`` read."""
    return tracking_default(SETTING_KEYS[kind]) if stored is None else stored


def campaign_tracks(campaign: Campaign, allowed: frozenset[str] | None = None) -> frozenset[str]:
    """The kinds ``campaign`` tracks for contacts who do not refuse it."""
    if campaign.message.transactional:
        return frozenset()
    allowed = site_allows() if allowed is None else allowed
    return allowed & _kinds(campaign.track_opens, campaign.track_clicks)


def tracks(
    campaign: Campaign, contact: Contact, kind: str, allowed: frozenset[str] | None = None
) -> bool:
    """Whether an open or a click (``kind``) of ``contact``'s copy of ``campaign`` may be
    recorded; ``allowed`` is what the site allows, if already read (``site_allows``)."""
    return not contact.refuses_tracking and kind in campaign_tracks(campaign, allowed)


def allows(*, site: bool, campaign: bool, transactional: bool, refuses: bool) -> bool:
    """The rule of ``tracks``, on values already read (by the tracking views' one query)."""
    return site and campaign and not transactional and not refuses


def _kinds(opens: bool, clicks: bool) -> frozenset[str]:
    return frozenset(
        kind for kind, on in ((EngagementKind.OPEN, opens), (EngagementKind.CLICK, clicks)) if on
    )
