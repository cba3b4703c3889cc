"""Differences between the Wagtail versions we support, in one place."""

from django.apps import apps


def register_permission_policies() -> None:
    """Register our models' permission policies where Wagtail (8.0+) has the registry.

    Older Wagtail versions build the same policy from the viewset itself.
    """
    try:
        from wagtail.permissions import register_permission_policy
    except ImportError:
        return
    for model in apps.get_app_config("wagtail_preferences").get_models():
        if model._meta.model_name in {"contact", "preference", "category"}:
            register_permission_policy(model)
