from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import path
from wagtail.admin.views import generic

from ...compat import pk_path_converter


class WithoutGenericExport:
    """Index views that do not answer Wagtail's generic ``?export=csv|xlsx``.

    Exporting contacts is a permission of its own (``export_contact``), so no listing may
    hand out a spreadsheet to whoever can open it.
    """

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.is_export = False


class ContactRowsIndexView(WithoutGenericExport, generic.IndexView):
    """The list of rows that each belong to a contact, shown with the contact's address."""

    def get_base_queryset(self):
        return super().get_base_queryset().select_related("contact")


class OffersViewPermission:
    """Viewsets that offer the model's "view" permission in the group editor.

    Wagtail offers it only with an inspect view; read-only editors of contacts and of the
    consent log are a role of their own here.
    """

    def get_permissions_to_register(self):
        return Permission.objects.filter(content_type=ContentType.objects.get_for_model(self.model))


class ReadOnlyViewSet:
    """Model viewsets of records nobody edits: listed, filtered and (optionally) inspected."""

    add_to_reference_index = False
    copy_view_enabled = False

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            **{
                "add_url_name": None,
                "edit_url_name": None,
                "delete_url_name": None,
                "history_url_name": None,
                "usage_url_name": None,
                **kwargs,
            }
        )

    def get_urlpatterns(self):
        patterns = [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
        ]
        if self.inspect_view_enabled:
            patterns.append(
                path(f"inspect/<{pk_path_converter(self)}:pk>/", self.inspect_view, name="inspect")
            )
        return patterns
