"""Choice blocks that store the ids of preferences, categories and segments.

Editors tick boxes in the page editor; pages store the ids as strings and read them back
without a query, so rendering decides from ids and looks up only what it shows.
"""

from wagtail import blocks


def preference_choices():
    from ..models import Preference

    return [(str(pk), name) for pk, name in Preference.objects.values_list("pk", "name")]


def public_preference_choices():
    from ..models import Preference

    return [
        (str(pk), name)
        for pk, name in Preference.objects.filter(is_public=True).values_list("pk", "name")
    ]


def category_choices():
    from ..models import Category

    return [(str(pk), name) for pk, name in Category.objects.values_list("pk", "name")]


def segment_choices():
    from ..models import Segment

    return [(str(pk), name) for pk, name in Segment.objects.values_list("pk", "name")]


class StoredChoiceBlock(blocks.ChoiceBlock):
    """A choice read back as stored: loading a page neither queries nor walks the choices."""

    def to_python(self, value):
        return value if value in (None, "") else str(value)


class StoredMultipleChoiceBlock(blocks.MultipleChoiceBlock):
    """Choices read back as stored: loading a page neither queries nor walks the choices."""

    def to_python(self, value):
        if value is None:
            return value
        return [str(item) for item in (value if isinstance(value, list | tuple) else [value])]
