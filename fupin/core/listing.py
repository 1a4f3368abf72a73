"""One way a long list pages, filters, sorts and exports what is filtered (issue 13 §3).

A view builds a `Listing` from the request, the rows (a QuerySet, or a list a selector has
already computed), its columns and its filters; the template shows `listing.page`, the sort
links of `listing.headers`, the filter form of `listing.filters` and the pager partial
`listing/pager.html`. Everything the URL can say is whitelisted: `?sort=` names one of the
sortable columns (`-` in front: descending), a filter's value must be one of its choices, and
`?page=` is clamped to the pages there are. Anything else is ignored, never an error page.

`?format=xlsx` asks for the filtered, sorted rows as a workbook: the view hands the listing to
`fupin.exchange.lists.xlsx_response`, which writes it and records the export in the audit log
(the core room imports Django only, so the writer lives with the other workbooks).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import QuerySet

PAGE_SIZE = 50


@dataclass(frozen=True)
class Column:
    key: str                                   # its name in ?sort=
    label: str                                 # the Chinese header
    value: Callable[[Any], Any]                # the shown and exported value of a row
    order: str | tuple[str, ...] | Callable[[Any], Any] | None = None   # fields (QuerySet) or key (list); None: not sortable
    export: bool = True


@dataclass(frozen=True)
class Filter:
    key: str                                   # its name in the query string
    label: str                                 # the Chinese label of the select
    choices: tuple[tuple[str, str], ...]       # (value, Chinese label); only these are accepted
    apply: Callable[[Any, str], Any]           # (rows, chosen value) -> rows


@dataclass
class Header:
    key: str
    label: str
    url: str | None                            # None: the column does not sort
    arrow: str = ""


@dataclass
class Listing:
    params: dict[str, str]
    rows: Any
    columns: list[Column]
    filters: list[Filter] = field(default_factory=list)
    default_sort: str = ""
    page_size: int = PAGE_SIZE
    tiebreak: str = "pk"                       # the QuerySet's last sort key (a UNION sorts by its own columns)
    total: int | None = None                   # the filtered rows' count when the caller has a cheaper one
    # too many rows to count or show unfiltered (a county's whole work list): the page asks for a
    # narrower filter, the export still gives them all
    uncounted: bool = False

    def __post_init__(self):
        self.chosen = {}
        for f in self.filters:
            value = self.params.get(f.key, "")
            if value and value in {v for v, _ in f.choices}:
                self.chosen[f.key] = value
        sortable = {c.key: c for c in self.columns if c.order is not None}
        raw = self.params.get("sort", "") or self.default_sort
        key = raw.removeprefix("-")
        if key not in sortable:
            raw = self.default_sort
            key = raw.removeprefix("-")
        self.sort = raw if key in sortable else ""
        self._sortable = sortable
        self.filtered = self._sorted(self._filtered(self.rows))
        self.paginator = Paginator(self.filtered, self.page_size)
        if self.total is not None or self.uncounted:
            self.paginator.count = 0 if self.uncounted else self.total  # a cached property: set, not asked of the rows
        self.page = self.paginator.get_page(self.params.get("page"))

    # ---- what the rows become ------------------------------------------------------------
    def _filtered(self, rows):
        for f in self.filters:
            if f.key in self.chosen:
                rows = f.apply(rows, self.chosen[f.key])
        return rows

    def _sorted(self, rows):
        if not self.sort:
            return rows if isinstance(rows, QuerySet) else list(rows)
        desc = self.sort.startswith("-")
        order = self._sortable[self.sort.removeprefix("-")].order
        if isinstance(rows, QuerySet):
            fields = (order,) if isinstance(order, str) else tuple(order)
            return rows.order_by(*[("-" + f if desc else f) for f in fields], ("-" if desc else "") + self.tiebreak)
        return sorted(rows, key=order, reverse=desc)  # stable: ties keep the selector's order

    @property
    def count(self) -> int:
        return self.paginator.count

    @property
    def wants_export(self) -> bool:
        return self.params.get("format") == "xlsx"

    def export_rows(self) -> Iterable[list]:
        cols = [c for c in self.columns if c.export]
        for row in (self.filtered.iterator(chunk_size=2000) if isinstance(self.filtered, QuerySet) else self.filtered):
            yield [c.value(row) for c in cols]

    def export_headers(self) -> list[str]:
        return [c.label for c in self.columns if c.export]

    # ---- links ---------------------------------------------------------------------------
    def url(self, **changes) -> str:
        """This page's query string with `changes` (None drops a key); keeps filters and sort."""
        keep = {k: v for k, v in self.params.items() if k not in ("format",)}
        for k, v in changes.items():
            if v is None:
                keep.pop(k, None)
            else:
                keep[k] = str(v)
        return "?" + urlencode(keep)

    @property
    def headers(self) -> list[Header]:
        out = []
        for c in self.columns:
            if c.order is None:
                out.append(Header(c.key, c.label, None))
                continue
            active = self.sort.removeprefix("-") == c.key
            desc = self.sort.startswith("-")
            target = ("" if (active and desc) else "-") + c.key if active else c.key
            out.append(Header(c.key, c.label, self.url(sort=target, page=None),
                              ("↓" if desc else "↑") if active else ""))
        return out

    @property
    def filter_fields(self) -> list[dict]:
        return [{"key": f.key, "label": f.label, "choices": f.choices, "chosen": self.chosen.get(f.key, "")}
                for f in self.filters]

    @property
    def hidden_params(self) -> list[tuple[str, str]]:
        """What the filter form carries along unchanged (the sort, the page's own parameters)."""
        own = {f.key for f in self.filters} | {"page", "format"}
        return [(k, v) for k, v in self.params.items() if k not in own and v]

    @property
    def export_url(self) -> str:
        return self.url(format="xlsx", page=None)

    def page_url(self, number: int) -> str:
        return self.url(page=number)

    @property
    def pages(self) -> dict:
        p = self.page
        return {"first": self.page_url(1) if p.number > 1 else None,
                "previous": self.page_url(p.previous_page_number()) if p.has_previous() else None,
                "next": self.page_url(p.next_page_number()) if p.has_next() else None,
                "last": self.page_url(self.paginator.num_pages) if p.number < self.paginator.num_pages else None,
                "start": p.start_index(), "end": p.end_index()}


def listing(request, rows, columns, *, filters=(), default_sort="", page_size=PAGE_SIZE, tiebreak="pk",
            total: int | None = None, uncounted: bool = False) -> Listing:
    """A listing of `rows` as the request's query string asks (only GET parameters are read)."""
    params = {k: request.GET.get(k, "") for k in request.GET}
    return Listing(params=params, rows=rows, columns=list(columns), filters=list(filters),
                   default_sort=default_sort, page_size=page_size, tiebreak=tiebreak, total=total, uncounted=uncounted)
