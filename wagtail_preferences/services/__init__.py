"""The one place that changes contacts' preferences, categories, channels and status.

Every function writes consent events and sends its signal once per batch, inside a
transaction; entry points (admin, forms, import, segments, automations) call these.
"""

from .categories import set_category_choice_pairs, set_category_choices
from .channels import ChannelSettings, channel_settings, update_channels
from .choices import Choices, apply_choices, apply_choices_to_many, check_choices
from .contacts import (
    apply_email_change,
    create_contacts,
    get_or_create_contact,
    lock_contact,
    request_email_change,
    set_status,
    update_contacts,
    update_details,
)
from .deletion import release_category, release_preference
from .feedback import record_unsubscribe_reason
from .origin import Origin
from .preferences import (
    add_preference_pairs,
    add_preferences,
    remove_preference_pairs,
    remove_preferences,
    set_preferences,
)
from .segments import (
    add_to_segment,
    members,
    opt_in_to_segment,
    opt_out_of_segment,
    refresh_contacts,
    refresh_segment,
    release_segment,
    remove_from_segment,
)
from .staged_contacts import create_staged_contacts
from .submissions import (
    choices_record,
    choices_summary,
    confirm_submission,
    record_submission,
    request_resubscription,
    unsubscribe,
)

__all__ = [
    "ChannelSettings",
    "Choices",
    "Origin",
    "add_preference_pairs",
    "apply_choices",
    "apply_choices_to_many",
    "add_preferences",
    "add_to_segment",
    "apply_email_change",
    "lock_contact",
    "request_email_change",
    "members",
    "opt_in_to_segment",
    "opt_out_of_segment",
    "refresh_contacts",
    "refresh_segment",
    "remove_from_segment",
    "channel_settings",
    "check_choices",
    "choices_record",
    "choices_summary",
    "confirm_submission",
    "record_submission",
    "record_unsubscribe_reason",
    "request_resubscription",
    "unsubscribe",
    "create_contacts",
    "create_staged_contacts",
    "get_or_create_contact",
    "release_category",
    "release_preference",
    "release_segment",
    "remove_preference_pairs",
    "remove_preferences",
    "set_category_choice_pairs",
    "set_category_choices",
    "set_preferences",
    "set_status",
    "update_channels",
    "update_contacts",
    "update_details",
]
