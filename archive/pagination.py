"""Pages of pieces that cost the same on page 1 and page 50, however long the list.

Django's Paginator counts the whole list and lets a reader ask for any offset; at a
million pieces both cost seconds. Here the count is given when it is already known (a
counter column, the cached archive total) or counted only up to a cap, and a list
pages through its first SEARCH_POOL_SIZE pieces: beyond that a reader narrows it (a
period, a search) instead of paging on.
"""

import math
from functools import cached_property

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Paginator


class BoundedPaginator(Paginator):
    def __init__(self, object_list, per_page=None, count: int | None = None):
        super().__init__(object_list, per_page or settings.ARTICLES_PER_PAGE)
        self.known_count = count

    @property
    def limit(self) -> int:
        return settings.SEARCH_POOL_SIZE

    @cached_property
    def count(self) -> int:
        """The exact count when known or small; limit + 1 means "more than limit"."""
        if self.known_count is not None:
            return self.known_count
        return len(self.object_list.order_by().values("pk")[: self.limit + 1])

    @property
    def exact(self) -> bool:
        return self.known_count is not None or self.count <= self.limit

    @property
    def count_display(self) -> str:
        """'1.234', or 'meer dan 1.000' when only counted up to the limit."""
        if self.exact:
            return intcomma(self.count)
        return f"meer dan {intcomma(self.limit)}"

    @property
    def truncated(self) -> bool:
        """More pieces than can be paged through."""
        return self.count > self.limit

    @cached_property
    def num_pages(self) -> int:
        browsable = min(self.count, self.limit)
        if browsable == 0 and not self.allow_empty_first_page:
            return 0
        return max(1, math.ceil(browsable / self.per_page))


def page_of(queryset, number, count: int | None = None):
    """The page `number` asks for (junk, negative and past-the-end numbers give a real
    page), from a list of which at most SEARCH_POOL_SIZE pieces are browsable."""
    return BoundedPaginator(queryset, count=count).get_page(number)
