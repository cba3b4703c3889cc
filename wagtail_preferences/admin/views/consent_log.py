import django_filters
from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.viewsets.model import ModelViewSet

from ...models import ChangePath, ConsentEvent, ConsentSubject
from ..consent_text import describe
from ..filters import ContactEmailFilter
from .columns import LocalTimeColumn
from .contacts import ContactViewSet
from .mixins import ContactRowsIndexView, OffersViewPermission, ReadOnlyViewSet


class ConsentEventFilterSet(WagtailFilterSet):
    contact = django_filters.NumberFilter(widget=forms.HiddenInput)
    email = ContactEmailFilter()
    subject = django_filters.ChoiceFilter(label=_("About"), choices=ConsentSubject.choices)
    path = django_filters.ChoiceFilter(label=_("Path"), choices=ChangePath.choices)
    created_at = django_filters.DateFromToRangeFilter(label=_("When"), widget=DateRangePickerWidget)

    class Meta:
        model = ConsentEvent
        fields = ["contact", "subject", "path", "created_at"]


class ConsentEventIndexView(ContactRowsIndexView):
    page_title = _("Consent log")


class ConsentEventViewSet(OffersViewPermission, ReadOnlyViewSet, ModelViewSet):
    """The append-only consent log: listed and filtered, never edited."""

    model = ConsentEvent
    name = "preference_center_consent"
    url_prefix = "preference-center/consent-log"
    icon = "history"
    menu_label = _("Consent log")
    index_view_class = ConsentEventIndexView
    filterset_class = ConsentEventFilterSet
    default_ordering = "-created_at"
    list_display = [
        LocalTimeColumn("created_at", label=_("When")),
        TitleColumn(
            "contact",
            label=_("Contact"),
            get_url=lambda event: reverse(f"{ContactViewSet.name}:edit", args=[event.contact_id]),
        ),
        Column("summary", label=_("Change"), accessor=describe),
        Column("get_path_display", label=_("Path")),
        Column("actor_label", label=_("By")),
        Column("reference", label=_("Reference")),
    ]
