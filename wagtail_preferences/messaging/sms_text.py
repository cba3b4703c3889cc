"""How long an SMS text is and how many messages it is sent as.

A text in the GSM 03.38 alphabet (GSM-7) fits 160 characters in one message and 153 in each
part of a longer one; the characters of its extension table (``{ } [ ] ~ \\ | ^ €`` and the
form feed) take two. Any other character makes the whole text UCS-2: 70 characters, or 67 per
part, counted in UTF-16 units (an emoji is two). ``static/wagtail_preferences/js/sms-counter.js``
counts the same way in the editor.
"""

import math

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7, UCS2 = "GSM-7", "UCS-2"
#: Characters in one message, and in each part of a longer one.
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


def sms_segments(text: str) -> tuple[int, int, str]:
    """``(length, segments, encoding)`` of ``text``: its length in the encoding's units,
    how many messages it is sent as (0 for no text), and ``"GSM-7"`` or ``"UCS-2"``."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        encoding = GSM7
        length = len(text) + sum(char in GSM7_EXTENSION for char in text)
    else:
        encoding = UCS2
        length = len(text.encode("utf-16-le")) // 2
    single, part = LIMITS[encoding]
    if length == 0:
        return 0, 0, encoding
    return length, 1 if length <= single else math.ceil(length / part), encoding
