from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailPreferencesConfig(AppConfig):
    name = "wagtail_preferences"
    label = "wagtail_preferences"
    verbose_name = _("Preference center")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.core import checks
        from django.core.signals import setting_changed

        from .channels import forget_channels
        from .checks import check_settings, check_urls_included
        from .compat import register_permission_policies

        checks.register(check_settings, checks.Tags.compatibility)
        checks.register(check_urls_included, checks.Tags.urls)
        setting_changed.connect(forget_channels, dispatch_uid="wagtail_preferences_channels")
        register_permission_policies()
