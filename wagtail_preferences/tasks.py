"""Background work, through django_tasks: inline by default, on a worker when configured."""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django_tasks import task
from wagtail.models import Page

from . import services
from .conf import get_setting
from .models import (
    ChangePath,
    Contact,
    ContactStatus,
    FormSubmission,
    ImportRun,
    Preference,
    Segment,
    SubmissionStatus,
    normalise_email,
)
from .services import refresh_queue
from .transfers.imports.files import release_file
from .transfers.imports.runner import ImportRunner
from .visitors import emails

logger = logging.getLogger(__name__)


def enqueue_after_response(response, task, *args, **kwargs) -> None:
    """Enqueue ``task`` once ``response`` has been sent to the visitor.

    The server closes a response after sending it; the task is enqueued then. So the answer
    takes the same time whatever the task will do, also with the immediate backend, which
    would otherwise run the task inside the request: visitors cannot tell a known address
    from an unknown one by how long the answer takes.
    """

    def enqueue():
        try:
            task.enqueue(*args, **kwargs)
        except Exception:  # Django ignores what a response's closers raise: log it at least
            logger.exception("Could not enqueue %s after the response.", task.func.__name__)

    # What Django runs in ``HttpResponse.close()``, before ``request_finished``.
    response._resource_closers.append(enqueue)


@task()
def refresh_segments(
    segment_ids: list[int] | None = None, changes: list[str] | None = None
) -> dict[str, int]:
    """Refresh whole segments (all of them by default, or those ``changes`` can affect), in
    dependency order, and the segments that follow them."""
    joined, left = services.segments.refresh_segments(segment_ids, changes)
    return {"joined": joined, "left": left}


@task()
def refresh_contacts(contact_ids: list[int], changes: list[str] | None = None) -> None:
    services.refresh_contacts(contact_ids, changes)


@task()
def refresh_queued_contacts() -> int:
    """Refresh the segments of the contacts changes queued, in batches."""
    return refresh_queue.refresh_queued()


@task()
def change_preference_for_segment(
    segment_id: int, preference_id: int, *, remove: bool, user_id: int | None = None
) -> int:
    """Give (or take) a preference to every member of a segment; returns how many changed."""
    segment = Segment.objects.get(pk=segment_id)
    preference = Preference.objects.get(pk=preference_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    origin = services.Origin(
        path=ChangePath.ADMIN if user else ChangePath.SEGMENT,
        user=user,
        reference=f"segment “{segment.name}”",
    )
    change = services.remove_preferences if remove else services.add_preferences
    return len(change(services.members(segment), [preference], origin))


@task()
def send_confirmation_email(submission_id: int, base_url: str) -> bool:
    """Email the confirmation link of a pending submission; returns whether it was sent.

    Each submission gets at most ``CONFIRMATION_EMAILS_PER_SUBMISSION`` emails, counted in
    the database, so that resending cannot be used to flood someone's inbox.
    """
    counted = (
        FormSubmission.objects.filter(
            pk=submission_id,
            status=SubmissionStatus.PENDING,
            confirmation_emails_sent__lt=get_setting("CONFIRMATION_EMAILS_PER_SUBMISSION"),
        )
        .exclude(contact__status=ContactStatus.BLOCKED)  # blocked since it was sent
        .update(confirmation_emails_sent=F("confirmation_emails_sent") + 1)
    )
    if not counted:
        return False
    emails.send_confirmation(
        FormSubmission.objects.select_related("contact").get(pk=submission_id), base_url
    )
    return True


def form_post(origin: services.Origin, email: str, choices: dict, **form) -> dict:
    """A form post as JSON, for ``record_form_post``.

    ``form`` holds ``page`` (a page id), ``block_key``, ``form_label`` and ``double_opt_in``.
    """
    user = origin.user.pk if origin.user is not None else None
    return {
        "email": email,
        "choices": choices,
        "origin": {**vars(origin), "user": user},
        **form,
    }


def record_form_post(
    post: dict,
    base_url: str,
    *,
    identified_as: Contact | None = None,
    update: bool = False,
    in_task: bool = False,
) -> FormSubmission:
    """Record a ``form_post`` (``services.record_submission``), and email its confirmation
    link if it must be confirmed: from a task of its own, or ``in_task``, from this one."""
    origin = dict(post["origin"])
    if origin["user"] is not None:
        origin["user"] = get_user_model().objects.filter(pk=origin["user"]).first()
    submission = services.record_submission(
        post["email"],
        post["choices"],
        services.Origin(**origin),
        identified_as=identified_as,
        update=update,
        double_opt_in=post["double_opt_in"],
        form_label=post["form_label"],
        page=Page.objects.filter(pk=post["page"]).first() if post["page"] else None,
        block_key=post["block_key"],
    )
    if submission.status == SubmissionStatus.PENDING and in_task:
        pk = submission.pk
        transaction.on_commit(lambda: send_confirmation_email.call(pk, base_url))
    elif submission.status == SubmissionStatus.PENDING:
        send_confirmation_on_commit(submission, base_url)
    return submission


@task()
def record_form_submission(post: dict, base_url: str) -> str:
    """``record_form_post`` for a visitor who is not known to be the address's contact;
    returns the submission's status."""
    return record_form_post(post, base_url, in_task=True).status


def send_confirmation_on_commit(submission: FormSubmission, base_url: str) -> None:
    """Email the submission's confirmation link once the current transaction commits."""
    pk = submission.pk
    transaction.on_commit(lambda: send_confirmation_email.enqueue(pk, base_url))


@task()
def send_manage_link_email(email: str, base_url: str) -> bool:
    """Email a manage link to ``email`` if it is a contact's who may receive it.

    Enqueued after the response (``enqueue_after_response``) for known and unknown
    addresses alike, so neither the visitor's answer nor its timing tells them apart.
    """
    contact = (
        Contact.objects.filter(email=normalise_email(email))
        .exclude(status=ContactStatus.BLOCKED)
        .first()
    )
    if contact is None:
        return False
    emails.send_manage_link(contact, base_url)
    return True


@task()
def send_email_change_email(contact_id: int, new_email: str, base_url: str) -> bool:
    """Email the confirmation link of a new address a contact asked for.

    If the address is another contact's, that contact is told that nothing changed
    instead: the visitor's answer is the same either way.
    """
    owner = Contact.objects.filter(email=normalise_email(new_email)).first()
    if owner is not None and owner.pk != contact_id:
        if owner.status == ContactStatus.BLOCKED:
            return False
        emails.send_email_taken(owner, base_url)
        return True
    contact = Contact.objects.filter(pk=contact_id, email_change__new_email=new_email).first()
    if contact is None:
        return False
    emails.send_email_change(contact, new_email, base_url)
    return True


@task()
def send_email_changed_email(contact_id: int, old_email: str, base_url: str) -> None:
    """Tell the address a contact left that their messages now go elsewhere."""
    emails.send_email_changed(Contact.objects.get(pk=contact_id), old_email, base_url)


def send_email_changed_email_on_commit(contact: Contact, old_email: str, base_url: str) -> None:
    pk = contact.pk
    transaction.on_commit(lambda: send_email_changed_email.enqueue(pk, old_email, base_url))


@task()
def check_import(run_id: int) -> str:
    """Count what an import run would change, row by row; returns the run's status."""
    run = ImportRunner(ImportRun.objects.get(pk=run_id)).check()
    release_file(run)
    return run.status


@task()
def run_import(run_id: int) -> str:
    """Import a run's file through the service layer; returns the run's status.

    The file is deleted when the run ends, unless ``IMPORT_FILE_RETENTION`` keeps it.
    """
    run = ImportRunner(ImportRun.objects.get(pk=run_id)).apply()
    release_file(run)
    return run.status
