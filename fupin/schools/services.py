"""Writes of the schools room: the register of a school, its enrolment by grade, teachers, and the
follow-up of “两后生”. Access is checked before a transaction opens (a refusal's audit row stays);
each change writes its audit event in the same transaction."""
from __future__ import annotations

import datetime as dt

from django.db import transaction

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, Level, Region, User
from fupin.core.roles import Cap
from fupin.education.models import MAX_GRADE, School, Stage

from .models import Followup, GradeCount, Outcome, Profile, SchoolKind, Teacher, TeacherKind

COUNT_MAX = 100_000   # pupils or classes in one grade of one school: a typing error above this


def access_school(user: User, code: str, cap: str = Cap.READ) -> School:
    """A school of the user's region (by its code); other regions' schools are not found."""
    access.require(user, cap)
    school = School.objects.select_related("region").filter(code=code).first()
    if school is None or not access.in_scope(user, school.region_id):
        raise NotFound(f"找不到学校 {code[:20]}，或不在您的管辖范围内")
    return school


def validate_profile(user: User, school: School, values: dict) -> dict:
    """The one validation of a school's register (form and import): clean values or InvalidInput."""
    errors, clean = {}, {}
    if values.get("kind") not in SchoolKind.values:
        errors["学校类型"] = f"应为{'、'.join(SchoolKind.labels)}之一"
    else:
        clean["kind"] = values["kind"]
    village = values.get("village") or ""
    if village:
        region = Region.objects.filter(code=village, level=Level.VILLAGE).first()
        if region is None or not access.in_scope(user, village):
            errors["所在村"] = f"村代码 {village[:20]} 不存在或不在您的管辖范围内"
        elif region.code[:6] != school.region_id[:6]:
            errors["所在村"] = f"{region.name}不在学校所在的县"
        else:
            clean["village"] = region
    else:
        clean["village"] = None
    for f, label in (("boarding", "寄宿制学校"), ("weak", "改薄学校")):
        if not isinstance(values.get(f, False), bool):
            errors[label] = "应为“是”或“否”"
        clean[f] = bool(values.get(f, False))
    if errors:
        raise InvalidInput(errors)
    return clean


def _profile(actor: User, school: School, clean: dict) -> tuple[Profile, bool]:
    """Inside the caller's transaction: create or update; audit what changed. (profile, changed)"""
    p = Profile.objects.select_for_update().filter(school=school).first()
    created = p is None
    fields = ("kind", "village_id", "boarding", "weak")
    before = {} if created else {f: getattr(p, f) for f in fields}
    p = p or Profile(school=school)
    for f, v in clean.items():
        setattr(p, f, v)
    after = {f: getattr(p, f) for f in fields}
    changed = audit.changes(before, after)
    if created or changed:
        p.save()
        audit.record(actor, AuditAction.CREATE if created else AuditAction.UPDATE, object_type="school",
                     object_id=school.code, summary=f"{'建立' if created else '修改'}{school.name}学校档案",
                     detail={"changes": changed})
    return p, created or bool(changed)


def profile_save(*, actor: User, code: str, values: dict) -> Profile:
    school = access_school(actor, code, Cap.SCHOOL_MANAGE)
    clean = validate_profile(actor, school, values)
    with transaction.atomic():
        return _profile(actor, school, clean)[0]


def validate_grade(year, stage, grade, classes, pupils, boarders) -> None:
    errors = {}
    if not isinstance(year, int) or not 1990 <= year <= 2100:
        errors["学年"] = "应为四位年份（秋季开学那年）"
    if stage not in Stage.values or stage == Stage.COLLEGE:
        errors["学段"] = "应为学前、小学、初中、普通高中或中职"
    elif not isinstance(grade, int) or not 1 <= grade <= MAX_GRADE[Stage(stage)]:
        errors["年级"] = f"{Stage(stage).label}的年级应为 1 到 {MAX_GRADE[Stage(stage)]}"
    for label, v in (("班数", classes), ("在校生数", pupils), ("寄宿生数", boarders)):
        if not isinstance(v, int) or not 0 <= v <= COUNT_MAX:
            errors[label] = f"应为 0 到 {COUNT_MAX} 的整数"
    if not errors and boarders > pupils:
        errors["寄宿生数"] = f"寄宿生 {boarders} 人多于在校生 {pupils} 人"
    if errors:
        raise InvalidInput(errors)


def _grade(actor: User, school: School, year, stage, grade, classes, pupils, boarders) -> bool:
    """Inside the caller's transaction: set one grade's figures; True if anything changed."""
    values = {"classes": classes, "pupils": pupils, "boarders": boarders}
    g = GradeCount.objects.filter(school=school, year=year, stage=stage, grade=grade).first()
    before = {} if g is None else {k: getattr(g, k) for k in values}
    changed = audit.changes(before, values)
    if g is not None and not changed:
        return False
    GradeCount.objects.update_or_create(school=school, year=year, stage=stage, grade=grade, defaults=values)
    audit.record(actor, AuditAction.UPDATE, object_type="school_grades", object_id=school.code,
                 summary=f"{school.name} {year}学年{Stage(stage).label}{grade}年级：{classes} 个班，{pupils} 人，寄宿 {boarders} 人",
                 detail={"year": year, "stage": stage, "grade": grade, "changes": changed})
    return True


def grade_save(*, actor: User, code: str, year: int, stage: str, grade: int, classes: int, pupils: int,
               boarders: int) -> None:
    school = access_school(actor, code, Cap.SCHOOL_MANAGE)
    validate_grade(year, stage, grade, classes, pupils, boarders)
    with transaction.atomic():
        _grade(actor, school, year, stage, grade, classes, pupils, boarders)


def validate_teacher(name: str, kind: str, home_unit: str, subject: str, start: dt.date, end: dt.date | None) -> None:
    """The one validation of a teacher (form and import)."""
    errors = {}
    if not name.strip() or len(name) > 40:
        errors["姓名"] = "必须填写，最多 40 字"
    if kind not in TeacherKind.values:
        errors["类别"] = f"应为{'、'.join(TeacherKind.labels)}之一"
    elif kind not in (TeacherKind.RESIDENT, TeacherKind.SPECIAL_POST) and not home_unit.strip():
        errors["派出单位"] = "支教、挂职、交流和实习人员须填写派出单位"
    if len(home_unit) > 80 or len(subject) > 40:
        errors["派出单位"] = "派出单位最多 80 字，任教学科最多 40 字"
    if end is not None and end < start:
        errors["离岗日期"] = f"不能早于到岗日期 {start}"
    if errors:
        raise InvalidInput(errors)


def teacher_add(*, actor: User, code: str, name: str, kind: str, start: dt.date, home_unit: str = "",
                subject: str = "", end: dt.date | None = None, living_allowance: bool = False) -> Teacher:
    school = access_school(actor, code, Cap.SCHOOL_MANAGE)
    validate_teacher(name, kind, home_unit, subject, start, end)
    with transaction.atomic():
        t = Teacher.objects.create(school=school, name=name.strip(), kind=kind, home_unit=home_unit.strip(),
                                   subject=subject.strip(), start=start, end=end, living_allowance=living_allowance,
                                   created_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="school_teacher", object_id=school.code,
                     summary=f"{school.name}登记{TeacherKind(kind).label} {t.name}（{start} 到岗）")
    return t


def teacher_leave(*, actor: User, code: str, teacher_id: int, end: dt.date) -> Teacher:
    school = access_school(actor, code, Cap.SCHOOL_MANAGE)
    with transaction.atomic():
        t = Teacher.objects.select_for_update().filter(pk=teacher_id, school=school).first()
        if t is None:
            raise NotFound("找不到这位教师，或不在这所学校")
        if t.end is not None:
            raise FupinError(f"{t.name} 已于 {t.end} 离岗")
        if end < t.start:
            raise InvalidInput({"离岗日期": f"不能早于到岗日期 {t.start}"})
        t.end = end
        t.save(update_fields=["end"])
        audit.record(actor, AuditAction.UPDATE, object_type="school_teacher", object_id=school.code,
                     summary=f"{school.name} {t.get_kind_display()} {t.name} 于 {end} 离岗")
    return t


def followup_record(*, actor: User, person_id: int, date: dt.date, outcome: str, place: str = "",
                    note: str = "") -> Followup:
    """One follow-up of a 两后生 (the person must be of the user's region)."""
    person = access.access_person(actor, person_id, Cap.SCHOOL_MANAGE)
    errors = {}
    if outcome not in Outcome.values:
        errors["去向"] = f"应为{'、'.join(Outcome.labels)}之一"
    elif outcome in (Outcome.VOCATIONAL, Outcome.TRAINING, Outcome.RESUMED, Outcome.EMPLOYED) and not place.strip():
        errors["学校或培训机构、单位"] = "已有去向的，请填写学校、培训机构或单位"
    if len(place) > 80 or len(note) > 300:
        errors["情况说明"] = "学校或单位最多 80 字，说明最多 300 字"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        f = Followup.objects.create(person=person, date=date, outcome=outcome, place=place.strip(), note=note.strip(),
                                    recorded_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="lianghou_followup", object_id=person.pk,
                     household_id=person.household_id,
                     summary=f"两后生跟踪：{person.name} {Outcome(outcome).label}{f'（{f.place}）' if f.place else ''}")
    return f


# ---- teachers' duties to poor students (seed 000: 每月一次谈心谈话、每学期三次家访) --------------------

def mentor_assign(*, actor: User, teacher_id: int, person_id: int, semester: str):
    """A teacher of a school takes on one of its roster's students for the semester."""
    from fupin.education.models import Enrolment
    from fupin.policy import semester as semesters
    from fupin.policy.semester import SemesterError

    from .models import Mentor

    access.require(actor, Cap.SCHOOL_MANAGE)
    lo, hi = access.scope_range(actor)
    teacher = Teacher.objects.select_related("school").filter(pk=teacher_id, school__region_id__gte=lo,
                                                                school__region_id__lte=hi).first()
    if teacher is None:
        raise NotFound("找不到这位教师，或不在您的管辖范围内")
    try:
        sem = semesters.code(semester)
    except SemesterError as exc:
        raise InvalidInput({"学期": exc.message}) from None
    person = access.access_person(actor, person_id)
    if not Enrolment.objects.filter(person=person, school=teacher.school, semester=sem).exists():
        raise InvalidInput({"学生": f"{person.name} 不在{teacher.school.name}{semesters.label(sem)}的学生名册中"})
    with transaction.atomic():
        if Mentor.objects.select_for_update().filter(person=person, semester=sem).exists():
            raise FupinError(f"{person.name} {semesters.label(sem)}已有帮扶教师")
        m = Mentor.objects.create(teacher=teacher, person=person, semester=sem, assigned_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="school_mentor", object_id=m.pk, household_id=person.household_id,
                     summary=f"{teacher.school.name} {teacher.name} 帮扶学生 {person.name}（{semesters.label(sem)}）")
    return m


def contact_record(*, actor: User, mentor_id: int, kind: str, date: dt.date, note: str = ""):
    from fupin.policy import semester as semesters

    from .models import Contact, ContactKind, Mentor

    access.require(actor, Cap.SCHOOL_MANAGE)
    lo, hi = access.scope_range(actor)
    m = Mentor.objects.select_related("teacher", "person").filter(
        pk=mentor_id, teacher__school__region_id__gte=lo, teacher__school__region_id__lte=hi).first()
    if m is None:
        raise NotFound("找不到这条帮扶记录，或不在您的管辖范围内")
    if kind not in ContactKind.values:
        raise InvalidInput({"方式": "应为谈心谈话或家访"})
    if len(note) > 300:
        raise InvalidInput({"内容": "最多 300 字"})
    with transaction.atomic():
        c = Contact.objects.create(mentor=m, kind=kind, date=date, note=note.strip(), recorded_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="school_mentor", object_id=m.pk,
                     household_id=m.person.household_id,
                     summary=f"{m.teacher.name} 对 {m.person.name} {ContactKind(kind).label}（{date}，{semesters.label(m.semester)}）")
    return c


# ---- a condition gap closed by a project of the project library (fupin/projects) --------------------

def _gap(school: School, item_id):
    from fupin.plans.models import Item

    item = Item.objects.filter(pk=item_id, plan__school=school, quantity__isnull=False).first() \
        if str(item_id).isdigit() else None
    if item is None:
        raise NotFound("找不到该办学条件缺口，或它不属于这所学校")
    return item


def gap_project_link(*, actor: User, code: str, item_id, project_id):
    """Link a gap of the school's plan to a project in the project library that closes it (the
    project must lie in the user's region); once per gap and project; audited."""
    from fupin.projects.services import access_project

    from .models import GapProject

    school = access_school(actor, code, Cap.SCHOOL_MANAGE)
    item = _gap(school, item_id)
    if not str(project_id).strip():
        raise InvalidInput({"项目": "请从项目库中选择项目"})
    project = access_project(actor, project_id)
    if GapProject.objects.filter(item=item, project=project).exists():
        raise FupinError(f"“{item.target}”已关联项目“{project.name}”")
    with transaction.atomic():
        link = GapProject.objects.create(item=item, project=project, linked_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="school_gap_project", object_id=link.pk,
                     summary=f"{school.name}：缺口“{item.target}”关联项目“{project.name}”（{project.number}）")
    return link


def gap_project_unlink(*, actor: User, code: str, link_id) -> None:
    """Remove a wrong link between a gap and a project; audited."""
    from .models import GapProject

    school = access_school(actor, code, Cap.SCHOOL_MANAGE)
    link = GapProject.objects.select_related("item", "project").filter(pk=link_id, item__plan__school=school).first() \
        if str(link_id).isdigit() else None
    if link is None:
        raise NotFound("找不到该关联，或它不属于这所学校")
    with transaction.atomic():
        audit.record(actor, AuditAction.UPDATE, object_type="school_gap_project", object_id=link.pk,
                     summary=f"{school.name}：取消缺口“{link.item.target}”与项目“{link.project.name}”的关联")
        link.delete()
