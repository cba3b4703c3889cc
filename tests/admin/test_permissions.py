"""The admin asks the models' permission policies, so a site's own policy changes every check."""

import sys
from importlib import import_module

import pytest
from wagtail.permission_policies import ModelPermissionPolicy

from tests.factories import UserFactory
from wagtail_preferences.admin import permissions
from wagtail_preferences.compat import permission_policy_for
from wagtail_preferences.models import Contact, Segment

pytestmark = pytest.mark.django_db


def user_with(*codenames):
    return UserFactory(permissions=list(codenames))


def test_the_checks_follow_django_permissions():
    user = user_with("wagtail_preferences.export_contact", "wagtail_preferences.add_segment")

    assert permissions.can_export(user)
    assert not permissions.can_import(user)
    assert not permissions.can_change_contacts(user)
    assert not permissions.can_view_consent_log(user)
    assert permissions.can_edit_segments(user)
    assert not permissions.can_use_preference_center(user)
    assert permissions.can_see_all_of(user, Segment)


class NoExports(ModelPermissionPolicy):
    def user_has_permission(self, user, action):
        return action != "export" and super().user_has_permission(user, action)


def test_without_a_registry_a_model_policy_decides(monkeypatch):
    """As on Wagtail 7.0, which has no policy registry."""
    monkeypatch.setitem(sys.modules, "wagtail.permissions", None)
    user = user_with("wagtail_preferences.export_contact")

    assert type(permission_policy_for(Contact)) is ModelPermissionPolicy
    assert permissions.can_export(user)
    assert not permissions.can_import(user)


def test_a_registered_policy_decides():
    policy_registry = getattr(import_module("wagtail.permissions"), "policy_registry", None)
    if policy_registry is None:  # Wagtail 7.0: a model policy of Django's permissions decides
        assert type(permission_policy_for(Contact)) is ModelPermissionPolicy
        return
    policy = policy_registry.get_by_type(Contact)
    user = user_with("wagtail_preferences.export_contact", "wagtail_preferences.view_consentevent")
    policy_registry.register(Contact, NoExports(Contact))
    try:
        assert not permissions.can_export(user)
    finally:
        policy_registry.register(Contact, policy)
    assert permissions.can_export(user)
    assert permissions.can_view_consent_log(user)
