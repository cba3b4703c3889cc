import django_filters
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from ...models import FormSubmission, SubmissionStatus
from ..filters import ContactEmailFilter
from .columns import InspectInWordsMixin, LocalTimeColumn, LocalTimeTitleColumn
from .contacts import ContactViewSet
from .mixins import ContactRowsIndexView, OffersViewPermission, ReadOnlyViewSet


class FormSubmissionFilterSet(WagtailFilterSet):
    email = ContactEmailFilter()
    status = django_filters.ChoiceFilter(label=_("Status"), choices=SubmissionStatus.choices)
    created_at = django_filters.DateFromToRangeFilter(label=_("Sent"), widget=DateRangePickerWidget)

    class Meta:
        model = FormSubmission
        fields = ["status", "created_at"]


class FormSubmissionInspectView(InspectInWordsMixin, generic.InspectView):
    pass


class FormSubmissionViewSet(OffersViewPermission, ReadOnlyViewSet, ModelViewSet):
    """What visitors sent through forms, with the consent text they saw: read-only proof."""

    model = FormSubmission
    name = "preference_center_submissions"
    url_prefix = "preference-center/form-submissions"
    icon = "form"
    menu_label = _("Form submissions")
    index_view_class = ContactRowsIndexView
    filterset_class = FormSubmissionFilterSet
    default_ordering = "-created_at"
    inspect_view_enabled = True
    inspect_view_class = FormSubmissionInspectView
    inspect_view_fields = [
        "contact",
        "created_at",
        "form_label",
        "page_title",
        "choices",
        "consent_text",
        "double_opt_in",
        "identified",
        "created_contact",
        "replaces_choices",
        "status",
        "ip_address",
        "user_agent",
        "confirmed_at",
        "confirmation_ip",
        "confirmation_user_agent",
    ]
    list_display = [
        LocalTimeTitleColumn(
            "created_at",
            label=_("Sent"),
            get_url=lambda s: reverse("preference_center_submissions:inspect", args=[s.pk]),
        ),
        TitleColumn(
            "contact",
            label=_("Contact"),
            get_url=lambda s: reverse(f"{ContactViewSet.name}:edit", args=[s.contact_id]),
        ),
        Column("form_label", label=_("Form")),
        Column("page_title", label=_("Page")),
        Column("get_status_display", label=_("Status"), sort_key="status"),
        LocalTimeColumn("confirmed_at", label=_("Confirmed")),
    ]
