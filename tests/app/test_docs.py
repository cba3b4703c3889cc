"""The settings reference says what the code does: every setting, and the check's sample output."""

import re
from pathlib import Path

from wagtail_preferences.checks import check_settings
from wagtail_preferences.conf import DEFAULTS

SETTINGS_DOC = (Path(__file__).resolve().parents[2] / "docs" / "settings.md").read_text()


def test_every_setting_has_a_section():
    headings = "\n".join(re.findall(r"^### .*$", SETTINGS_DOC, flags=re.MULTILINE))
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", headings))

    assert documented == set(DEFAULTS)


def test_the_sample_check_output_is_what_the_check_says(settings):
    settings.WAGTAIL_PREFERENCES = {"HISTORY_PANEL_LIMT": 10}
    [error] = check_settings()

    assert f"?: ({error.id}) {error.msg}\n\tHINT: {error.hint}\n" in SETTINGS_DOC
