from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CampaignLink(models.Model):
    """A link of a campaign's message. A tracked link names its number, never the URL, so a
    click can only lead to a URL the message contains."""

    campaign = models.ForeignKey(
        "Campaign", on_delete=models.CASCADE, related_name="links", db_index=False
    )
    number = models.PositiveIntegerField(_("number"))
    url = models.URLField(_("URL"), max_length=2000)

    class Meta:
        verbose_name = _("campaign link")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "number"], name="wagtail_preferences_campaignlink_unique"
            )
        ]

    def __str__(self) -> str:
        return self.url


class EngagementKind(models.TextChoices):
    OPEN = "open", _("Open")
    CLICK = "click", _("Click")


class EngagementSource(models.TextChoices):
    TRACKING = "tracking", _("Tracking link or pixel")
    PROVIDER = "provider", _("Email provider")


class Engagement(models.Model):
    """An open or a click of one delivery; recorded only where tracking is allowed.

    ``machine`` marks opens and clicks made by mail-client proxies and link scanners, which
    do not count as engagement.
    """

    delivery = models.ForeignKey(
        "Delivery", on_delete=models.CASCADE, related_name="engagements", db_index=False
    )
    campaign = models.ForeignKey(
        "Campaign", on_delete=models.CASCADE, related_name="engagements", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=8, choices=EngagementKind.choices)
    link = models.ForeignKey(
        CampaignLink,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="clicks",
        db_index=False,
    )
    machine = models.BooleanField(_("machine"), default=False)
    source = models.CharField(_("source"), max_length=8, choices=EngagementSource.choices)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("open or click")
        verbose_name_plural = _("opens and clicks")
        default_permissions = ()
        indexes = [
            models.Index(
                fields=["campaign", "kind", "created_at"], name="wagtail_prefs_engage_report"
            ),
            models.Index(fields=["delivery", "kind"], name="wagtail_prefs_engage_delivery"),
            models.Index(fields=["link"], name="wagtail_prefs_engage_link"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.delivery_id}"
