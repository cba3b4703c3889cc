"""What editors and commands do to a campaign: each status change, and the background work
it sets going once the change is committed."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..exceptions import InvalidChange
from ..models import Campaign
from . import planning
from .dispatch import sweep
from .tasks import defer, send_campaign, start_due_campaigns


def _queue_senders(campaign: Campaign) -> None:
    for _n in range(get_setting("SEND_TASKS")):
        send_campaign.enqueue(campaign.pk)


def start(campaign: Campaign) -> int:
    """Send now. Returns the number of deliveries planned."""
    planned = planning.begin(campaign)
    transaction.on_commit(lambda: _queue_senders(campaign))
    return planned


def schedule(campaign: Campaign, at: datetime.datetime) -> None:
    """Send at ``at``, an aware time in the future."""
    if at <= timezone.now():
        raise InvalidChange(_("Choose a time in the future."))
    campaign.schedule(at)
    transaction.on_commit(lambda: defer(start_due_campaigns, at))


def unschedule(campaign: Campaign) -> None:
    campaign.unschedule()


def pause(campaign: Campaign) -> None:
    campaign.pause()


def resume(campaign: Campaign) -> None:
    campaign.resume()
    transaction.on_commit(lambda: _queue_senders(campaign))


def cancel(campaign: Campaign) -> int:
    """Stop for good; returns the number of deliveries cancelled."""
    return campaign.cancel()


def tick() -> dict:
    """What cron runs every minute where the task backend cannot wait for a time: start
    due campaigns, take back expired leases, send what has come due."""
    started = start_due_campaigns.call()
    requeued, unknown = sweep()
    sending = list(Campaign.objects.sending().values_list("pk", flat=True))
    for pk in sending:
        send_campaign.enqueue(pk)
    return {"started": started, "requeued": requeued, "unknown": unknown, "sending": sending}
