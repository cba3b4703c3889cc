"""Template filters of the preference center's admin pages."""

from django import template

from ..admin.consent_text import describe

register = template.Library()


@register.filter
def consent_summary(event) -> str:
    """A consent event as one readable sentence, e.g. "Opted out of category “Promotions”"."""
    return describe(event)
