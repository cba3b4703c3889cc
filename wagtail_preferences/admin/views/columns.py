"""Listing columns and inspect views that show times on one clock, and yes/no in words."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, TitleColumn

from ...clock import local_time


class LocalTimeColumn(Column):
    """A date and time in the site's time zone, saying which; sorted by the field itself."""

    def __init__(self, name, **kwargs):
        kwargs.setdefault("sort_key", name)
        super().__init__(name, **kwargs)

    def get_value(self, instance):
        return local_time(super().get_value(instance), "SHORT_DATETIME_FORMAT")


class LocalTimeTitleColumn(LocalTimeColumn, TitleColumn):
    """A local time that links to the row."""


class InspectInWordsMixin:
    """Inspect views that show times in the site's time zone (saying which) and Yes or No."""

    def get_field_display_value(self, field_name, field):
        if isinstance(field, models.DateTimeField):
            return local_time(getattr(self.object, field_name)) or "—"
        if isinstance(field, models.BooleanField):
            return _("Yes") if getattr(self.object, field_name) else _("No")
        return super().get_field_display_value(field_name, field)
