from django import template
from wagtail.models import Site

register = template.Library()


@register.inclusion_tag("home/includes/menu.html", takes_context=True)
def site_menu(context):
    """The site's home page and its live pages that are shown in menus."""
    request = context.get("request")
    site = Site.find_for_request(request) if request else None
    if site is None:
        return {"items": [], "current": None}
    home = site.root_page
    items = [home, *home.get_children().live().public().in_menu()]
    return {"items": items, "current": context.get("page"), "request": request}
