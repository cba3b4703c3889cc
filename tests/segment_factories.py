"""factory-boy factories for segments; criteria are raw data from ``tests.segment_helpers``.

Creating a segment schedules its refresh for when the transaction commits; inside a test's
transaction that happens only under ``django_capture_on_commit_callbacks(execute=True)``.
"""

import factory
from factory.django import DjangoModelFactory

from wagtail_preferences.models import MatchRule, Segment


class SegmentFactory(DjangoModelFactory):
    """A segment matching all of ``criteria`` (none by default: it matches nobody).

    ``SegmentFactory(criteria=[...], match="any", preferences_on_join=[preference])``.
    """

    class Meta:
        model = Segment
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Segment {n}")
    description = ""
    match = MatchRule.ALL
    criteria = factory.LazyFunction(list)
    is_public = False

    @factory.post_generation
    def preferences_on_join(segment, create, extracted, **kwargs):
        if create and extracted:
            segment.preferences_on_join.set(extracted)
