from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType


class WithoutGenericExport:
    """Index views that do not answer Wagtail's generic ``?export=csv|xlsx``.

    Exporting contacts is a permission of its own (``export_contact``), so no listing may
    hand out a spreadsheet to whoever can open it.
    """

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.is_export = False


class OffersViewPermission:
    """Viewsets that offer the model's "view" permission in the group editor.

    Wagtail offers it only with an inspect view; read-only editors of contacts and of the
    consent log are a role of their own here.
    """

    def get_permissions_to_register(self):
        return Permission.objects.filter(content_type=ContentType.objects.get_for_model(self.model))
