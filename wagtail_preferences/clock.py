"""One clock: every time the app shows is in the site's time zone and says which.

The site's time zone is Django's current one (``TIME_ZONE``, or ``timezone.activate``).
"""

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format


def local_time(value: datetime | None, format_name: str = "DATETIME_FORMAT") -> str:
    """``value`` in the current time zone, followed by its abbreviation: "4 Dec 2026, 14:05 CET".

    Empty for None. A zone without an abbreviation shows its offset, such as "+03".
    """
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{date_format(local, format_name)} {local.tzname()}"
