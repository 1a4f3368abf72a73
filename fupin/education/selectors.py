"""Reads: review lists, payment lists, dropout control, a household's entitlements."""
from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict

from django.db.models import Count, Q
from django.utils import timezone
from openpyxl import Workbook

from fupin.core import access, audit, idcard
from fupin.core.models import User
from fupin.core.roles import Cap
from fupin.exchange.excel import safe
from fupin.policy.engine import run_case
from fupin.policy.money import yuan
from fupin.policy.rules.education import MODEL

from .models import Enrolment, EnrolmentStatus, Stage
from .services import _access_run, packs, parse_semester, semester_start, student_case

LABELS = {r.name: r.label for r in MODEL.rules}


def review(user: User, run_id: int):
    """Per school: its lines with student and item, and the school total."""
    run = _access_run(user, run_id)
    schools = defaultdict(lambda: {"lines": [], "total": 0})
    for line in (run.lines.select_related("person", "school", "enrolment").order_by("school__code", "person__name", "item")):
        s = schools[line.school]
        line.label = LABELS.get(line.item, line.item)
        s["lines"].append(line)
        s["total"] += line.amount
    return run, dict(schools)


def payment_list(user: User, run_id: int) -> bytes:
    """One sheet per school (the layout schools sign and post), plus a summary."""
    access.require(user, Cap.EXPORT)
    run = _access_run(user, run_id)
    full = access.may(user, Cap.REVEAL_ID)
    wb = Workbook(write_only=True)
    summary = wb.create_sheet("汇总")
    summary.append(["学校代码", "学校名称", "人数", "笔数", "金额（元）"])
    per_school = defaultdict(list)
    for line in run.lines.select_related("person", "school", "enrolment").order_by("school__code", "person__name", "item"):
        per_school[line.school].append(line)
    for school, lines in per_school.items():
        ws = wb.create_sheet(f"{school.code}"[:31])
        ws.append([f"{school.name} {run.semester} 教育资助发放名单（计算编号 {run.pk}）"])
        ws.append(["序号", "姓名", "身份证号", "学段", "年级", "项目", "金额（元）", "学生或家长签字"])
        for i, line in enumerate(lines, start=1):
            ws.append([i, safe(line.person.name),
                       line.person.id_number if full else idcard.mask(line.person.id_number),
                       Stage(line.enrolment.stage).label, line.enrolment.grade, LABELS.get(line.item, line.item),
                       yuan(line.amount), ""])
        total = sum(x.amount for x in lines)
        ws.append(["合计", "", "", "", "", "", yuan(total), ""])
        summary.append([school.code, school.name, len({x.person_id for x in lines}), len(lines),
                        yuan(total)])
    out = io.BytesIO()
    wb.save(out)
    audit.export(user, what=f"导出资助发放名单（计算 {run.pk}，{len(per_school)} 所学校）", object_type="subsidy_run",
                 object_id=run.pk, persons=len({x.person_id for lines in per_school.values() for x in lines}),
                 full_ids=full)
    return out.getvalue()


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def dropout_list(user: User, township_code: str, semester: str):
    """Every registered child of compulsory-school age in the township who is not enrolled."""
    region = access.access_region(user, township_code)
    year, _ = parse_semester(semester)
    start = semester_start(semester, region.code)
    chain = packs().for_region(region.code)
    age_from = chain.lookup("education.compulsory_age.from", start).value
    age_to = chain.lookup("education.compulsory_age.to", start).value
    cutoff = dt.date(start.year, 8, 31) if start.month >= 9 else dt.date(start.year - 1, 8, 31)
    # born after cutoff - age_to years and on or before cutoff - age_from years
    oldest = dt.date(cutoff.year - age_to, cutoff.month, cutoff.day) + dt.timedelta(days=1)
    youngest = dt.date(cutoff.year - age_from, cutoff.month, cutoff.day)
    lo, hi = region.code_range()
    children = (access.persons_for(user).filter(alive=True, birth_date__gte=oldest, birth_date__lte=youngest,
                                                household__village_id__gte=lo, household__village_id__lte=hi)
                .select_related("household__village"))
    enrolled = set(Enrolment.objects.filter(semester=semester, status=EnrolmentStatus.ENROLLED,
                                            person__in=children).values_list("person_id", flat=True))
    missing = [c for c in children.order_by("household__village_id", "household__number", "birth_date")
               if c.pk not in enrolled]
    heads = dict(access.persons_for(user).filter(household_id__in={c.household_id for c in missing}, relation="head",
                                                 alive=True).values_list("household_id", "name"))
    for c in missing:
        c.parent_name = heads.get(c.household_id, "")  # the parent in the five-heads roster
    total = children.count()
    target = chain.lookup("education.dropout_target_rate", start).value
    return {"region": region, "semester": semester, "children": total, "missing": missing,
            "rate_permille": (len(missing) * 1000 // total) if total else 0,
            "target_permille": target // 1000, "meets_target": total == 0 or len(missing) * 1_000_000 <= target * total}


def dropout_rates_by_school(user: User, township_code: str, semester: str):
    region = access.access_region(user, township_code)
    lo, hi = region.code_range()
    rows = (Enrolment.objects.filter(semester=semester, school__region_id__gte=lo, school__region_id__lte=hi,
                                     stage__in=[Stage.PRIMARY, Stage.JUNIOR])
            .values("school__code", "school__name")
            .annotate(total=Count("id"), dropped=Count("id", filter=Q(status=EnrolmentStatus.DROPPED)))
            .order_by("school__code"))
    target = packs().for_region(region.code).lookup("education.dropout_target_rate", semester_start(semester, region.code)).value
    return [dict(r, rate_permille=r["dropped"] * 1000 // r["total"] if r["total"] else 0,
                 meets_target=r["dropped"] * 1_000_000 <= target * r["total"]) for r in rows]


def household_entitlements(user: User, household, today: dt.date | None = None):
    """This year's education entitlements of a household's enrolled members, with explanations."""
    today = today or timezone.localdate()
    enrolments = (Enrolment.objects.filter(person__household=household, status=EnrolmentStatus.ENROLLED,
                                           semester__in=[f"{today.year}-spring", f"{today.year}-autumn"])
                  .select_related("person__household", "school").order_by("person_id", "semester"))
    rows = []
    for e in enrolments:
        for r in run_case(MODEL, student_case(e), packs()):
            if r.amount:
                rows.append({"person": e.person, "semester": e.semester, "school": e.school, "label": r.label,
                             "amount": r.amount, "explanation": r.explanation})
    return rows


def roster_summary(user: User) -> list[dict]:
    """The rosters of the schools in the user's region: per school and semester, how many pupils
    (in school, and in all) and in which stages — what a school aid officer checks before a run."""
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    rows = (Enrolment.objects.filter(school__region_id__gte=lo, school__region_id__lte=hi)
            .values("school__name", "school__code", "semester")
            .annotate(total=Count("id"), enrolled=Count("id", filter=Q(status=EnrolmentStatus.ENROLLED)),
                      boarding=Count("id", filter=Q(boarding=True)))
            .order_by("-semester", "school__code"))
    return [dict(r, semester_label=_semester_label(r["semester"])) for r in rows[:200]]


def _semester_label(code: str) -> str:
    """“2026-autumn” as officials write it: 2026年秋季学期."""
    year, _, season = code.partition("-")
    return f"{year}年{'春季' if season == 'spring' else '秋季' if season == 'autumn' else season}学期"
