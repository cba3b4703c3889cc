import base64
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .paths import ChangePath


def normalise_email(email: str) -> str:
    """The stored form of an email address: trimmed and lower-cased."""
    return email.strip().lower()


#: Random bytes of a secret: a multiple of three, so that many are cut from one encoding.
SECRET_BYTES = 33
SECRET_LENGTH = SECRET_BYTES * 4 // 3


def new_secrets(count: int) -> list[str]:
    """``count`` secrets of ``SECRET_LENGTH`` URL-safe characters, made at once."""
    text = base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES * count)).decode()
    return [text[start : start + SECRET_LENGTH] for start in range(0, len(text), SECRET_LENGTH)]


def new_secret() -> str:
    return new_secrets(1)[0]


class ContactStatus(models.TextChoices):
    PENDING = "pending", _("Pending confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    BLOCKED = "blocked", _("Blocked (bounces or complaints)")


class Contact(models.Model):
    """A person the site may message."""

    email = models.EmailField(
        _("email"),
        max_length=254,
        help_text=_(
            "Stored in lower case; two addresses that differ only in case are one contact."
        ),
    )
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    locale = models.CharField(_("locale"), max_length=35, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ContactStatus.choices,
        default=ContactStatus.PENDING,
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("site user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="preference_contact",
    )
    data = models.JSONField(_("custom data"), default=dict, blank=True)
    refuses_tracking = models.BooleanField(
        _("refuses tracking"),
        default=False,
        db_default=False,
        help_text=_("No opens or clicks are recorded for this contact."),
    )
    secret = models.CharField(max_length=64, default=new_secret, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    preferences = models.ManyToManyField(
        "Preference", through="ContactPreference", related_name="contacts", blank=True
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["email"]
        constraints = [
            # A constraint rather than ``unique=True``, which on PostgreSQL adds a second
            # index on the address (for LIKE) that no query uses and every insert pays for.
            models.UniqueConstraint(
                fields=["email"],
                name="wagtail_preferences_contact_email_unique",
            ),
            models.CheckConstraint(
                condition=Q(email=Lower("email")),
                name="wagtail_preferences_contact_email_lower",
                violation_error_message=_("Email addresses are stored in lower case."),
            ),
        ]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["last_name", "first_name"]),
        ]
        permissions = [
            ("export_contact", _("Can export contacts")),
            ("import_contact", _("Can import contacts")),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = normalise_email(self.email)
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def rotate_secret(self) -> None:
        """Give the contact a new secret, which invalidates every link signed with the old one."""
        self.secret = new_secret()
        self.save(update_fields=["secret", "updated_at"])


class ContactPreference(models.Model):
    """A contact holds a preference, since ``created_at``, through ``source``."""

    # Both foreign keys lead a composite index below; no single-column index of their own.
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="preference_holdings", db_index=False
    )
    preference = models.ForeignKey(
        "Preference", on_delete=models.CASCADE, related_name="holdings", db_index=False
    )
    created_at = models.DateTimeField(_("since"), auto_now_add=True)
    source = models.CharField(_("path"), max_length=16, choices=ChangePath.choices)

    class Meta:
        verbose_name = _("contact preference")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "preference"],
                name="wagtail_preferences_contactpreference_unique",
            ),
        ]
        indexes = [models.Index(fields=["preference", "contact"])]

    def __str__(self) -> str:
        return f"{self.contact_id} holds {self.preference_id}"


class CategoryChoiceQuerySet(models.QuerySet):
    def opt_outs(self):
        """The choices that opt a contact out of a category; every other contact receives it."""
        return self.filter(subscribed=False)


class CategoryChoice(models.Model):
    """A contact's explicit choice for a category. No row means never set: subscribed."""

    # Both foreign keys lead a composite index below; no single-column index of their own.
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="category_choices", db_index=False
    )
    category = models.ForeignKey(
        "Category", on_delete=models.CASCADE, related_name="contact_choices", db_index=False
    )
    subscribed = models.BooleanField(_("subscribed"))
    changed_at = models.DateTimeField(_("changed"), auto_now=True)
    source = models.CharField(_("path"), max_length=16, choices=ChangePath.choices)

    objects = CategoryChoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("category choice")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "category"],
                name="wagtail_preferences_categorychoice_unique",
            ),
        ]
        indexes = [models.Index(fields=["category", "subscribed", "contact"])]

    def __str__(self) -> str:
        state = "in" if self.subscribed else "out"
        return f"{self.contact_id} opted {state} of {self.category_id}"


class FrequencyPeriod(models.TextChoices):
    DAY = "day", _("per day")
    WEEK = "week", _("per week")
    MONTH = "month", _("per month")


class ContactChannel(models.Model):
    """A contact's settings for one channel. No row means the defaults: enabled, no limit."""

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="channel_settings", db_index=False
    )
    channel = models.CharField(_("channel"), max_length=32)
    enabled = models.BooleanField(_("enabled"), default=True)
    frequency_count = models.PositiveSmallIntegerField(_("messages"), null=True, blank=True)
    frequency_period = models.CharField(
        _("per"), max_length=8, choices=FrequencyPeriod.choices, blank=True
    )
    pause_from = models.DateField(_("pause from"), null=True, blank=True)
    pause_to = models.DateField(_("pause to"), null=True, blank=True)
    is_preferred = models.BooleanField(_("preferred"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("channel setting")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "channel"],
                name="wagtail_preferences_contactchannel_unique",
            ),
            models.UniqueConstraint(
                fields=["contact"],
                condition=Q(is_preferred=True),
                name="wagtail_preferences_contactchannel_one_preferred",
            ),
            models.CheckConstraint(
                condition=Q(pause_from__isnull=True)
                | Q(pause_to__isnull=True)
                | Q(pause_from__lte=models.F("pause_to")),
                name="wagtail_preferences_contactchannel_pause_order",
            ),
            models.CheckConstraint(
                condition=Q(frequency_count__isnull=True, frequency_period="")
                | Q(frequency_count__isnull=False, frequency_count__gte=1, frequency_period__gt=""),
                name="wagtail_preferences_contactchannel_frequency_whole",
            ),
        ]
        indexes = [models.Index(fields=["channel", "enabled", "contact"])]

    def __str__(self) -> str:
        return f"{self.contact} / {self.channel}"
