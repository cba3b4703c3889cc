"""Contact exports in the admin: the contact list as a file, and the log of exports."""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from wagtail.admin import messages
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import Button

from ...audience import search
from ...models import ContactExport, ExportPath
from ...transfers import exports
from .columns import LocalTimeColumn
from .mixins import OffersViewPermission, ReadOnlyViewSet, WithoutGenericExport

# Parameters of a listing's URL that change how it shows, not which contacts it holds nor
# their order.
DISPLAY_PARAMETERS = ("p", "_w_filter_fragment", "export", "formula_guard")
#: The query parameter of a CSV export written as it is, for a program, not a spreadsheet.
NO_FORMULA_GUARD = "formula_guard=off"


def streamed(blocks, request):
    """``blocks`` (an iterator) as the server can stream them a block at a time.

    Under ASGI Django would read a synchronous iterator whole before sending it.
    """
    if not isinstance(request, ASGIRequest):
        return blocks

    async def stream():
        next_block = sync_to_async(next, thread_sensitive=True)
        while (block := await next_block(blocks, None)) is not None:
            yield block

    return stream()


class ExportsContacts:
    """Views of the contact list that link to its export, with the same filters and search."""

    export_url_name = None

    def search_queryset(self, queryset):
        """Contacts holding every word typed in their name or email address: "Lena Visitor",
        "Visitor, Lena", "lena@"."""
        if not self.is_searching:
            return queryset
        return queryset.filter(search.matching(self.search_query))

    @cached_property
    def listing_query(self) -> str:
        query = self.request.GET.copy()
        for name in DISPLAY_PARAMETERS:
            query.pop(name, None)
        return query.urlencode()

    def get_export_url(self, file_format: str, *, formula_guard: bool = True) -> str:
        url = reverse(self.export_url_name, args=[file_format])
        query = "&".join(
            filter(None, [self.listing_query, "" if formula_guard else NO_FORMULA_GUARD])
        )
        return f"{url}?{query}" if query else url

    @cached_property
    def export_buttons(self) -> list[Button]:
        if not self.permission_policy.user_has_permission(self.request.user, "export"):
            return []
        return [
            Button(label, url=url, icon_name="download", priority=90)
            for label, url in (
                (_("Export CSV"), self.get_export_url("csv")),
                (
                    _("Export plain CSV, for programs (formulas not neutralised)"),
                    self.get_export_url("csv", formula_guard=False),
                ),
                (_("Export XLSX"), self.get_export_url("xlsx")),
            )
        ]


class ContactExportView(ExportsContacts, WithoutGenericExport, generic.IndexView):
    """The contacts that the contact list shows with the same filters and search, as a file.

    CSV is streamed whatever the number of contacts; XLSX is built in memory, so above
    ``EXPORT_XLSX_MAX_ROWS`` contacts it is refused with a link to the CSV instead.
    """

    permission_required = "export"
    any_permission_required = None

    def get(self, request, file_format):
        if file_format not in exports.FORMATS:
            raise Http404
        if self.filters and not self.filters.is_valid():
            messages.error(request, _("These filters are not valid: correct them to export."))
            return self.back_to_listing()
        contacts = self.get_queryset()
        if file_format == "xlsx" and (refusal := exports.xlsx_refusal(contacts.count())):
            csv_button = messages.button(self.get_export_url("csv"), _("Export CSV"))
            messages.error(request, refusal, buttons=[csv_button])
            return self.back_to_listing()
        parts = self.described_filters()
        exports.log_export(
            user=request.user,
            description=exports.describe(parts),
            filters=self.logged_filters(),
            file_format=file_format,
            path=ExportPath.ADMIN,
        )
        if file_format == "csv":
            guard = request.GET.get("formula_guard") != "off"
            response = StreamingHttpResponse(
                streamed(exports.csv_blocks(contacts, formula_guard=guard), request),
                content_type=exports.CONTENT_TYPES["csv"],
            )
        else:
            response = HttpResponse(
                exports.xlsx_file(contacts), content_type=exports.CONTENT_TYPES["xlsx"]
            )
        response["Content-Disposition"] = content_disposition_header(
            True, exports.file_name(parts, file_format)
        )
        return response

    def back_to_listing(self):
        url = reverse(self.index_url_name)
        return redirect(f"{url}?{self.listing_query}" if self.listing_query else url)

    def described_filters(self) -> list[str]:
        parts = [f"{active.field_label}: {active.value}" for active in self.active_filters]
        if self.is_searching:
            parts.append(_("Search: %(query)s") % {"query": self.search_query})
        return parts

    def logged_filters(self) -> dict:
        logged = {}
        if self.filters:
            form = self.filters.form
            logged = {name: form.data.get(name) for name in form.changed_data}
        if self.is_searching:
            logged[self.search_kwarg] = self.search_query
        return logged


class ContactExportViewSet(OffersViewPermission, ReadOnlyViewSet, ModelViewSet):
    """The log of contact exports: who exported which contacts, when, in which format."""

    model = ContactExport
    name = "preference_center_exports"
    url_prefix = "preference-center/exports"
    icon = "download"
    menu_label = _("Exports")
    inspect_view_enabled = False
    list_display = [
        LocalTimeColumn("created_at", label=_("When")),
        Column("created_by_label", label=_("Exported by")),
        Column("description", label=_("What")),
        Column("file_format", label=_("Format")),
        Column("get_path_display", label=_("From")),
    ]
