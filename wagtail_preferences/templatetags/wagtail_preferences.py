"""``{% load wagtail_preferences %}``: the current visitor in any template.

``{% current_contact as contact %}`` gives the recognised contact (or None), and the filters
``request|holds_preference:"products"``, ``request|receives_category:"newsletter"`` and
``request|in_segment:"customers"`` test the visitor by slug, id or instance. Each use marks
the response as personalised, so that shared caches keep it per visitor.

``{% visitor_head %}`` and ``{% visitor_stylesheet %}`` add the visitor pages' robots tag and
stylesheet, once per page however many templates ask for them.

``{{ value|local_time }}`` shows a time in the site's time zone, saying which.
"""

from django import template
from django.forms.utils import flatatt
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .. import clock
from ..identity import resolvers
from ..identity.caching import mark_personalised
from ..identity.resolvers import current_profile

register = template.Library()

STYLESHEET = "wagtail_preferences/css/visitor.css"
_ADDED = "wagtail_preferences_assets"


@register.inclusion_tag("wagtail_preferences/includes/field.html")
def visitor_field(field):
    """One form field, accessibly: label, hint and errors tied to the input."""
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}-hint")
    if field.errors:
        described_by.append(f"{field.auto_id}-error")
    attrs = {"aria-describedby": " ".join(described_by)} if described_by else {}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return {
        "field": field,
        "widget": field.as_widget(attrs=attrs),
        "is_checkbox": field.widget_type == "checkbox",
    }


@register.simple_tag
def choice_input(choice):
    """The input of one choice of a ``CheckboxSelectMultiple``, as its widget writes it.

    Written here rather than by the widget's templates: a manage page shows dozens of
    choices, and rendering three nested templates for each was most of the page's cost.
    """
    data = choice.data
    return format_html(
        '<input type="{}" name="{}" value="{}"{}>',
        data["type"],
        data["name"],
        data["value"],
        flatatt(data["attrs"]),
    )


@register.simple_tag(takes_context=True)
def current_contact(context):
    """The contact the visitor is recognised as, or None."""
    request = context.get("request")
    if request is None:
        return None
    contact = resolvers.current_contact(request)
    mark_personalised(request, private=contact is not None)
    return contact


def _profile(request):
    if request is None or isinstance(request, str):
        return None
    profile = current_profile(request)
    mark_personalised(request, private=profile is not None)
    return profile


@register.filter
def holds_preference(request, preference) -> bool:
    profile = _profile(request)
    return profile is not None and profile.holds(preference)


@register.filter
def receives_category(request, category) -> bool:
    profile = _profile(request)
    return profile is not None and profile.subscribed_to(category)


@register.filter
def in_segment(request, segment) -> bool:
    profile = _profile(request)
    return profile is not None and profile.in_segment(segment)


@register.inclusion_tag("wagtail_preferences/includes/forget_me.html", takes_context=True)
def forget_me(context, label=None):
    """A "Not you? Forget me on this browser" button, shown to a recognised visitor only."""
    contact = current_contact(context)
    return {"csrf_token": context.get("csrf_token"), "contact": contact, "label": label}


def _first_time(context, what: str) -> bool:
    """True the first time ``what`` is asked for while rendering this request's page."""
    request = getattr(context, "request", None) or context.get("request")
    if request is None or isinstance(request, str):
        return True
    added = getattr(request, _ADDED, set())
    if what in added:
        return False
    setattr(request, _ADDED, added | {what})
    return True


@register.simple_tag(takes_context=True)
def visitor_stylesheet(context):
    """The visitor stylesheet's ``<link>``, once per page however many places ask for it."""
    if not _first_time(context, "stylesheet"):
        return ""
    return format_html('<link rel="stylesheet" href="{}">', static(STYLESHEET))


@register.simple_tag(takes_context=True)
def visitor_head(context):
    """What a visitor page needs wherever the site's base template puts it: the ``noindex``
    robots tag and the stylesheet, once per page. Use it in a block of the ``<head>`` and
    again at the top of the content block; the second use adds nothing if the first did."""
    robots = '<meta name="robots" content="noindex">' if _first_time(context, "robots") else ""
    return mark_safe(robots) + visitor_stylesheet(context)  # noqa: S308 (a constant)


@register.filter
def local_time(value, format_name="DATETIME_FORMAT"):
    """``{{ event.created_at|local_time }}``: in the site's time zone, saying which."""
    return clock.local_time(value, format_name)
