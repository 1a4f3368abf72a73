"""Reads of the pubhealth room: activities and their counts per township and programme; the rates
of the indicators per township of a region against the pack's targets."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, QuerySet, Sum

from fupin.core import access
from fupin.core.models import Level, Region, User
from fupin.core.roles import Cap
from fupin.policy.errors import PolicyError
from fupin.policy.packs import RATIO_SCALE, shipped_packs

from . import catalogue
from .models import Activity, Figure


def _range(user: User, region: Region) -> tuple[str, str]:
    lo, hi = access.scope_range(user)
    rlo, rhi = region.code_range()
    return max(lo, rlo), min(hi, rhi)


def activities_for(user: User) -> QuerySet:
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return Activity.objects.filter(region_id__gte=lo, region_id__lte=hi).select_related("region")


def township_of(code: str) -> str:
    """A township's code from its own or one of its villages' codes (the region tree's code layout)."""
    return code[:9] + "000"


def activity_counts(user: User, region: Region, *, start: dt.date, end: dt.date) -> dict:
    """Per township and programme: activities held and participants, from start to end (inclusive)."""
    lo, hi = _range(user, region)
    rows = (Activity.objects.filter(region_id__gte=lo, region_id__lte=hi, date__gte=start, date__lte=end)
            .values_list("region_id", "programme").annotate(n=Count("pk"), people=Sum("participants")))
    townships = {r.code: r for r in Region.objects.filter(level=Level.TOWNSHIP, code__gte=lo, code__lte=hi).order_by("code")}
    table = {code: {} for code in townships}
    total: dict[str, list[int]] = {}
    for code, programme, n, people in rows:
        cell = table.setdefault(township_of(code), {}).setdefault(programme, [0, 0])
        cell[0] += n
        cell[1] += people or 0
        t = total.setdefault(programme, [0, 0])
        t[0] += n
        t[1] += people or 0
    programmes = catalogue.programmes()
    return {"programmes": programmes,
            "rows": [{"region": townships[c], "cells": [table.get(c, {}).get(p, [0, 0]) for p in programmes]}
                     for c in townships],
            "total": [total.get(p, [0, 0]) for p in programmes]}


def _target(code: str, indicator: str, year: int):
    try:
        return shipped_packs().for_region(code).lookup(f"pubhealth.target.{indicator}", dt.date(year, 12, 31))
    except PolicyError:
        return None


def rate_cell(code: str, indicator: dict, year: int, num: int, den: int) -> dict:
    """A rate as shown (in the indicator's scale, two decimals) and, if the pack has a target, whether
    it is met — decided on exact integers (num × 10⁶ against target × den), never on the rounded figure."""
    factor, unit = catalogue.SCALES[indicator["scale"]]
    cell = {"num": num, "den": den, "rate": None, "unit": unit, "target": None, "met": None, "source": ""}
    if den:
        cell["rate"] = round(num * factor * 100 / den) / 100
    target = _target(code, indicator["code"], year)
    if target is not None:
        cell["target"] = target.value * factor / RATIO_SCALE
        cell["source"] = target.source
        if den:
            cell["met"] = (num * RATIO_SCALE >= target.value * den if indicator["direction"] == "at_least"
                           else num * RATIO_SCALE <= target.value * den)
    return cell


def rates(user: User, region: Region, *, year: int) -> dict:
    """Each indicator per township of `region` (its own figure plus its villages') and in total (every
    figure of the region, a county's own included): summed numerators over summed denominators."""
    access.require(user, Cap.READ)
    lo, hi = _range(user, region)
    figures = list(Figure.objects.filter(region_id__gte=lo, region_id__lte=hi, year=year)
                   .values_list("region_id", "indicator", "numerator", "denominator"))
    townships = list(Region.objects.filter(level=Level.TOWNSHIP, code__gte=lo, code__lte=hi).order_by("code"))
    sums: dict[tuple[str, str], list[int]] = {}
    for code, ind, n, d in figures:
        for key in ((township_of(code), ind), ("", ind)):   # a county's own figure matches no township
            s = sums.setdefault(key, [0, 0])
            s[0] += n
            s[1] += d
    indicators = catalogue.indicators()
    out = []
    for code, ind in indicators.items():
        row = {"indicator": ind, "cells": [], "total": None}
        for t in townships:
            n, d = sums.get((t.code, code), [0, 0])
            row["cells"].append({**rate_cell(t.code, ind, year, n, d), "where": t.name})
        n, d = sums.get(("", code), [0, 0])
        row["total"] = rate_cell(region.code, ind, year, n, d)
        out.append(row)
    return {"year": year, "townships": townships, "rows": out, "region": region, "figures": len(figures)}
