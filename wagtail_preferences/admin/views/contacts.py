from django.db.models import Prefetch
from django.urls import path
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.admin.ui.tables import Column, RelatedObjectsColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from ...clock import local_time
from ...conf import get_setting
from ...models import Contact, Preference, UnsubscribeReason
from ...services import Origin
from ..filters import ContactFilterSet
from ..forms import ContactForm
from ..paginators import CappedCountPaginator
from ..panels import ConsentHistoryPanel, DeliveryHistoryPanel, SegmentMembershipPanel
from .columns import InspectInWordsMixin, LocalTimeColumn
from .exports import ContactExportView, ExportsContacts
from .mixins import OffersViewPermission, WithoutGenericExport


class ContactIndexView(ExportsContacts, WithoutGenericExport, generic.IndexView):
    default_ordering = "email"
    paginator_class = CappedCountPaginator
    results_template_name = "wagtail_preferences/admin/contacts/index_results.html"

    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .only("pk", "email", "first_name", "last_name", "status", "created_at")
            .prefetch_related(
                Prefetch("preferences", queryset=Preference.objects.only("pk", "name"))
            )
        )

    def get_paginate_by(self, queryset):
        return get_setting("CONTACTS_PER_PAGE")

    @cached_property
    def header_more_buttons(self):
        return [*super().header_more_buttons, *self.export_buttons]


class OriginFromRequestMixin:
    """Hands the form the request's ``Origin``, so the service layer knows who changed what."""

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "origin": Origin.from_request(self.request)}


class ContactCreateView(OriginFromRequestMixin, generic.CreateView):
    pass


class ContactEditView(OriginFromRequestMixin, generic.EditView):
    pass


class ContactInspectView(InspectInWordsMixin, generic.InspectView):
    def get_unsubscribe_reason_display_value(self):
        answer = UnsubscribeReason.objects.filter(contact=self.object).first()
        if answer is None:
            return "—"
        text = f"{answer.get_reason_display()} ({local_time(answer.answered_at)})"
        return f"{text}: “{answer.comment}”" if answer.comment else text


class ContactDeleteView(generic.DeleteView):
    @property
    def confirmation_message(self):
        return _(
            "Delete this contact and its whole consent history? Use this to honour a request "
            "for erasure; to stop messaging someone, set their status to Unsubscribed instead."
        )


class ContactViewSet(OffersViewPermission, ModelViewSet):
    model = Contact
    name = "preference_center_contacts"
    url_prefix = "preference-center/contacts"
    icon = "user"
    menu_label = _("Contacts")
    index_view_class = ContactIndexView
    add_view_class = ContactCreateView
    edit_view_class = ContactEditView
    delete_view_class = ContactDeleteView
    filterset_class = ContactFilterSet
    search_fields = ["email", "first_name", "last_name"]
    search_backend_name = None
    copy_view_enabled = False
    add_to_reference_index = False
    inspect_view_enabled = True
    inspect_view_class = ContactInspectView
    inspect_view_fields = [
        "email",
        "first_name",
        "last_name",
        "phone",
        "locale",
        "status",
        "preferences",
        "created_at",
        "updated_at",
        "unsubscribe_reason",
    ]
    list_display = [
        "email",
        Column("full_name", label=_("Name"), sort_key="last_name"),
        Column("get_status_display", label=_("Status"), sort_key="status"),
        RelatedObjectsColumn("preferences", label=_("Preferences")),
        LocalTimeColumn("created_at", label=_("Created")),
    ]

    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    FieldPanel("email"),
                    MultiFieldPanel(
                        [FieldPanel("first_name"), FieldPanel("last_name")], heading=_("Name")
                    ),
                    FieldPanel("phone"),
                    FieldPanel("locale"),
                    FieldPanel("status"),
                    FieldPanel("user"),
                    FieldPanel("data"),
                    FieldPanel("refuses_tracking"),
                ],
                heading=_("Details"),
            ),
            ObjectList(
                [FieldPanel("preferences"), FieldPanel("opted_out_categories")],
                heading=_("Preferences and categories"),
            ),
            ObjectList([FieldPanel("channels")], heading=_("Channels")),
            ObjectList(
                [
                    SegmentMembershipPanel(heading=_("Member of")),
                    FieldPanel("segments_added_by_hand"),
                    FieldPanel("segments_opted_out"),
                ],
                heading=_("Segments"),
            ),
            ObjectList(
                [ConsentHistoryPanel(), DeliveryHistoryPanel(heading=_("Messages sent"))],
                heading=_("History"),
            ),
        ],
        base_form_class=ContactForm,
    )

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(export_url_name=self.get_url_name("export"), **kwargs)

    def get_urlpatterns(self):
        kwargs = self.get_index_view_kwargs()
        # The list's order, whether the viewset or the list view gives it.
        if kwargs.get("default_ordering", self.UNDEFINED) in (None, self.UNDEFINED):
            kwargs["default_ordering"] = self.index_view_class.default_ordering
        export_view = self.construct_view(ContactExportView, **kwargs)
        return [
            *super().get_urlpatterns(),
            path("export/<str:file_format>/", export_view, name="export"),
        ]
