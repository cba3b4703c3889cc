"""Fixtures for tests that drive Debian's Chromium with Playwright against ``live_server``.

Chromium is never downloaded: tests use /usr/bin/chromium (``apt-get install chromium``).
Without it, browser tests are skipped, except on CI (CI=true), where they fail.
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Chromium's own calls home are refused on a closed network, many at a time.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HERE = Path(__file__).resolve().parent
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS", HERE / "screenshots"))


def _is_browser_test(item) -> bool:
    return item.get_closest_marker("browser") is not None or HERE in Path(item.path).parents


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Run browser tests last.

    Playwright's sync API keeps an event loop running in the test thread from the first
    browser test to the end of the session, and Django refuses database work in a thread
    with a running loop. Other tests must therefore not come after a browser test.
    """
    items[:] = [i for i in items if not _is_browser_test(i)] + [
        i for i in items if _is_browser_test(i)
    ]


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI runs the browser tests, so this is an error there.")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session."""
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")

    # The sync API runs an event loop in this thread until the session ends, so Django
    # would raise SynchronousOnlyOperation on every query the test makes. The test code is
    # plain synchronous code that merely shares the thread with that loop: allow it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def wagtail_site(transactional_db, settings):
    """The page tree Wagtail's migrations make: a root, a welcome page and the default site.

    Transactional tests empty every table when they end, so the tree the migrations made is
    gone for the tests that follow; the admin dashboard needs it. Returns the default site.
    """
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Locale, Page, Site

    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is not None:
        return site
    locale, _ = Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
    )
    root = Page.get_first_root_node() or Page.add_root(
        instance=Page(title="Root", slug="root", locale=locale)
    )
    home = root.get_children().first() or root.add_child(
        instance=Page(title="Welcome to your new Wagtail site!", slug="home", locale=locale)
    )
    return Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)


@pytest.fixture
def page(browser, live_server, wagtail_site):
    """A new browser page in a fresh context; ``page.goto("/admin/")`` goes to the live server."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def admin_page(page, admin_user, live_server, client, settings):
    """A page logged into the Wagtail admin as pytest-django's ``admin_user``, on the dashboard.

    The login happens through Django's test client and its session cookie, which is quicker
    than the login form; ``test_admin_login`` covers the form itself.

    Wagtail's autosave is off: it races a driven browser (a Publish sent while an autosave
    creates the object fails now and then), and an autosave still on its way when a test ends
    writes into the database while it is being emptied. People are slower. For the same
    reason the page waits for its requests to end (an editor's background pings and counts)
    and is left before the database is emptied.
    """
    settings.WAGTAIL_AUTOSAVE_INTERVAL = 0
    client.force_login(admin_user)
    page.context.add_cookies(
        [
            {"name": cookie.key, "value": cookie.value, "url": live_server.url}
            for cookie in client.cookies.values()
        ]
    )
    page.goto("/admin/")
    yield page
    page.wait_for_load_state("networkidle")
    page.goto("about:blank")


@pytest.fixture
def new_context(browser, live_server, wagtail_site):
    """``new_context(**options)``: a page in a browser context of its own, not logged in.

    The window is narrow, as the visitor pages are, so that their screenshots fit the docs.
    """
    contexts = []

    def make(**options):
        options = {"viewport": {"width": 800, "height": 600}, "locale": "en-GB", **options}
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request):
    """``screenshot(page, "name")`` saves a full-page PNG in tests/browser/screenshots/."""

    def save(page, name: str | None = None) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "-", name or request.node.name).strip("-")
        path = SCREENSHOTS / f"{stem}.png"
        # Transitions are run to their end: the picture shows what a person sees next.
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    return save
