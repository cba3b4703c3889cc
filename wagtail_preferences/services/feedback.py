from django.utils import timezone

from ..models import Contact, UnsubscribeReason


def record_unsubscribe_reason(contact: Contact, reason: str, comment: str = "") -> None:
    """Keep why ``contact`` left; a later answer replaces an earlier one."""
    UnsubscribeReason.objects.update_or_create(
        contact=contact,
        defaults={"reason": reason, "comment": comment.strip(), "answered_at": timezone.now()},
    )
