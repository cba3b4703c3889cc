from django.db import transaction

from .. import signals
from ..models import Category, ConsentSubject, Contact, Preference, Segment, SegmentMember
from .batches import BATCH_SIZE, batched, record
from .categories import set_category_choices
from .origin import Origin
from .preferences import remove_preferences


@transaction.atomic
def release_preference(preference: Preference, origin: Origin) -> None:
    """Take ``preference`` from every holder, logged, before the preference is deleted."""
    remove_preferences(Contact.objects.holding([preference]), [preference], origin)


@transaction.atomic
def release_category(category: Category, origin: Origin) -> None:
    """Forget every contact's choice for ``category``, logged, before it is deleted."""
    set_category_choices(
        Contact.objects.filter(category_choices__category=category), {category: None}, origin
    )


@transaction.atomic
def release_segment(segment: Segment, origin: Origin) -> None:
    """Every member leaves ``segment``, logged, before the segment is deleted."""
    left = list(SegmentMember.objects.filter(segment=segment).values_list("contact_id", flat=True))
    for batch in batched(left, BATCH_SIZE):
        record(
            [
                origin.event(
                    pk,
                    ConsentSubject.SEGMENT,
                    subject_id=segment.pk,
                    subject_label=segment.name,
                    field="member",
                    old_value=True,
                    new_value=False,
                )
                for pk in batch
            ]
        )
    SegmentMember.objects.filter(segment=segment).delete()
    if left:
        signals.segment_left.send(
            sender=Segment, segment=segment, contact_ids=frozenset(left), origin=origin
        )
