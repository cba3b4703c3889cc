from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _


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


class Preference(Interest):
    """An interest a contact can hold, such as "Products" or "Trainings"."""

    is_public = models.BooleanField(
        _("public"),
        default=True,
        help_text=_("Public preferences are offered to visitors; internal ones are not."),
    )

    class Meta(Interest.Meta):
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")


class Category(Interest):
    """A global category messages belong to. Contacts are subscribed unless they opt out."""

    class Meta(Interest.Meta):
        verbose_name = _("category")
        verbose_name_plural = _("categories")
