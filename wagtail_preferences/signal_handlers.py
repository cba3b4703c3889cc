from . import services
from .models import ChangePath


def release_deleted_preference(sender, instance, **kwargs):
    """However a preference is deleted, its holders' histories record that they lost it."""
    services.release_preference(instance, _deletion_origin(instance))


def release_deleted_category(sender, instance, **kwargs):
    services.release_category(instance, _deletion_origin(instance))


def _deletion_origin(instance) -> services.Origin:
    return services.Origin(
        path=ChangePath.SYSTEM,
        reference=f"{instance._meta.verbose_name} “{instance}” deleted",
    )
