"""What visitors ask for through forms and links: submissions, confirmations, unsubscribes.

A form submission is stored first and applied from what was stored, at once or when its
confirmation link is used, so both paths change contacts the same way and the submission
keeps what the visitor agreed to. Who may change what:

- a visitor recognised as the contact who sends an update form (which showed the contact's
  current choices), or one whose submission created the contact, makes the form's choices
  exactly: what they untick is removed or opted out;
- anyone else only adds: preferences, category opt-ins, segments, and blank details;
- with double opt-in, an unrecognised visitor's choices wait for the confirmation link; a
  contact who unsubscribed comes back only through a confirmed submission, whoever sends it;
- a blocked contact is never changed by a form submission.
"""

import logging
from dataclasses import replace

from django.db import transaction
from django.utils import timezone

from .. import signals
from ..identity.tokens import UnsubscribeScope
from ..models import (
    Category,
    ChangePath,
    Contact,
    ContactStatus,
    FormSubmission,
    Preference,
    SubmissionStatus,
)
from .categories import set_category_choices
from .choices import Choices, apply_choices
from .contacts import get_or_create_contact, set_status, update_details
from .origin import Origin
from .preferences import remove_preferences

logger = logging.getLogger(__name__)

#: The details a form may ask for, besides the email address.
FORM_DETAILS = ("first_name", "last_name", "phone")


def choices_record(*, details=None, preferences=None, categories=None, segments=()) -> dict:
    """The ``FormSubmission.choices`` of a form: what it offered and what was chosen.

    ``preferences`` and ``categories`` map the offered ones to whether they were ticked.
    """

    def offered(items):
        return [{"id": i.pk, "name": i.name, "chosen": bool(c)} for i, c in (items or {}).items()]

    return {
        "details": {k: v for k, v in (details or {}).items() if k in FORM_DETAILS},
        "preferences": offered(preferences),
        "categories": offered(categories),
        "segments": [{"id": s.pk, "name": s.name} for s in segments],
    }


def choices_summary(submission: FormSubmission) -> dict:
    """What applying ``submission`` gives its contact, for the pages that sum it up.

    ``preferences`` and ``categories`` are the names of those ticked; ``declined`` the
    categories left unticked, which the contact will not receive. Only a submission that
    replaces the contact's choices declines anything: otherwise an unticked box changes
    nothing, and ``unchanged_kept`` says that their other choices stay as they were.
    """
    choices = submission.choices

    def names(kind: str, ticked: bool) -> list[str]:
        return [item["name"] for item in choices.get(kind, []) if bool(item["chosen"]) is ticked]

    replaces = submission.replaces_choices
    return {
        "preferences": names("preferences", True),
        "categories": names("categories", True),
        "declined": names("categories", False) if replaces else [],
        "unchanged_kept": not replaces,
    }


@transaction.atomic
def record_submission(
    email: str,
    choices: dict,
    origin: Origin,
    *,
    identified_as: Contact | None = None,
    update: bool = False,
    double_opt_in: bool = True,
    form_label: str = "",
    page=None,
    block_key: str = "",
) -> FormSubmission:
    """Store a form submission for ``email`` and apply it, unless it must be confirmed first.

    ``choices`` comes from ``choices_record``; ``identified_as`` is the contact the visitor
    is known to be (``identity.current_contact``); ``update`` says the form showed that
    contact's current choices. The contact is created, pending, if the
    address is new. Returns the submission: ``PENDING`` means a confirmation link must be
    sent; the caller sends it, so that the answer to the visitor is the same either way.
    """
    submission = FormSubmission(
        form_label=form_label[:255],
        page=page,
        page_title=(page.title if page else "")[:255],
        block_key=block_key,
        choices=choices,
        consent_text=origin.wording,
        double_opt_in=double_opt_in,
        ip_address=origin.ip_address,
        user_agent=origin.user_agent,
    )
    # Created holding nothing, not even the names: they are choices too, and wait with the
    # others until the submission is applied (and logged then).
    contact, created = get_or_create_contact(
        email, replace(origin, reference=submission.reference), status=ContactStatus.PENDING
    )
    identified = identified_as is not None and identified_as.pk == contact.pk
    submission.contact = contact
    submission.identified = identified
    submission.created_contact = created
    submission.replaces_choices = created or (identified and update)
    submission.save()
    origin = replace(origin, reference=submission.reference)
    must_confirm = contact.status == ContactStatus.UNSUBSCRIBED or (
        double_opt_in and not identified
    )
    if contact.status == ContactStatus.BLOCKED:
        _mark(submission, SubmissionStatus.IGNORED)
    elif not must_confirm:
        _apply(submission, origin)
        _mark(submission, SubmissionStatus.APPLIED)
    return submission


@transaction.atomic
def confirm_submission(submission: FormSubmission, origin: Origin) -> bool:
    """Apply a pending submission because its confirmation link was used.

    Records when and from where; the contact becomes confirmed. Returns False, changing
    nothing, if the submission was no longer pending (confirmed already, or ignored).
    """
    submission = (
        FormSubmission.objects.select_for_update().select_related("contact").get(pk=submission.pk)
    )
    if submission.status != SubmissionStatus.PENDING:
        return False
    contact = submission.contact
    if contact.status == ContactStatus.BLOCKED:
        _mark(submission, SubmissionStatus.IGNORED)
        return False
    origin = replace(
        origin,
        reference=f"{submission.reference}, confirmed",
        wording=submission.consent_text,
    )
    _apply(submission, origin)
    FormSubmission.objects.filter(pk=submission.pk).update(
        status=SubmissionStatus.CONFIRMED,
        confirmed_at=timezone.now(),
        confirmation_ip=origin.ip_address,
        confirmation_user_agent=origin.user_agent,
    )
    return True


def _mark(submission: FormSubmission, status: str) -> None:
    FormSubmission.objects.filter(pk=submission.pk).update(status=status)
    submission.status = status


def _apply(submission: FormSubmission, origin: Origin) -> None:
    """Make the submission's choices; unticked ones are taken away if it replaces choices."""
    exact = submission.replaces_choices
    contact = submission.contact
    choices = submission.choices
    details = choices.get("details", {})
    if not exact:
        details = {k: v for k, v in details.items() if v and not getattr(contact, k)}
    # Each service call is a savepoint of its own: only the calls with something to do.
    if details:
        update_details(contact, details, origin)

    wanted = Choices(
        preferences=_chosen(choices.get("preferences", []), exact),
        categories=_chosen(choices.get("categories", []), exact),
        segments_added_by_hand=dict.fromkeys((s["id"] for s in choices.get("segments", [])), True),
        status=ContactStatus.CONFIRMED
        if contact.status in (ContactStatus.PENDING, ContactStatus.UNSUBSCRIBED)
        else None,
    )
    # What the visitor agreed to is kept as far as it still can be: what has changed since
    # (a segment's criteria broken, a preference deleted or no longer public) is left out,
    # and logged.
    for refusal in apply_choices(contact, wanted, origin, skip_refused=True):
        logger.warning(
            "Submission %s: %r left out: %s", submission.pk, str(refusal.item), refusal.message
        )
    signals.form_submitted.send(
        sender=FormSubmission,
        contact_ids=frozenset([contact.pk]),
        submission=submission,
        origin=origin,
    )


def _chosen(offered: list[dict], exact: bool) -> dict[int, bool]:
    """The ids of the offered items the visitor ticked (with ``exact``, every offered one),
    mapped to whether they were ticked."""
    return {item["id"]: item["chosen"] for item in offered if item["chosen"] or exact}


@transaction.atomic
def unsubscribe(contact: Contact, scope: UnsubscribeScope, origin: Origin) -> bool:
    """Unsubscribe from everything, or leave one category or preference.

    Idempotent: returns False, writing nothing, when there was nothing left to leave. A
    blocked contact stays blocked.
    """
    origin = replace(origin, path=ChangePath.UNSUBSCRIBE)
    if scope.kind == "category":
        category = Category.objects.filter(pk=scope.pk).first()
        return bool(category and set_category_choices(contact, {category: False}, origin))
    if scope.kind == "preference":
        return bool(remove_preferences(contact, Preference.objects.filter(pk=scope.pk), origin))
    if contact.status == ContactStatus.BLOCKED:
        return False
    return bool(set_status(contact, ContactStatus.UNSUBSCRIBED, origin))


RESUBSCRIPTION_LABEL = "Subscribe again (manage-preferences page)"


def request_resubscription(contact: Contact, origin: Origin) -> FormSubmission:
    """An unsubscribed contact asks to come back: a submission that waits for confirmation."""
    return record_submission(
        contact.email,
        choices_record(),
        origin,
        identified_as=contact,
        form_label=RESUBSCRIPTION_LABEL,
    )
