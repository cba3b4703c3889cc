"""Opens and clicks: the links a campaign may redirect to, and recording what happened.

A tracked link names a delivery (by a signed token) and the number of one of its campaign's
``CampaignLink``s, never a URL: a click can only lead to a URL the message holds. Each view
reads all it needs in one query (``click_of``, ``open_of``), compiled once per process, and
writes at most one row, without waiting for the disk (``db.hot_path``).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Subquery
from django.utils import timezone

from ..db.hot_path import CompiledQuery, insert_unsynced
from ..models import Campaign, CampaignLink, Delivery, Engagement, EngagementKind, EngagementSource
from . import policy
from .machines import is_machine_request

#: The longest URL a campaign link holds; longer links are left as they are.
MAX_URL_LENGTH = CampaignLink._meta.get_field("url").max_length
#: How often registering links is tried again after another sender took the same numbers.
REGISTER_ATTEMPTS = 5
# Stand-ins for a delivery id and a link number while the queries are compiled.
DELIVERY, NUMBER = 2_000_000_011, 2_000_000_017


def register_links(campaign_id: int, urls: Iterable[str]) -> dict[str, int]:
    """The number of each of ``urls`` among ``campaign_id``'s links, registering the new ones.

    Safe when several senders render the campaign at once: on PostgreSQL they take turns on
    the campaign's row; elsewhere (SQLite, whose writers take turns anyway) the unique
    (campaign, number) constraint refuses a number taken meanwhile, and the links are read
    and registered again.
    """
    wanted = list(dict.fromkeys(urls))
    if not wanted:
        return {}
    links = CampaignLink.objects.filter(campaign_id=campaign_id)
    for _attempt in range(REGISTER_ATTEMPTS):
        try:
            with transaction.atomic():
                list(Campaign.objects.select_for_update().filter(pk=campaign_id).values("pk"))
                rows = list(links.order_by("-number").values_list("url", "number"))
                known = dict(rows)  # a URL registered twice is known by its first number
                new = [url for url in wanted if url not in known]
                if new:
                    first = rows[0][1] + 1 if rows else 1
                    numbered = {url: first + i for i, url in enumerate(new)}
                    CampaignLink.objects.bulk_create(
                        CampaignLink(campaign_id=campaign_id, number=number, url=url)
                        for url, number in numbered.items()
                    )
                    known.update(numbered)
                return {url: known[url] for url in wanted}
        except IntegrityError:
            continue
    raise RuntimeError(f"Could not register the links of campaign {campaign_id}.")


@dataclass(frozen=True)
class Hit:
    """What a tracking view read of a delivery: where to go (for a click) and whether the
    open or click may be recorded now."""

    delivery_id: int
    campaign_id: int
    sent_at: object
    allowed: bool
    link_id: int | None = None
    url: str = ""


def _reads(kind: str, delivery: str) -> dict:
    """The columns every tracking hit reads, from the path ``delivery`` to the delivery
    (``""``: the delivery itself)."""
    return {
        "delivery_id": F(delivery + "id"),
        "sent": F(delivery + "sent_at"),
        "refuses": F(delivery + "contact__refuses_tracking"),
        "campaign_tracks": F("campaign__" + policy.SITE_FIELDS[kind]),
        "transactional": F("campaign__message__transactional"),
        "site": Subquery(policy.site_setting(kind)),
    }


def _hit(row: dict, kind: str, **extra) -> Hit:
    return Hit(
        delivery_id=row["delivery_id"],
        campaign_id=row["campaign_id"],
        sent_at=row["sent"],
        allowed=policy.allows(
            site=policy.site_allows_stored(kind, row["site"]),
            campaign=row["campaign_tracks"],
            transactional=row["transactional"],
            refuses=row["refuses"],
        ),
        **extra,
    )


#: What a click reads: the link of that number of the delivery's own campaign, and the rest.
CLICK = CompiledQuery(
    CampaignLink.objects.filter(number=NUMBER, campaign__deliveries__pk=DELIVERY).values(
        "pk", "url", "campaign_id", **_reads(EngagementKind.CLICK, "campaign__deliveries__")
    ),
    delivery_id=DELIVERY,
    number=NUMBER,
)
#: What an open reads.
OPEN = CompiledQuery(
    Delivery.objects.filter(pk=DELIVERY).values("campaign_id", **_reads(EngagementKind.OPEN, "")),
    delivery_id=DELIVERY,
)


def click_of(delivery_id: int, number: int) -> Hit | None:
    """The link ``number`` of the campaign of delivery ``delivery_id``, or None if that
    campaign has no such link (or there is no such delivery): one query."""
    if number >= NUMBER:  # no campaign has so many links; far larger ones overflow the column
        return None
    row = CLICK.one(delivery_id=delivery_id, number=number)
    if row is None:
        return None
    return _hit(row, EngagementKind.CLICK, link_id=row["pk"], url=row["url"])


def open_of(delivery_id: int) -> Hit | None:
    """What the open pixel of delivery ``delivery_id`` needs, or None: one query."""
    row = OPEN.one(delivery_id=delivery_id)
    return None if row is None else _hit(row, EngagementKind.OPEN)


def record(hit: Hit, kind: str, request, *, now=None) -> bool:
    """Record an open or a click of ``hit`` made by ``request``, if tracking allows it now:
    one ``INSERT``, or nothing. Whether it was recorded."""
    if not hit.allowed:
        return False
    now = now or timezone.now()
    machine = is_machine_request(
        request.headers.get("User-Agent", ""),
        request.META.get("REMOTE_ADDR"),
        method=request.method,
        sent_at=hit.sent_at,
        now=now,
    )
    insert_unsynced(
        Engagement,
        {
            "delivery": hit.delivery_id,
            "campaign": hit.campaign_id,
            "kind": kind,
            "link": hit.link_id,
            "machine": machine,
            "source": EngagementSource.TRACKING,
            "created_at": now,
        },
    )
    return True


def record_unsubscribe(delivery_id: int, contact_id: int, *, now=None) -> bool:
    """Note that the contact unsubscribed from the link of delivery ``delivery_id``; the
    first time counts. Whether a delivery of that contact's was marked."""
    marked = Delivery.objects.filter(
        pk=delivery_id, contact_id=contact_id, unsubscribed_at__isnull=True
    ).update(unsubscribed_at=now or timezone.now())
    return bool(marked)
