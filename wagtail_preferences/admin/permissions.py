"""Who may do what in the Preference center's admin, asked of the models' permission policies.

Every admin check goes through these functions, so that a site that registers its own
permission policy for a model (Wagtail 8's policy registry) changes them all at once. The
actions are those of Django's permissions: ``add``, ``change``, ``delete``, ``view``, and the
models' own (``Contact``: ``export``, ``import``).
"""

from ..compat import permission_policy_for
from ..models import Campaign, ConsentEvent, Contact, Message, Segment

#: Any of these on contacts opens the Preference center; on another model, shows all its
#: objects in choosers.
ANY_ACTION = ("add", "change", "delete", "view")
SEGMENT_EDITING = ("add", "change")


def contact_policy():
    return permission_policy_for(Contact)


def can_use_preference_center(user) -> bool:
    return contact_policy().user_has_any_permission(user, ANY_ACTION)


def can_export(user) -> bool:
    return contact_policy().user_has_permission(user, "export")


def can_import(user) -> bool:
    return contact_policy().user_has_permission(user, "import")


def can_change_contacts(user) -> bool:
    return contact_policy().user_has_permission(user, "change")


def can_view_consent_log(user) -> bool:
    return permission_policy_for(ConsentEvent).user_has_permission(user, "view")


def can_edit_segments(user) -> bool:
    return permission_policy_for(Segment).user_has_any_permission(user, SEGMENT_EDITING)


def can_see_all_of(user, model) -> bool:
    """Whether ``user`` may see every ``model`` object in choosers, internal ones too."""
    return permission_policy_for(model).user_has_any_permission(user, ANY_ACTION)


def campaign_policy():
    return permission_policy_for(Campaign)


def can_see_campaigns(user) -> bool:
    return campaign_policy().user_has_any_permission(user, (*ANY_ACTION, "send"))


def can_send_campaigns(user) -> bool:
    """Send, schedule, pause, resume and cancel campaigns (``send_campaign``)."""
    return campaign_policy().user_has_permission(user, "send")


def can_edit_messages(user) -> bool:
    """Whether ``user`` may change messages: preview them as a contact and send tests."""
    return permission_policy_for(Message).user_has_permission(user, "change")
