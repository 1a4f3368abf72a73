"""Reads of reports upward (报表): periods, the table of a form for a region, and who has filed.

A report's columns are board indicators (policies/reports/*.yaml names them), counted by the same
grouped query the board's child table uses, so a report never disagrees with the board. Where the
children of a region file the form themselves, the region's table is their submitted totals
(consolidation); otherwise it is generated from the registry, one row per child region.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import QuerySet

from fupin.core import access
from fupin.core.errors import InvalidInput, NotFound
from fupin.core.models import PREFIX_LEN, Level, Region, User
from fupin.core.roles import Cap

from . import policy, selectors
from .models import FilingState, ReportFiling

QUARTERS = "一二三四"


@dataclass(frozen=True)
class Period:
    code: str          # 2026-11, 2026-Q4, 2026
    label: str         # 2026年11月, 2026年第四季度, 2026年度
    year: int
    start: dt.date
    end: dt.date


def parse_period(form: policy.ReportForm, raw: str) -> Period:
    """A report period as the form counts it; a Chinese message for anything else."""
    raw = (raw or "").strip()
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})|-Q([1-4]))?", raw)
    want = {"month": "2026-11（2026年11月）", "quarter": "2026-Q4（2026年第四季度）", "year": "2026（2026年度）"}
    if not m or not 2000 <= int(m[1]) <= 2100 or (form.period == "month") != bool(m[2]) \
            or (form.period == "quarter") != bool(m[3]) or (m[2] and not 1 <= int(m[2]) <= 12):
        raise InvalidInput({"报告期": f"“{raw}”不是{form.title}的报告期，应写作 {want[form.period]}"})
    year = int(m[1])
    if m[2]:
        month = int(m[2])
        return Period(raw, f"{year}年{month}月", year, dt.date(year, month, 1),
                      dt.date(year, month, calendar.monthrange(year, month)[1]))
    if m[3]:
        q = int(m[3])
        end_month = 3 * q
        return Period(raw, f"{year}年第{QUARTERS[q - 1]}季度", year, dt.date(year, end_month - 2, 1),
                      dt.date(year, end_month, calendar.monthrange(year, end_month)[1]))
    return Period(raw, f"{year}年度", year, dt.date(year, 1, 1), dt.date(year, 12, 31))


def recent_periods(form: policy.ReportForm, today: dt.date, n: int = 12) -> list[Period]:
    """The current period and the ones before it, newest first (for the picker)."""
    out, y, m = [], today.year, today.month
    for i in range(n):
        if form.period == "month":
            mm = (m - 1 - i) % 12 + 1
            code = f"{y + (m - 1 - i) // 12}-{mm:02d}"
        elif form.period == "quarter":
            q = (m - 1) // 3 - i
            code = f"{y + q // 4}-Q{q % 4 + 1}"
        else:
            code = str(y - i)
        out.append(parse_period(form, code))
    return out


def due_date(form: policy.ReportForm, period: Period) -> dt.date:
    return period.end + dt.timedelta(days=form.due_days)


def access_form(key: str) -> policy.ReportForm:
    form = policy.report_forms().get(key)
    if form is None:
        raise NotFound("没有这张报表")
    return form


def children_file(form: policy.ReportForm, region: Region) -> bool:
    return region.level < Level.VILLAGE and region.level + 1 in form.files


def compute_table(user: User, form: policy.ReportForm, region: Region, period: Period, today: dt.date) -> dict:
    """The report of `region` for `period`: a row per child region and the total, as JSON-ready data.
    Values are whole numbers (fen for money); a rate column holds per mille; None is "not reported"."""
    access.require(user, Cap.READ)
    children = list(Region.objects.filter(parent=region).order_by("code"))
    value_keys = list(dict.fromkeys(k for c in form.columns for k in ([c.indicator] if c.indicator else c.rate)))
    inds = policy.indicators()
    rows: list[dict] = []
    if children_file(form, region):
        filed = {f.region_id: f for f in ReportFiling.objects.filter(
            form=form.key, period=period.code, region__in=children, state=FilingState.SUBMITTED)}
        for child in children:
            f = filed.get(child.code)
            rows.append({"code": child.code, "name": child.name, "filed": f is not None,
                         "v": dict(f.table["total_v"]) if f else None})
        source = "consolidated"
    else:
        as_of = min(period.end, today)
        ctx = selectors._ctx(user, region, period.year, as_of, None)
        n = PREFIX_LEN[region.level + 1] if region.level < Level.VILLAGE else PREFIX_LEN[region.level]
        by_key = {k: selectors.grouped(inds[k], ctx, n) for k in value_keys}
        for child in (children or [region]):
            rows.append({"code": child.code, "name": child.name, "filed": None,
                         "v": {k: by_key[k].get(child.code[:n], 0) for k in value_keys}})
        source = "registry"
    total_v = {k: sum(r["v"][k] for r in rows if r["v"] is not None) for k in value_keys}
    missing = [r["name"] for r in rows if r["v"] is None]

    def cells(v: dict | None) -> list:
        if v is None:
            return [None] * len(form.columns)
        return [v[c.indicator] if c.indicator else selectors.rate_permille(v[c.rate[0]], v[c.rate[1]])
                for c in form.columns]

    return {"source": source, "as_of": min(period.end, today).isoformat(), "missing": missing,
            "rows": [{"code": r["code"], "name": r["name"], "filed": r["filed"], "cells": cells(r["v"])} for r in rows],
            "total": cells(total_v), "total_v": total_v}


def show_cell(form: policy.ReportForm, i: int, value) -> str:
    """A report cell as printed: yuan for money, percent for rates, blank when not reported."""
    if value is None:
        return ""
    col = form.columns[i]
    if col.rate:
        return selectors.percent(value)
    return selectors.show(policy.indicators()[col.indicator], value)


def filing_of(user: User, form: policy.ReportForm, region: Region, period: Period) -> ReportFiling | None:
    access.require(user, Cap.READ)
    if not access.in_scope(user, region.code):
        raise NotFound("该区划不在您的管辖范围内")
    return ReportFiling.objects.filter(form=form.key, region=region, period=period.code).first()


def children_status(user: User, form: policy.ReportForm, region: Region, period: Period, today: dt.date) -> list[dict]:
    """Who below has and has not submitted (for the level above), overdue ones flagged."""
    if not children_file(form, region):
        return []
    children = list(Region.objects.filter(parent=region).order_by("code"))
    filings = {f.region_id: f for f in ReportFiling.objects.filter(form=form.key, period=period.code,
                                                                   region__in=children)}
    due = due_date(form, period)
    out = []
    for child in children:
        f = filings.get(child.code)
        submitted = f is not None and f.state == FilingState.SUBMITTED
        out.append({"region": child, "filing": f, "state": f.get_state_display() if f else "未生成",
                    "submitted": submitted, "overdue": not submitted and today > due})
    return out


def filings_for(user: User) -> QuerySet:
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return ReportFiling.objects.filter(region_id__gte=lo, region_id__lte=hi)
