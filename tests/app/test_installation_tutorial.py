"""The installation tutorial, followed on a new project that ``wagtail start`` makes.

The code the tutorial shows is read from ``docs/installation.md`` and put where it says, so the
tutorial and the package cannot drift apart: the project is checked, migrated and sends a
campaign to a contact who signed up through the form the tutorial puts on the home page.
"""

import os
import re
import subprocess
import sys

import pytest

from tests.docs_examples import docs_example

TUTORIAL = "installation.md"

CONTACT_AND_CAMPAIGN = """
from wagtail.models import Page

from wagtail_preferences import services
from wagtail_preferences.models import Campaign, ChangePath, Message, Preference

products = Preference.objects.create(name="Products")
home = Page.objects.get(slug="home").specific
home.body = [("preference_form", {"preferences": [products.pk]})]
home.save_revision().publish()

origin = services.Origin(path=ChangePath.ADMIN)
lena, _ = services.get_or_create_contact("lena@example.com", origin, first_name="Lena")
services.add_preferences([lena], [products], origin)
services.set_status(lena, "confirmed", origin)

message = Message.objects.create(
    name="Welcome",
    subject="Hello {{ first_name }}",
    body=[
        {"type": "heading", "value": "Our first news"},
        {"type": "paragraph", "value": "<p>Fresh bread every morning.</p>"},
    ],
)
message.save_revision().publish()
campaign = Campaign.objects.create(name="First news", message=message)
campaign.preferences.set([products])
print(campaign.slug)

from django.test import Client

home_page = Client().get("/").content.decode()
print("Subscribe" if "preference-1" in home_page and "Subscribe" in home_page else "no form")
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project from ``wagtail start``, with every step of the tutorial applied."""
    root = tmp_path_factory.mktemp("newsite")
    run(root, "-m", "wagtail.bin.wagtail", "start", "mysite")
    project = root / "mysite"

    # 3. Add the app
    installed = docs_example(TUTORIAL, "python", "## 3. Add the app")
    assert '    "wagtail_preferences",\n' in installed
    assert '    "wagtail.contrib.settings",\n' in installed
    edit(project / "mysite/settings/base.py", '    "search",\n', '    "wagtail_preferences",\n')
    edit(
        project / "mysite/settings/base.py",
        '    "wagtail.contrib.forms",\n',
        '    "wagtail.contrib.settings",\n',
    )

    # 4. Include the URLs
    urls = docs_example(TUTORIAL, "python", "## 4. Include the URLs")
    search, ours = urls.splitlines()[-3:-1]
    edit(project / "mysite/urls.py", search + "\n", ours + "\n")

    # 7. Put a signup form on a page
    (project / "home/models.py").write_text(
        docs_example(TUTORIAL, "python", "## 7. Put a signup form on a page")
    )
    edit(
        project / "home/templates/home/home_page.html",
        "{% block content %}\n",
        docs_example(TUTORIAL, "django", "## 7. Put a signup form on a page"),
    )

    # 8. Send a campaign
    with (project / "mysite/settings/base.py").open("a") as settings:
        settings.write(docs_example(TUTORIAL, "python", "## 8. Send a campaign"))
    return project


def run(cwd, *args) -> str:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    done = subprocess.run(  # noqa: S603
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def edit(path, after: str, insert: str) -> None:
    """Put ``insert`` right after the line ``after``, which must be in the file."""
    text = path.read_text()
    assert after in text, f"{path.name} no longer has {after!r}"
    path.write_text(text.replace(after, after + insert, 1))


def manage(project, *args) -> str:
    return run(project, "manage.py", *args)


def test_a_new_project_follows_the_tutorial_to_a_sent_campaign(project):
    assert "System check identified no issues" in manage(project, "check")
    assert "home/migrations/0003" in manage(project, "makemigrations")
    assert "Applying wagtail_preferences.0001_initial... OK" in manage(project, "migrate")

    made = manage(project, "shell", "-c", CONTACT_AND_CAMPAIGN).split()
    assert made[-2:] == ["first-news", "Subscribe"]

    dry_run = manage(project, "preferences_campaign", "send", "first-news", "--dry-run")
    assert "would go to 1 of an audience of 1 contacts" in dry_run

    sent = manage(project, "preferences_campaign", "send", "first-news")
    assert "Subject: Hello Lena" in sent
    assert re.search(r"List-Unsubscribe:\s+<http://127\.0\.0\.1:8000/preferences/unsub", sent)
    assert "List-Unsubscribe-Post" not in sent  # one-click needs the live site's https address
    assert "Fresh bread every morning." in sent

    assert "Sent" in manage(project, "preferences_campaign", "status", "first-news")
