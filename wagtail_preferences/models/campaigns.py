from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _gettext
from django.utils.translation import gettext_lazy as _

from ..exceptions import IllegalTransition
from .deliveries import PENDING, Delivery, DeliveryStatus
from .fields import CriteriaField
from .segments import MatchRule


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    FINISHED = "finished", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class WhenHeld(models.TextChoices):
    """What becomes of a message a contact cannot take yet (paused, or at their limit)."""

    WAIT = "wait", _("Wait, then send")
    SKIP = "skip", _("Skip the contact")


class PreferenceRule(models.TextChoices):
    ANY = "any", _("holds any of them")
    ALL = "all", _("holds all of them")


class CampaignQuerySet(models.QuerySet):
    def due(self, now=None):
        """Scheduled campaigns whose time has come."""
        return self.filter(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now or timezone.now())

    def sending(self):
        return self.filter(status=CampaignStatus.SENDING)


class Campaign(models.Model):
    """A message, an audience and a schedule.

    The audience is who matches the chosen preferences, segments and criteria (all of these
    parts, or any of them), minus the excluded preferences and segments. The status changes
    only through the methods below, each one conditional ``UPDATE`` naming the statuses it
    may come from: of two editors (or an editor and a worker) acting at once, one wins and
    the other gets ``IllegalTransition``.
    """

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(
        _("slug"),
        max_length=100,
        unique=True,
        blank=True,
        help_text=_("Names the campaign in commands. Left blank, it is made from the name."),
    )
    message = models.ForeignKey(
        "Message", verbose_name=_("message"), on_delete=models.PROTECT, related_name="campaigns"
    )
    message_revision = models.ForeignKey(
        "wagtailcore.Revision",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The version of the message sent, fixed when sending starts."),
    )
    channels = models.JSONField(
        _("channels"),
        default=list,
        blank=True,
        help_text=_("None ticked: every channel the message has content for."),
    )

    match = models.CharField(
        _("contacts must match"),
        max_length=3,
        choices=MatchRule.choices,
        default=MatchRule.ALL,
        help_text=_("Of the preferences, segments and criteria below, the parts filled in."),
    )
    preferences = models.ManyToManyField(
        "Preference", blank=True, related_name="+", verbose_name=_("preferences")
    )
    preference_rule = models.CharField(
        _("preferences rule"), max_length=3, choices=PreferenceRule.choices, default="any"
    )
    segments = models.ManyToManyField(
        "Segment",
        blank=True,
        related_name="+",
        verbose_name=_("segments"),
        help_text=_("Members of any of these segments."),
    )
    criteria = CriteriaField(blank=True, verbose_name=_("more criteria"))
    exclude_preferences = models.ManyToManyField(
        "Preference",
        blank=True,
        related_name="+",
        verbose_name=_("except who holds"),
    )
    exclude_segments = models.ManyToManyField(
        "Segment", blank=True, related_name="+", verbose_name=_("except members of")
    )

    when_paused = models.CharField(
        _("contacts who paused messages"),
        max_length=4,
        choices=WhenHeld.choices,
        default=WhenHeld.WAIT,
    )
    when_capped = models.CharField(
        _("contacts at their frequency limit"),
        max_length=4,
        choices=WhenHeld.choices,
        default=WhenHeld.WAIT,
    )

    track_opens = models.BooleanField(
        _("track opens"),
        default=False,
        help_text=_("Only where the site allows it, and never for contacts who refuse tracking."),
    )
    track_clicks = models.BooleanField(
        _("track clicks"),
        default=False,
        help_text=_("Only where the site allows it, and never for contacts who refuse tracking."),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=CampaignStatus.choices,
        default=CampaignStatus.DRAFT,
        editable=False,
    )
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True, editable=False)
    started_at = models.DateTimeField(_("started"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        permissions = [("send_campaign", _("Can send, pause and cancel campaigns"))]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = self._free_slug()
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if not self.slug:
            self.slug = self._free_slug()

    def _free_slug(self) -> str:
        """A slug made from the name, numbered when campaigns of the same name took it."""
        base = slugify(self.name)[:90] or "campaign"
        taken = set(
            Campaign.objects.filter(slug__startswith=base)
            .exclude(pk=self.pk)
            .values_list("slug", flat=True)
        )
        slug, number = base, 2
        while slug in taken:
            slug, number = f"{base}-{number}", number + 1
        return slug

    @property
    def is_editable(self) -> bool:
        return self.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)

    def begin_sending(self, revision) -> None:
        """Sending starts, with ``revision`` of the message (its live version)."""
        self._change(
            CampaignStatus.SENDING,
            (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED),
            started_at=timezone.now(),
            message_revision=revision,
        )

    def schedule(self, at) -> None:
        self._change(
            CampaignStatus.SCHEDULED,
            (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED),
            scheduled_at=at,
        )

    def unschedule(self) -> None:
        self._change(CampaignStatus.DRAFT, (CampaignStatus.SCHEDULED,), scheduled_at=None)

    def pause(self) -> None:
        """No more deliveries are claimed; batches being sent finish."""
        self._change(CampaignStatus.PAUSED, (CampaignStatus.SENDING,))

    def resume(self) -> None:
        self._change(CampaignStatus.SENDING, (CampaignStatus.PAUSED,))

    def cancel(self) -> int:
        """Stop for good: deliveries not yet claimed are cancelled (returns how many);
        batches being sent finish."""
        self._change(
            CampaignStatus.CANCELLED,
            (
                CampaignStatus.DRAFT,
                CampaignStatus.SCHEDULED,
                CampaignStatus.SENDING,
                CampaignStatus.PAUSED,
            ),
            finished_at=timezone.now(),
        )
        return Delivery.objects.filter(campaign=self, status__in=PENDING).update(
            status=DeliveryStatus.CANCELLED, not_before=None
        )

    def finish_if_done(self) -> bool:
        """A sending campaign is sent once none of its deliveries is still open."""
        if Delivery.objects.filter(campaign=self, status__in=OPEN).exists():
            return False
        moved = Campaign.objects.filter(pk=self.pk, status=CampaignStatus.SENDING).update(
            status=CampaignStatus.FINISHED, finished_at=timezone.now()
        )
        if moved:
            self.status = CampaignStatus.FINISHED
        return bool(moved)

    def _change(self, status: str, allowed: tuple, **fields) -> None:
        fields = {"status": status, "updated_at": timezone.now(), **fields}
        if not Campaign.objects.filter(pk=self.pk, status__in=allowed).update(**fields):
            current = Campaign.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            raise IllegalTransition(
                _gettext("Campaign “%(name)s” is %(current)s: it cannot become %(status)s.")
                % {"name": self.name, "current": current or "gone", "status": status}
            )
        for name, value in fields.items():
            setattr(self, name, value)


#: Deliveries not yet done with.
OPEN = (*PENDING, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)
