"""The code examples of the docs, read by the tests that check they work as documented."""

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def docs_example(page: str, language: str, after: str) -> str:
    """The first ``language`` code block after the text ``after`` in ``docs/<page>``."""
    text = (DOCS / page).read_text()
    return re.search(rf"```{language}\n(.*?)```", text[text.index(after) :], re.S).group(1)
