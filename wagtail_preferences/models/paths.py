from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangePath(models.TextChoices):
    """Through which path a change reached a contact."""

    ADMIN = "admin", _("Admin")
    FORM = "form", _("Form")
    IMPORT = "import", _("Import")
    SEGMENT = "segment", _("Segment")
    AUTOMATION = "automation", _("Automation")
    SELF_SERVICE = "self_service", _("Manage-preferences page")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
    API = "api", _("API")
    PROVIDER = "provider", _("Email provider")
    SYSTEM = "system", _("System")
