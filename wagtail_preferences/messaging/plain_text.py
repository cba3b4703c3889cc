"""Plain text from the HTML of rich text: paragraphs, lists, and links as ``text (url)``."""

import re
from collections.abc import Callable
from html.parser import HTMLParser

BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote"}


class _TextParser(HTMLParser):
    def __init__(self, absolute: Callable[[str], str]):
        super().__init__(convert_charrefs=True)
        self.absolute = absolute
        self.paragraphs: list[tuple[str, int | None]] = []  # (text, the list it is an item of)
        self.line: list[str] = []
        self.lists: list[list] = []  # per open list: [ordered, items so far]
        self.list_count = 0
        self.links: list[str] = []  # hrefs of open links

    def handle_starttag(self, tag, attrs):
        if tag in BLOCKS or tag == "li":
            self._end_line()
        if tag in ("ul", "ol"):
            self.list_count += 1
            self.lists.append([tag == "ol", 0])
        elif tag == "li" and self.lists:
            self.lists[-1][1] += 1
            ordered, number = self.lists[-1]
            self.line.append(f"{number}. " if ordered else "- ")
        elif tag == "br":
            self.line.append("\n")
        elif tag == "a":
            self.links.append(self.absolute(dict(attrs).get("href") or ""))
            self.line.append("\x00")  # where the link's text starts

    def handle_endtag(self, tag):
        if tag == "a" and self.links:
            href = self.links.pop()
            joined = "".join(self.line)
            start = joined.rfind("\x00")
            label = joined[start + 1 :]
            self.line = [joined[:start], label]
            if href and href != label.strip():
                self.line.append(f" ({href})")
        elif tag in ("ul", "ol"):
            self._end_line()
            self.lists.pop()
        elif tag in BLOCKS or tag == "li":
            self._end_line()

    def handle_data(self, data):
        self.line.append(re.sub(r"\s+", " ", data))

    def _end_line(self):
        text = "\n".join(part.strip() for part in "".join(self.line).split("\n")).strip()
        self.line = []
        if text:
            self.paragraphs.append((text, self.list_count if self.lists else None))

    def text(self) -> str:
        self._end_line()
        parts = []
        for index, (text, in_list) in enumerate(self.paragraphs):
            same_list = index and in_list is not None and self.paragraphs[index - 1][1] == in_list
            parts.append(("\n" if same_list else "\n\n") + text if index else text)
        return "".join(parts)


def html_to_text(html: str, absolute: Callable[[str], str] = str) -> str:
    """The text of ``html``; ``absolute`` turns each link's address into the one to show."""
    parser = _TextParser(absolute)
    parser.feed(html)
    parser.close()
    return parser.text()
