"""What a segment of some criteria matches, for the tests of criteria and of their rules."""

from tests.factories import SegmentFactory
from tests.segment_helpers import fresh, matching_ids
from wagtail_preferences.models import MatchRule


def matches(criteria, people, match=MatchRule.ALL) -> set[str]:
    """The names (keys of ``people``) of the contacts a segment of ``criteria`` matches."""
    found = matching_ids(fresh(SegmentFactory(criteria=criteria, match=match)))
    assert found <= {contact.pk for contact in people.values()}
    return {name for name, contact in people.items() if contact.pk in found}
