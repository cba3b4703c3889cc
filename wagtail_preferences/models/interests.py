from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from .contacts import CategoryChoice, ContactPreference


def count_of(rows, field: str):
    """A correlated ``COUNT(*)`` of ``rows`` whose ``field`` is the outer row; uses its index."""
    counted = (
        rows.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class PreferenceQuerySet(models.QuerySet):
    def with_contact_count(self):
        """Annotate ``contact_count``: how many contacts hold each preference."""
        return self.annotate(contact_count=count_of(ContactPreference.objects.all(), "preference"))


class CategoryQuerySet(models.QuerySet):
    def with_opt_out_count(self):
        """Annotate ``opted_out_count``: how many contacts opted out of each category."""
        return self.annotate(
            opted_out_count=count_of(CategoryChoice.objects.opt_outs(), "category")
        )


class Interest(models.Model):
    """What preferences and categories share: a named, ordered, sluggable choice."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(
        _("slug"),
        max_length=100,
        unique=True,
        blank=True,
        help_text=_("Used in URLs, imports and templates. Left blank, it is made from the name."),
    )
    description = models.TextField(_("description"), blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)

    class Meta:
        abstract = True
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:100]
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if not self.slug:
            self.slug = slugify(self.name)[:100]
            if not self.slug:
                raise ValidationError({"slug": _("No slug can be made from this name: enter one.")})


class Preference(Interest):
    """An interest a contact can hold, such as "Products" or "Trainings"."""

    is_public = models.BooleanField(
        _("public"),
        default=True,
        help_text=_("Public preferences are offered to visitors; internal ones are not."),
    )

    objects = PreferenceQuerySet.as_manager()

    class Meta(Interest.Meta):
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")


class Category(Interest):
    """A global category messages belong to. Contacts are subscribed unless they opt out."""

    objects = CategoryQuerySet.as_manager()

    class Meta(Interest.Meta):
        verbose_name = _("category")
        verbose_name_plural = _("categories")
