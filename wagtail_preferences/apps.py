from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailPreferencesConfig(AppConfig):
    name = "wagtail_preferences"
    label = "wagtail_preferences"
    verbose_name = _("Preference center")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from anymail.signals import tracking
        from django.core import checks
        from django.core.signals import request_started, setting_changed
        from django.db.models.signals import post_delete, post_save, pre_delete

        from . import signals
        from .blocks.rendering_context import forget
        from .channels.registry import forget_channels
        from .checks import (
            check_block_rendering,
            check_import_storage,
            check_link_host,
            check_required_apps,
            check_settings,
            check_urls_included,
        )
        from .compat import register_permission_policies
        from .feedback.events import receive as receive_provider_event
        from .models import Category, ImportRun, Preference, Segment
        from .models.storage import forget_import_storage
        from .services import segments as services_segments
        from .signal_handlers import (
            delete_import_file,
            enqueue_refresh,
            refresh_changed_contacts,
            refresh_saved_segment,
            release_deleted_category,
            release_deleted_preference,
            release_deleted_segment,
        )

        checks.register(check_settings, checks.Tags.compatibility)
        checks.register(check_urls_included, checks.Tags.urls)
        checks.register(check_required_apps)
        checks.register(check_link_host, checks.Tags.security)
        checks.register(check_block_rendering, checks.Tags.urls)
        checks.register(check_import_storage, checks.Tags.security)
        request_started.connect(forget, dispatch_uid="wagtail_preferences_rendering")
        setting_changed.connect(forget_channels, dispatch_uid="wagtail_preferences_channels")
        setting_changed.connect(
            forget_import_storage, dispatch_uid="wagtail_preferences_import_storage"
        )
        pre_delete.connect(release_deleted_preference, sender=Preference)
        pre_delete.connect(release_deleted_category, sender=Category)
        pre_delete.connect(release_deleted_segment, sender=Segment)
        post_save.connect(refresh_saved_segment, sender=Segment)
        post_delete.connect(delete_import_file, sender=ImportRun)
        for signal in signals.CONTACT_CHANGES:
            signal.connect(refresh_changed_contacts, dispatch_uid="wagtail_preferences_segments")
        services_segments.refresh_due.connect(
            enqueue_refresh, dispatch_uid="wagtail_preferences_refresh_due"
        )
        tracking.connect(receive_provider_event, dispatch_uid="wagtail_preferences_feedback")
        register_permission_policies()
