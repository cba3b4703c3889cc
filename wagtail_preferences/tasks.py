"""Background work, through django_tasks: inline by default, on a worker when configured."""

from django.contrib.auth import get_user_model
from django_tasks import task

from . import services
from .models import ChangePath, Preference, Segment


@task()
def refresh_segments(segment_ids: list[int] | None = None) -> dict[str, int]:
    """Refresh whole segments (all of them by default), in dependency order."""
    segments = Segment.objects.prefetch_related("preferences_on_join")
    if segment_ids is not None:
        segments = segments.filter(pk__in=segment_ids)
    joined = left = 0
    for segment in services.segments.in_refresh_order(segments):
        segment_joined, segment_left = services.refresh_segment(segment)
        joined, left = joined + len(segment_joined), left + len(segment_left)
    return {"joined": joined, "left": left}


@task()
def refresh_contacts(contact_ids: list[int]) -> None:
    services.refresh_contacts(contact_ids)


@task()
def change_preference_for_segment(
    segment_id: int, preference_id: int, *, remove: bool, user_id: int | None = None
) -> int:
    """Give (or take) a preference to every member of a segment; returns how many changed."""
    segment = Segment.objects.get(pk=segment_id)
    preference = Preference.objects.get(pk=preference_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    origin = services.Origin(
        path=ChangePath.ADMIN if user else ChangePath.SEGMENT,
        user=user,
        reference=f"segment “{segment.name}”",
    )
    change = services.remove_preferences if remove else services.add_preferences
    return len(change(services.members(segment), [preference], origin))
