"""Pulmonary TB patients' treatment management (肺结核患者健康管理, seed 004: 督促肺结核病患者规律服药,
管理率90%以上): one case per patient from the start of treatment; visits are due at the pack's
intervals (every `health.tb.intensive_interval_days` in the intensive phase, every
`health.tb.continuation_interval_days` after it) until the course ends; a visit is the family-doctor
service `tb_visit`, recorded by hand or imported like any other service. A patient is overdue when
fewer visits were made than fell due up to `health.tb.grace_days` ago.

The other six key groups (children 0–6, 65+, hypertension 35+, type-2 diabetes, severe mental
illness, pregnant women) are followed in `programmes.followup_status`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, Region, User
from fupin.core.roles import Cap
from fupin.policy.errors import PolicyError
from fupin.policy.packs import RATIO_SCALE

from .models import Service, TBCase
from .programmes import _access_patient, _add_months, live_contracts
from .services import packs


def schedule(region_code: str, started_on: dt.date) -> list[dt.date]:
    """The visits' due dates of a course that started on `started_on` (the pack then in force)."""
    chain = packs().for_region(region_code)
    try:
        p = {k: chain.lookup(f"health.tb.{k}", started_on).value
             for k in ("course_months", "intensive_months", "intensive_interval_days", "continuation_interval_days")}
    except PolicyError:
        raise FupinError(f"{started_on} 还没有施行肺结核患者健康管理的随访规定") from None
    intensive_end, course_end = _add_months(started_on, p["intensive_months"]), _add_months(started_on, p["course_months"])
    out, d = [], started_on
    while True:
        d = d + dt.timedelta(days=p["intensive_interval_days"] if d < intensive_end else p["continuation_interval_days"])
        if d > course_end:
            return out
        out.append(d)


def tb_case_open(*, actor: User, person, started_on: dt.date) -> TBCase:
    _access_patient(actor, person, Cap.RECORD_CONDITION, "肺结核患者纳入管理")
    schedule(person.household.village_id, started_on)   # a date the pack covers
    try:
        with transaction.atomic():
            case = TBCase.objects.create(person=person, started_on=started_on, opened_by=actor)
            audit.record(actor, AuditAction.CREATE, object_type="tb_case", object_id=case.pk,
                         household_id=person.household_id, summary=f"{person.name} 纳入肺结核患者管理（{started_on} 开始治疗）")
    except IntegrityError:
        raise FupinError(f"{person.name} 已在肺结核患者管理中，请先登记上一疗程的结果") from None
    return case


def tb_case_close(*, actor: User, person, on: dt.date, outcome: str) -> TBCase:
    _access_patient(actor, person, Cap.RECORD_CONDITION, "肺结核患者停止治疗")
    case = TBCase.objects.filter(person=person, ended_on__isnull=True).first()
    if case is None:
        raise NotFound(f"{person.name} 没有在管理中的肺结核疗程")
    outcomes = dict(TBCase._meta.get_field("outcome").choices)
    if outcome not in outcomes:
        raise InvalidInput({"治疗结果": "请从列表中选择"})
    if on < case.started_on:
        raise InvalidInput({"日期": f"不能早于开始治疗日期 {case.started_on}"})
    with transaction.atomic():
        TBCase.objects.filter(pk=case.pk).update(ended_on=on, outcome=outcome)
        audit.record(actor, AuditAction.UPDATE, object_type="tb_case", object_id=case.pk, household_id=person.household_id,
                     summary=f"{person.name} 肺结核停止治疗（{on}）：{outcomes[outcome]}")
    case.refresh_from_db()
    return case


@dataclass(frozen=True)
class TBRow:
    pk: int                      # the person
    name: str
    village_id: str
    village_name: str
    team: str                    # the family-doctor team in force, or "（未签约）"
    started_on: dt.date
    done: int                    # visits since the start of treatment, up to the day
    due: int                     # visits due by the day (less the grace days)
    next_due: dt.date | None     # the date of the next visit owed
    overdue_days: int            # how long the first missed visit is overdue (0: not overdue)


def tb_status(user: User, region_code: str, on: dt.date) -> dict:
    """The region's TB patients under treatment on `on`: each one's visits done and due, who is
    overdue, and the management rate (patients not overdue) against the pack's target."""
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    chain = packs().for_region(region.code)
    try:
        grace, target = chain.lookup("health.tb.grace_days", on).value, chain.lookup("health.tb.management_target", on).value
    except PolicyError:
        raise FupinError(f"{on} 还没有施行肺结核患者健康管理的随访规定") from None
    cases = list(TBCase.objects.filter(person__in=access.persons_for(user), started_on__lte=on,
                                       person__household__village_id__gte=lo, person__household__village_id__lte=hi)
                 .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=on))
                 .values_list("person_id", "person__name", "person__household__village_id", "started_on"))
    names = dict(Region.objects.filter(code__gte=lo, code__lte=hi, level=5).values_list("code", "name"))
    teams = dict(live_contracts(on).filter(person_id__in=[c[0] for c in cases]).values_list("person_id", "team"))
    visits: dict[int, list[dt.date]] = {}
    for pid, d in Service.objects.filter(person_id__in=[c[0] for c in cases], kind="tb_visit", date__lte=on) \
            .values_list("person_id", "date"):
        visits.setdefault(pid, []).append(d)
    rows = []
    cutoff = on - dt.timedelta(days=grace)
    for pid, name, village, started in cases:
        dates = schedule(village, started)
        done = sum(1 for d in visits.get(pid, []) if d >= started)
        due = sum(1 for d in dates if d <= cutoff)
        next_due = dates[done] if done < len(dates) else None
        overdue = (on - next_due).days if done < due and next_due else 0
        rows.append(TBRow(pid, name, village, names.get(village, village), teams.get(pid, "（未签约）"), started, done,
                          due, next_due, overdue))
    rows.sort(key=lambda r: (r.team, r.village_id, r.name))
    n = len(rows)
    managed = sum(1 for r in rows if not r.overdue_days)
    return {"region": region, "on": on, "rows": rows, "overdue": [r for r in rows if r.overdue_days],
            "patients": n, "managed": managed, "rate_permille": managed * 1000 // n if n else None,
            "target_permille": target * 1000 // RATIO_SCALE, "meets": managed * RATIO_SCALE >= target * n}
