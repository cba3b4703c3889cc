"""Segment criteria as the raw StreamField data the admin stores, and small readers.

``SegmentFactory(criteria=[locale("nl"), status("confirmed")], match="any")`` builds a
segment from these. Snippets (preferences, categories, segments) may be given as instances
or ids.
"""

import datetime

from wagtail_preferences.models import Segment, SegmentMember


def _pk(obj):
    return getattr(obj, "pk", obj)


def preferences(mode: str, *chosen) -> dict:
    return {"type": "preferences", "value": {"mode": mode, "preferences": [_pk(p) for p in chosen]}}


def category(state: str, chosen) -> dict:
    return {"type": "category", "value": {"state": state, "category": _pk(chosen)}}


def channel(key: str, state: str) -> dict:
    return {"type": "channel", "value": {"channel": key, "state": state}}


def status(value: str) -> dict:
    return {"type": "status", "value": {"status": value}}


def email_domain(domain: str) -> dict:
    return {"type": "email_domain", "value": {"domain": domain}}


def locale(code: str) -> dict:
    return {"type": "locale", "value": {"locale": code}}


def name_contains(text: str) -> dict:
    return {"type": "name", "value": {"text": text}}


def created(mode: str, *, date: datetime.date | None = None, days: int | None = None) -> dict:
    return {
        "type": "created",
        "value": {"mode": mode, "date": date.isoformat() if date else None, "days": days},
    }


def custom_data(key: str, operator: str, value: str) -> dict:
    return {"type": "custom_data", "value": {"key": key, "operator": operator, "value": value}}


def segment(mode: str, other) -> dict:
    return {"type": "segment", "value": {"mode": mode, "segment": _pk(other)}}


def form_submitted(*pages, days: int | None = None) -> dict:
    return {"type": "form_submitted", "value": {"pages": [_pk(p) for p in pages], "days": days}}


def ids(*contacts) -> set[int]:
    return {contact.pk for contact in contacts}


def matching_ids(segment: Segment) -> set[int]:
    """Who the criteria match now (not the stored members)."""
    return set(segment.matching_contacts().values_list("pk", flat=True))


def member_ids(segment: Segment) -> set[int]:
    """The stored members."""
    return set(SegmentMember.objects.filter(segment=segment).values_list("contact_id", flat=True))


def fresh(segment: Segment) -> Segment:
    """The segment as stored: criteria read again, so deleted snippets show as missing."""
    return Segment.objects.get(pk=segment.pk)
