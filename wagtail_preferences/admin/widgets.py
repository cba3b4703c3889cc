"""Widgets of the admin forms that need more than Django's own."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.staticfiles import versioned_static

from ..messaging.sms_text import LIMITS


class SMSTextarea(forms.Textarea):
    """A textarea that counts, as the editor types, the characters and SMS the text takes
    (``messaging.sms_text`` counts the same way)."""

    def __init__(self, attrs=None):
        super().__init__(
            {
                "rows": 4,
                "data-wp-sms-counter": "",
                "data-wp-sms-limits": " ".join(str(n) for pair in LIMITS.values() for n in pair),
                "data-wp-sms-format": _(
                    "%(length)s characters (%(encoding)s): %(segments)s SMS, "
                    "before the link to manage preferences is added."
                ),
                **(attrs or {}),
            }
        )

    def value_from_datadict(self, data, files, name):
        # Browsers send each line break as CRLF: kept, it would cost one more character in
        # every SMS than the counter showed.
        value = super().value_from_datadict(data, files, name)
        return value.replace("\r\n", "\n") if value else value

    @property
    def media(self):
        return forms.Media(js=[versioned_static("wagtail_preferences/js/sms-counter.js")])
