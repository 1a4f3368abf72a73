"""Reads of the schools room: the register, a school with its gaps and teachers, the terms of
teachers sent to rural schools, enrolment rates by region against the pack's targets, and the
“两后生” list — each computed from the registry and the student roster (education.Enrolment)."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from fupin.core import access
from fupin.core.errors import FupinError
from fupin.core.models import Level, Region, User
from fupin.core.roles import Cap
from fupin.education.models import Enrolment, EnrolmentStatus, School, Stage
from fupin.policy import semester as semesters
from fupin.policy.errors import PolicyError
from fupin.policy.packs import RATIO_SCALE, shipped_packs

from .models import Followup, GradeCount, Profile, Teacher, TeacherKind


def _lookup(code: str, name: str, on: dt.date):
    try:
        return shipped_packs().for_region(code).lookup(name, on)
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def schools_for(user: User) -> QuerySet:
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return (School.objects.filter(region_id__gte=lo, region_id__lte=hi)
            .select_related("region", "profile__village").order_by("code"))


def school_detail(user: User, school: School, *, today: dt.date) -> dict:
    from fupin.plans.models import Item, ItemState

    profile = Profile.objects.select_related("village").filter(school=school).first()
    grades = list(GradeCount.objects.filter(school=school).order_by("-year", "stage", "grade"))
    latest = grades[0].year if grades else None
    teachers = list(Teacher.objects.filter(school=school).order_by("end", "kind", "-start", "id"))
    for t in teachers:
        t.term = term_check(t, today)
    gaps = list(Item.objects.filter(plan__school=school, quantity__isnull=False).select_related("plan")
                .order_by("-plan__year", "number", "id"))
    for i in gaps:
        i.overdue = i.state == ItemState.OPEN and i.due < today
    _gap_projects(user, gaps)
    this_year = [g for g in grades if g.year == latest]
    return {"profile": profile, "grades": this_year, "grade_year": latest,
            "totals": {"classes": sum(g.classes for g in this_year), "pupils": sum(g.pupils for g in this_year),
                       "boarders": sum(g.boarders for g in this_year)},
            "older_years": sorted({g.year for g in grades if g.year != latest}, reverse=True),
            "teachers": teachers, "gaps": gaps}


def _gap_projects(user: User, gaps: list) -> None:
    """Each gap's projects of the project library (`i.projects`), with the project's state and its
    latest recorded progress (percent, date); only projects inside the user's region are shown."""
    from fupin.projects.models import Progress

    from .models import GapProject

    lo, hi = access.scope_range(user)
    links = list(GapProject.objects.filter(item__in=gaps, project__region_id__gte=lo, project__region_id__lte=hi)
                 .select_related("project").order_by("item_id", "project__number", "id"))
    latest: dict[int, Progress] = {}
    for p in Progress.objects.filter(project__in=[lk.project_id for lk in links]).order_by("date", "id"):
        latest[p.project_id] = p
    by_item: dict[int, list] = {}
    for lk in links:
        p = latest.get(lk.project_id)
        lk.percent, lk.progress_on = (p.percent, p.date) if p else (None, None)
        by_item.setdefault(lk.item_id, []).append(lk)
    for i in gaps:
        i.projects = by_item.get(i.pk, [])


def gap_project_choices(user: User, school: School) -> list:
    """Projects of the library the school's gaps may be linked to: the user's region, the school's county."""
    from fupin.projects.models import Project

    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return list(Project.objects.filter(region_id__gte=lo, region_id__lte=hi, region__code__startswith=school.region_id[:6])
                .order_by("-year", "number").values_list("pk", "number", "name")[:500])


# ---- teachers sent to rural schools: the minimum term ----------------------------------------------

def months_served(start: dt.date, end: dt.date) -> int:
    """Whole months from `start` through `end` inclusive (1 Sept – 31 Aug next year is 12)."""
    after = end + dt.timedelta(days=1)
    return (after.year - start.year) * 12 + after.month - start.month - (1 if after.day < start.day else 0)


def term_check(t: Teacher, today: dt.date) -> dict | None:
    """For kinds with a minimum term in the pack (挂职校长, 支教, 顶岗实习): months served so far or
    in all, and whether the minimum is met (None while still serving and not yet reached)."""
    try:  # the terms in force when the person arrived; none then: nothing to check
        minimums = shipped_packs().for_region(t.school.region_id).lookup("schools.exchange.min_months", t.start).value
    except PolicyError:
        return None
    need = minimums.get(t.kind)
    if need is None:
        return None
    served = months_served(t.start, t.end or today)
    if served >= need:
        return {"met": True, "months": served, "need": need, "text": f"已满 {need} 个月（{served} 个月）"}
    if t.end is None:
        return {"met": None, "months": served, "need": need, "text": f"在岗 {served} 个月，须满 {need} 个月"}
    return {"met": False, "months": served, "need": need,
            "text": f"只在岗 {served} 个月即离岗，不足{TeacherKind(t.kind).label}最短 {need} 个月"}


def teachers_for(user: User) -> QuerySet:
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return Teacher.objects.filter(school__region_id__gte=lo, school__region_id__lte=hi).select_related("school")


# ---- enrolment rates by region and stage ---------------------------------------------------------

RATES = (("preschool", "学前三年毛入园率", "schools.target.preschool_gross_enrolment"),
         ("compulsory", "义务教育巩固率（适龄在校）", "schools.target.compulsory_retention"),
         ("entry", "初中毕业生升入高中阶段比例", "schools.target.high_school_entry"))
FINAL_JUNIOR_GRADE = 3   # 初三 (六三制); a 五四制 初四 counts as well (grade ≥ 3)


def school_year(code: str) -> int:
    """The year a semester's school year began: 2026年秋季 and 2027年春季 are the 2026 school year."""
    year, term = semesters.parse(code)
    return year if term == "autumn" else year - 1


def _born(as_of: dt.date, youngest: int, oldest: int) -> Q:
    """Aged youngest…oldest (whole years) on `as_of`."""
    return Q(birth_date__gt=as_of.replace(year=as_of.year - oldest - 1), birth_date__lte=as_of.replace(year=as_of.year - youngest))


def _by_village(qs, field: str) -> dict[str, int]:
    return dict(qs.values_list(field).annotate(n=Count("pk", distinct=True)).values_list(field, "n"))


def rates(user: User, region: Region, *, semester: str) -> dict:
    """Per township of `region` (and the total): numerator, denominator, rate and target of each rate.
    The population is the registry's persons of the pack's registered-poor statuses, alive; the
    numerators are roster rows of the semester (in school: status enrolled)."""
    from fupin.registry.models import Person

    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)          # a user bound to no region is refused here
    sem = semesters.code(semester)
    start = school_year(sem)
    ages = _lookup(region.code, "schools.rates.ages", dt.date(start, 9, 1)).value
    month, day = (int(x) for x in str(ages["as_of"]).split("-"))
    as_of = dt.date(start, month, day)
    statuses = list(_lookup(region.code, "education.registered_poor_statuses", as_of).value)
    rlo, rhi = region.code_range()
    lo, hi = max(lo, rlo), min(hi, rhi)
    persons = Person.objects.filter(alive=True, household__village_id__gte=lo, household__village_id__lte=hi,
                                    household__status__in=statuses)
    v = "household__village_id"
    in_school = Enrolment.objects.filter(person=OuterRef("pk"), semester=sem, status=EnrolmentStatus.ENROLLED)
    pre_age = persons.filter(_born(as_of, *ages["preschool"]))
    comp_age = persons.filter(_born(as_of, *ages["compulsory"]))
    cohort = persons.filter(Exists(Enrolment.objects.filter(
        person=OuterRef("pk"), semester=f"{start}-spring", stage=Stage.JUNIOR, grade__gte=FINAL_JUNIOR_GRADE,
        status__in=[EnrolmentStatus.ENROLLED, EnrolmentStatus.GRADUATED])))
    counts = {
        "preschool": (_by_village(persons.filter(Exists(in_school.filter(stage=Stage.PRESCHOOL))), v),
                      _by_village(pre_age, v)),
        "compulsory": (_by_village(comp_age.filter(Exists(in_school)), v), _by_village(comp_age, v)),
        "entry": (_by_village(cohort.filter(Exists(Enrolment.objects.filter(
            person=OuterRef("pk"), semester=f"{start}-autumn", status=EnrolmentStatus.ENROLLED,
            stage__in=[Stage.SENIOR, Stage.SEC_VOC]))), v), _by_village(cohort, v)),
    }
    townships = {r.code: r for r in Region.objects.filter(level=Level.TOWNSHIP, code__gte=lo, code__lte=hi)}
    parent = dict(Region.objects.filter(level=Level.VILLAGE, code__gte=lo, code__lte=hi).values_list("code", "parent_id"))
    rows = {code: {"region": t, "cells": {}} for code, t in sorted(townships.items())}
    total = {"region": region, "cells": {}}
    for key, label, target_name in RATES:
        num, den = counts[key]
        for code, row in list(rows.items()) + [("", total)]:
            villages = [c for c, p in parent.items() if p == code] if code else list(parent)
            n, d = sum(num.get(c, 0) for c in villages), sum(den.get(c, 0) for c in villages)
            row["cells"][key] = _cell(row["region"].code, target_name, n, d, as_of)
    return {"semester": sem, "label": semesters.label(sem), "as_of": as_of, "rates": RATES,
            "rows": [r for r in rows.values()], "total": total}


def _cell(code: str, target_name: str, n: int, d: int, on: dt.date) -> dict:
    try:
        target = shipped_packs().for_region(code).lookup(target_name, on)
    except PolicyError:
        target = None
    cell = {"num": n, "den": d, "rate": None, "target": None, "met": None, "source": ""}
    if d:
        cell["rate"] = round(n * 1000 / d) / 10       # shown: one decimal of a per cent
    if target is not None:
        cell["target"] = target.value * 100 / RATIO_SCALE
        cell["source"] = target.source
        if d:
            cell["met"] = n * RATIO_SCALE >= target.value * d   # exact integers, no rounding
    return cell


# ---- “两后生” ---------------------------------------------------------------------------------------

def lianghou(user: User, *, year: int) -> list[dict]:
    """Young people of registered-poor families in the user's region who were in the last grade of
    junior or senior high in the spring semester of `year` and are not in school in its autumn semester
    (the roster says so): the “两后生” of that year, each with its latest follow-up."""
    from fupin.registry.models import Person

    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    statuses = list(_lookup(user.region_id, "education.registered_poor_statuses", dt.date(year, 9, 1)).value)
    final = (Q(stage=Stage.JUNIOR, grade__gte=FINAL_JUNIOR_GRADE) | Q(stage=Stage.SENIOR, grade__gte=3))
    last = Enrolment.objects.filter(final, semester=f"{year}-spring",
                                    status__in=[EnrolmentStatus.ENROLLED, EnrolmentStatus.GRADUATED])
    persons = (Person.objects.filter(alive=True, household__village_id__gte=lo, household__village_id__lte=hi,
                                     household__status__in=statuses)
               .filter(Exists(last.filter(person=OuterRef("pk"))))
               .exclude(Exists(Enrolment.objects.filter(person=OuterRef("pk"), semester=f"{year}-autumn",
                                                        status=EnrolmentStatus.ENROLLED)))
               .select_related("household__village__parent").order_by("household__village_id", "name", "pk"))
    persons = list(persons)
    ids = [p.pk for p in persons]
    left = {e.person_id: e for e in last.filter(person_id__in=ids).select_related("school")}
    latest: dict[int, Followup] = {}
    for f in Followup.objects.filter(person_id__in=ids).order_by("person_id", "-date", "-id"):
        latest.setdefault(f.person_id, f)
    return [{"person": p, "left": left.get(p.pk), "followup": latest.get(p.pk)} for p in persons]


# ---- teachers' duties to poor students ---------------------------------------------------------------

def duties(user: User, *, semester: str, on: dt.date) -> list[dict]:
    """Each teacher–student pair of the semester in the user's region: talks and home visits done
    against what the region's pack asks by `on` (a talk for every whole month since the semester began;
    the visits by the start of the next semester). `behind` says whether anything is overdue."""
    from fupin.education.services import semester_start

    from .models import Contact, Mentor

    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    sem = semesters.code(semester)
    year, term = semesters.parse(sem)
    following = f"{year}-autumn" if term == "spring" else f"{year + 1}-spring"
    mentors = list(Mentor.objects.filter(semester=sem, teacher__school__region_id__gte=lo,
                                         teacher__school__region_id__lte=hi)
                   .select_related("teacher__school", "person__household__village").order_by("teacher__school__code", "teacher__name", "id"))
    done: dict[tuple[int, str], int] = {}
    for mid, kind, n in Contact.objects.filter(mentor__in=mentors).values_list("mentor_id", "kind").annotate(n=Count("pk")):
        done[(mid, kind)] = n
    rows, rules = [], {}
    for m in mentors:
        code = m.teacher.school.region_id
        if code not in rules:
            try:
                start = semester_start(sem, code)
                rule = shipped_packs().for_region(code).lookup("schools.duties.per_poor_student", start).value
                rules[code] = (start, semester_start(following, code), rule)
            except (PolicyError, FupinError):
                rules[code] = None
        talks, visits = done.get((m.pk, "talk"), 0), done.get((m.pk, "visit"), 0)
        row = {"mentor": m, "talks": talks, "visits": visits, "talks_due": None, "visits_due": None, "behind": False}
        if rules[code] is not None:
            start, end, rule = rules[code]
            months = max(0, months_served(start, min(on, end - dt.timedelta(days=1)))) if on >= start else 0
            row["talks_due"] = months * int(rule["talks_per_month"])
            row["visits_due"] = int(rule["visits_per_semester"])
            row["behind"] = talks < row["talks_due"] or (on >= end and visits < row["visits_due"])
        rows.append(row)
    return rows
