"""Semester subsidy runs: compute → review → approve → post to the ledger → payment lists.

A run is idempotent per semester and region: a second run for a semester already paid only
computes the difference (a supplementary run), so nothing is paid twice.
"""
from __future__ import annotations

import datetime as dt

import polars as pl
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, Region, User
from fupin.core.roles import Cap
from fupin.funds import services as funds
from fupin.funds.models import Account, AccountKind
from fupin.policy.engine import run_batch, run_case
from fupin.policy import semester as semesters
from fupin.policy.packs import shipped_packs
from fupin.policy.rules.education import MODEL

from .models import DropoutVisit, Enrolment, EnrolmentStatus, FiveHeads, RunLine, RunStatus, SubsidyRun

packs = shipped_packs


def parse_semester(semester: str) -> tuple[int, str]:
    """(year, term) of "2027年春季", "2027-spring" …: `fupin.policy.semester`, the one parser."""
    try:
        return semesters.parse(semester)
    except semesters.SemesterError as exc:
        raise InvalidInput({"学期": exc.message}) from None


def semester_code(semester: str) -> str:
    year, term = parse_semester(semester)
    return f"{year}-{term}"


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
    """The roster as a Polars frame in enrolment-id order, with the engine's inputs and
    `_id`, `_person`, `_school` for the run lines."""
    from fupin.policy.rules.education import STAGES

    from fupin.core.bulk import frame_from_query

    raw = frame_from_query(enrolments.order_by("id"), [
        ("id", pl.Int64), ("person_id", pl.Int64), ("school_id", pl.Int64), ("school__region_id", pl.Utf8),
        ("semester", pl.Utf8), ("stage", pl.Utf8), ("boarding", pl.Boolean), ("grade", pl.Int64), ("fee", pl.Int64),
        ("person__assistance", pl.Utf8), ("person__household__status", pl.Utf8)])
    if raw.height == 0:
        return pl.DataFrame(), []
    raw = raw.rename({"id": "_id", "person_id": "_person", "school_id": "_school", "school_region_id": "region",
                      "semester": "_semester", "person_assistance": "assistance", "person_household_status": "hstatus"})
    # per (region, semester): the semester's start date and the statuses that count as registered poor
    dates, poor = {}, {}
    for code, semester in raw.select("region", "_semester").unique().iter_rows():
        d = semester_start(semester, code)
        dates[f"{code}|{semester}"] = d
        for status in packs().for_region(code).lookup("education.registered_poor_statuses", d).value:
            poor[f"{code}|{semester}|{status}"] = True
    key = pl.col("region") + "|" + pl.col("_semester")
    frame = raw.with_columns(
        key.replace_strict(dates, return_dtype=pl.Date).alias("date"),
        (key + "|" + pl.col("hstatus").fill_null("")).replace_strict(poor, default=False, return_dtype=pl.Boolean)
        .alias("registered_poor"),
        (pl.col("assistance") == "dibao").alias("dibao"), (pl.col("assistance") == "tekun").alias("tekun"),
        (pl.col("grade") == 1).alias("new_entrant"),
        pl.col("_semester").str.split("-").list.get(1).cast(pl.Enum(["spring", "autumn"])).alias("semester"),
        pl.col("stage").cast(pl.Enum(STAGES)),
    ).drop("assistance", "hstatus", "grade")
    return frame, frame["_id"].to_list()


def _enrolments_in(region: Region, semester: str):
    lo, hi = region.code_range()
    return Enrolment.objects.filter(semester=semester, status=EnrolmentStatus.ENROLLED,
                                    school__region_id__gte=lo, school__region_id__lte=hi)


def _already_paid(region: Region, semester: str) -> pl.DataFrame:
    """(_person, item, already_paid) of the region's posted runs of the semester: a columnar frame
    read with COPY (5,000,000 students' pairs in a few hundred MB, not a dict of Python tuples)."""
    from fupin.core.bulk import frame_from_query

    lo, hi = region.code_range()
    rows = RunLine.objects.filter(run__semester=semester, run__status=RunStatus.POSTED,
                                  school__region_id__gte=lo, school__region_id__lte=hi) \
        .values("person_id", "item").annotate(already_paid=Sum("amount"))
    return frame_from_query(rows, [("person_id", pl.Int64), ("item", pl.Utf8), ("already_paid", pl.Int64)]) \
        .rename({"person_id": "_person"})


def run_compute(*, actor: User, semester: str, region_code: str, budget: Account) -> SubsidyRun:
    """The school-aid office computes a run (EDU_MANAGE) for its region, to be paid from a
    budget line of its region. Access is checked before the transaction opens."""
    access.require(actor, Cap.EDU_MANAGE, what=f"计算 {semesters.label(semester)} 教育资助")
    semester = semester_code(semester)
    region = access.access_region(actor, region_code)
    if budget.kind != AccountKind.BUDGET:
        raise InvalidInput({"预算科目": f"“{budget.name}”不是预算科目"})
    if budget.region_id is None or not access.in_scope(actor, budget.region_id):
        raise NotFound(f"找不到预算科目“{budget.name}”，或它不属于您的管辖区划")
    return _run_compute(actor, semester, region, budget)


@transaction.atomic
def _run_compute(actor: User, semester: str, region: Region, budget: Account) -> SubsidyRun:
    from fupin.core.bulk import insert_frame

    Region.objects.select_for_update().filter(pk=region.pk).first()  # one computation at a time per region
    pending = SubsidyRun.objects.filter(semester=semester, region=region).exclude(status=RunStatus.POSTED).first()
    if pending:
        raise FupinError(f"{region.name} {semesters.label(semester)} 已有一次{pending.get_status_display()}的计算（编号 {pending.pk}），"
                         "请先审核发放或作废后再算")
    previous = SubsidyRun.objects.filter(semester=semester, region=region, status=RunStatus.POSTED).order_by("-id").first()
    enrolments = _enrolments_in(region, semester)
    frame, ids = roster_frame(enrolments)
    if not ids:   # nothing to compute from: said, rather than an empty run to review
        raise FupinError(f"学生名册中没有{region.name} {semesters.label(semester)}的在读学生，未计算；"
                         "请先在“导入学生名册”导入该学期的名册，或选择另一个学期")
    run = SubsidyRun.objects.create(semester=semester, region=region, supplementary_to=previous, budget=budget,
                                    computed_by=actor, packs="")
    out = run_batch(MODEL, frame, packs())
    rules = [r.name for r in MODEL.rules]
    # one line per (student, item) with an amount: zeros dropped per item before they are stacked
    # (12 items × 5,000,000 students would be 60,000,000 rows, nearly all zero)
    lines = pl.concat([out.select("_id", "_person", "_school", pl.lit(r).alias("item"), pl.col(r).alias("amount"))
                       .filter(pl.col("amount") > 0) for r in rules])
    lines = lines.join(_already_paid(region, semester), on=["_person", "item"], how="left", maintain_order="left") \
        .with_columns(pl.col("already_paid").fill_null(0))
    lines = (lines.with_columns((pl.col("amount") - pl.col("already_paid")).alias("amount"))
             .filter(pl.col("amount") > 0)
             .select(pl.lit(run.pk, dtype=pl.Int64).alias("run_id"), pl.col("_id").alias("enrolment_id"),
                     pl.col("_person").alias("person_id"), pl.col("_school").alias("school_id"), "item", "amount",
                     "already_paid"))
    insert_frame(RunLine, lines)
    total = int(lines["amount"].sum()) if lines.height else 0
    chains = sorted({packs().for_region(c).key for c in frame["region"].unique().to_list()})
    SubsidyRun.objects.filter(pk=run.pk).update(total=total, lines_count=lines.height, packs="; ".join(chains))
    run.refresh_from_db()
    audit.record(actor, AuditAction.CREATE, object_type="subsidy_run", object_id=run.pk,
                 summary=f"计算 {region.name} {semesters.label(semester)} 教育资助{'（补充）' if previous else ''}：{lines.height} 项")
    return run


def _access_run(user: User, run_id: int, cap: str | None = None) -> SubsidyRun:
    # reading a run (its students and amounts) needs at least READ; acting on it its own capability
    access.require(user, cap or Cap.READ, what=f"办理资助计算 {run_id}" if cap else f"查看资助计算 {run_id}")
    run = SubsidyRun.objects.select_related("region", "budget").filter(pk=run_id).first()
    if run is None or not access.in_scope(user, run.region_id):
        raise NotFound(f"找不到资助计算 {run_id}，或不在您的管辖范围内")
    return run


def run_approve(*, actor: User, run_id: int) -> SubsidyRun:
    """The county office (POST_RUN) approves; never the person who computed the run."""
    run = _access_run(actor, run_id, Cap.POST_RUN)
    if run.computed_by_id == actor.pk:
        raise FupinError("计算人不能审核自己的计算，请由另一位工作人员审核")
    return _run_approve(actor, run.pk)


@transaction.atomic
def _run_approve(actor: User, run_id: int) -> SubsidyRun:
    run = SubsidyRun.objects.select_for_update().get(pk=run_id)
    if run.status != RunStatus.COMPUTED:
        raise FupinError(f"计算 {run.pk} 当前为“{run.get_status_display()}”，不能审核")
    run.status, run.approved_by = RunStatus.APPROVED, actor
    run.save(update_fields=["status", "approved_by"])
    audit.record(actor, AuditAction.UPDATE, object_type="subsidy_run", object_id=run.pk, summary=f"审核通过资助计算 {run.pk}")
    return run


def run_post(*, actor: User, run_id: int, date: dt.date | None = None) -> SubsidyRun:
    """The county office (POST_RUN) posts an approved run to the ledger."""
    run = _access_run(actor, run_id, Cap.POST_RUN)
    return _run_post(actor, run.pk, date or timezone.localdate())


@transaction.atomic
def _run_post(actor: User, run_id: int, date: dt.date) -> SubsidyRun:
    from fupin.core.bulk import frame_from_query

    run = SubsidyRun.objects.select_for_update().select_related("budget").get(pk=run_id)
    if run.status == RunStatus.POSTED:
        raise FupinError(f"计算 {run.pk} 已发放入账，不能重复发放")
    if run.status != RunStatus.APPROVED:
        raise FupinError(f"计算 {run.pk} 尚未审核，不能发放")
    lines = frame_from_query(run.lines.order_by("id"), [
        ("person_id", pl.Int64), ("person__id_number", pl.Utf8), ("person__name", pl.Utf8), ("item", pl.Utf8),
        ("amount", pl.Int64)]).rename({"person_id_number": "id_number", "person_name": "name"})
    payees = funds.payee_accounts_for_persons(lines.select("person_id", "id_number", "name"))
    payments = lines.join(payees.select("person_id", "payee_id"), on="person_id", how="left", maintain_order="left") \
        .select("payee_id", pl.col("name").alias("payee_name"), pl.col("item").alias("entitlement"), "amount",
                pl.lit(run.semester).alias("period"))
    if payments.height != lines.height or payments["payee_id"].null_count():
        raise FupinError("发放名单与收款账户对应不上，已全部回滚")
    funds.payments_post_frame(actor=actor, budget=run.budget, payments=payments, date=date,
                              decision_type="subsidy_run", decision_id=str(run.pk))
    run.status, run.posted_at = RunStatus.POSTED, timezone.now()
    run.save(update_fields=["status", "posted_at"])
    audit.record(actor, AuditAction.UPDATE, object_type="subsidy_run", object_id=run.pk,
                 summary=f"资助计算 {run.pk} 发放入账：{lines.height} 项")
    return run


# ---- dropout control: writes the pages used to make themselves ------------------------------------

def five_heads_set(*, actor: User, township_code: str, names: dict) -> FiveHeads:
    access.require(actor, Cap.WRITE)
    township = access.access_region(actor, township_code)
    if township.level != 4:
        raise FupinError("五长责任名单按乡镇设置，请输入乡镇代码")
    names = {k: (names.get(k) or "").strip()[:40] for k in ("county_head", "township_head", "bureau_head")}
    if not all(names.values()):
        raise FupinError("请填写县长、乡镇长、教育局长三人姓名")
    with transaction.atomic():
        heads, _ = FiveHeads.objects.update_or_create(township=township, defaults=names)
        audit.record(actor, AuditAction.UPDATE, object_type="five_heads", object_id=township.code,
                     summary=f"设置 {township.name} 五长责任名单")
    return heads


def dropout_visit_record(*, actor: User, person_id: int, date: dt.date, visitor: str, finding: str,
                         returned: bool) -> DropoutVisit:
    person = access.access_person(actor, person_id, Cap.WRITE)
    with transaction.atomic():
        v = DropoutVisit.objects.create(person=person, date=date, visitor=visitor[:60] or actor.username,
                                        finding=finding[:300], returned=returned, recorded_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="dropout_visit", object_id=v.pk,
                     household_id=person.household_id,
                     summary=f"控辍保学走访 {person.name}（{'已返校' if v.returned else '未返校'}）")
    return v


def access_line(user: User, line_id: int) -> RunLine:
    """A run's line, for a user who may read the run (READ, in scope): as the run itself."""
    access.require(user, Cap.READ, what=f"查看发放项 {line_id}")
    line = RunLine.objects.select_related("run", "enrolment__person__household", "enrolment__school") \
        .filter(pk=line_id).first()
    if line is None or not access.in_scope(user, line.run.region_id):
        raise NotFound("找不到该发放项，或不在您的管辖范围内")
    return line


def explain_line(line: RunLine) -> dict:
    """A review row's explanation: the same rule run for the one case (identical by test)."""
    results = run_case(MODEL, student_case(line.enrolment), packs())
    return next(r.explanation for r in results if r.rule == line.item)
