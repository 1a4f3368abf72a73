"""Writes of the labour room: labour records, courses, enrolments, attendance, completion,
training subsidies and public-welfare job pay. Every amount, age and share is pack data; every
payment goes through `fupin.funds.services` (the ledger's only writer)."""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, Region, User
from fupin.core.money import fen_to_yuan_str
from fupin.core.roles import Cap
from fupin.funds import services as funds
from fupin.funds.models import AccountKind, FundingSource
from fupin.policy.errors import PolicyError
from fupin.policy.money import MoneyError, parse_yuan
from fupin.policy.packs import RATIO_SCALE, shipped_packs
from fupin.registry.models import Person

from .models import (Attendance, Capacity, Course, CourseKind, Employment, Enrolment, Holding, LabourRecord, Post)


def p(region_code: str, name: str, when: dt.date):
    try:
        return shipped_packs().for_region(region_code).lookup(name, when).value
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def age_in(person: Person, year: int) -> int:
    """Age reached in the year (on 31 December): one age for the whole record year."""
    return year - person.birth_date.year


def working_age(person: Person, year: int) -> bool:
    when = dt.date(year, 12, 31)
    region = person.household.village_id
    return p(region, "labour.working_age.from", when) <= age_in(person, year) < p(region, "labour.working_age.to", when)


# ---- the one validation of a labour row (form, import) ---------------------------------------------

WORKING = {Employment.LOCAL, Employment.OUT_COUNTY, Employment.OUT_PROVINCE, Employment.PUBLIC_JOB}


def labour_validate(data: dict) -> dict:
    """Check one labour row (already parsed: codes, integers, fen). Returns the clean row or
    raises InvalidInput naming every wrong field. Forms and the importer both call this."""
    errors = {}
    capacity, employment = data.get("capacity", ""), data.get("employment", "")
    if capacity not in Capacity.values:
        errors["劳动能力"] = f"应为 {'、'.join(Capacity.labels)} 之一"
    if employment not in Employment.values:
        errors["就业情况"] = f"应为 {'、'.join(Employment.labels)} 之一"
    months, income = data.get("months", 0), data.get("monthly_income", 0)
    if not isinstance(months, int) or not 0 <= months <= 12:
        errors["务工月数"] = "应为0到12之间的整数"
    if not isinstance(income, int) or income < 0:
        errors["月收入"] = "不能为负"
    employer = (data.get("employer") or "").strip()
    if not errors:
        if capacity == Capacity.NONE and employment != Employment.NONE:
            errors["就业情况"] = "无劳力的成员应为“未就业”；如已就业，请把劳动能力改为全劳力或半劳力"
        elif employment == Employment.NONE and (months or income):
            errors["务工月数"] = "未就业的成员务工月数和月收入应为0"
        elif employment != Employment.NONE and not months:
            errors["务工月数"] = "已就业的成员须填写务工月数（1到12）"
        elif employment in WORKING and not employer:
            errors["就业单位或地点"] = f"“{Employment(employment).label}”须填写就业单位或地点"
    if errors:
        raise InvalidInput(errors)
    return {"capacity": capacity, "employment": employment, "employer": employer[:100],
            "skills": (data.get("skills") or "").strip()[:100], "months": months, "monthly_income": income}


def labour_record_save(*, actor: User, person: Person, year: int, data: dict) -> LabourRecord:
    person = access.access_person(actor, person.pk, Cap.WRITE)
    clean = labour_validate(data)
    if not person.alive:
        raise FupinError(f"{person.name} 已死亡，不能登记劳动力信息")
    if not working_age(person, year):
        raise FupinError(f"{person.name} {year} 年 {age_in(person, year)} 岁，不在劳动年龄内，不登记劳动力信息")
    with transaction.atomic():
        record = LabourRecord.objects.select_for_update().filter(person=person, year=year).first()
        before = {} if record is None else {k: getattr(record, k) for k in clean}
        if record is None:
            record = LabourRecord.objects.create(person=person, year=year, **clean)
        else:
            for k, v in clean.items():
                setattr(record, k, v)
            record.save()
        audit.record(actor, AuditAction.CREATE if not before else AuditAction.UPDATE, object_type="labour_record",
                     object_id=record.pk, household_id=person.household_id,
                     summary=f"{year} 年劳动力信息：{person.name} {Capacity(clean['capacity']).label}，"
                             f"{Employment(clean['employment']).label}",
                     detail={"fields": audit.changes(before, clean)})
    return record


# ---- import and export in the usual Excel layout ------------------------------------------------

def _yuan_cell(value):
    from fupin.exchange.excel import CellError, is_blank

    if is_blank(value):
        return 0
    try:
        return parse_yuan(str(value).strip(), "月收入")
    except MoneyError as exc:
        raise CellError(exc.problem) from None


def columns():
    from fupin.exchange import excel
    from fupin.exchange.excel import Column

    return [Column("id_number", "身份证号", excel.text(20), required=True, aliases=("证件号码",)),
            Column("name", "姓名", excel.text(40), required=True),
            Column("capacity", "劳动能力", excel.choice(Capacity), required=True),
            Column("skills", "技能特长", excel.text(100)),
            Column("employment", "就业情况", excel.choice(Employment), required=True),
            Column("employer", "就业单位或地点", excel.text(100)),
            Column("months", "务工月数", excel.integer(0, 12)),
            Column("monthly_income", "月收入（元）", _yuan_cell, aliases=("月收入",))]


def labour_import(*, actor: User, data: bytes, filename: str, year: int) -> tuple[int, list, bytes | None]:
    """Labour rows of one year from Excel: all or nothing. Returns (rows saved, problems, error
    workbook). Re-importing the same file changes nothing."""
    from fupin.exchange import excel
    from fupin.exchange.excel import FileRejected, Problem

    access.require(actor, Cap.IMPORT)
    access.require(actor, Cap.WRITE)
    cols = columns()
    try:
        table = excel.read_table(data, cols, filename=filename)
    except FileRejected as exc:
        return 0, [Problem(None, None, None, None, exc.message)], None
    problems = list(table.problems)
    letters = {c.key: excel._letter(table.positions.get(c.key)) for c in cols}
    ids = {v.get("id_number") for _, v in table.rows if v.get("id_number")}
    persons = {x.id_number: x for x in access.persons_for(actor, Cap.WRITE).filter(id_number__in=ids)
               .select_related("household")}
    wanted, seen = [], {}
    for row, v in table.rows:
        if "id_number" not in v:
            continue
        person = persons.get(v["id_number"])
        if person is None:
            problems.append(Problem(row, letters["id_number"], "身份证号", v["id_number"],
                                    "查无此人，或此人不在您的管辖范围内"))
            continue
        if v.get("name") and v["name"] != person.name:
            problems.append(Problem(row, letters["name"], "姓名", v["name"], f"与户籍登记的姓名“{person.name}”不一致"))
            continue
        if v["id_number"] in seen:
            problems.append(Problem(row, letters["id_number"], "身份证号", v["id_number"], f"与第{seen[v['id_number']]}行重复"))
            continue
        seen[v["id_number"]] = row
        if not {"capacity", "employment"} <= set(v):
            continue  # the cell's own problem is already listed
        try:
            clean = labour_validate({**v, "months": v.get("months") or 0, "monthly_income": v.get("monthly_income", 0)})
            if not working_age(person, year):
                raise FupinError(f"{year} 年 {age_in(person, year)} 岁，不在劳动年龄内")
        except InvalidInput as exc:
            for field, message in exc.errors.items():
                problems.append(Problem(row, None, field, None, message))
            continue
        except FupinError as exc:
            problems.append(Problem(row, letters["id_number"], "身份证号", v["id_number"], exc.message))
            continue
        wanted.append((person, clean))
    if problems:
        return 0, problems, excel.error_workbook(table, problems)
    _import_write(actor, year, wanted)
    return len(wanted), [], None


def _import_write(actor: User, year: int, wanted: list[tuple[Person, dict]]) -> None:
    """The import's writes in bulk (ADR 0005): new records inserted, changed ones updated, one
    audit row each, unchanged ones left alone — in one transaction."""
    from fupin.core.bulk import insert_rows
    from fupin.core.models import AuditEvent

    fields = ["capacity", "employment", "employer", "skills", "months", "monthly_income"]
    with transaction.atomic():
        existing = {r.person_id: r for r in LabourRecord.objects.select_for_update()
                    .filter(year=year, person_id__in=[p.pk for p, _ in wanted])}
        new, changed = [], []
        for person, clean in wanted:
            record = existing.get(person.pk)
            if record is None:
                new.append((person, clean))
                continue
            before = {k: getattr(record, k) for k in fields}
            diff = audit.changes(before, clean)
            if diff:
                for k, v in clean.items():
                    setattr(record, k, v)
                changed.append((person, record, diff))
        LabourRecord.objects.bulk_create([LabourRecord(person=p, year=year, **c) for p, c in new], batch_size=2000)
        if changed:
            LabourRecord.objects.bulk_update([r for _, r, _ in changed], fields + ["updated_at"], batch_size=2000)
        ids = dict(LabourRecord.objects.filter(year=year, person_id__in=[p.pk for p, _ in new])
                   .values_list("person_id", "pk"))
        base = {"actor_id": actor.pk, "actor_name": actor.username, "result": "ok", "ip": None}
        insert_rows(AuditEvent, [
            {**base, "action": AuditAction.CREATE, "object_type": "labour_record", "object_id": str(ids[p.pk]),
             "household_id": p.household_id, "summary": f"导入 {year} 年劳动力信息：{p.name}",
             "detail": {"fields": audit.changes({}, c)}} for p, c in new] + [
            {**base, "action": AuditAction.UPDATE, "object_type": "labour_record", "object_id": str(r.pk),
             "household_id": p.household_id, "summary": f"导入修改 {year} 年劳动力信息：{p.name}",
             "detail": {"fields": diff}} for p, r, diff in changed])


def labour_export(*, actor: User, region_code: str, year: int) -> tuple[bytes, int]:
    """A region's labour records of one year in the import layout; IDs masked unless the user
    may see them (then the file can be edited and imported again)."""
    from openpyxl import Workbook

    from fupin.core import idcard
    from fupin.exchange import excel

    from .selectors import records_for

    access.require(actor, Cap.EXPORT)
    region = access.access_region(actor, region_code)
    full = access.may(actor, Cap.REVEAL_ID)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("劳动力")
    ws.append([c.header for c in columns()])
    n = 0
    for r in records_for(actor, region.code, year).select_related("person").order_by("person__household__number", "person_id"):
        ws.append([excel.safe(x) for x in (
            r.person.id_number if full else idcard.mask(r.person.id_number), r.person.name,
            r.get_capacity_display(), r.skills, r.get_employment_display(), r.employer, r.months,
            fen_to_yuan_str(r.monthly_income))])
        n += 1
    out = io.BytesIO()
    wb.save(out)
    audit.export(actor, what=f"导出 {region.name} {year} 年劳动力信息", object_type="labour", object_id=region.code,
                 persons=n, full_ids=full)
    return out.getvalue(), n


# ---- training --------------------------------------------------------------------------------------

def _county(actor: User, code: str) -> Region:
    lo, _ = access.scope_range(actor)
    own = lo[:6] + "000000" == code and actor.region.level > 3   # a township runs courses of its own county
    region = (Region.objects.filter(code=code, level=3).first() if own else None) or access.access_region(actor, code)
    if region.level != 3:
        raise InvalidInput({"举办县": "应选择县级区划"})
    return region


def course_create(*, actor: User, name: str, kind: str, county_code: str, provider: str, start: dt.date,
                  end: dt.date, sessions: int) -> Course:
    access.require(actor, Cap.TRAINING_MANAGE)
    errors = {}
    if not name.strip():
        errors["培训班名称"] = "必须填写"
    if kind not in CourseKind.values:
        errors["类别"] = f"应为 {'、'.join(CourseKind.labels)} 之一"
    if not provider.strip():
        errors["培训机构"] = "必须填写"
    if end < start:
        errors["结业日期"] = "不能早于开班日期"
    if not 1 <= sessions <= 1000:
        errors["课次"] = "应为1到1000之间的整数"
    if errors:
        raise InvalidInput(errors)
    county = _county(actor, county_code)
    with transaction.atomic():
        c = Course.objects.create(name=name.strip()[:80], kind=kind, county=county, provider=provider.strip()[:80],
                                  start=start, end=end, sessions=sessions)
        audit.record(actor, AuditAction.CREATE, object_type="course", object_id=c.pk,
                     summary=f"开设培训班：{c.name}（{CourseKind(kind).label}，{start}至{end}，{sessions} 课次）")
    return c


def enrol(*, actor: User, course: Course, person: Person, on: dt.date) -> Enrolment:
    access.require(actor, Cap.TRAINING_MANAGE)
    person = access.access_person(actor, person.pk)
    if person.household.village_id[:6] != course.county_id[:6]:
        raise FupinError(f"{person.name} 不是{course.county.name}的户籍人员，不能报名该县的培训班")
    if not person.alive:
        raise FupinError(f"{person.name} 已死亡，不能报名")
    try:
        with transaction.atomic():
            e = Enrolment.objects.create(course=course, person=person, enrolled_on=on)
            audit.record(actor, AuditAction.CREATE, object_type="enrolment", object_id=e.pk,
                         household_id=person.household_id, summary=f"报名培训：{person.name} 参加 {course.name}")
    except IntegrityError:
        raise FupinError(f"{person.name} 已报名 {course.name}") from None
    return e


def attendance_record(*, actor: User, enrolment: Enrolment, date: dt.date) -> Attendance:
    """One signed session. A date outside the course, or more sessions than the course has, is refused."""
    access.require(actor, Cap.TRAINING_MANAGE)
    course = enrolment.course
    if not course.start <= date <= course.end:
        raise InvalidInput({"日期": f"应在培训期间 {course.start} 至 {course.end} 之内"})
    with transaction.atomic():
        Enrolment.objects.select_for_update().filter(pk=enrolment.pk).first()
        if enrolment.attendance.filter(date=date).exists():
            raise FupinError(f"{enrolment.person.name} {date} 的出勤已登记")
        if enrolment.attendance.count() >= course.sessions:
            raise FupinError(f"{enrolment.person.name} 已登记 {course.sessions} 次出勤，等于课次，不能再登记")
        a = Attendance.objects.create(enrolment=enrolment, date=date)
        audit.record(actor, AuditAction.CREATE, object_type="attendance", object_id=a.pk,
                     household_id=enrolment.person.household_id,
                     summary=f"培训出勤：{enrolment.person.name} {course.name} {date}")
    return a


def attendance_sheet(*, actor: User, course: Course, date: dt.date, enrolment_ids: list[int]) -> int:
    """One day's sign-in sheet: every ticked trainee of the course attended. All or none."""
    access.require(actor, Cap.TRAINING_MANAGE)
    lo, hi = access.scope_range(actor)
    enrolments = list(course.enrolments.filter(pk__in=enrolment_ids, person__household__village_id__gte=lo,
                                               person__household__village_id__lte=hi).select_related("person"))
    if not enrolments:
        raise InvalidInput({"出勤": "请勾选到课的学员"})
    with transaction.atomic():
        for e in enrolments:
            attendance_record(actor=actor, enrolment=e, date=date)
    return len(enrolments)


def attendance_share_met(enrolment: Enrolment, attended: int | None = None) -> bool:
    course = enrolment.course
    share = p(course.county_id, "labour.training.min_attendance_share", course.end)
    attended = enrolment.attendance.count() if attended is None else attended
    return attended * RATIO_SCALE >= share * course.sessions


def complete(*, actor: User, enrolment: Enrolment, on: dt.date, certificate: str) -> Enrolment:
    """Completion (结业) with the certificate's number: only for a trainee who attended enough."""
    access.require(actor, Cap.TRAINING_MANAGE)
    course = enrolment.course
    if enrolment.completed_on:
        raise FupinError(f"{enrolment.person.name} 已于 {enrolment.completed_on} 结业")
    if not certificate.strip():
        raise InvalidInput({"证书编号": "必须填写"})
    attended = enrolment.attendance.count()
    if not attendance_share_met(enrolment, attended):
        raise FupinError(f"{enrolment.person.name} 出勤 {attended} 次，课次 {course.sessions}，未达到结业要求的出勤比例")
    with transaction.atomic():
        Enrolment.objects.filter(pk=enrolment.pk).update(completed_on=on, certificate=certificate.strip()[:40])
        audit.record(actor, AuditAction.UPDATE, object_type="enrolment", object_id=enrolment.pk,
                     household_id=enrolment.person.household_id,
                     summary=f"培训结业：{enrolment.person.name} {course.name}（证书 {certificate.strip()}）")
    enrolment.refresh_from_db()
    return enrolment


def labour_budget(*, region_code: str, programme: str, name: str):
    """The county's budget line for training subsidies or post pay (created empty; the county
    office allocates money to it on the funds page)."""
    county = funds.county_of(region_code)
    return funds.account_for(code=f"labour:{county}:{programme}", name=name, kind=AccountKind.BUDGET,
                             source=FundingSource.CENTRAL, programme=f"labour.{programme}", region_id=county)


def subsidy_entitlement(kind: str) -> str:
    return f"labour.training.{kind}"


def training_subsidies_pay(*, actor: User, course: Course, date: dt.date, decision_id: str):
    """Pay the course's completed trainees the pack's subsidy, all or none. A trainee who did not
    attend enough, or was already paid for this course, is not paid (seed 003's audit)."""
    access.require(actor, Cap.TRAINING_PAY, what=f"发放培训补助：{course.name}")
    if not access.in_scope(actor, course.county_id):
        raise NotFound(f"找不到培训班（编号 {course.pk}），或不在您的管辖范围内")
    if not decision_id.strip():
        raise InvalidInput({"文号": "必须填写"})
    amount = p(course.county_id, f"labour.training.subsidy.{course.kind}", course.end)
    if amount <= 0:
        raise FupinError(f"本地区政策包中“{CourseKind(course.kind).label}”的补助标准为0元，不发放；"
                         "如省里已定标准，请先更新政策包")
    enrolments = list(course.enrolments.filter(completed_on__isnull=False).select_related("person__household"))
    payable = [e for e in enrolments if attendance_share_met(e)]
    if not payable:
        raise FupinError(f"{course.name} 没有已结业且出勤达标的学员，无可发放的补助")
    from .selectors import paid_person_ids

    entitlement, period = subsidy_entitlement(course.kind), f"course-{course.pk}"
    paid = paid_person_ids(entitlement, period, [e.person_id for e in payable])
    payable = [e for e in payable if e.person_id not in paid]   # a later completer is paid later, once
    if not payable:
        raise FupinError(f"{course.name} 已结业学员的培训补助均已发放，不能重复发放")
    budget = labour_budget(region_code=course.county_id, programme="training", name="培训补助")
    payments = [funds.Payment(payee=funds.payee_for_person(e.person), amount=amount, entitlement=entitlement,
                              period=period) for e in payable]
    with transaction.atomic():
        txn = funds.payments_post(actor=actor, budget=budget, payments=payments, date=date,
                                  decision_type="training_subsidy", decision_id=decision_id.strip())
        audit.record(actor, AuditAction.CREATE, object_type="course", object_id=course.pk,
                     summary=f"发放 {course.name} 培训补助 {len(payable)} 人，每人 {fen_to_yuan_str(amount)} 元")
    return txn


# ---- public-welfare jobs ----------------------------------------------------------------------------

def post_create(*, actor: User, name: str, village_code: str, monthly_pay: int) -> Post:
    access.require(actor, Cap.PUBLIC_JOB_MANAGE)
    if not name.strip():
        raise InvalidInput({"岗位名称": "必须填写"})
    if monthly_pay <= 0:
        raise InvalidInput({"每月岗位补贴": "须大于0"})
    village = access.access_region(actor, village_code)
    if village.level != 5:
        raise InvalidInput({"所在村": "应选择村级区划"})
    with transaction.atomic():
        post = Post.objects.create(name=name.strip()[:60], village=village, monthly_pay=monthly_pay)
        audit.record(actor, AuditAction.CREATE, object_type="post", object_id=post.pk,
                     summary=f"设立公益性岗位：{village.name} {post.name}，每月 {fen_to_yuan_str(monthly_pay)} 元")
    return post


def post_assign(*, actor: User, post: Post, person: Person, start: dt.date) -> Holding:
    access.require(actor, Cap.PUBLIC_JOB_MANAGE)
    person = access.access_person(actor, person.pk)
    if not post.active:
        raise FupinError(f"岗位“{post.name}”已撤销")
    if person.household.village_id[:9] != post.village_id[:9]:
        raise FupinError(f"{person.name} 不是{post.village.name}所在乡镇的户籍人员")
    if Holding.objects.filter(person=person, end__isnull=True).exists():
        raise FupinError(f"{person.name} 已在其他公益性岗位上岗，一人只能上一个岗位")
    try:
        with transaction.atomic():
            h = Holding.objects.create(post=post, person=person, start=start)
            audit.record(actor, AuditAction.CREATE, object_type="post", object_id=post.pk,
                         household_id=person.household_id, summary=f"{person.name} 上岗：{post.name}（{start} 起）")
    except IntegrityError:
        other = post.holdings.filter(end__isnull=True).select_related("person").first()
        raise FupinError(f"岗位“{post.name}”已由 {other.person.name} 在岗，请先办理离岗") from None
    return h


def post_release(*, actor: User, holding: Holding, end: dt.date) -> Holding:
    access.require(actor, Cap.PUBLIC_JOB_MANAGE)
    if holding.end:
        raise FupinError("已离岗")
    if end < holding.start:
        raise InvalidInput({"离岗日期": "不能早于上岗日期"})
    with transaction.atomic():
        Holding.objects.filter(pk=holding.pk).update(end=end)
        audit.record(actor, AuditAction.UPDATE, object_type="post", object_id=holding.post_id,
                     household_id=holding.person.household_id, summary=f"{holding.person.name} 离岗：{holding.post.name}（{end}）")
    holding.refresh_from_db()
    return holding


def _month_bounds(month: str) -> tuple[dt.date, dt.date]:
    try:
        first = dt.date.fromisoformat(month + "-01")
    except ValueError:
        raise InvalidInput({"月份": f"“{month[:20]}”应为年月，如 2026-11"}) from None
    nxt = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def post_pay_month(*, actor: User, region_code: str, month: str, date: dt.date, decision_id: str):
    """Pay one month's post pay to everyone who held a post of the region for the whole month.
    All or none; a month paid already, or a holder recorded as dead, refuses the batch."""
    access.require(actor, Cap.PUBLIC_JOB_PAY, what=f"发放公益性岗位补贴 {month}")
    region = access.access_region(actor, region_code)
    first, last = _month_bounds(month)
    if not decision_id.strip():
        raise InvalidInput({"文号": "必须填写"})
    lo, hi = region.code_range()
    holdings = list(Holding.objects.filter(post__village_id__gte=lo, post__village_id__lte=hi, start__lte=first)
                    .exclude(end__lt=last).select_related("post", "person"))
    if not holdings:
        raise FupinError(f"{region.name} {month} 没有整月在岗的公益性岗位人员")
    from .selectors import paid_person_ids

    paid = paid_person_ids("labour.public_job", month, [h.person_id for h in holdings])
    holdings = [h for h in holdings if h.person_id not in paid]
    if not holdings:
        raise FupinError(f"{region.name} {month} 的岗位补贴已发放，不能重复发放")
    budget = labour_budget(region_code=region.code, programme="public_job", name="公益性岗位补贴")
    payments = [funds.Payment(payee=funds.payee_for_person(h.person), amount=h.post.monthly_pay,
                              entitlement="labour.public_job", period=month) for h in holdings]
    with transaction.atomic():
        txn = funds.payments_post(actor=actor, budget=budget, payments=payments, date=date,
                                  decision_type="public_job_pay", decision_id=decision_id.strip())
    return txn


@dataclass
class Finding:
    person: Person
    course: Course | None
    amount: int
    problem: str


def subsidy_audit(*, actor: User, region_code: str) -> list[Finding]:
    """Seed 003's audit of training subsidies: each live subsidy payment in the region checked
    against the sign-in sheets — paid without the attendance the pack asks, paid for a course the
    person was not enrolled in, or paid twice (the same course twice, or two courses at once)."""
    from .selectors import subsidy_lines

    region = access.access_region(actor, region_code)
    findings = []
    by_person: dict[int, list] = {}
    for line in subsidy_lines(actor, region.code):
        person, course = line["person"], line["course"]
        enrolment = None if course is None else course.enrolments.filter(person=person).first()
        if course is None or enrolment is None:
            findings.append(Finding(person, course, line["amount"], "领取培训补助，但没有该培训班的报名记录"))
        else:
            attended = enrolment.attendance.count()
            if not attendance_share_met(enrolment, attended):
                findings.append(Finding(person, course, line["amount"],
                                        f"出勤 {attended} 次（课次 {course.sessions}），未达到领取补助的出勤要求"))
        by_person.setdefault(person.pk, []).append(line)
    for lines in by_person.values():
        seen = {}
        for line in lines:
            course = line["course"]
            if course is None:
                continue
            if course.pk in seen:
                findings.append(Finding(line["person"], course, line["amount"], "同一培训班重复领取补助"))
                continue
            for other in seen.values():
                if course.start <= other.end and other.start <= course.end:
                    findings.append(Finding(line["person"], course, line["amount"],
                                            f"与同期的“{other.name}”（{other.start}至{other.end}）重复领取补助"))
            seen[course.pk] = course
    return findings
