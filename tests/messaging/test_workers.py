"""A campaign sent by two database workers over real SMTP, one of them killed mid-send:
every recipient gets exactly one message, except those whose fate is "unknown" (handed to
the server, result not recorded), who get at most one and are not sent again."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from tests.channels.smtp_server import RefusingHandler, serve
from tests.factories import CampaignFactory, ContactFactory
from wagtail_preferences.messaging import planning
from wagtail_preferences.messaging.tasks import send_campaign
from wagtail_preferences.models import Campaign, CampaignStatus, Delivery, DeliveryStatus

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.workers,
    pytest.mark.django_db(transaction=True),
]

RECIPIENTS = 400
ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def start_worker(smtp_port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "WP_WORKER_DATABASE_URL": database_url(),
        "WP_WORKER_SMTP_PORT": str(smtp_port),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "django", "db_worker", "--interval", "0.2", "--no-startup-delay"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def wait_for(condition, timeout=60, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise AssertionError("timed out")


def sent() -> int:
    return Delivery.objects.filter(status=DeliveryStatus.SENT).count()


def test_a_worker_killed_mid_send_loses_nobody_and_doubles_nobody(settings, products, tmp_path):
    handler = RefusingHandler()
    server = serve(settings, handler)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    workers = []
    try:
        contacts = [
            ContactFactory(confirmed=True, preferences=[products]) for _ in range(RECIPIENTS)
        ]
        campaign = CampaignFactory(preferences=[products])
        planning.begin(campaign)
        workers = [start_worker(server.port, tmp_path / f"worker-{n}.log") for n in range(2)]
        for _ in range(4):
            send_campaign.enqueue(campaign.pk)

        wait_for(lambda: sent() >= RECIPIENTS // 4)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        before_kill = sent()
        assert before_kill < RECIPIENTS, "the campaign ended before the kill"

        # What cron's "preferences_campaign tick" does: once the dead worker's lease has run
        # out, send tasks pick up what it left.
        time.sleep(3.5)
        send_campaign.enqueue(campaign.pk)
        wait_for(
            lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.FINISHED,
            timeout=120,
        )
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
        server.stop()

    received = Counter(address for e in handler.envelopes for address in e.rcpt_tos)
    outcome = dict(Delivery.objects.values_list("contact__email", "status"))
    assert set(outcome.values()) <= {DeliveryStatus.SENT, DeliveryStatus.UNKNOWN}
    unknown = [address for address, status in outcome.items() if status == DeliveryStatus.UNKNOWN]
    assert len(unknown) <= 5  # at most the chunk the killed worker had handed over
    for contact in contacts:
        if outcome[contact.email] == DeliveryStatus.SENT:
            assert received[contact.email] == 1, contact.email
        else:
            assert received[contact.email] <= 1, contact.email
    assert max(received.values()) == 1
