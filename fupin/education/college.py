"""The college-student database of poor families (seeds 000, 001): who studies where, their
wishes and outcome, and the aid each received. The entrant aid is paid through the ledger at
the pack's amount; a student-origin credit loan is a bank's loan, recorded and capped by the pack."""
from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, User
from fupin.core.money import fen_to_yuan_str
from fupin.core.roles import Cap
from fupin.funds import services as funds
from fupin.funds.models import AccountKind, FundingSource
from fupin.policy.errors import PolicyError
from fupin.policy.packs import shipped_packs
from fupin.registry.models import Person

from .models import CollegeAid, CollegeAidKind, CollegeLevel, CollegeOutcome, CollegeStudent


def _p(region: str, name: str, when: dt.date):
    try:
        return shipped_packs().for_region(region).lookup(name, when).value
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def _require_editor(actor: User) -> None:
    """The school aid office or the registry's writers keep the database (seed 000: schools build it)."""
    if not access.may(actor, Cap.WRITE):
        access.require(actor, Cap.EDU_MANAGE)


def college_validate(data: dict) -> dict:
    """The one validation of a college-student row (form and import)."""
    errors = {}
    college = (data.get("college") or "").strip()
    if not college:
        errors["院校"] = "必须填写"
    if data.get("level") not in CollegeLevel.values:
        errors["层次"] = f"应为 {'、'.join(CollegeLevel.labels)} 之一"
    outcome = data.get("outcome") or CollegeOutcome.STUDYING
    if outcome not in CollegeOutcome.values:
        errors["毕业去向"] = f"应为 {'、'.join(CollegeOutcome.labels)} 之一"
    year = data.get("entry_year")
    if not isinstance(year, int) or not 1990 <= year <= timezone.localdate().year + 1:
        errors["入学年份"] = f"应为1990到{timezone.localdate().year + 1}之间的年份"
    employer = (data.get("employer") or "").strip()
    if outcome == CollegeOutcome.EMPLOYED and not employer:
        errors["就业单位"] = "“毕业已就业”须填写就业单位"
    if errors:
        raise InvalidInput(errors)
    return {"college": college[:80], "major": (data.get("major") or "").strip()[:60], "level": data["level"],
            "entry_year": year, "wish": (data.get("wish") or "").strip()[:100], "outcome": outcome,
            "employer": employer[:100]}


def college_student_save(*, actor: User, person: Person, data: dict,
                         student: CollegeStudent | None = None) -> CollegeStudent:
    _require_editor(actor)
    person = access.access_person(actor, person.pk)
    clean = college_validate(data)
    before = {} if student is None else {k: getattr(student, k) for k in clean}
    try:
        with transaction.atomic():
            if student is None:
                student = CollegeStudent.objects.create(person=person, **clean)
            else:
                CollegeStudent.objects.filter(pk=student.pk).update(**clean)
                student.refresh_from_db()
            audit.record(actor, AuditAction.UPDATE if before else AuditAction.CREATE, object_type="college_student",
                         object_id=student.pk, household_id=person.household_id,
                         summary=f"大学生信息：{person.name} {clean['college']}（{clean['entry_year']} 级，"
                                 f"{CollegeOutcome(clean['outcome']).label}）",
                         detail={"fields": audit.changes(before, clean)})
    except IntegrityError:
        raise FupinError(f"{person.name} 已登记 {clean['entry_year']} 年入学 {clean['college']}") from None
    return student


def access_student(user: User, pk: int) -> CollegeStudent:
    lo, hi = access.scope_range(user)
    access.require(user, Cap.READ)
    s = CollegeStudent.objects.select_related("person__household").filter(
        pk=pk, person__household__village_id__gte=lo, person__household__village_id__lte=hi).first()
    if s is None:
        raise NotFound(f"找不到大学生记录（编号 {pk}），或不在您的管辖范围内")
    return s


def college_aid_record(*, actor: User, student: CollegeStudent, kind: str, year: int, amount: int,
                       note: str = "") -> CollegeAid:
    """Aid paid or arranged elsewhere (a loan, a subsidy paid by the college): recorded. The
    entrant aid is paid here instead (`entrant_aid_pay`), so it is never typed twice."""
    _require_editor(actor)
    if kind not in CollegeAidKind.values or kind == CollegeAidKind.ENTRANT:
        raise InvalidInput({"资助项目": "大学新生入学资助请用“发放入学资助”办理；其他项目应为 "
                                    + "、".join(label for v, label in CollegeAidKind.choices if v != "entrant")})
    if amount <= 0:
        raise InvalidInput({"金额": "须大于0"})
    region = student.person.household.village_id
    if kind == CollegeAidKind.CREDIT_LOAN:
        cap = _p(region, "education.college.credit_loan_max_per_year", dt.date(year, 9, 1))
        if amount > cap:
            raise InvalidInput({"金额": f"生源地信用助学贷款每学年不超过 {fen_to_yuan_str(cap)} 元"})
    try:
        with transaction.atomic():
            aid = CollegeAid.objects.create(student=student, kind=kind, year=year, amount=amount, note=note.strip()[:100])
            audit.record(actor, AuditAction.CREATE, object_type="college_student", object_id=student.pk,
                         household_id=student.person.household_id,
                         summary=f"{student.person.name} {year} 学年{CollegeAidKind(kind).label} {fen_to_yuan_str(amount)} 元")
    except IntegrityError:
        raise FupinError(f"{student.person.name} {year} 学年的{CollegeAidKind(kind).label}已登记") from None
    return aid


def college_budget(*, region_code: str):
    """The county's budget line for college entrant aid (created empty; allocated on the funds page)."""
    county = funds.county_of(region_code)
    return funds.account_for(code=f"college:{county}:entrant", name="大学新生入学资助", kind=AccountKind.BUDGET,
                             source=FundingSource.CITY_COUNTY, programme="education.college", region_id=county)


# The semester run's rule item: paid here or by a run, the ledger's (payee, item, semester) key is the same,
# so the second path is refused as a repeated payment.
ENTRANT_ITEM = "education.college_entrant"


def entrant_aid_pay(*, actor: User, student: CollegeStudent, date: dt.date, decision_id: str) -> CollegeAid:
    """The aid to a registered-poor college entrant (the pack's amount per 学年 of entry), paid from
    the county's college-aid budget line in two halves: the autumn of entry, then the spring."""
    access.require(actor, Cap.POST_RUN, what=f"发放大学新生入学资助：{student.person.name}")
    if not decision_id.strip():
        raise InvalidInput({"文号": "必须填写"})
    region = student.person.household.village_id
    if not access.in_scope(actor, region):
        raise NotFound(f"找不到大学生记录（编号 {student.pk}），或不在您的管辖范围内")
    if student.level == CollegeLevel.SEC_VOC:
        raise FupinError("大学新生入学资助只发给考入高职（专科）及以上院校的新生")
    # the pack's amount is per 学年 and is paid per semester as the other yearly amounts are: half in the
    # autumn of entry (counted in the entry year), half in the following spring (the next calendar year)
    paid = CollegeAid.objects.filter(student__person=student.person, kind=CollegeAidKind.ENTRANT).count()
    if paid >= 2:
        raise FupinError(f"{student.person.name} 已领取过大学新生入学资助（入学学年的秋季、春季两个学期），不能重复发放")
    per_year = _p(region, "education.college.entrant_aid", dt.date(student.entry_year, 9, 1))
    if per_year <= 0:
        raise FupinError("本地区政策包没有大学新生入学资助标准（为0元），不发放")
    amount = per_year // 2
    year, term = (student.entry_year, "autumn") if paid == 0 else (student.entry_year + 1, "spring")
    budget = college_budget(region_code=region)
    payment = funds.Payment(payee=funds.payee_for_person(student.person), amount=amount,
                            entitlement=ENTRANT_ITEM, period=f"{year}-{term}")
    with transaction.atomic():
        txn = funds.payments_post(actor=actor, budget=budget, payments=[payment], date=date,
                                  decision_type="college_entrant_aid", decision_id=decision_id.strip())
        aid = CollegeAid.objects.create(student=student, kind=CollegeAidKind.ENTRANT, year=year,
                                        amount=amount, transaction=txn)
        audit.record(actor, AuditAction.CREATE, object_type="college_student", object_id=student.pk,
                     household_id=student.person.household_id,
                     summary=f"发放大学新生入学资助（{year}年{'秋季' if term == 'autumn' else '春季'}学期）："
                                                  f"{student.person.name} {fen_to_yuan_str(amount)} 元")
    return aid


def students_for(user: User, region_code: str):
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    return CollegeStudent.objects.filter(person__household__village_id__gte=lo, person__household__village_id__lte=hi)


def household_section(user: User, household) -> dict:
    students = list(CollegeStudent.objects.filter(person__household=household).select_related("person")
                    .prefetch_related("aid"))
    return {"students": students, "can_write": access.may(user, Cap.WRITE) or access.may(user, Cap.EDU_MANAGE)}
