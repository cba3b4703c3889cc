"""The Preference center's import screens: upload, map columns, check, confirm, follow."""

from itertools import islice

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, TemplateView, View
from wagtail.admin.viewsets.base import ViewSet

from ...conf import get_setting
from ...exceptions import InvalidFile
from ...models import ImportRun, ImportStatus
from ...tasks import check_import, run_import
from ...transfers.imports.runner import ImportRunner
from ...transfers.spreadsheets import open_table
from ..import_forms import ImportConfirmForm, ImportMappingForm, ImportUploadForm
from ..permissions import can_import
from .overview import AdminPage

OUTCOMES = {
    "new": _("New contact"),
    "updated": _("Updated"),
    "unchanged": _("Unchanged"),
    "skipped": _("Skipped by the mode"),
    "failed": _("Error"),
}
SAMPLE_ROWS = 3


def url(name: str, *args) -> str:
    return reverse(f"{ImportViewSet.name}:{name}", args=args)


class ImportPermissionMixin:
    def dispatch(self, request, *args, **kwargs):
        if not can_import(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ImportPage(ImportPermissionMixin, AdminPage):
    """A page below the list of imports."""

    header_icon = "upload"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": url("index"), "label": _("Imports")},
            {"url": "", "label": self.get_page_title()},
        ]


class RunMixin:
    @cached_property
    def run(self) -> ImportRun:
        return get_object_or_404(ImportRun, pk=self.kwargs["pk"])


class ImportIndexView(ImportPermissionMixin, AdminPage, TemplateView):
    page_title = _("Imports")
    header_icon = "upload"
    template_name = "wagtail_preferences/admin/imports/index.html"

    def get_context_data(self, **kwargs):
        runs = ImportRun.objects.select_related("created_by")
        page = Paginator(runs, 25).get_page(self.request.GET.get("p"))
        return super().get_context_data(page=page, upload_url=url("upload"), **kwargs)


class ImportUploadView(ImportPage, FormView):
    page_title = _("Import contacts")
    form_class = ImportUploadForm
    template_name = "wagtail_preferences/admin/imports/upload.html"

    def form_valid(self, form):
        run = form.save(commit=False)
        run.created_by = self.request.user
        run.created_by_label = self.request.user.get_username()
        run.save()
        return redirect(url("mapping", run.pk))

    def get_context_data(self, **kwargs):
        return super().get_context_data(max_size=get_setting("IMPORT_MAX_UPLOAD_SIZE"), **kwargs)


class ImportMappingView(RunMixin, ImportPage, FormView):
    template_name = "wagtail_preferences/admin/imports/mapping.html"
    form_class = ImportMappingForm

    def get_page_title(self):
        return _("Columns of %(file)s") % {"file": self.run.file_name}

    def get(self, request, *args, **kwargs):
        if self.run.is_running or self.run.status == ImportStatus.DONE:
            return redirect(url("detail", self.run.pk))
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "run": self.run, "samples": self.samples()}

    def samples(self) -> dict[str, list[str]]:
        samples: dict[str, list[str]] = {name: [] for name in self.run.columns}
        try:
            with self.run.open_file() as file:
                table = open_table(file)
                for _line, cells in islice(table.rows, SAMPLE_ROWS):
                    for name, cell in zip(table.header, cells, strict=False):
                        samples[name].append(cell)
        except InvalidFile:
            pass  # the check that follows reports it
        return samples

    def form_valid(self, form):
        if self.run.request_check(form.mapping):
            check_import.enqueue(self.run.pk)
        return redirect(url("detail", self.run.pk))


class ImportDetailView(RunMixin, ImportPage, FormView):
    """A run's state: progress while it works, then its preview, errors and confirmation,
    then its summary. Refreshes itself while the run works, without JavaScript.
    """

    template_name = "wagtail_preferences/admin/imports/detail.html"
    form_class = ImportConfirmForm

    def get_page_title(self):
        return _("Import %(file)s") % {"file": self.run.file_name}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.run}

    def form_valid(self, form):
        # Only the first of two posts (a double click, two tabs) starts the run.
        if self.run.confirm(form.cleaned_data["legal_basis"]):
            run_import.enqueue(self.run.pk)
        return redirect(url("detail", self.run.pk))

    def get_context_data(self, **kwargs):
        run = self.run
        context = super().get_context_data(run=run, **kwargs)
        context["errors"] = run.row_errors.all()[:100]
        context["error_count"] = run.row_errors.count() if context["errors"] else 0
        context["mapping_url"] = url("mapping", run.pk)
        context["report_url"] = url("errors", run.pk)
        context["file_url"] = url("file", run.pk)
        context["index_url"] = url("index")
        if run.total_rows:
            context["percent"] = min(100, round(100 * run.processed_rows / run.total_rows))
        if run.status == ImportStatus.CHECKED:
            columns = [name for name in run.columns if run.mapping.get(name)]
            context["columns"] = columns
            context["preview"] = [
                {
                    **row,
                    "outcome": OUTCOMES[row["outcome"]],
                    "shown": [row["cells"].get(name, "") for name in columns],
                }
                for row in self.preview()
            ]
        return context

    def preview(self):
        try:
            return ImportRunner(self.run).preview(get_setting("IMPORT_PREVIEW_ROWS"))
        except InvalidFile:
            return []


class ImportFileView(RunMixin, ImportPermissionMixin, View):
    """The run's file as it was uploaded, while it is kept: import files are never served
    from a public URL."""

    def get(self, request, pk):
        try:
            file = self.run.open_file()
        except InvalidFile:
            raise Http404 from None
        # FileResponse names the attachment with content_disposition_header.
        return FileResponse(file, as_attachment=True, filename=self.run.file_name)


class ImportErrorReportView(RunMixin, ImportPermissionMixin, View):
    """The file's failing rows as they were, each with what is wrong in a last column."""

    def get(self, request, pk):
        from ...transfers.imports import report

        if not self.run.file:  # deleted when the run ended: the errors are on its page
            raise Http404
        response = StreamingHttpResponse(
            report.error_report_lines(self.run), content_type="text/csv; charset=utf-8"
        )
        name = self.run.file_name.rsplit(".", 1)[0]
        response["Content-Disposition"] = content_disposition_header(True, f"{name}-errors.csv")
        return response


class ImportViewSet(ViewSet):
    name = "preference_center_imports"
    url_prefix = "preference-center/imports"
    icon = "upload"
    menu_label = _("Import")

    @property
    def menu_item_class(self):
        class ImportMenuItem(super().menu_item_class):
            def is_shown(self, request):
                return can_import(request.user)

        return ImportMenuItem

    def get_urlpatterns(self):
        return [
            path("", ImportIndexView.as_view(), name="index"),
            path("new/", ImportUploadView.as_view(), name="upload"),
            path("<int:pk>/", ImportDetailView.as_view(), name="detail"),
            path("<int:pk>/columns/", ImportMappingView.as_view(), name="mapping"),
            path("<int:pk>/errors.csv", ImportErrorReportView.as_view(), name="errors"),
            path("<int:pk>/file/", ImportFileView.as_view(), name="file"),
        ]
