"""The school register in and out of Excel: one row per school and grade (the register's columns
repeat on each row of a school; a school without grade figures is one row with those cells empty).
All or nothing, with an error workbook; re-importing the same file changes nothing."""
from __future__ import annotations

import io

from django.db import transaction

from fupin.core import access, audit
from fupin.core.errors import InvalidInput
from fupin.core.models import AuditAction, Region, User
from fupin.core.roles import Cap
from fupin.education.models import School, Stage
from fupin.exchange import excel
from fupin.exchange.excel import Column, FileRejected, ImportReport, Problem

from . import services
from .models import GradeCount, Profile, SchoolKind

N = services.COUNT_MAX
COLUMNS = [
    Column("code", "学校代码", excel.text(20), required=True, aliases=("学校标识码",)),
    Column("name", "学校名称", excel.text(80)),
    Column("kind", "学校类型", excel.choice(SchoolKind), required=True, note="幼儿园、村小/教学点、小学、初级中学……"),
    Column("village", "所在村代码", excel.digits(12, 12, "村代码"), note="12位统计用区划代码"),
    Column("boarding", "寄宿制学校", excel.boolean),
    Column("weak", "改薄学校", excel.boolean, aliases=("薄弱学校",)),
    Column("year", "学年", excel.integer(1990, 2100), note="秋季开学那年，如 2026 表示 2026—2027 学年"),
    Column("stage", "学段", excel.choice(Stage)),
    Column("grade", "年级", excel.integer(1, 6)),
    Column("classes", "班数", excel.integer(0, N)),
    Column("pupils", "在校生数", excel.integer(0, N), aliases=("学生数",)),
    Column("boarders", "寄宿生数", excel.integer(0, N)),
]
HEADERS = [c.header for c in COLUMNS]
GRADE = ("year", "stage", "grade", "classes", "pupils", "boarders")


def import_register(user: User, data: bytes, filename: str = "") -> ImportReport:
    access.require(user, Cap.SCHOOL_MANAGE, what="导入学校档案")
    report = ImportReport()
    try:
        table = excel.read_table(data, COLUMNS, filename=filename)
    except FileRejected as exc:
        report.problems.append(Problem(None, None, None, None, exc.message))
        return report
    problems, pos = table.problems, table.positions

    def bad(row, key, value, message):
        col = next(c for c in COLUMNS if c.key == key)
        problems.append(Problem(row, excel._letter(pos.get(key)), col.header, value, message))

    schools = {s.code: s for s in School.objects.filter(code__in={v.get("code") for _, v in table.rows})
               .select_related("region")}
    profiles: dict[str, tuple[int, dict]] = {}
    grades: dict[tuple, int] = {}
    wanted_grades = []
    new_schools: dict[str, School] = {}   # codes not yet in the school register: created by this import
    for row, v in table.rows:
        school = schools.get(v.get("code")) or new_schools.get(v.get("code"))
        if school is None and v.get("code"):
            # A school new to the register (a new county starts from an empty one): it needs its
            # name, and sits in the row's village, or else in the importer's own region.
            if not v.get("name"):
                bad(row, "name", v.get("name"), f"学校代码 {v['code']} 不在学校库中；新增学校须填写学校名称")
                continue
            region = v.get("village") or user.region_id
            if not Region.objects.filter(code=region).exists() or not access.in_scope(user, region):
                bad(row, "village", v.get("village"), f"村代码 {region} 不存在或不在您的管辖范围内")
                continue
            school = new_schools[v["code"]] = School(code=v["code"], name=v["name"], region_id=region)
        elif school is None or not access.in_scope(user, school.region_id):
            bad(row, "code", v.get("code"), f"学校代码 {v.get('code')} 不存在或不在您的管辖范围内")
            continue
        if v.get("name") and v["name"] != school.name:
            bad(row, "name", v["name"], f"与学校库中的名称“{school.name}”不一致")
        values = {"kind": v.get("kind"), "village": v.get("village") or "", "boarding": bool(v.get("boarding")),
                  "weak": bool(v.get("weak"))}
        try:
            clean = services.validate_profile(user, school, values)
        except InvalidInput as exc:
            keys = {"学校类型": "kind", "所在村": "village", "寄宿制学校": "boarding", "改薄学校": "weak"}
            for label, message in exc.errors.items():
                bad(row, keys.get(label, "kind"), v.get(keys.get(label, "kind")), message)
            continue
        if school.code in profiles and profiles[school.code][1] != clean:
            bad(row, "kind", v.get("kind"), f"同一学校在第{profiles[school.code][0]}行的类型、所在村、寄宿或改薄与本行不同")
        profiles.setdefault(school.code, (row, clean))
        g = {k: v.get(k) for k in GRADE}
        if any(x not in (None, "") for x in g.values()):
            g = {k: (0 if x in (None, "") and k in ("classes", "pupils", "boarders") else x) for k, x in g.items()}
            try:
                services.validate_grade(g["year"], g["stage"], g["grade"], g["classes"], g["pupils"], g["boarders"])
            except InvalidInput as exc:
                keys = {"学年": "year", "学段": "stage", "年级": "grade", "班数": "classes", "在校生数": "pupils",
                        "寄宿生数": "boarders"}
                for label, message in exc.errors.items():
                    bad(row, keys[label], g.get(keys[label]), message)
                continue
            key = (school.code, g["year"], g["stage"], g["grade"])
            if key in grades:
                bad(row, "grade", g["grade"], f"与第{grades[key]}行是同一学校、学年、学段和年级")
            grades[key] = row
            wanted_grades.append((school, g))
    if problems:
        report.problems = sorted(problems, key=lambda p: (p.row or 0, p.column or ""))
        report.error_workbook = excel.error_workbook(table, report.problems)
        return report
    with transaction.atomic():
        for school in new_schools.values():
            school.save()
            audit.record(user, AuditAction.CREATE, object_type="school", object_id=school.code,
                         summary=f"新增学校 {school.name}（导入学校档案）")
        schools.update(new_schools)
        existing = set(Profile.objects.filter(school__code__in=list(profiles)).values_list("school__code", flat=True))
        changed_schools = set()
        for code, (_, clean) in profiles.items():
            if services._profile(user, schools[code], clean)[1]:
                changed_schools.add(code)
        for school, g in wanted_grades:
            if services._grade(user, school, g["year"], g["stage"], g["grade"], g["classes"], g["pupils"], g["boarders"]):
                changed_schools.add(school.code)
        for code in profiles:
            if code not in existing:
                report.created += 1
            elif code in changed_schools:
                report.updated += 1
            else:
                report.unchanged += 1
        audit.record(user, AuditAction.IMPORT, object_type="school_register", object_id=filename[:60],
                     summary=f"导入学校档案：新增 {report.created}、更新 {report.updated}、无变化 {report.unchanged}")
    return report


def _yes(v: bool) -> str:
    return "是" if v else "否"


def export_register(user: User, schools) -> bytes:
    """The listed schools in the import layout: one row per grade of the latest school year."""
    from openpyxl import Workbook

    access.require(user, Cap.EXPORT, what="导出学校档案")
    schools = list(schools)
    profiles = {p.school_id: p for p in Profile.objects.filter(school__in=schools)}
    by_school: dict[int, list[GradeCount]] = {}
    for g in GradeCount.objects.filter(school__in=schools).order_by("school_id", "-year", "stage", "grade"):
        rows = by_school.setdefault(g.school_id, [])
        if not rows or rows[0].year == g.year:
            rows.append(g)
    out_rows = []
    for s in schools:
        p = profiles.get(s.pk)
        if p is None:
            continue
        head = [s.code, s.name, p.get_kind_display(), p.village_id or "", _yes(p.boarding), _yes(p.weak)]
        gs = by_school.get(s.pk) or [None]
        for g in gs:
            out_rows.append(head + ([g.year, Stage(g.stage).label, g.grade, g.classes, g.pupils, g.boarders] if g else [None] * 6))
    wb = Workbook(write_only=True)
    excel.write_sheet(wb.create_sheet("学校档案"), HEADERS, out_rows)
    out = io.BytesIO()
    wb.save(out)
    audit.record(user, AuditAction.EXPORT, object_type="school_register", object_id=user.region_id or "",
                 summary=f"导出学校档案：{len(profiles)} 所学校，{len(out_rows)} 行")
    return out.getvalue()


def template_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    excel.write_sheet(wb.create_sheet("学校档案"), HEADERS, [])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- teachers ------------------------------------------------------------------------------------

from .models import Teacher, TeacherKind  # noqa: E402

TEACHER_COLUMNS = [
    Column("code", "学校代码", excel.text(20), required=True),
    Column("name", "姓名", excel.text(40), required=True),
    Column("kind", "类别", excel.choice(TeacherKind), required=True, note="本校教师、特岗教师、城市支教教师、挂职校长……"),
    Column("home_unit", "派出单位", excel.text(80)),
    Column("subject", "任教学科", excel.text(40)),
    Column("start", "到岗日期", excel.date, required=True),
    Column("end", "离岗日期", excel.date),
    Column("living_allowance", "享受乡村教师生活补助", excel.boolean),
]
TEACHER_HEADERS = [c.header for c in TEACHER_COLUMNS]


def import_teachers(user: User, data: bytes, filename: str = "") -> ImportReport:
    """Teachers by school, name, kind and arrival date (the same four again: unchanged, or the other
    fields updated). All or nothing; each row through the same checks as the form."""
    access.require(user, Cap.SCHOOL_MANAGE, what="导入教师")
    report = ImportReport()
    try:
        table = excel.read_table(data, TEACHER_COLUMNS, filename=filename)
    except FileRejected as exc:
        report.problems.append(Problem(None, None, None, None, exc.message))
        return report
    problems, pos = table.problems, table.positions

    def bad(row, key, value, message):
        col = next(c for c in TEACHER_COLUMNS if c.key == key)
        problems.append(Problem(row, excel._letter(pos.get(key)), col.header, value, message))

    unreadable = {p.row for p in problems}
    schools = {s.code: s for s in School.objects.filter(code__in={v.get("code") for _, v in table.rows})}
    seen, wanted = {}, []
    for row, v in table.rows:
        if row in unreadable:
            continue
        school = schools.get(v["code"])
        if school is None or not access.in_scope(user, school.region_id):
            bad(row, "code", v["code"], f"学校代码 {v['code']} 不存在或不在您的管辖范围内")
            continue
        try:
            services.validate_teacher(v["name"], v["kind"], v.get("home_unit") or "", v.get("subject") or "",
                                      v["start"], v.get("end"))
        except InvalidInput as exc:
            keys = {"姓名": "name", "类别": "kind", "派出单位": "home_unit", "离岗日期": "end"}
            for label, message in exc.errors.items():
                bad(row, keys.get(label, "name"), v.get(keys.get(label, "name")), message)
            continue
        key = (school.pk, v["name"].strip(), v["kind"], v["start"])
        if key in seen:
            bad(row, "name", v["name"], f"与第{seen[key]}行是同一学校、姓名、类别和到岗日期")
        seen[key] = row
        wanted.append((school, v))
    if problems:
        report.problems = sorted(problems, key=lambda p: (p.row or 0, p.column or ""))
        report.error_workbook = excel.error_workbook(table, report.problems)
        return report
    with transaction.atomic():
        for school, v in wanted:
            values = {"home_unit": (v.get("home_unit") or "").strip(), "subject": (v.get("subject") or "").strip(),
                      "end": v.get("end"), "living_allowance": bool(v.get("living_allowance"))}
            t = Teacher.objects.filter(school=school, name=v["name"].strip(), kind=v["kind"], start=v["start"]).first()
            if t is None:
                t = Teacher.objects.create(school=school, name=v["name"].strip(), kind=v["kind"], start=v["start"],
                                           created_by=user, **values)
                audit.record(user, AuditAction.CREATE, object_type="school_teacher", object_id=school.code,
                             summary=f"{school.name}登记{t.get_kind_display()} {t.name}（{t.start} 到岗，导入）")
                report.created += 1
            elif any(getattr(t, k) != x for k, x in values.items()):
                changed = audit.changes({k: getattr(t, k) for k in values}, values)
                for k, x in values.items():
                    setattr(t, k, x)
                t.save()
                audit.record(user, AuditAction.UPDATE, object_type="school_teacher", object_id=school.code,
                             summary=f"{school.name} {t.name} 的登记信息按导入更新", detail={"changes": changed})
                report.updated += 1
            else:
                report.unchanged += 1
        audit.record(user, AuditAction.IMPORT, object_type="school_teacher", object_id=filename[:60],
                     summary=f"导入教师：新增 {report.created}、更新 {report.updated}、无变化 {report.unchanged}")
    return report


def teacher_template_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    excel.write_sheet(wb.create_sheet("教师"), TEACHER_HEADERS, [])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
