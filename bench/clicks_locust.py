"""Locust users for ``bench/clicks.py``: each clicks tracked links of the bench campaign's
deliveries, read from ``CLICK_PATHS``, without following the redirect (the targets are
``.example`` addresses, never fetched). Every answer's ``Server-Timing`` is recorded as a
request of its own type, ``SERVER``, and written in full to ``CLICK_SERVER_TIMES``."""

import json
import os
import random
import re

from locust import HttpUser, events, task

PATHS = open(os.environ["CLICK_PATHS"]).read().split()  # noqa: SIM115
DURATION = re.compile(r"dur=([0-9.]+)")
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
server_times: list[float] = []


class Clicker(HttpUser):
    @task
    def click(self):
        with self.client.get(
            random.choice(PATHS),
            name="click",
            allow_redirects=False,
            headers={"User-Agent": BROWSER},
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")
                return
            found = DURATION.search(response.headers.get("Server-Timing", ""))
            if found:
                server_ms = float(found[1])
                server_times.append(server_ms)
                events.request.fire(
                    request_type="SERVER",
                    name="click",
                    response_time=server_ms,
                    response_length=0,
                    exception=None,
                    context={},
                )


@events.quitting.add_listener
def write_server_times(environment, **kwargs):
    with open(os.environ["CLICK_SERVER_TIMES"], "w") as file:
        json.dump(server_times, file)
