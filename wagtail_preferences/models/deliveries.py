from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .contacts import Contact


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    DEFERRED = "deferred", _("Waiting")
    CLAIMED = "claimed", _("Being sent")
    SENDING = "sending", _("Handed to the provider")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent")
    UNKNOWN = "unknown", _("Unknown: may have been sent")
    CANCELLED = "cancelled", _("Cancelled")


#: Waiting to be claimed by a sender.
PENDING = (DeliveryStatus.QUEUED, DeliveryStatus.DEFERRED)
#: Holding a frequency slot: sent, or on its way (``sent_at`` is when the slot was taken).
HOLDS_SLOT = (
    DeliveryStatus.CLAIMED,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.UNKNOWN,
)


class SkipReason(models.TextChoices):
    """Why a contact does not receive a message (skipped) or not yet (waiting)."""

    PENDING = "pending", _("Has not confirmed their subscription")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BLOCKED = "blocked", _("Blocked")
    SUPPRESSED = "suppressed", _("Address blocked on this channel")
    NO_ADDRESS = "no_address", _("No address for the channel")
    CHANNEL_DISABLED = "channel_disabled", _("Turned the channel off")
    OTHER_CHANNEL = "other_channel", _("Gets it on another channel")
    CATEGORY_OPT_OUT = "category_opt_out", _("Opted out of the message's category")
    SEGMENT_OPT_OUT = "segment_opt_out", _("Opted out of a segment sent to")
    PAUSED = "paused", _("Paused messages")
    FREQUENCY_CAP = "frequency_cap", _("Reached their frequency limit")
    RETRY = "retry", _("Temporary failure, tried again later")


class DeliveryOutcome(models.TextChoices):
    """What the provider reported of a message it took; a later event replaces an earlier one
    only when it tells more (``OUTCOME_RANK``), so events may arrive in any order."""

    DELIVERED = "delivered", _("Delivered")
    SOFT_BOUNCE = "soft_bounce", _("Soft bounce")
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    COMPLAINED = "complained", _("Complained")


OUTCOME_RANK = {
    "": 0,
    DeliveryOutcome.DELIVERED: 1,
    DeliveryOutcome.SOFT_BOUNCE: 2,
    DeliveryOutcome.HARD_BOUNCE: 3,
    DeliveryOutcome.COMPLAINED: 4,
}


class Delivery(models.Model):
    """One message to one contact on one channel: the unit that is claimed, sent, retried,
    counted for frequency limits and reported."""

    campaign = models.ForeignKey(
        "Campaign", on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    channel = models.CharField(_("channel"), max_length=32)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    reason = models.CharField(_("reason"), max_length=20, choices=SkipReason.choices, blank=True)
    marketing = models.BooleanField(
        default=True, help_text="Counts towards frequency limits (not for transactional ones)."
    )
    not_before = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    address = models.CharField(_("address"), max_length=254, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    provider_id = models.CharField(_("provider id"), max_length=255, blank=True)
    error = models.TextField(_("error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"),
        max_length=16,
        choices=DeliveryOutcome.choices,
        blank=True,
        default="",
        db_default="",
    )
    outcome_at = models.DateTimeField(_("outcome reported"), null=True, blank=True)
    unsubscribed_at = models.DateTimeField(
        _("unsubscribed"),
        null=True,
        blank=True,
        help_text=_("When the contact unsubscribed from this message's link or provider."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "contact", "channel"],
                name="wagtail_preferences_delivery_unique",
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "status"]),
            models.Index(
                fields=["status", "not_before"],
                condition=Q(status__in=[*PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING]),
                name="wagtail_prefs_delivery_todo",
            ),
            models.Index(
                fields=["contact", "channel", "sent_at"],
                condition=Q(sent_at__isnull=False),
                name="wagtail_prefs_delivery_slots",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} → {self.contact_id} ({self.channel}): {self.status}"
