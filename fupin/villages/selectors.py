"""Reads of the villages room: the register list, one village, and the exit check (one village
or all of a region, the same rule either way)."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet

from fupin.core import access
from fupin.core.errors import FupinError
from fupin.core.models import Level, Region, User
from fupin.core.roles import Cap
from fupin.policy.errors import PolicyError
from fupin.policy.packs import shipped_packs
from fupin.policy.rules import villages as rules

from .models import Duty, Finance, PoorKind, Village

SORTS = {"code": "code", "name": "name", "population": "village_record__population",
         "-population": "-village_record__population", "kind": "village_record__poor_kind"}


def villages_for(user: User, *, township: str = "", kind: str = "", state: str = "", sort: str = "code") -> QuerySet:
    """The user's level-5 regions with their register (if any), filtered and sorted."""
    access.require(user, Cap.READ)
    qs = access.regions_for(user).filter(level=Level.VILLAGE).select_related("parent", "village_record")
    if township:
        qs = qs.filter(parent_id=township)
    if kind == "unregistered":
        qs = qs.filter(village_record__isnull=True)
    elif kind in PoorKind.values:
        qs = qs.filter(village_record__poor_kind=kind)
    if state == "exited":
        qs = qs.filter(village_record__exited_on__isnull=False)
    elif state == "not_exited":
        qs = qs.filter(village_record__poor_kind__in=[PoorKind.POOR, PoorKind.KEY],
                       village_record__exited_on__isnull=True)
    return qs.order_by(SORTS.get(sort, "code"), "code")


def townships_for(user: User) -> QuerySet:
    return access.regions_for(user).filter(level=Level.TOWNSHIP).order_by("code")


def village_detail(user: User, region: Region) -> dict:
    village = Village.objects.select_related("collective_account").filter(region=region).first()
    duties = list(Duty.objects.filter(village_id=region.code).select_related("replaces").order_by("kind", "-start", "-id"))
    finances = list(Finance.objects.filter(village_id=region.code).order_by("-year"))
    balance = None
    if village is not None and village.collective_account_id:
        from fupin.funds.services import balance as account_balance

        balance = account_balance(village.collective_account)
    from fupin.projects.models import Project  # the project library: this village's projects (read only)

    projects = list(Project.objects.filter(region_id=region.code).order_by("-year", "number")[:50])
    return {"village": village, "duties": duties, "current": [d for d in duties if d.end is None],
            "finances": finances, "balance": balance, "projects": projects}


# ---- the exit check ----------------------------------------------------------------------------

def _facts(village: Village | None, poor_persons: int, collective_income: int | None) -> dict:
    base = {"population": 0, "poor_persons": poor_persons, "collective_income": collective_income}
    if village is not None:
        base["population"] = village.population
        base.update({w: getattr(village, w) for w in rules.REQUIREMENTS if w != "collective_income"})
    return base


def _check(code: str, facts: dict, on: dt.date) -> dict:
    try:
        return rules.exit_check(shipped_packs().for_region(code), facts, on)
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def _poor_statuses(code: str, on: dt.date) -> list[str]:
    try:
        return rules.poor_statuses(shipped_packs().for_region(code), on)
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def exit_check(user: User, code: str, *, on: dt.date) -> dict:
    """One village: counts its poor persons and reads its register and this year's finance."""
    from fupin.registry.models import Person

    access.require(user, Cap.READ)
    if not access.in_scope(user, code):
        raise FupinError("该村不在您的管辖范围内")
    village = Village.objects.filter(region_id=code).first()
    poor = Person.objects.filter(household__village_id=code, alive=True,
                                 household__status__in=_poor_statuses(code, on)).count()
    fin = Finance.objects.filter(village_id=code, year=on.year).first()
    return _check(code, _facts(village, poor, fin.collective_income if fin else None), on)


def exit_checks(user: User, region: Region, *, on: dt.date) -> dict[str, dict]:
    """Every poor village of `region` not yet exited, in a fixed number of queries: the same rule
    as `exit_check`, fed the same facts (the batch equals the single checks; tested)."""
    from fupin.registry.models import Person

    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    rlo, rhi = region.code_range()
    lo, hi = max(lo, rlo), min(hi, rhi)
    villages = {v.region_id: v for v in Village.objects.filter(
        region_id__gte=lo, region_id__lte=hi, poor_kind__in=[PoorKind.POOR, PoorKind.KEY], exited_on__isnull=True)}
    if not villages:
        return {}
    # each village's own pack says which statuses count; villages that agree are counted in one query
    by_statuses: dict[tuple, list[str]] = {}
    for code in villages:
        by_statuses.setdefault(tuple(_poor_statuses(code, on)), []).append(code)
    poor: dict[str, int] = {}
    for statuses, codes in by_statuses.items():
        poor.update(Person.objects.filter(household__village_id__in=codes, alive=True, household__status__in=statuses)
                    .values_list("household__village_id").annotate(n=Count("pk"))
                    .values_list("household__village_id", "n"))
    income = dict(Finance.objects.filter(village_id__in=list(villages), year=on.year)
                  .values_list("village_id", "collective_income"))
    return {code: _check(code, _facts(v, poor.get(code, 0), income.get(code)), on)
            for code, v in sorted(villages.items())}


def totals(user: User, region: Region) -> dict:
    """Counts for the list's heading: villages, poor, key poor, exited."""
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    rlo, rhi = region.code_range()
    qs = Village.objects.filter(region_id__gte=max(lo, rlo), region_id__lte=min(hi, rhi))
    return qs.aggregate(registered=Count("pk"), poor=Count("pk", filter=Q(poor_kind=PoorKind.POOR)),
                        key=Count("pk", filter=Q(poor_kind=PoorKind.KEY)),
                        exited=Count("pk", filter=Q(exited_on__isnull=False)))
