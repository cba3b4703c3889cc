from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from wagtail.admin.paginator import WagtailPaginator


class CappedCountPaginator(WagtailPaginator):
    """Counts at most ``cap + 1`` rows.

    An exact ``COUNT(*)`` of half a million filtered contacts costs far more than the page
    itself; past ``cap`` the listing says "more than" and pages on as far as the cap reaches.
    """

    cap = 10_000

    @cached_property
    def count(self):
        # Unordered, the database may stop at the cap along any index, not the sort order's.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def is_capped(self) -> bool:
        return self.count > self.cap

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top += self.orphans
        # A page's worth of rows is asked for even when fewer match. Past the cap the count is
        # a floor, so a page is never cut short to match it; below, a limit of the count (one
        # row, for a search that finds one contact) leads PostgreSQL to walk the ordering's
        # index in the hope of meeting that row early, reading most of the table.
        return self._get_page(self.object_list[bottom:top], number, self)

    @cached_property
    def items_count_label(self):
        if self.is_capped:
            return _("More than %(cap)s %(items)s") % {
                "cap": f"{self.cap:,}",
                "items": self.verbose_name_plural,
            }
        return super().items_count_label
