"""Looking at visitor pages as people do: under a strict Content-Security-Policy, with axe-core's
accessibility rules, in the light and the dark theme, on a phone and a desktop.

``serve_with_csp(page)`` adds ``STRICT_CSP`` to every page the browser opens and records what
the browser refuses; ``look_at(page, screenshot, name)`` checks the page shown and saves its
screenshots (``BROWSER_SCREENSHOTS`` says where).
"""

from axe_playwright_python.sync_playwright import Axe

STRICT_CSP = "default-src 'self'; style-src 'self'; script-src 'self'"

#: Widths of a phone and of a desktop screen.
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}

#: axe-core's rule sets: WCAG 2.1 A and AA, and best practices.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}

# Runs before the page's own scripts, and is not subject to the page's policy.
_RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI || "inline"}`);
});
"""

_axe = Axe()


def serve_with_csp(page) -> list[str]:
    """Serve the live server's documents to ``page`` with ``STRICT_CSP``.

    Returns the list that collects the browser's console messages about the policy, in
    addition to the ``securitypolicyviolation`` events read by ``csp_violations``.
    """

    def add_policy(route):
        if route.request.resource_type != "document":
            route.continue_()
            return
        # Redirects go back to the browser as they are, so that it sees each response.
        response = route.fetch(max_redirects=0)
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    console = []

    def note(message):
        if "Content Security Policy" in message.text:
            console.append(message.text)

    page.route("**/*", add_policy)
    page.add_init_script(_RECORD_VIOLATIONS)
    page.on("console", note)
    return console


def csp_violations(page) -> list[str]:
    return page.evaluate("window.cspViolations")


def axe_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page, and any contrast violation."""
    results = _axe.run(page, options=AXE_OPTIONS).response
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]} {v['help']}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical") or v["id"] == "color-contrast"
    ]


def overflows(page) -> bool:
    """True if the page is wider than the window (a horizontal scroll bar on a phone)."""
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def honeypot_in_sight(page) -> bool:
    """True if a honeypot field on the page takes any place on the page people see."""
    return page.evaluate(
        """() => [...document.querySelectorAll(".wp-hp input, .wp-hp label")].some((field) => {
            const box = field.getBoundingClientRect();
            return box.right > 0 && box.bottom > 0 && box.width * box.height > 1;
        })"""
    )


def look_at(page, screenshot, name: str) -> dict[str, list[str]]:
    """Every check of the page now shown, light and dark, at both widths; the problems found.

    Screenshots are saved as ``visitor-look-<name>-<scheme>-<width>.png``.
    """
    # Stylesheets loaded: a page is measured as people see it, not as its HTML arrives.
    page.wait_for_load_state("load")
    problems = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for width, (w, h) in WIDTHS.items():
            page.set_viewport_size({"width": w, "height": h})
            key = f"{scheme}, {width}"
            found = axe_problems(page) if width == "desktop" else []
            if overflows(page):
                found.append("wider than the window")
            if honeypot_in_sight(page):
                found.append("the honeypot field is in sight")
            if found:
                problems[key] = found
            screenshot(page, f"visitor-look-{name}-{scheme}-{width}")
    page.emulate_media(color_scheme="light")
    return problems
