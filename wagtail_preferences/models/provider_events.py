from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ProviderEventType(models.TextChoices):
    """anymail's normalised tracking event types."""

    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")
    DEFERRED = "deferred", _("Deferred")
    DELIVERED = "delivered", _("Delivered")
    AUTORESPONDED = "autoresponded", _("Auto-responded")
    OPENED = "opened", _("Opened")
    CLICKED = "clicked", _("Clicked")
    COMPLAINED = "complained", _("Complained")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    SUBSCRIBED = "subscribed", _("Subscribed")
    UNKNOWN = "unknown", _("Unknown")


class Bounce(models.TextChoices):
    HARD = "hard", _("Hard bounce")
    SOFT = "soft", _("Soft bounce")


class ProviderEvent(models.Model):
    """One event an email provider reported to its webhook, stored as received.

    The webhook only stores it; a task processes it (``processed_at``). Unique on the
    provider and its event id, or a hash of the payload when the provider sends no id, so a
    provider that posts an event twice gets it processed once.
    """

    provider = models.CharField(_("provider"), max_length=32)
    event_id = models.CharField(_("event id"), max_length=255)
    event_type = models.CharField(_("event"), max_length=16, choices=ProviderEventType.choices)
    bounce = models.CharField(_("bounce"), max_length=4, choices=Bounce.choices, blank=True)
    delivery = models.ForeignKey(
        "Delivery",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="provider_events",
        db_index=False,
    )
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    occurred_at = models.DateTimeField(_("when"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)
    payload = models.JSONField(_("provider's event"), default=dict, blank=True)

    class Meta:
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="wagtail_preferences_providerevent_unique"
            )
        ]
        indexes = [
            models.Index(fields=["delivery", "event_type"], name="wagtail_prefs_event_delivery"),
            models.Index(
                fields=["recipient", "bounce", "occurred_at"],
                condition=~Q(bounce=""),
                name="wagtail_prefs_event_bounces",
            ),
            models.Index(
                fields=["recipient"],
                condition=Q(event_type="complained"),
                name="wagtail_prefs_event_complaints",
            ),
            models.Index(
                fields=["received_at"],
                condition=Q(processed_at__isnull=True),
                name="wagtail_prefs_event_todo",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.recipient}"
