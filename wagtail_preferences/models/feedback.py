from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .contacts import Contact

#: The longest answer to "anything else?" kept.
COMMENT_MAX_LENGTH = 500


class LeavingReason(models.TextChoices):
    TOO_MANY = "too_many", _("I receive too many messages")
    NOT_RELEVANT = "not_relevant", _("The messages are not relevant to me")
    NEVER_ASKED = "never_asked", _("I never asked to receive them")
    OTHER = "other", _("Another reason")


class UnsubscribeReason(models.Model):
    """Why a contact left, answered after unsubscribing; one answer per contact, the latest.

    The answer goes with the contact: deleting the contact deletes it, free text included.
    """

    contact = models.OneToOneField(
        Contact, on_delete=models.CASCADE, related_name="unsubscribe_reason"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=LeavingReason.choices)
    comment = models.TextField(_("comment"), max_length=COMMENT_MAX_LENGTH, blank=True)
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)

    class Meta:
        verbose_name = _("unsubscribe reason")
        verbose_name_plural = _("unsubscribe reasons")

    def __str__(self) -> str:
        return self.get_reason_display()
