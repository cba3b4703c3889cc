"""What several segment-membership tests read back: a segment's consent events, a contact's."""

from wagtail_preferences.admin.consent_text import describe
from wagtail_preferences.models import ConsentEvent, ConsentSubject, Contact

try:  # django-tasks 0.8 and later
    from django_tasks.base import TaskResultStatus

    SUCCEEDED = TaskResultStatus.SUCCESSFUL
except ImportError:  # django-tasks 0.7, which Wagtail 7.0 pins
    from django_tasks import ResultStatus

    SUCCEEDED = ResultStatus.SUCCEEDED


def segment_events(segment, **filters):
    """(contact_id, field, old_value, new_value, path, reference) of the segment's events."""
    return {
        (e.contact_id, e.field, e.old_value, e.new_value, e.path, e.reference)
        for e in ConsentEvent.objects.for_subject(ConsentSubject.SEGMENT, segment.pk).filter(
            **filters
        )
    }


def summaries(contact) -> list[str]:
    return [describe(e) for e in ConsentEvent.objects.filter(contact=contact).order_by("pk")]


def set_locale(contact, code):
    """Change a contact's locale behind the service layer's back: no refresh follows."""
    Contact.objects.filter(pk=contact.pk).update(locale=code)
