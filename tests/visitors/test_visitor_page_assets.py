"""What every visitor page carries whatever the site's base template: the stylesheet, the
``noindex`` robots tag and header, once each; and no inline style or script anywhere."""

import re
from pathlib import Path

import pytest
from django.template import Context, RequestContext, Template
from django.test import RequestFactory

import wagtail_preferences
from tests.docs_examples import docs_example
from tests.factories import ContactFactory
from tests.link_fixtures import confirm_url, pending_submission, unsubscribe_url
from tests.visitor_helpers import form_page, form_value, manage_path

pytestmark = pytest.mark.django_db

STYLESHEET = '<link rel="stylesheet" href="/static/wagtail_preferences/css/visitor.css">'
ROBOTS = '<meta name="robots" content="noindex">'
APP = Path(wagtail_preferences.__file__).parent
TEMPLATES = APP / "templates" / "wagtail_preferences"
CSS = APP / "static" / "wagtail_preferences" / "css" / "visitor.css"


def visitor_paths():
    """One path of each kind of token page, and the link request page."""
    contact = ContactFactory(email="ann@example.com", confirmed=True)
    return {
        "confirm": confirm_url(pending_submission("bob@example.com")),
        "manage": manage_path(contact),
        "unsubscribe": unsubscribe_url(contact),
        "link_request": "/preferences/link/",
        "link_invalid": "/preferences/manage/not-a-token/",
    }


def head_and_body(response) -> tuple[str, str]:
    html = response.content.decode()
    head, body = html.split("<body", 1)
    return head, body


@pytest.fixture
def bare_base(settings):
    """A site base template with only ``title`` and ``content`` blocks: no ``extra_css``."""
    settings.WAGTAIL_PREFERENCES = {"BASE_TEMPLATE": "bare_base.html"}


@pytest.mark.parametrize("page", ["confirm", "manage", "unsubscribe", "link_request"])
def test_on_a_base_without_a_head_block_the_page_keeps_its_stylesheet_and_noindex(
    client, bare_base, page
):
    response = client.get(visitor_paths()[page])

    assert response.status_code == 200
    head, body = head_and_body(response)
    assert "| Bare site</title>" in head
    assert STYLESHEET not in head
    assert ROBOTS not in head
    # At the top of the content, before the page's own heading.
    assert body.count(STYLESHEET) == 1
    assert body.count(ROBOTS) == 1
    assert body.index(STYLESHEET) < body.index('<div class="wp-page">')
    assert response["X-Robots-Tag"] == "noindex"


@pytest.mark.parametrize("page", ["confirm", "manage", "unsubscribe", "link_invalid"])
def test_on_a_base_with_a_head_block_both_are_in_the_head_once(client, page):
    response = client.get(visitor_paths()[page])

    head, body = head_and_body(response)
    assert "| Test site</title>" in head
    assert head.count(STYLESHEET) == 1
    assert head.count(ROBOTS) == 1
    assert STYLESHEET not in body
    assert ROBOTS not in body
    assert response["X-Robots-Tag"] == "noindex"


def test_the_fallback_base_has_both_in_its_head(client, settings):
    settings.WAGTAIL_PREFERENCES = {"BASE_TEMPLATE": "no/such/base.html"}

    response = client.get("/preferences/link/")

    html = response.content.decode()
    head, body = head_and_body(response)
    assert head.count(STYLESHEET) == 1
    assert head.count(ROBOTS) == 1
    assert '<meta name="color-scheme" content="light dark">' in head
    assert STYLESHEET not in body
    assert '<body class="wp-fallback">' in html


def test_the_one_click_answer_is_not_indexed_either(client):
    response = client.post(
        visitor_paths()["unsubscribe"],
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex"


def test_a_page_with_two_forms_links_the_stylesheet_once_and_no_robots_tag(client):
    page = form_page(form_value(heading="News"), form_value(heading="Events"))

    response = client.get(page.url)

    html = response.content.decode()
    assert html.count('<section class="wp-block"') == 2
    assert html.count(STYLESHEET) == 1
    assert html.index(STYLESHEET) < html.index('<section class="wp-block"')
    # The site's own page: it is the site's to say whether it is indexed.
    assert ROBOTS not in html
    assert "X-Robots-Tag" not in response


def test_the_honeypot_is_hidden_by_its_class_not_by_a_style_attribute(client):
    html = client.get(form_page().url).content.decode()

    [honeypot] = re.findall(r"<div[^>]*\bwp-hp\b[^>]*>", html)
    assert "style=" not in honeypot
    rule = re.search(r"\.wp-hp \{([^}]*)\}", CSS.read_text()).group(1)
    assert "position: absolute" in rule
    assert "left: -10000px" in rule


def visitor_templates():
    for path in sorted(TEMPLATES.rglob("*.html")):
        if path.relative_to(TEMPLATES).parts[0] not in ("admin", "emails"):
            yield path


def test_no_visitor_template_has_an_inline_style_or_script():
    paths = list(visitor_templates())

    assert any(p.name == "stranger_proof.html" for p in paths)
    assert any(p.name == "preference_form.html" for p in paths)
    for path in paths:
        text = path.read_text()
        assert not re.search(r"\sstyle\s*=", text, re.I), path
        assert not re.search(r"<script|\son[a-z]+\s*=", text, re.I), path


class TestVisitorHeadTag:
    TEMPLATE = Template(
        "{% load wagtail_preferences %}[{% visitor_head %}][{% visitor_head %}]"
        "[{% visitor_stylesheet %}]"
    )

    def test_with_a_request_it_adds_each_thing_once(self):
        request = RequestFactory().get("/")

        html = self.TEMPLATE.render(RequestContext(request))

        assert html == f"[{ROBOTS}{STYLESHEET}][][]"

    def test_once_per_request_not_once_per_template(self):
        request = RequestFactory().get("/")
        self.TEMPLATE.render(RequestContext(request))

        again = self.TEMPLATE.render(RequestContext(request))
        other = self.TEMPLATE.render(RequestContext(RequestFactory().get("/")))

        assert again == "[][][]"
        assert other == f"[{ROBOTS}{STYLESHEET}][][]"

    def test_a_request_in_a_plain_context_counts_too(self):
        request = RequestFactory().get("/")

        html = self.TEMPLATE.render(Context({"request": request}))

        assert html == f"[{ROBOTS}{STYLESHEET}][][]"

    def test_without_a_request_it_adds_them_every_time(self):
        html = self.TEMPLATE.render(Context({}))

        assert html == f"[{ROBOTS}{STYLESHEET}][{ROBOTS}{STYLESHEET}][{STYLESHEET}]"


def test_the_documented_override_for_other_block_names_keeps_both(client, settings, tmp_path):
    override = tmp_path / "wagtail_preferences" / "visitor" / "base.html"
    override.parent.mkdir(parents=True)
    override.write_text(
        docs_example("developer-guide.md", "django", "For other block names, override")
    )
    (tmp_path / "other_base.html").write_text(
        "<!DOCTYPE html><html><head><title>{% block page_title %}{% endblock %}</title>"
        "{% block head %}{% endblock %}</head><body><main>{% block main %}{% endblock %}</main>"
        "</body></html>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    settings.WAGTAIL_PREFERENCES = {"BASE_TEMPLATE": "other_base.html"}

    response = client.get("/preferences/link/")

    head, body = head_and_body(response)
    assert "<title>Manage your preferences</title>" in head
    assert head.count(STYLESHEET) == 1
    assert head.count(ROBOTS) == 1
    assert STYLESHEET not in body
    assert '<h1 class="wp-page__title">Manage your preferences</h1>' in body
