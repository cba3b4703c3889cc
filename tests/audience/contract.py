"""The contract every segment criterion keeps, as a mixin of test methods (as Django's session
backend tests are written).

A concrete test class mixes ``CriterionContract`` in and provides these fixtures:

- ``raw``: the criterion as the raw StreamField data a segment stores
  (``{"type": name, "value": {...}}``, as ``tests/segment_helpers.py`` writes them);
- ``matching``: a contact the criterion matches;
- ``other``: a contact it does not match.

A site's own criterion (``WAGTAIL_PREFERENCES["SEGMENT_CRITERIA"]``) can reuse the mixin the
same way, by copying this file into its tests.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_preferences.audience.criteria import Criterion, criteria_block
from wagtail_preferences.models import Contact, Segment


class CriterionContract:
    @pytest.fixture
    def segment(self, raw):
        """A saved segment of the criterion alone, read back as stored."""
        segment = Segment.objects.create(name="Under contract", criteria=[raw])
        return Segment.objects.get(pk=segment.pk)

    @pytest.fixture
    def criterion(self, segment):
        [criterion] = segment.criteria
        return criterion

    def test_is_a_criterion_of_the_criteria_block(self, raw, criterion):
        assert isinstance(criterion.block, Criterion)
        assert criterion.block_type == raw["type"] in criteria_block().child_blocks

    def test_matches_exactly_the_contacts_it_describes(self, segment, matching, other):
        found = set(segment.matching_contacts().values_list("pk", flat=True))

        assert matching.pk in found
        assert other.pk not in found

    def test_its_negation_matches_the_others(self, criterion, matching, other):
        """``NOT`` of the condition is its complement, also where SQL meets NULL."""
        condition = criterion.block.to_q(criterion.value)
        found = set(Contact.objects.filter(~condition).values_list("pk", flat=True))

        assert other.pk in found
        assert matching.pk not in found

    def test_is_one_query_whatever_the_number_of_contacts(self, criterion, matching, other):
        condition = criterion.block.to_q(criterion.value)
        with CaptureQueriesContext(connection) as queries:
            list(Contact.objects.filter(condition))

        assert len(queries) == 1

    def test_has_a_summary_and_no_problem_while_what_it_names_exists(self, criterion):
        summary = criterion.block.summary(criterion.value)

        assert isinstance(str(summary), str) and str(summary).strip()
        assert criterion.block.problems(criterion.value) == []

    def test_names_the_segments_it_depends_on_as_ids(self, criterion):
        referenced = criterion.block.referenced_segment_ids(criterion.value)

        assert isinstance(referenced, set)
        assert all(isinstance(pk, int) for pk in referenced)
