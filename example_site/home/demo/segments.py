"""Demo segments: one of each kind of criterion the editor will meet first."""

from wagtail_preferences import services
from wagtail_preferences.models import ChangePath, Contact, Segment


def _preferences(mode, *preferences):
    return {
        "type": "preferences",
        "value": {"mode": mode, "preferences": [p.pk for p in preferences]},
    }


def ensure_segments(preferences, categories, admin) -> list[Segment]:
    """Create the demo segments if missing, with a few manual members and one opt-out."""
    specs = [
        (
            "Product fans open to promotions",
            "Hold Products, have not opted out of Promotions, and may be emailed.",
            "all",
            [
                _preferences("any", preferences["Products"]),
                {
                    "type": "category",
                    "value": {"state": "subscribed", "category": categories["Promotions"].pk},
                },
                {"type": "channel", "value": {"channel": "email", "state": "enabled"}},
            ],
            [],
            False,
        ),
        (
            "Event goers",
            "Interested in events; joining adds the Newsletter, which announces them.",
            "all",
            [
                _preferences("any", preferences["Events"]),
                {"type": "status", "value": {"status": "confirmed"}},
            ],
            [preferences["Newsletter"]],
            True,
        ),
        (
            "Dutch or French speakers",
            "For the Belgian trainings.",
            "any",
            [
                {"type": "locale", "value": {"locale": "nl"}},
                {"type": "locale", "value": {"locale": "fr"}},
            ],
            [],
            False,
        ),
        ("Beta testers", "Chosen by hand.", "all", [], [], True),
    ]
    segments, new = [], set()
    for order, (name, description, match, criteria, on_join, public) in enumerate(specs):
        segment, created = Segment.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "match": match,
                "criteria": criteria,
                "is_public": public,
                "sort_order": order,
            },
        )
        if created:
            segment.preferences_on_join.set(on_join)
            new.add(segment.name)
        segments.append(segment)

    beta = segments[-1]
    if beta.name in new:
        origin = services.Origin(path=ChangePath.ADMIN, user=admin)
        testers = list(Contact.objects.filter(status="confirmed").order_by("pk")[:8])
        services.add_to_segment(testers, beta, origin)
        services.opt_out_of_segment(testers[-1:], beta, services.Origin(path=ChangePath.FORM))
    for segment in segments:
        services.refresh_segment(segment)
    return segments
