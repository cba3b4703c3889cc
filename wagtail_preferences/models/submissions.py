import swapper
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..clock import local_time
from .contacts import Contact


class SubmissionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    APPLIED = "applied", _("Applied at once")
    IGNORED = "ignored", _("Ignored (contact blocked)")


class FormSubmission(models.Model):
    """What a visitor asked for through a form, and what they were shown when they asked.

    A submission is the proof of consent: the consent text, the choices, when and from where
    it was sent and, with double opt-in, when and from where it was confirmed. The names of
    the pages and interests are copied into it, so it reads the same after they are deleted.
    """

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="form_submissions", db_index=False
    )
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    form_label = models.CharField(_("form"), max_length=255, blank=True)
    page = models.ForeignKey(
        swapper.get_model_name("wagtailcore", "Page"),
        verbose_name=_("page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    page_title = models.CharField(_("page title"), max_length=255, blank=True)
    block_key = models.CharField(max_length=255, blank=True)
    choices = models.JSONField(_("choices"), default=dict)
    consent_text = models.TextField(_("consent text shown"), blank=True)
    double_opt_in = models.BooleanField(_("double opt-in"), default=True)
    identified = models.BooleanField(
        _("recognised as the contact"),
        default=False,
        help_text=_("The visitor was recognised as this contact (signed link, cookie or login)."),
    )
    created_contact = models.BooleanField(_("created the contact"), default=False)
    replaces_choices = models.BooleanField(
        _("replaces the contact's choices"),
        default=False,
        help_text=_(
            "What the visitor left unticked is taken away: the submission created the contact, "
            "or the contact sent an update form showing their current choices."
        ),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=SubmissionStatus.choices,
        default=SubmissionStatus.PENDING,
    )
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.TextField(_("user agent"), blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmation_ip = models.GenericIPAddressField(_("confirmed from"), null=True, blank=True)
    confirmation_user_agent = models.TextField(blank=True)
    confirmation_emails_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        default_permissions = ("view",)
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["contact", "-created_at"]),
            models.Index(fields=["page", "-created_at"]),
            models.Index(fields=["-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.form_label or self.page_title} ({local_time(self.created_at)})"

    @property
    def reference(self) -> str:
        """How consent events name this submission."""
        where = f" on page “{self.page_title}”" if self.page_title else ""
        number = f", submission {self.pk}" if self.pk else ""
        return f"form “{self.form_label}”{where}{number}"

    def get_choices_display(self) -> str:
        """The choices as an editor reads them (the admin's inspect view shows this)."""
        lines = []
        for kind, label in (("preferences", _("Preferences")), ("categories", _("Categories"))):
            offered = self.choices.get(kind, [])
            if offered:
                marks = [f"{i['name']} {'✓' if i['chosen'] else '✗'}" for i in offered]
                lines.append(f"{label}: {', '.join(marks)}")
        if segments := self.choices.get("segments"):
            lines.append(f"{_('Added to segments')}: {', '.join(s['name'] for s in segments)}")
        if details := {k: v for k, v in self.choices.get("details", {}).items() if v}:
            lines.append(f"{_('Details')}: {', '.join(details.values())}")
        return "; ".join(lines) or "—"

    def chosen(self, kind: str) -> list[str]:
        """Names of the ``preferences`` or ``categories`` the visitor chose."""
        return [item["name"] for item in self.choices.get(kind, []) if item["chosen"]]
