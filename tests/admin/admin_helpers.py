"""What several admin tests need: the contacts viewset's name, an edit form's data."""

from wagtail_preferences.models import Contact

CONTACTS = "preference_center_contacts"


def contact_form_data(contact: Contact, **overrides) -> dict:
    """What the edit form posts for ``contact`` when nothing is changed."""
    data = {
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "phone": contact.phone,
        "locale": contact.locale,
        "status": contact.status,
        "user": "",
        "data": "{}",
        "preferences": [p.pk for p in contact.preferences.all()] if contact.pk else [],
        "opted_out_categories": list(
            contact.category_choices.filter(subscribed=False).values_list("category", flat=True)
        )
        if contact.pk
        else [],
        "channels-preferred": "",
    }
    for key in ("email", "sms"):
        data[f"channels-{key}-enabled"] = "on"
        for part in ("frequency_count", "frequency_period", "pause_from", "pause_to"):
            data[f"channels-{key}-{part}"] = ""
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
