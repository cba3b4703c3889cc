from django.db import models
from django.utils.translation import gettext_lazy as _


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    SOFT_BOUNCES = "soft_bounces", _("Repeated soft bounces")
    COMPLAINT = "complaint", _("Complaint")
    MANUAL = "manual", _("Blocked by an editor")


class Suppression(models.Model):
    """An address nothing is sent to on a channel, not even transactional messages."""

    channel = models.CharField(_("channel"), max_length=32)
    address = models.CharField(
        _("address"), max_length=254, help_text=_("Email addresses are stored in lower case.")
    )
    reason = models.CharField(_("reason"), max_length=16, choices=SuppressionReason.choices)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    created_at = models.DateTimeField(_("blocked"), auto_now_add=True)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "address"], name="wagtail_preferences_suppression_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.channel})"
