from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..exceptions import InvalidChange
from .paths import ChangePath


class ConsentSubject(models.TextChoices):
    """What a consent event is about."""

    CONTACT = "contact", _("Contact details")
    STATUS = "status", _("Status")
    PREFERENCE = "preference", _("Preference")
    CATEGORY = "category", _("Category")
    CHANNEL = "channel", _("Channel")
    SEGMENT = "segment", _("Segment")


class ConsentEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise InvalidChange("Consent events are append-only and never updated.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise InvalidChange("Consent events are append-only and never updated.")

    def for_subject(self, subject: str, subject_id: int):
        return self.filter(subject=subject, subject_id=subject_id)


class ConsentEvent(models.Model):
    """One change to a contact, as a regulator may ask a controller to prove it.

    Rows are only ever inserted. The subject's name is copied into ``subject_label`` so
    that the record survives the deletion of the preference or category it mentions.
    """

    contact = models.ForeignKey(
        "Contact", on_delete=models.CASCADE, related_name="consent_events", db_index=False
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    subject = models.CharField(_("about"), max_length=16, choices=ConsentSubject.choices)
    subject_id = models.BigIntegerField(null=True, blank=True)
    subject_label = models.CharField(_("subject"), max_length=255, blank=True)
    field = models.CharField(_("field"), max_length=64, blank=True)
    old_value = models.JSONField(_("old value"), null=True, blank=True)
    new_value = models.JSONField(_("new value"), null=True, blank=True)
    path = models.CharField(_("path"), max_length=16, choices=ChangePath.choices)
    reference = models.CharField(
        _("reference"),
        max_length=255,
        blank=True,
        help_text=_("What on the path made the change: a form, an import run, a segment."),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # As in Wagtail's log entries, no database constraint (decision 0018): an import by
        # an editor would otherwise check the same user row once per event it writes.
        db_constraint=False,
    )
    actor_label = models.CharField(_("by"), max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.TextField(_("user agent"), blank=True)
    wording = models.TextField(
        _("wording shown"),
        blank=True,
        help_text=_("The consent text the person was shown, where there was one."),
    )

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        default_permissions = ("view",)
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["contact", "-created_at"]),
            models.Index(fields=["subject", "subject_id"]),
            models.Index(fields=["-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.subject_label} {self.field}".strip()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise InvalidChange("Consent events are append-only and never updated.")
        super().save(*args, **kwargs)
