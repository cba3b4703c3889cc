"""The background work of sending: send tasks and starting scheduled campaigns.

With the immediate backend (the default) a task runs at once, inside the request or command
that queued it; with a worker backend (``django-tasks-db``, RQ) workers run them, and several
send tasks share a campaign.
"""

import logging

from django_tasks import task

from ..exceptions import IllegalTransition, InvalidChange
from ..models import Campaign
from . import dispatch, planning

logger = logging.getLogger(__name__)


def defer(task_, at, *args) -> None:
    """Queue ``task_`` to run at ``at`` where the backend can wait; elsewhere the
    ``preferences_campaign tick`` command (run by cron) picks the work up."""
    if at is not None and task_.get_backend().supports_defer:
        task_.using(run_after=at).enqueue(*args)


@task()
def send_campaign(campaign_id: int) -> dict:
    """Send the campaign's due deliveries; queue a successor while some are left."""
    progress = dispatch.run(campaign_id)
    if progress.more:
        send_campaign.enqueue(campaign_id)
    else:
        defer(send_campaign, progress.next_at, campaign_id)
    return {"more": progress.more, "next_at": progress.next_at and progress.next_at.isoformat()}


@task()
def start_due_campaigns() -> list[int]:
    """Start the scheduled campaigns whose time has come."""
    started = []
    for campaign in Campaign.objects.due().select_related("message"):
        try:
            planning.begin(campaign)
        except IllegalTransition:
            continue  # started, unscheduled or cancelled meanwhile
        except InvalidChange as error:
            logger.error("Scheduled campaign %r cannot start: %s", campaign.slug, error)
            continue
        started.append(campaign.pk)
        send_campaign.enqueue(campaign.pk)
    return started
