"""Semester subsidy runs: compute → review → approve → post to the ledger → payment lists.

A run is idempotent per semester and region: a second run for a semester already paid only
computes the difference (a supplementary run), so nothing is paid twice.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

import polars as pl
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput
from fupin.core.models import AuditAction, Region, User
from fupin.core.roles import Cap
from fupin.funds import services as funds
from fupin.funds.models import Account, AccountKind, PayeeType
from fupin.policy.engine import run_batch, run_case
from fupin.policy.packs import PackSet
from fupin.policy.rules.education import MODEL

from .models import Enrolment, EnrolmentStatus, RunLine, RunStatus, SubsidyRun

_SEMESTER = re.compile(r"^(\d{4})-(spring|autumn)$")
_packs: PackSet | None = None


def packs() -> PackSet:
    global _packs
    if _packs is None:
        _packs = PackSet.shipped()
    return _packs


def parse_semester(semester: str) -> tuple[int, str]:
    m = _SEMESTER.match(semester or "")
    if not m:
        raise InvalidInput({"学期": f"“{semester}”应写作 2024-autumn（秋季）或 2025-spring（春季）"})
    return int(m.group(1)), m.group(2)


def semester_start(semester: str, region_code: str) -> dt.date:
    year, term = parse_semester(semester)
    chain = packs().for_region(region_code)
    mmdd = chain.lookup(f"education.semester_start.{term}", dt.date(year, 1, 1)).value
    return dt.date.fromisoformat(f"{year}-{mmdd}")


def student_case(e: Enrolment) -> dict:
    """The policy engine's input for one enrolment, read from the registry (one source)."""
    code = e.school.region_id
    date = semester_start(e.semester, code)
    statuses = packs().for_region(code).lookup("education.registered_poor_statuses", date).value
    person, household = e.person, e.person.household
    return dict(region=code, date=date, stage=e.stage, semester=parse_semester(e.semester)[1],
                boarding=e.boarding, registered_poor=bool(household and household.status in statuses),
                dibao=person.assistance == "dibao", tekun=person.assistance == "tekun",
                new_entrant=e.grade == 1, fee=e.fee)


def roster_frame(enrolments) -> tuple[pl.DataFrame, list[int]]:
    """The roster as a Polars frame, one row per enrolment, in enrolment-id order."""
    rows = list(enrolments.order_by("id").values_list(
        "id", "school__region_id", "semester", "stage", "boarding", "grade", "fee",
        "person__assistance", "person__household__status"))
    if not rows:
        return pl.DataFrame(), []
    ids = [r[0] for r in rows]
    cache: dict[tuple[str, str], tuple[dt.date, tuple]] = {}

    def date_and_statuses(code, semester):
        if (code, semester) not in cache:
            d = semester_start(semester, code)
            cache[code, semester] = (d, packs().for_region(code).lookup("education.registered_poor_statuses", d).value)
        return cache[code, semester]

    cols = defaultdict(list)
    for _, code, semester, stage, boarding, grade, fee, assistance, hstatus in rows:
        d, statuses = date_and_statuses(code, semester)
        cols["region"].append(code)
        cols["date"].append(d)
        cols["stage"].append(stage)
        cols["semester"].append(parse_semester(semester)[1])
        cols["boarding"].append(boarding)
        cols["registered_poor"].append(hstatus in statuses)
        cols["dibao"].append(assistance == "dibao")
        cols["tekun"].append(assistance == "tekun")
        cols["new_entrant"].append(grade == 1)
        cols["fee"].append(fee)
    from fupin.policy.rules.education import STAGES
    return pl.DataFrame(cols, schema_overrides={"date": pl.Date, "fee": pl.Int64, "stage": pl.Enum(STAGES),
                                                "semester": pl.Enum(["spring", "autumn"])}), ids


def _enrolments_in(region: Region, semester: str):
    lo, hi = region.code_range()
    return Enrolment.objects.filter(semester=semester, status=EnrolmentStatus.ENROLLED,
                                    school__region_id__gte=lo, school__region_id__lte=hi)


def _already_paid(region: Region, semester: str) -> dict[tuple[int, str], int]:
    lo, hi = region.code_range()
    rows = RunLine.objects.filter(run__semester=semester, run__status=RunStatus.POSTED,
                                  school__region_id__gte=lo, school__region_id__lte=hi) \
        .values_list("person_id", "item").annotate(s=Sum("amount"))
    return {(p, item): s for p, item, s in rows}


@transaction.atomic
def run_compute(*, actor: User, semester: str, region_code: str, budget: Account) -> SubsidyRun:
    from fupin.core.bulk import insert_rows

    access.require(actor, Cap.WRITE)
    parse_semester(semester)
    region = access.access_region(actor, region_code)
    if budget.kind != AccountKind.BUDGET:
        raise InvalidInput({"预算科目": f"“{budget.name}”不是预算科目"})
    Region.objects.select_for_update().filter(pk=region.pk).first()  # one computation at a time per region
    pending = SubsidyRun.objects.filter(semester=semester, region=region).exclude(status=RunStatus.POSTED).first()
    if pending:
        raise FupinError(f"{region.name} {semester} 已有一次{pending.get_status_display()}的计算（编号 {pending.pk}），"
                         "请先审核发放或作废后再算")
    previous = SubsidyRun.objects.filter(semester=semester, region=region, status=RunStatus.POSTED).order_by("-id").first()
    enrolments = _enrolments_in(region, semester)
    frame, ids = roster_frame(enrolments)
    run = SubsidyRun.objects.create(semester=semester, region=region, supplementary_to=previous, budget=budget,
                                    computed_by=actor, packs="")
    if not ids:
        run.save()
        return run
    out = run_batch(MODEL, frame, packs())
    meta = dict((e_id, (p, s)) for e_id, p, s in enrolments.order_by("id").values_list("id", "person_id", "school_id"))
    paid = _already_paid(region, semester)
    lines, total = [], 0
    for rule in MODEL.rules:
        for e_id, amount in zip(ids, out[rule.name].to_list()):
            person_id, school_id = meta[e_id]
            before = paid.get((person_id, rule.name), 0)
            if amount - before > 0:
                lines.append(dict(run_id=run.pk, enrolment_id=e_id, person_id=person_id, school_id=school_id,
                                  item=rule.name, amount=amount - before, already_paid=before))
                total += amount - before
    insert_rows(RunLine, lines)
    chains = sorted({packs().for_region(c).key for c in frame["region"].unique().to_list()})
    SubsidyRun.objects.filter(pk=run.pk).update(total=total, lines_count=len(lines), packs="; ".join(chains))
    run.refresh_from_db()
    audit.record(actor, AuditAction.CREATE, object_type="subsidy_run", object_id=run.pk,
                 summary=f"计算 {region.name} {semester} 教育资助{'（补充）' if previous else ''}：{len(lines)} 项")
    return run


def _access_run(user: User, run_id: int) -> SubsidyRun:
    run = SubsidyRun.objects.select_related("region", "budget").filter(pk=run_id).first()
    if run is None or not access.in_scope(user, run.region_id):
        from fupin.core.errors import NotFound
        raise NotFound(f"找不到资助计算 {run_id}，或不在您的管辖范围内")
    return run


@transaction.atomic
def run_approve(*, actor: User, run_id: int) -> SubsidyRun:
    access.require(actor, Cap.WRITE)
    run = _access_run(actor, run_id)
    run = SubsidyRun.objects.select_for_update().get(pk=run.pk)
    if run.status != RunStatus.COMPUTED:
        raise FupinError(f"计算 {run.pk} 当前为“{run.get_status_display()}”，不能审核")
    if run.computed_by_id == actor.pk:
        raise FupinError("计算人不能审核自己的计算，请由另一位工作人员审核")
    run.status, run.approved_by = RunStatus.APPROVED, actor
    run.save(update_fields=["status", "approved_by"])
    audit.record(actor, AuditAction.UPDATE, object_type="subsidy_run", object_id=run.pk, summary=f"审核通过资助计算 {run.pk}")
    return run


def _payee_accounts(person_ids: list[int]) -> dict[int, Account]:
    """Each person's payee account, created where missing (in chunks: rosters are large)."""
    from fupin.core.bulk import insert_rows
    from fupin.registry.models import Person

    people: dict[int, tuple[str, str]] = {}
    for i in range(0, len(person_ids), 5000):
        people.update((pk, (idn, name)) for pk, idn, name in
                      Person.objects.filter(pk__in=person_ids[i:i + 5000]).values_list("pk", "id_number", "name"))
    codes = {pid: f"person:{idn}" for pid, (idn, _) in people.items()}
    all_codes = list(codes.values())
    found: dict[str, int] = {}
    for i in range(0, len(all_codes), 5000):
        found.update(Account.objects.filter(code__in=all_codes[i:i + 5000]).values_list("code", "pk"))
    missing = [dict(code=code, name=people[pid][1], kind=AccountKind.PAYEE, payee_type=PayeeType.PERSON,
                    person_id=pid, payee_id_number=people[pid][0], payee_name=people[pid][1], source="",
                    programme="", year=None, region_id=None, household_id=None)
               for pid, code in codes.items() if code not in found]
    insert_rows(Account, missing)
    new_codes = [m["code"] for m in missing]
    for i in range(0, len(new_codes), 5000):
        found.update(Account.objects.filter(code__in=new_codes[i:i + 5000]).values_list("code", "pk"))
    # payments need only the account's key; build light objects without another query
    return {pid: Account(pk=found[code], code=code, kind=AccountKind.PAYEE, payee_name=people[pid][1])
            for pid, code in codes.items()}


@transaction.atomic
def run_post(*, actor: User, run_id: int, date: dt.date | None = None) -> SubsidyRun:
    access.require(actor, Cap.WRITE)
    run = _access_run(actor, run_id)
    run = SubsidyRun.objects.select_for_update().get(pk=run.pk)
    if run.status == RunStatus.POSTED:
        raise FupinError(f"计算 {run.pk} 已发放入账，不能重复发放")
    if run.status != RunStatus.APPROVED:
        raise FupinError(f"计算 {run.pk} 尚未审核，不能发放")
    lines = list(run.lines.values_list("person_id", "item", "amount"))
    accounts = _payee_accounts(sorted({p for p, _, _ in lines}))
    payments = [funds.Payment(accounts[p], amount, item, run.semester) for p, item, amount in lines]
    funds.payments_post(actor=actor, budget=run.budget, payments=payments, date=date or timezone.localdate(),
                        decision_type="subsidy_run", decision_id=str(run.pk))
    run.status, run.posted_at = RunStatus.POSTED, timezone.now()
    run.save(update_fields=["status", "posted_at"])
    return run


def explain_line(line: RunLine) -> dict:
    """A review row's explanation: the same rule run for the one case (identical by test)."""
    results = run_case(MODEL, student_case(line.enrolment), packs())
    return next(r.explanation for r in results if r.rule == line.item)
