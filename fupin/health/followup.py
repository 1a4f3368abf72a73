"""The family doctors' follow-up list and rates, counted and sorted by the database (issue 13 §3).

The county's list names thousands (5,176 in the demo county), and `/health/` took 1.1–2.2 s when
every person of the groups was read into Python, checked there and sorted there. Here the
database does it: one row per person who is behind, with how many of each service are missing,
as QuerySets the page counts, pages, sorts and filters (`find`), and the rates as a few
aggregates (`figures`). What counts as due is the same as before, all from the pack:

- chronic patients (an open diagnosis on the chronic-outpatient list; hypertension from the
  pack's age, by year of birth): the yearly check, and the follow-ups due by now (the year's
  number in proportion to the days gone, rounded up); managed when the follow-ups are on time;
- young children (by year of birth): their yearly checks, in proportion, rounded up;
- the elderly (by year of birth): the yearly assessment, listed from the pack's month on;
- pregnant women and new mothers: prenatal checks in proportion to the time from registration to
  the expected date, postnatal visits in proportion to the postnatal period. These are few (one
  row per pregnancy); they are checked in Python with one grouped count and joined to the list
  in SQL (UNION ALL), so a woman who is also a chronic patient has both rows, as before.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (Case, CharField, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet,
                              Subquery, Value, When)
from django.db.models.functions import Coalesce

from fupin.core import access
from fupin.core.models import User

from .models import Condition, Pregnancy, Service
from .programmes import disease_lists, live_contracts
from .services import packs

UNSIGNED = "（未签约）"   # the team column of a person without a live contract
# the kinds of service a row can miss, in the order the row names them
KINDS = ("check", "followup", "child_check", "assessment", "prenatal", "postnatal")
DEFAULT_ORDER = ("team", "vid", "pname", "pid")   # by team, village and name, as the teams work
COLUMNS = ("pid", "pname", "vid", "team", "grp") + tuple(f"m_{k}" for k in KINDS) + ("missing", "short")


def _plan(region, on: dt.date) -> dict:
    """The pack's numbers for `on`, and the year-of-birth limits of the age groups."""
    chain = packs().for_region(region.code)
    p = lambda name: chain.lookup(name, on).value  # noqa: E731
    elapsed = ((on - dt.date(on.year, 1, 1)).days + 1) / 366
    due = lambda n: -(-int(n * elapsed * 1000) // 1000)  # noqa: E731  (whole services due by now, rounded up)
    child_max, elderly = p("health.fd.child_max_age"), p("health.fd.elderly_age")
    return {"chain": chain, "p": p, "due": due,
            # age groups by year of birth, as the year's service plan counts them: moving the
            # page's date a day at a time must not reveal on which day a person enters a group
            "elderly_born": dt.date(on.year - elderly, 12, 31),         # born in or before that year
            "child_born": dt.date(on.year - child_max - 1, 12, 31),     # born after that year
            # hypertension patients are a key group from the pack's age on (seed 004: 35岁以上原发性高血压患者)
            "young": dt.date(on.year - p("health.fd.hypertension_min_age"), 12, 31),
            "child_group": f"0–{child_max}岁儿童", "elderly_group": f"{elderly}岁以上"}


def _persons(user: User, region):
    lo, hi = region.code_range()
    return access.persons_for(user).filter(alive=True, household__village_id__gte=lo, household__village_id__lte=hi)


def _chronic_conditions(plan):
    return Condition.objects.filter(code__in=disease_lists()["chronic"], resolved_on__isnull=True) \
        .exclude(code="hypertension", person__birth_date__gt=plan["young"])


def _team(on: dt.date, person_ref: str):
    return Coalesce(Subquery(live_contracts(on).filter(person_id=OuterRef(person_ref)).order_by("pk").values("team")[:1]),
                    Value(UNSIGNED), output_field=CharField())


def _done(kind: str, on: dt.date) -> Coalesce:
    """How many services of `kind` the row's person had this year, up to `on` (an indexed count)."""
    return Coalesce(Subquery(Service.objects.filter(person_id=OuterRef("pk"), kind=kind, date__gte=dt.date(on.year, 1, 1),
                                                    date__lte=on).order_by().values("person_id")
                             .annotate(n=Count("pk")).values("n")), Value(0), output_field=IntegerField())


def _main_rows(user: User, region, on: dt.date, plan) -> list[QuerySet]:
    """Chronic patients, young children and the elderly who are behind: one query of each group,
    each person checked with indexed counts of their services (no grouping of the county's rows)."""
    p, due = plan["p"], plan["due"]
    need_check, need_followup = p("health.fd.checks.chronic"), p("health.fd.followups.chronic")
    child_need = p("health.fd.child_checks_per_year")
    chronic = _chronic_conditions(plan).values("person_id")   # few: the chronic part is read by them
    persons = _persons(user, region).annotate(
        pid=F("pk"), pname=F("name"), vid=F("household__village_id"), team=_team(on, "pk"))

    def part(qs, grp, m: dict):
        m = {f"m_{k}": Value(0) for k in KINDS} | m
        return qs.annotate(grp=grp, **m).annotate(missing=sum((F(k) for k in m), Value(0))) \
            .annotate(short=Value(0) - F("missing")).order_by().values(*COLUMNS)

    def behind(n, need: int, due_: int):
        return Case(When(Q(**{f"{n}__lt": due_}), then=Value(need) - F(n)), default=Value(0), output_field=IntegerField())

    sick = persons.filter(pk__in=chronic).alias(n_check=_done("check", on), n_followup=_done("followup", on)) \
        .filter(Q(n_check__lt=need_check) | Q(n_followup__lt=due(need_followup)))
    parts = [part(sick, Value("慢病", output_field=CharField()),
                  {"m_check": behind("n_check", need_check, need_check),
                   "m_followup": behind("n_followup", need_followup, due(need_followup))})]
    # the others in one pass over the persons: young children (their checks) and the elderly (the
    # yearly assessment, due within the year and listed from the pack's month on)
    child = Q(birth_date__gt=plan["child_born"])
    assessed = Exists(Service.objects.filter(person_id=OuterRef("pk"), kind="assessment",
                                             date__gte=dt.date(on.year, 1, 1), date__lte=on))
    late = Q(birth_date__lte=plan["elderly_born"], assessed=False) \
        if on.month >= p("health.fd.assessment_overdue_from_month") else Q(pk__in=[])
    others = persons.exclude(pk__in=chronic).filter(child | Q(birth_date__lte=plan["elderly_born"])) \
        .alias(n_child=_done("child_check", on), assessed=assessed) \
        .filter((child & Q(n_child__lt=due(child_need))) | (~child & late))
    parts.append(part(others, Case(When(child, then=Value(plan["child_group"])), default=Value(plan["elderly_group"]),
                                   output_field=CharField()),
                      {"m_child_check": Case(When(child, then=Value(child_need) - F("n_child")), default=Value(0),
                                             output_field=IntegerField()),
                       "m_assessment": Case(When(child, then=Value(0)), default=Value(1), output_field=IntegerField())}))
    return parts


def _pregnancies_behind(user: User, region, on: dt.date, plan) -> dict[int, tuple[str, int]]:
    """Pregnancy id → (kind, how many missing) for each pregnant woman or new mother behind."""
    p = plan["p"]
    prenatal, postnatal, days = p("health.fd.prenatal_checks"), p("health.fd.postnatal_visits"), p("health.fd.postnatal_days")
    open_ = []
    # driven by the few pregnancies (an IN over the county's persons would read them all)
    for g in Pregnancy.objects.filter(Exists(_persons(user, region).filter(pk=OuterRef("person_id"))), registered_on__lte=on):
        if g.delivered_on is None:
            span, elapsed, kind, need, since = (g.expected_on - g.registered_on).days, (on - g.registered_on).days, \
                "prenatal", prenatal, g.registered_on
        elif g.delivered_on <= on <= g.delivered_on + dt.timedelta(days=days):
            span, elapsed, kind, need, since = days, (on - g.delivered_on).days, "postnatal", postnatal, g.delivered_on
        else:
            continue
        open_.append((g, kind, need, since, need if span <= 0 or elapsed >= span else -(-need * elapsed // span)))
    # one grouped count of the services since each pregnancy's start (the earliest start bounds the read)
    done: dict = {}
    if open_:
        for pid, kind, date in Service.objects.filter(
                person_id__in={g.person_id for g, *_ in open_}, kind__in=("prenatal", "postnatal"),
                date__gte=min(since for *_, since, _ in open_), date__lte=on).values_list("person_id", "kind", "date"):
            done.setdefault((pid, kind), []).append(date)
    out = {}
    for g, kind, need, since, due in open_:
        n = sum(1 for d in done.get((g.person_id, kind), ()) if d >= since)
        if n < due:
            out[g.pk] = (kind, need - n)
    return out


@dataclass(frozen=True)
class Found:
    """The list's groups, each a QuerySet of rows: `rows` joins them (UNION ALL) to sort and page;
    `count()` adds their counts, which need neither the teams nor the sort of the union."""
    parts: tuple[QuerySet, ...]

    @property
    def rows(self) -> QuerySet:
        return self.parts[0].union(*self.parts[1:], all=True) if len(self.parts) > 1 else self.parts[0]

    def count(self) -> int:
        return sum(q.count() for q in self.parts)


def rows(user: User, region_code: str, on: dt.date, **chosen: str) -> QuerySet:
    """Everyone behind on `on` (see `find`), as one QuerySet."""
    return find(user, region_code, on, **chosen).rows


def find(user: User, region_code: str, on: dt.date, *, team: str = "", village: str = "", group: str = "") -> Found:
    """Everyone behind on `on`, one row (a dict of COLUMNS; `missing` the services missing, `short`
    its negative, to sort the most behind first) per person and group, unsorted; only one team,
    village or group if asked (filtered before the UNION, which cannot be filtered after)."""
    region = access.access_region(user, region_code)
    plan = _plan(region, on)
    parts = _main_rows(user, region, on, plan)
    behind = _pregnancies_behind(user, region, on, plan)
    if behind:
        parts.append(_mother_rows(on, behind))
    chosen = {k: v for k, v in (("team", team), ("vid", village), ("grp", group)) if v}
    return Found(tuple(q.filter(**chosen) for q in parts))


def choices(user: User, region_code: str, on: dt.date) -> dict:
    """What the list can be filtered by: the teams with a live contract in the region (and
    "unsigned"), the region's villages, the groups."""
    from fupin.core.models import Region

    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    plan = _plan(region, on)
    mine = Exists(_persons(user, region).filter(pk=OuterRef("person_id")))
    teams = sorted(set(live_contracts(on).filter(mine).values_list("team", flat=True).distinct()) | {UNSIGNED})
    villages = tuple(Region.objects.filter(code__gte=lo, code__lte=hi, level=5).order_by("code").values_list("code", "name"))
    return {"teams": teams, "villages": villages,
            "groups": ["慢病", plan["child_group"], plan["elderly_group"], "孕产妇"]}


def _mother_rows(on: dt.date, behind: dict) -> QuerySet:
    def by_pregnancy(kind):
        whens = [When(pk=g, then=Value(n)) for g, (k, n) in behind.items() if k == kind]
        return Case(*whens, default=Value(0), output_field=IntegerField()) if whens else Value(0)
    m = {f"m_{k}": Value(0) for k in KINDS[:4]} | {"m_prenatal": by_pregnancy("prenatal"), "m_postnatal": by_pregnancy("postnatal")}
    mothers = Pregnancy.objects.filter(pk__in=list(behind)).annotate(
        pid=F("person_id"), pname=F("person__name"), vid=F("person__household__village_id"), team=_team(on, "person_id"),
        grp=Value("孕产妇", output_field=CharField()), **m) \
        .annotate(missing=sum((F(k) for k in m), Value(0))).annotate(short=Value(0) - F("missing")) \
        .order_by().values(*COLUMNS)
    return mothers


def missing(row: dict) -> list[tuple[str, int]]:
    """[(kind, how many)] a row misses, in the order the list names them."""
    return [(k, row[f"m_{k}"]) for k in KINDS if row[f"m_{k}"]]


def figures(user: User, region_code: str, on: dt.date) -> dict:
    """The contract rate of registered-poor persons (with the rates by village and the teams'
    counts, `rates`) and the management rate of chronic patients, against the pack's targets."""
    region = access.access_region(user, region_code)
    plan = _plan(region, on)
    p, due = plan["p"], plan["due"]
    from .selectors import contract_rates

    rates = contract_rates(user, region_code, on)   # the rate is the sum of its villages'
    poor_total, poor_contracted = sum(v["persons"] for v in rates["villages"]), sum(v["signed"] for v in rates["villages"])
    need_followup = p("health.fd.followups.chronic")
    # read by the few chronic conditions, each patient's follow-ups an indexed count
    chronic = _persons(user, region).filter(pk__in=_chronic_conditions(plan).values("person_id")) \
        .annotate(n=_done("followup", on)).order_by().values("pk", "n")
    n_chronic = managed = 0
    for row in chronic:   # one row per chronic patient (tens to hundreds in a county)
        n_chronic += 1
        managed += row["n"] >= due(need_followup)
    ppm = 1_000_000
    return {"region": region, "on": on, "rates": rates,
            "contract_rate_permille": poor_contracted * 1000 // poor_total if poor_total else 0,
            "contract_target_permille": p("health.fd.contract_target") * 1000 // ppm,
            "contract_meets": poor_contracted * ppm >= p("health.fd.contract_target") * poor_total,
            "chronic": n_chronic, "managed": managed,
            "management_rate_permille": managed * 1000 // n_chronic if n_chronic else 0,
            "management_target_permille": p("health.fd.management_target") * 1000 // ppm,
            "management_meets": managed * ppm >= p("health.fd.management_target") * n_chronic}
