"""Locust users for ``bench/visitor_load.py``: visitors of a site, in the mix it describes.

What the users need (paths, form fields, the visitors' signed cookies and links) is read
from the JSON file ``VISITOR_LOAD_PLAN``. Cookies are sent by hand on each request and
nothing the server sets is kept, so whether a visitor is recognised is decided here.
"""

import json
import os
import random
import secrets
import string

from locust import HttpUser, between, task

PLAN = json.load(open(os.environ["VISITOR_LOAD_PLAN"]))  # noqa: SIM115
RUN = os.environ["VISITOR_LOAD_RUN"]
EMAIL_DOMAIN = "form-bench.test"
RECOGNISED_SHARE = 0.8
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


class Visitor(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self):
        # An unmasked secret is a valid token for the same cookie (Django's CSRF check).
        self.csrf = "".join(random.choices(string.ascii_letters + string.digits, k=32))
        self.name = secrets.token_hex(4)
        self.sign_ups = 0

    def send(self, method, path, name, expected, *, data=None, cookies=()):
        cookie = "; ".join(f"{key}={value}" for key, value in cookies)
        headers = {"User-Agent": BROWSER, "Cookie": cookie} if cookie else {"User-Agent": BROWSER}
        with self.client.request(
            method,
            path,
            name=name,
            data=data,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != expected:
                response.failure(f"status {response.status_code}")
        self.client.cookies.clear()

    def visitor(self) -> dict:
        return random.choice(PLAN["visitors"])

    def with_csrf(self, fields, **replace):
        data = [(key, replace.get(key.rsplit("-", 1)[-1], value)) for key, value in fields]
        return [*data, ("csrfmiddlewaretoken", self.csrf)]

    @task(41)
    def page_view(self):
        cookies = [(PLAN["csrf_cookie"], self.csrf)]
        if random.random() < RECOGNISED_SHARE:
            cookies.append((PLAN["identity_cookie"], self.visitor()["cookie"]))
        self.send("GET", PLAN["page"], "page view", 200, cookies=cookies)

    @task(20)
    def sign_up(self):
        self.sign_ups += 1
        email = f"{RUN}-{self.name}-{self.sign_ups}@{EMAIL_DOMAIN}"
        data = self.with_csrf(PLAN["sign_up"], email=email)
        cookies = [(PLAN["csrf_cookie"], self.csrf)]
        self.send("POST", PLAN["submit"], "sign-up", 303, data=data, cookies=cookies)

    @task(20)
    def manage_view(self):
        self.send("GET", self.visitor()["manage"], "manage page", 200)

    @task(10)
    def manage_save(self):
        visitor = self.visitor()
        data = self.with_csrf(PLAN["save"], **visitor["details"])
        cookies = [(PLAN["csrf_cookie"], self.csrf)]
        self.send("POST", visitor["manage"], "manage save", 302, data=data, cookies=cookies)

    @task(10)
    def unsubscribe(self):
        data = {"List-Unsubscribe": "One-Click"}
        self.send("POST", self.visitor()["unsubscribe"], "unsubscribe", 200, data=data)
