"""Signals the service layer sends, once per batch, inside the transaction of the change.

Every signal carries ``origin`` (the ``Origin`` of the change) and ``contact_ids``
(a frozenset of the contacts it changed). Receivers that must only act once the change
is committed wrap their work in ``transaction.on_commit``.
"""

from django.dispatch import Signal

#: A contact was created. Extra: nothing.
contact_created = Signal()
#: Contact details changed. Extra: ``fields``, the names of the changed fields.
contact_details_changed = Signal()
#: Contacts changed status. Extra: ``status``, the new status.
contact_status_changed = Signal()
#: Contacts gained preferences. Extra: ``pairs``, a frozenset of (contact_id, preference_id).
preferences_added = Signal()
#: Contacts lost preferences. Extra: ``pairs``, as for ``preferences_added``.
preferences_removed = Signal()
#: Category choices changed. Extra: ``changes``, a frozenset of
#: (contact_id, category_id, subscribed) with subscribed True, False or None (reset).
categories_changed = Signal()
#: Channel settings changed. Extra: ``channels``, the keys of the channels that changed.
channels_changed = Signal()
#: Contacts joined a segment. Extra: ``segment``.
segment_entered = Signal()
#: Contacts left a segment. Extra: ``segment``.
segment_left = Signal()

#: A form submission was applied (at once, or when confirmed). Extra: ``submission``.
form_submitted = Signal()

#: Every signal that says contacts changed; segment memberships follow them.
CONTACT_CHANGES = (
    contact_created,
    contact_details_changed,
    contact_status_changed,
    preferences_added,
    preferences_removed,
    categories_changed,
    channels_changed,
    segment_entered,
    segment_left,
    form_submitted,
)
