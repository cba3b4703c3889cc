from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .contacts import Contact
from .fields import CriteriaField
from .interests import Interest, count_of
from .paths import ChangePath


class MatchRule(models.TextChoices):
    ALL = "all", _("all criteria (AND)")
    ANY = "any", _("any criterion (OR)")


class SegmentQuerySet(models.QuerySet):
    def with_member_count(self):
        return self.annotate(member_count=count_of(SegmentMember.objects.all(), "segment"))


class Segment(Interest):
    """A saved audience: contacts matching criteria, plus manual members, minus opt-outs."""

    match = models.CharField(
        _("match"), max_length=3, choices=MatchRule.choices, default=MatchRule.ALL
    )
    criteria = CriteriaField(blank=True, verbose_name=_("criteria"))
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Public segments are shown to contacts, who may opt out of them."),
    )
    preferences_on_join = models.ManyToManyField(
        "Preference",
        blank=True,
        related_name="+",
        verbose_name=_("preferences to add on joining"),
        help_text=_("Contacts who join the segment are given these preferences."),
    )
    refreshed_at = models.DateTimeField(_("last refreshed"), null=True, blank=True)

    objects = SegmentQuerySet.as_manager()

    class Meta(Interest.Meta):
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def clean(self):
        super().clean()
        if self.pk and self.pk in self.segments_reached():
            raise ValidationError(
                {
                    "criteria": _(
                        "These criteria refer back to this segment: a segment cannot depend "
                        "on itself."
                    )
                }
            )

    def segments_reached(self) -> set[int]:
        """Every segment the criteria depend on, directly or through other segments."""
        reached: set[int] = set()
        frontier = self.referenced_segment_ids()
        while frontier - reached:
            reached |= frontier
            frontier = {
                pk
                for segment in Segment.objects.filter(pk__in=frontier)
                for pk in segment.referenced_segment_ids()
            }
        return reached

    def criteria_problems(self) -> list[str]:
        """Why the criteria cannot be evaluated (such as a deleted preference), if they can't."""
        return [
            *(
                _("The criterion type “%(type)s” is no longer installed.") % {"type": kind}
                for kind in getattr(self.criteria, "unknown_types", [])
            ),
            *(
                str(problem)
                for criterion in self.criteria
                for problem in criterion.block.problems(criterion.value)
            ),
        ]

    def criteria_summary(self) -> list[str]:
        """What each criterion is, in a few words: "holds any of Products", "status Confirmed"."""
        return [str(criterion.block.summary(criterion.value)) for criterion in self.criteria]

    def condition(self) -> Q:
        """The criteria as one condition on contacts; matches nobody without criteria."""
        conditions = [criterion.block.to_q(criterion.value) for criterion in self.criteria]
        if not conditions:
            return Q(pk__in=[])
        combined = conditions[0]
        for condition in conditions[1:]:
            combined = combined & condition if self.match == MatchRule.ALL else combined | condition
        return combined

    def matching_contacts(self):
        return Contact.objects.filter(self.condition())

    def referenced_segment_ids(self) -> set[int]:
        return {
            pk
            for criterion in self.criteria
            for pk in criterion.block.referenced_segment_ids(criterion.value)
        }

    def dependencies(self) -> frozenset[str] | None:
        """What the criteria read, as ``audience.dependencies`` tags; ``None``: anything."""
        combined: set[str] = set()
        for criterion in self.criteria:
            read = criterion.block.dependencies(criterion.value)
            if read is None:
                return None
            combined.update(read)
        return frozenset(combined)


class SegmentMember(models.Model):
    """A contact is in a segment now. Rows come and go as contacts join and leave."""

    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="segment_memberships", db_index=False
    )
    joined_at = models.DateTimeField(_("joined"), auto_now_add=True)

    class Meta:
        verbose_name = _("segment member")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "segment"], name="wagtail_preferences_segmentmember_unique"
            )
        ]
        indexes = [models.Index(fields=["segment", "contact"])]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.segment_id}"


class SegmentInclusion(models.Model):
    """A contact added to a segment by hand (or by an import), whatever the criteria say."""

    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="inclusions", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="segment_inclusions", db_index=False
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    source = models.CharField(_("path"), max_length=16, choices=ChangePath.choices)

    class Meta:
        verbose_name = _("manual segment member")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "segment"], name="wagtail_preferences_segmentinclusion_unique"
            )
        ]
        indexes = [models.Index(fields=["segment", "contact"])]

    def __str__(self) -> str:
        return f"{self.contact_id} added to {self.segment_id}"


class SegmentOptOut(models.Model):
    """A contact opted out of a segment: out, however they matched, until they opt in again."""

    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="opt_outs", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="segment_opt_outs", db_index=False
    )
    created_at = models.DateTimeField(_("opted out"), auto_now_add=True)
    source = models.CharField(_("path"), max_length=16, choices=ChangePath.choices)

    class Meta:
        verbose_name = _("segment opt-out")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "segment"], name="wagtail_preferences_segmentoptout_unique"
            )
        ]
        indexes = [models.Index(fields=["segment", "contact"])]

    def __str__(self) -> str:
        return f"{self.contact_id} opted out of {self.segment_id}"
