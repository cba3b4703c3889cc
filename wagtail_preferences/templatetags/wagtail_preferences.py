from django import template

register = template.Library()


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
