"""Differences between the Wagtail versions we support, in one place."""


def register_permission_policies() -> None:
    """Register our models' permission policies where Wagtail (8.0+) has the registry.

    Older Wagtail versions build the same policy from the viewset itself.
    """
    try:
        from wagtail.permissions import register_permission_policy
    except ImportError:
        return
    from .models import Category, ConsentEvent, Contact, FormSubmission, Preference

    for model in (Contact, Preference, Category, ConsentEvent, FormSubmission):
        register_permission_policy(model)


def permission_policy_for(model):
    """The model's registered permission policy (Wagtail 8.0+) or a model policy."""
    try:
        from wagtail.permissions import policy_registry
    except ImportError:
        from wagtail.permission_policies import ModelPermissionPolicy

        return ModelPermissionPolicy(model)
    return policy_registry.get_by_type(model)


def listing_menu_item(label, url, *, icon: str, priority: int):
    """An entry of a listing row's "more" menu (a MenuItem from Wagtail 7.1 on)."""
    try:
        from wagtail.admin.ui.menus import MenuItem
    except ImportError:
        from wagtail.admin.widgets import ListingButton

        return ListingButton(label, url=url, icon_name=icon, priority=priority)
    return MenuItem(label, url=url, icon_name=icon, priority=priority)


def pk_path_converter(viewset) -> str:
    """The path converter of a model viewset's object URLs (a setting from Wagtail 7.1 on)."""
    return getattr(viewset, "pk_path_converter", "str")


def register_telepath_adapter(adapter, block_class) -> None:
    """Register a block's telepath adapter; the module moved in Wagtail 7.1."""
    try:
        from wagtail.admin.telepath import register
    except ImportError:
        from wagtail.telepath import register
    register(adapter, block_class)
