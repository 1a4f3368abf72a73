"""Reads of the oversight room: the indicator board, its drill-down lists, targets and problems.

Each indicator names one query (QUERIES). `indicator_rows` builds it for a region and is the
ONE function both the board number (`indicator_value`: a count or a sum over those rows) and the
drill-down list (the same rows, paged) use, so the number and the list never differ. Every query
starts from the user's scope (fupin.core.access) and is narrowed to the region's code range.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, When
from django.db.models.functions import Substr

from fupin.core import access
from fupin.core.models import PREFIX_LEN, Level, Region, User
from fupin.core.roles import Cap

from . import policy
from .models import Problem, ProblemState, Target

PAGE_SIZE = 50


@dataclass(frozen=True)
class Ctx:
    lo: str                 # the region's code range
    hi: str
    year: int               # the board's year
    today: dt.date
    split: str | None       # a funding source, for indicators split by source


@dataclass(frozen=True)
class Query:
    kind: str               # the list it drills into: households, persons, vouchers, visit_days, problems
    region_field: str       # the 12-digit code that places a row in a region
    build: Callable[[Ctx, dict], QuerySet]      # the rows inside ctx's code range (already the user's scope)
    listing: Callable[[QuerySet], QuerySet]   # the rows as listed (ordered, with what the list shows)
    measure: str = "count"  # count: number of listed rows; sum / neg_sum: total of their `amount` (fen)


# ---- the named queries ------------------------------------------------------------------------------

def _households(c: Ctx, p: dict) -> QuerySet:
    from fupin.registry.models import Household

    qs = Household.objects.filter(village_id__gte=c.lo, village_id__lte=c.hi)
    if p.get("status"):
        qs = qs.filter(status__in=p["status"])
    return qs


def _households_exited_in_year(c: Ctx, p: dict) -> QuerySet:
    return _households(c, {"status": ["exited"]}).filter(status_since__year=c.year)


def _households_guarantees_met(c: Ctx, p: dict) -> QuerySet:
    """Households whose latest check of every listed item says met (SPEC §3.4)."""
    from fupin.registry.models import Guarantee

    qs = _households(c, p)
    for item in p["items"]:
        latest = Guarantee.objects.filter(household=OuterRef("pk"), item=item).order_by("-checked_on", "-id")
        qs = qs.annotate(**{f"g_{item}": Subquery(latest.values("met")[:1])}).filter(**{f"g_{item}": True})
    return qs


def _household_list(qs: QuerySet) -> QuerySet:
    from fupin.registry.models import Person

    head = Person.objects.filter(household=OuterRef("pk"), relation="head", alive=True).values("name")[:1]
    size = (Person.objects.filter(household=OuterRef("pk"), alive=True).order_by()
            .values("household").annotate(n=Count("id")).values("n"))
    return (qs.select_related("village__parent").annotate(head_name=Subquery(head), size=Subquery(size))
            .order_by("village_id", "number"))


def _persons(c: Ctx, p: dict) -> QuerySet:
    from fupin.registry.models import Person

    qs = Person.objects.filter(alive=True, household__village_id__gte=c.lo, household__village_id__lte=c.hi)
    if p.get("status"):
        qs = qs.filter(household__status__in=p["status"])
    if "medical_insurance" in p:
        qs = qs.filter(medical_insurance=p["medical_insurance"])
    if p.get("schooling"):
        qs = qs.filter(schooling__in=p["schooling"])
    return qs


def _persons_with_contract(c: Ctx, p: dict) -> QuerySet:
    """Persons with a family-doctor contract valid on the board's day (SPEC §6.4)."""
    from fupin.health.models import Contract

    valid = Contract.objects.filter(person=OuterRef("pk"), signed_on__lte=c.today, valid_to__gte=c.today) \
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=c.today))   # a contract ended early stops counting
    return _persons(c, p).filter(Exists(valid))


def _person_list(qs: QuerySet) -> QuerySet:
    return qs.select_related("household__village").order_by("household__village_id", "household__number", "id")


def _visit_days(c: Ctx, p: dict) -> QuerySet:
    """Visits of the board's year to households in scope; a helper's visit day is one (helper, date)."""
    from fupin.pairing.models import Visit

    return Visit.objects.filter(date__year=c.year, household__village_id__gte=c.lo, household__village_id__lte=c.hi)


def _visit_day_list(qs: QuerySet) -> QuerySet:
    return (qs.order_by().values("helper_id", "helper__name", "helper__unit__name", "date")
            .annotate(households=Count("household_id", distinct=True), minutes=Sum("minutes"))
            .order_by("-date", "helper__name", "helper_id"))


def _persons_followed_up(c: Ctx, p: dict) -> QuerySet:
    """Contracted persons with at least one family-doctor service in the board's year (管理率)."""
    from fupin.health.models import Service

    served = Service.objects.filter(person=OuterRef("pk"), date__year=c.year)
    return _persons_with_contract(c, p).filter(Exists(served))


def _measures(c: Ctx, p: dict) -> QuerySet:
    from fupin.pairing.models import Measure

    return Measure.objects.filter(date__year=c.year, household__village_id__gte=c.lo, household__village_id__lte=c.hi)


def _measure_list(qs: QuerySet) -> QuerySet:
    return qs.select_related("household", "helper").order_by("-date", "id")


def _budget_lines(c: Ctx, kind_filter: Q) -> QuerySet:
    """Lines on the budget accounts of the region for the board's year (a voucher per budget line)."""
    from fupin.funds.models import AccountKind, Entry

    qs = Entry.objects.filter(kind_filter, account__kind=AccountKind.BUDGET, account__year=c.year,
                              account__region_id__gte=c.lo, account__region_id__lte=c.hi)
    if c.split:
        qs = qs.filter(account__source=c.split)
    return qs


def _allocations(c: Ctx, p: dict) -> QuerySet:
    return _budget_lines(c, Q(transaction__kind="allocation"))


def _payments(c: Ctx, p: dict) -> QuerySet:
    """Payments out of the budget lines, less their reversals: what was disbursed (as funds reports it)."""
    return _budget_lines(c, ~Q(transaction__kind="allocation"))


def _voucher_list(qs: QuerySet) -> QuerySet:
    from fupin.funds.models import Entry

    payees = (Entry.objects.filter(transaction=OuterRef("transaction"), account__kind="payee").order_by()
              .values("transaction").annotate(n=Count("id")).values("n"))
    # shown: money in for an allocation, money out for a payment (a reversal shows as negative)
    shown = Case(When(transaction__kind="allocation", then=F("amount")), default=-F("amount"))
    return (qs.select_related("transaction", "account").annotate(payees=Subquery(payees), shown=shown)
            .order_by("-transaction__date", "-id"))


def _problems(c: Ctx, p: dict) -> QuerySet:
    qs = Problem.objects.filter(region_id__gte=c.lo, region_id__lte=c.hi)
    if p.get("open"):
        qs = qs.exclude(state=ProblemState.VERIFIED)
    if p.get("overdue"):
        qs = qs.filter(deadline__lt=c.today)
    if p.get("closed"):
        qs = qs.filter(state=ProblemState.VERIFIED)
    if p.get("type"):
        qs = qs.filter(type__in=p["type"])
    return qs


def _problem_list(qs: QuerySet) -> QuerySet:
    return qs.select_related("region", "household").order_by("deadline", "id")


CLAIM_SUMS = {"total": "total", "patient": "patient", "in_policy": "in_policy"}   # what a claim sum may add up


def _claims(c: Ctx, p: dict) -> QuerySet:
    """Hospital claims settled (not reversed) for patients in the region, discharged in the year up to
    the day counted; `sum` names the amount a money indicator adds up (CLAIM_SUMS)."""
    from fupin.health.models import Claim, ClaimStatus

    qs = Claim.objects.filter(status=ClaimStatus.SETTLED, discharge_date__year=c.year, discharge_date__lte=c.today,
                              person__household__village_id__gte=c.lo, person__household__village_id__lte=c.hi)
    if "in_county" in p:          # health indicators (issue 17): in-county care only, some visit types
        qs = qs.filter(in_county=bool(p["in_county"]))
    if p.get("visit_types"):
        qs = qs.filter(visit_type__in=list(p["visit_types"]))
    if p.get("sum"):
        qs = qs.annotate(amount=F(CLAIM_SUMS[p["sum"]]))
    return qs


def _claim_list(qs: QuerySet) -> QuerySet:
    return qs.select_related("person__household", "hospital").order_by("-discharge_date", "-id")


def _aid_lines(c: Ctx, p: dict) -> QuerySet:
    """Lines of posted education aid runs of the year's semesters, for students of the region: what
    each line paid (a supplementary run's line pays only what was not paid before)."""
    from fupin.education.models import RunLine, RunStatus

    return RunLine.objects.filter(run__status=RunStatus.POSTED, run__semester__startswith=f"{c.year}-",
                                  person__household__village_id__gte=c.lo, person__household__village_id__lte=c.hi)


def _aid_line_list(qs: QuerySet) -> QuerySet:
    return qs.select_related("person__household", "school", "run").order_by("-run_id", "school_id", "id")


QUERIES: dict[str, Query] = {
    "households": Query("households", "village_id", _households, _household_list),
    "households_exited_in_year": Query("households", "village_id", _households_exited_in_year, _household_list),
    "households_guarantees_met": Query("households", "village_id", _households_guarantees_met, _household_list),
    "persons": Query("persons", "household__village_id", _persons, _person_list),
    "persons_with_contract": Query("persons", "household__village_id", _persons_with_contract, _person_list),
    "persons_followed_up": Query("persons", "household__village_id", _persons_followed_up, _person_list),
    "visit_days": Query("visit_days", "household__village_id", _visit_days, _visit_day_list),
    "measures": Query("measures", "household__village_id", _measures, _measure_list),
    "allocations": Query("vouchers", "account__region_id", _allocations, _voucher_list, "sum"),
    "payments": Query("vouchers", "account__region_id", _payments, _voucher_list, "neg_sum"),
    "problems": Query("problems", "region_id", _problems, _problem_list),
    "claims": Query("claims", "person__household__village_id", _claims, _claim_list),
    "claim_amounts": Query("claims", "person__household__village_id", _claims, _claim_list, "sum"),
    "aid_lines": Query("aid_lines", "person__household__village_id", _aid_lines, _aid_line_list),
    "aid_amounts": Query("aid_lines", "person__household__village_id", _aid_lines, _aid_line_list, "sum"),
}


# ---- villages room (issue #22): households by their village's register (appended) ----------------

def _households_by_village_register(c: Ctx, p: dict) -> QuerySet:
    """Households (by status) in villages of a register kind, exited as a whole or not: e.g. the
    households still poor in villages that have exited (出列质量)."""
    from fupin.villages.models import Village

    villages = Village.objects.filter(region_id__gte=c.lo, region_id__lte=c.hi, poor_kind__in=p["village_kinds"],
                                      exited_on__isnull=not p["village_exited"])
    return _households(c, p).filter(village_id__in=villages.values("pk"))


QUERIES["households_by_village_register"] = Query("households", "village_id", _households_by_village_register,
                                                  _household_list)


# ---- health insurance, public-health figures, counterpart support (issues #17, #22; appended) -------

def _persons_insured_in_year(c: Ctx, p: dict) -> QuerySet:
    """Persons (by status) insured for the board's year: by the premium run or as recorded from the
    insurance office's list (fupin/health/insurance.py; a reversed run's persons are not insured)."""
    from fupin.health.models import Coverage

    return _persons(c, p).filter(Exists(Coverage.objects.filter(person=OuterRef("pk"), year=c.year)))


def _pubhealth_figures(c: Ctx, p: dict) -> QuerySet:
    """The health systems' figures of one public-health indicator for the board's year, every figure
    of the region (as the public-health page sums them); `amount` is the numerator or the denominator."""
    from fupin.pubhealth.models import Figure

    return Figure.objects.filter(year=c.year, indicator=p["indicator"], region_id__gte=c.lo, region_id__lte=c.hi) \
        .annotate(amount=F(p["part"]))


def _figure_list(qs: QuerySet) -> QuerySet:
    return qs.select_related("region").order_by("region_id")


def _support_members(c: Ctx, p: dict) -> QuerySet:
    """Staff sent to a supported hospital of the region in the board's year (对口支援派驻人次)."""
    from fupin.support.models import Member

    return Member.objects.filter(dispatch__year=c.year, dispatch__supported__region_id__gte=c.lo,
                                 dispatch__supported__region_id__lte=c.hi)


def _support_member_list(qs: QuerySet) -> QuerySet:
    return qs.select_related("staff", "dispatch__department__hospital", "dispatch__supported") \
        .order_by("dispatch__quarter", "dispatch__supported__name", "staff__name", "pk")


def _support_activities(c: Ctx, p: dict) -> QuerySet:
    """The sent staff's teaching and ward rounds of the board's year at supported hospitals of the region."""
    from fupin.support.models import Activity

    return Activity.objects.filter(date__year=c.year, kind__in=p["kinds"],
                                   member__dispatch__supported__region_id__gte=c.lo,
                                   member__dispatch__supported__region_id__lte=c.hi)


def _support_activity_list(qs: QuerySet) -> QuerySet:
    return qs.select_related("member__staff", "member__dispatch__supported").order_by("-date", "pk")


QUERIES.update({
    "persons_insured_in_year": Query("persons", "household__village_id", _persons_insured_in_year, _person_list),
    "pubhealth_figures": Query("figures", "region_id", _pubhealth_figures, _figure_list, "sum"),
    "support_members": Query("support_members", "dispatch__supported__region_id", _support_members,
                             _support_member_list),
    "support_activities": Query("support_activities", "member__dispatch__supported__region_id",
                                _support_activities, _support_activity_list),
})


# ---- one indicator: its rows, its number, its list ---------------------------------------------------

def _ctx(user: User, region: Region, year: int, today: dt.date, split: str | None) -> Ctx:
    """The region's code range within the user's scope: the access layer's range, never wider."""
    access.require(user, Cap.READ)
    slo, shi = access.scope_range(user)
    lo, hi = region.code_range()
    return Ctx(max(lo, slo), min(hi, shi), year, today, split)


def indicator_rows(user: User, region: Region, ind: policy.Indicator, *, year: int, today: dt.date,
                   split: str | None = None) -> QuerySet:
    """THE query of an indicator for a region: the rows its board number counts or sums, as listed."""
    q = QUERIES[ind.query]
    return q.listing(q.build(_ctx(user, region, year, today, split), ind.params))


def measure(ind: policy.Indicator, rows: QuerySet) -> int:
    how = QUERIES[ind.query].measure
    if how == "count":
        return rows.count()
    total = rows.aggregate(s=Sum("amount"))["s"] or 0
    return -total if how == "neg_sum" else total


def indicator_value(user: User, region: Region, ind: policy.Indicator, *, year: int, today: dt.date,
                    split: str | None = None) -> int:
    return measure(ind, indicator_rows(user, region, ind, year=year, today=today, split=split))


def list_access(user: User, ind: policy.Indicator) -> None:
    """Who may open an indicator's list: registry readers; vouchers also need a money office's right
    (as the funds page)."""
    access.require(user, Cap.READ)
    if QUERIES[ind.query].kind == "vouchers" and not any(
            access.may(user, c) for c in (Cap.READ_AUDIT, Cap.EXPORT, Cap.BUDGET_MANAGE)):
        access.require(user, Cap.EXPORT, what=f"查看资金凭证清单（{ind.name}）")


def grouped(ind: policy.Indicator, ctx: Ctx, n: int) -> dict[str, int]:
    """The indicator for every region whose code starts with an n-digit prefix, in one grouped query
    over the same rows as `indicator_rows` (a region's value here equals its own board number)."""
    q = QUERIES[ind.query]
    rows = q.build(ctx, ind.params).order_by()
    key = Substr(q.region_field, 1, n)
    if q.kind == "visit_days":
        out: dict[str, int] = {}
        for r in rows.annotate(p=key).values("p", "helper_id", "date").distinct():
            out[r["p"]] = out.get(r["p"], 0) + 1
        return out
    if q.measure == "count":
        return {r["p"]: r["n"] for r in rows.annotate(p=key).values("p").annotate(n=Count("pk", distinct=True))}
    sign = -1 if q.measure == "neg_sum" else 1
    return {r["p"]: sign * (r["s"] or 0) for r in rows.annotate(p=key).values("p").annotate(s=Sum("amount"))}


def _by_child(user: User, region: Region, ind: policy.Indicator, *, year: int, today: dt.date) -> dict[str, int]:
    return grouped(ind, _ctx(user, region, year, today, None), PREFIX_LEN[region.level + 1])


# ---- rates, targets, progress --------------------------------------------------------------------------

def rate_permille(n: int, d: int) -> int | None:
    return None if not d else n * 1000 // d


def per_base(permille: int | None) -> str:
    """A ratio shown per unit of its base ("户均 1.5"), from per mille, rounded down."""
    return "—" if permille is None else f"户均 {permille // 1000}.{permille % 1000 // 100}"


def percent(permille: int | None) -> str:
    return "—" if permille is None else f"{permille // 10}.{permille % 10}%"


def targets_of(region: Region, year: int) -> dict[str, int]:
    return dict(Target.objects.filter(region=region, year=year).values_list("indicator", "value"))


def target_for(ind: policy.Indicator, set_targets: dict[str, int], region_code: str = "", year: int = 0) -> int | None:
    """The region's yearly target (任务书) or the indicator's default; per mille for a rate. A rate's
    default may name a policy-pack ratio (`target: {pack: key}`): the region's pack as in force at the
    year's end (dated, region-scoped, with its source), so the board and the room that owns the
    figure read one target."""
    if ind.key in set_targets:
        return set_targets[ind.key]
    if "pack" in ind.target:
        return _pack_target(ind.target["pack"], region_code, year)
    return ind.target.get("rate_permille" if ind.is_rate else "count")


def _pack_target(key: str, region_code: str, year: int) -> int | None:
    from fupin.policy.errors import PolicyError
    from fupin.policy.packs import RATIO_SCALE, shipped_packs

    try:
        value = shipped_packs().for_region(region_code).lookup(key, dt.date(year, 12, 31)).value
    except PolicyError:
        return None
    return value * 1000 // RATIO_SCALE


def is_met(ind: policy.Indicator, measured: int | None, target: int | None) -> bool | None:
    if target is None or measured is None:
        return None
    return measured >= target if ind.better == "higher" else measured <= target


@dataclass
class Card:
    ind: policy.Indicator
    value: int
    base: int | None = None
    rate: int | None = None          # per mille
    target: int | None = None
    met: bool | None = None
    alarm: bool = False              # shown in red (overdue problems, a missed "lower is better" target)
    splits: list | None = None       # [(source label, source, value)]

    @property
    def progress(self) -> int | None:
        return self.rate if self.ind.is_rate else self.value

    @property
    def value_text(self) -> str:
        return show(self.ind, self.value)

    @property
    def rate_text(self) -> str:
        return per_base(self.rate) if self.ind.per_base else percent(self.rate)

    @property
    def target_text(self) -> str:
        if self.target is None:
            return ""
        if self.ind.is_rate:
            return per_base(self.target) if self.ind.per_base else percent(self.target)
        return show(self.ind, self.target)


def show(ind: policy.Indicator, value: int | None) -> str:
    """A board number as shown: yuan for money, else the whole number."""
    from fupin.core.money import fen_to_yuan_str

    if value is None:
        return "—"
    return fen_to_yuan_str(value, grouping=True) if ind.is_money else f"{value:,}"


def snapshot(codes: list[str], year: int, today: dt.date):
    """Today's pre-aggregated numbers of these regions, {(code, indicator, split): value}, and when
    they were counted; (None, None) when any region has none from today (the board then counts live)."""
    from django.utils import timezone

    from .models import Snapshot

    rows = list(Snapshot.objects.filter(region_id__in=codes, year=year).values_list(
        "region_id", "indicator", "split", "value", "computed_at"))
    inds = policy.indicators()
    if not rows or {r[0] for r in rows} != set(codes) or {r[1] for r in rows} != set(inds):
        return None, None
    at = min(r[4] for r in rows)
    if timezone.localtime(at).date() != today:
        return None, None
    return {(r[0], r[1], r[2]): r[3] for r in rows}, at


def board(user: User, region: Region, *, year: int, today: dt.date, live: bool = False) -> dict:
    """Every indicator for one region, grouped, with rates, targets and progress: counted now, or
    read from today's pre-aggregated numbers when there are some (and `live` is not asked for)."""
    from fupin.funds.models import FundingSource

    inds = policy.indicators()
    snap, at = (None, None) if live else snapshot([region.code], year, today)

    def value(ind, split=None):
        if snap is not None:
            return snap.get((region.code, ind.key, split or ""), 0)
        return indicator_value(user, region, ind, year=year, today=today, split=split)

    values = {k: value(i) for k, i in inds.items() if not (QUERIES[i.query].kind == "vouchers" and not _may_money(user))}
    set_targets = targets_of(region, year)
    groups: dict[str, list[Card]] = {}
    for key, ind in inds.items():
        if key not in values:
            continue
        card = Card(ind, values[key])
        if ind.base:
            card.base = values.get(ind.base)
            card.rate = rate_permille(card.value, card.base or 0)
        card.target = target_for(ind, set_targets, region.code, year)
        card.met = is_met(ind, card.progress, card.target)
        card.alarm = card.met is False and ind.better == "lower" and card.value > 0
        if ind.split == "source":
            card.splits = [(label, src, value(ind, src)) for src, label in FundingSource.choices]
        groups.setdefault(ind.group, []).append(card)
    return {"groups": groups, "targets": set_targets, "by_source": _by_source(groups), "counted_at": at}


def _by_source(groups: dict[str, list[Card]]) -> dict | None:
    """The split indicators (money by funding source) as one table: a row per source, a column per
    indicator, with the rate against its base where the base is split too."""
    cards = [c for cs in groups.values() for c in cs if c.splits]
    if not cards:
        return None
    by_key = {c.ind.key: c for c in cards}
    rows = []
    for i, (label, src, _) in enumerate(cards[0].splits):
        cells = []
        for c in cards:
            value = c.splits[i][2]
            base = by_key.get(c.ind.base)
            rate = rate_permille(value, base.splits[i][2]) if base is not None else None
            cells.append({"ind": c.ind, "value": value, "rate_text": percent(rate) if base is not None else ""})
        rows.append({"label": label, "source": src, "cells": cells})
    return {"columns": [c.ind for c in cards], "rows": rows}


def _may_money(user: User) -> bool:
    return any(access.may(user, c) for c in (Cap.READ_AUDIT, Cap.EXPORT, Cap.BUDGET_MANAGE))


def children_table(user: User, region: Region, *, year: int, today: dt.date, by: str, live: bool = False) -> dict:
    """Child regions side by side: every indicator per child, rows sorted worst first by `by`."""
    inds = policy.indicators()
    if region.level >= Level.VILLAGE:
        return {"columns": [], "rows": [], "by": None}
    children = list(Region.objects.filter(parent=region).order_by("code"))
    columns = [i for i in inds.values() if not i.split]
    n = PREFIX_LEN[region.level + 1]
    snap, _ = (None, None) if live or not children else snapshot([c.code for c in children], year, today)
    if snap is not None:
        values = {i.key: {c.code[:n]: snap.get((c.code, i.key, ""), 0) for c in children} for i in columns}
    else:
        values = {i.key: _by_child(user, region, i, year=year, today=today) for i in columns}
    targets: dict[str, dict[str, int]] = {}
    for t in Target.objects.filter(region__in=children, year=year):
        targets.setdefault(t.region_id, {})[t.indicator] = t.value
    rows = []
    for child in children:
        p = child.code[:n]
        cells = []
        for ind in columns:
            v = values[ind.key].get(p, 0)
            rate = rate_permille(v, values[ind.base].get(p, 0)) if ind.base else None
            target = target_for(ind, targets.get(child.code, {}), child.code, year)
            cells.append({"ind": ind, "value": v, "rate": rate, "text": show(ind, v),
                          "rate_text": per_base(rate) if ind.per_base else percent(rate),
                          "met": is_met(ind, rate if ind.is_rate else v, target),
                          "sort": (rate if ind.is_rate else v)})
        rows.append({"region": child, "cells": cells})
    by_ind = inds.get(by) or next((i for i in columns if i.is_rate), columns[0])
    idx = columns.index(by_ind)

    def badness(row):
        s = row["cells"][idx]["sort"]
        if s is None:
            return (1, 0)
        return (0, s if by_ind.better == "higher" else -s)
    rows.sort(key=badness)
    return {"columns": columns, "rows": rows, "by": by_ind, "by_index": idx}


# ---- problems -----------------------------------------------------------------------------------------

def problems_for(user: User) -> QuerySet:
    """Problems of regions inside the user's scope (registry readers)."""
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return Problem.objects.filter(region_id__gte=lo, region_id__lte=hi)


def access_problem(user: User, pk: int) -> Problem:
    from fupin.core.errors import NotFound

    problem = problems_for(user).select_related("region__parent", "household").filter(pk=pk).first()
    if problem is None:
        raise NotFound(f"找不到问题（编号 {pk}），或不在您的管辖范围内")
    return problem


def problem_history(problem: Problem):
    from fupin.core.models import AuditEvent

    return AuditEvent.objects.filter(object_type="problem", object_id=str(problem.pk)).order_by("at", "id")
