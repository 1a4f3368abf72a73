"""Student roster from Excel, with the foundation's importer rules: all or nothing, an error
workbook, idempotent re-import (upsert by ID number and semester)."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from fupin.core import access, audit
from fupin.core.models import AuditAction, User
from fupin.core.roles import Cap
from fupin.exchange import excel
from fupin.exchange.excel import CellError, Column, FileRejected, Problem

from .models import MAX_GRADE, Enrolment, EnrolmentStatus, School, Stage
from .services import parse_semester


def _semester(value):
    if excel.is_blank(value):
        return ""
    s = str(value).strip()
    s = s.replace("秋季", "autumn").replace("春季", "spring").replace("年", "-").replace("学期", "")
    try:
        parse_semester(s)
    except Exception:
        raise CellError(f"学期“{value}”应写作 2024-autumn、2024年秋季 等") from None
    return s


def _id(value):
    from fupin.core import idcard
    r = idcard.check(value)
    if not r.valid:
        raise CellError(r.error)
    return r.id


def _yuan(value):
    """A cell in yuan → fen: the cell reader makes it an exact Decimal, the one money parser
    checks and converts it (the same rule as the forms and the API)."""
    from fupin.policy.money import MoneyError, parse_yuan

    d = excel.decimal(2, 1_000_000)(value)
    try:
        return 0 if d is None else parse_yuan(d, "金额")
    except MoneyError as exc:
        raise CellError(exc.problem) from None


COLUMNS = [
    Column("school", "学校代码", excel.text(20), required=True),
    Column("semester", "学期", _semester, required=True, note="如 2024-autumn 或 2024年秋季"),
    Column("id_number", "身份证号", _id, required=True, aliases=("证件号码",)),
    Column("name", "姓名", excel.text(40)),
    Column("stage", "学段", excel.choice(Stage), required=True),
    Column("grade", "年级", excel.integer(1, 12), required=True),
    Column("boarding", "寄宿", excel.boolean),
    Column("status", "学籍状态", excel.choice(EnrolmentStatus)),
    Column("fee", "应缴费用", _yuan, aliases=("应缴费用（元）",), note="本学期应缴保教费或学费，元"),
]


@dataclass
class RosterReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    error_workbook: bytes | None = None

    @property
    def ok(self):
        return not self.problems


def import_roster(user: User, data: bytes, filename: str = "", *, dry_run: bool = False) -> RosterReport:
    access.require(user, Cap.EDU_MANAGE, what="导入学生名册")  # the school aid office's own roster
    report = RosterReport()
    try:
        table = excel.read_table(data, COLUMNS, filename=filename)
    except FileRejected as exc:
        report.problems.append(Problem(None, None, None, None, exc.message))
        return report
    problems = table.problems
    pos = table.positions

    def bad(row, key, value, message):
        col = next(c for c in COLUMNS if c.key == key)
        problems.append(Problem(row, excel._letter(pos.get(key)), col.header, value, message))

    schools = {s.code: s for s in School.objects.filter(code__in={v.get("school") for _, v in table.rows})}
    people = {p.id_number: p for p in access.persons_for(user).filter(
        id_number__in={v.get("id_number") for _, v in table.rows if v.get("id_number")})}
    seen = {}
    wanted = []
    for row, v in table.rows:
        school = schools.get(v.get("school"))
        if v.get("school") and school is None:
            bad(row, "school", v["school"], f"学校代码 {v['school']} 不存在")
        elif school is not None and not access.in_scope(user, school.region_id):
            bad(row, "school", v["school"], f"学校 {school.name} 不在您的管辖范围内")
        pid = v.get("id_number")
        person = people.get(pid) if pid else None
        if pid and person is None:
            bad(row, "id_number", pid, "此人不在户籍库中（或不在您的管辖范围内），请先登记人员")
        elif person is not None and v.get("name") and v["name"] != person.name:
            bad(row, "name", v["name"], f"与户籍库中的姓名“{person.name}”不一致")
        top = MAX_GRADE.get(v.get("stage"))
        if top and v.get("grade") and v["grade"] > top:
            bad(row, "grade", v["grade"], f"{Stage(v['stage']).label}只有1–{top}年级")
        key = (pid, v.get("semester"))
        if pid and key in seen:
            bad(row, "id_number", pid, f"与第{seen[key]}行是同一学生同一学期")
        seen[key] = row
        if school and person:
            wanted.append((school, person, v))
    if problems:
        report.problems = sorted(problems, key=lambda p: (p.row or 0, p.column or ""))
        report.error_workbook = excel.error_workbook(table, report.problems)
        return report
    existing = {(e.person_id, e.semester): e for e in Enrolment.objects.filter(
        person__in=[p for _, p, _ in wanted], semester__in={v["semester"] for _, _, v in wanted})}
    with transaction.atomic():
        for school, person, v in wanted:
            values = dict(school=school, stage=v["stage"], grade=v["grade"], boarding=bool(v.get("boarding")),
                          status=v.get("status") or EnrolmentStatus.ENROLLED, fee=v.get("fee") or 0)
            e = existing.get((person.pk, v["semester"]))
            if e is None:
                report.created += 1
                if not dry_run:
                    Enrolment.objects.create(person=person, semester=v["semester"], **values)
            elif any(getattr(e, k) != val for k, val in values.items()):
                report.updated += 1
                if not dry_run:
                    for k, val in values.items():
                        setattr(e, k, val)
                    e.save()
            else:
                report.unchanged += 1
        if not dry_run:
            audit.record(user, AuditAction.IMPORT, object_type="roster", object_id=filename[:60],
                         summary=f"导入学生名册：新增 {report.created}、更新 {report.updated}、无变化 {report.unchanged}")
    return report
