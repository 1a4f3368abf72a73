"""Screens of the schools room. Views parse input, call one service or selector, render."""
from __future__ import annotations


from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fupin.core import access
from fupin.core.errors import FupinError, InvalidInput
from fupin.core.idcard import birth_year, mask
from fupin.core.listing import Column, Filter, listing
from fupin.core.roles import Cap
from fupin.core.views import form_date, form_int, fupin_view
from fupin.education.models import Stage
from fupin.exchange import uploads
from fupin.exchange.views import error_workbook_download
from fupin.exchange.lists import xlsx_response
from fupin.policy import semester as semesters

from . import importer, selectors, services
from .models import Outcome, SchoolKind, TeacherKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _kind(s):
    p = getattr(s, "profile", None)
    return p.get_kind_display() if p else "未建档"


SCHOOL_COLUMNS = [
    Column("code", "学校代码", lambda s: s.code, order="code"),
    Column("name", "学校名称", lambda s: s.name, order="name"),
    Column("region", "所在区划", lambda s: s.region.name, order="region_id"),
    Column("kind", "学校类型", _kind, order="profile__kind"),
    Column("village", "所在村", lambda s: s.profile.village.name if getattr(s, "profile", None) and s.profile.village else ""),
    Column("boarding", "寄宿制", lambda s: "是" if getattr(s, "profile", None) and s.profile.boarding else ""),
    Column("weak", "改薄学校", lambda s: "是" if getattr(s, "profile", None) and s.profile.weak else ""),
]
SCHOOL_FILTERS = [
    Filter("kind", "学校类型", tuple(SchoolKind.choices) + (("none", "未建档"),),
           lambda qs, v: qs.filter(profile__isnull=True) if v == "none" else qs.filter(profile__kind=v)),
    Filter("weak", "改薄", (("1", "改薄学校"),), lambda qs, v: qs.filter(profile__weak=True)),
    Filter("boarding", "寄宿", (("1", "寄宿制学校"),), lambda qs, v: qs.filter(profile__boarding=True)),
]


def _list_context(request, report=None, token=None):
    user = request.user
    lst = listing(request, selectors.schools_for(user), SCHOOL_COLUMNS, filters=SCHOOL_FILTERS, default_sort="code")
    return lst, {"listing": lst, "can_manage": access.may(user, Cap.SCHOOL_MANAGE), "report": report, "token": token}


@fupin_view
def school_list(request):
    lst, ctx = _list_context(request)
    if lst.wants_export:
        return xlsx_response(request.user, lst, what="学校名录", object_type="school_register",
                             object_id=request.user.region_id)
    return render(request, "schools/list.html", ctx)


@fupin_view
def register_export(request):
    user = request.user
    access.require(user, Cap.EXPORT, what="导出学校档案")
    response = HttpResponse(importer.export_register(user, selectors.schools_for(user)), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E5%AD%A6%E6%A0%A1%E6%A1%A3%E6%A1%88.xlsx"
    return response


@fupin_view
def register_template(request):
    access.require(request.user, Cap.SCHOOL_MANAGE)
    response = HttpResponse(importer.template_bytes(), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E5%AD%A6%E6%A0%A1%E6%A1%A3%E6%A1%88%E6%A8%A1%E6%9D%BF.xlsx"
    return response



@fupin_view
@require_POST
def register_import(request):
    user = request.user
    access.require(user, Cap.SCHOOL_MANAGE, what="导入学校档案")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要导入的 Excel 文件")
        return redirect("/schools/")
    report = importer.import_register(user, upload.read(), upload.name)
    if report.ok:
        messages.success(request, f"导入完成：新增 {report.created} 所学校，更新 {report.updated} 所，无变化 {report.unchanged} 所")
        return redirect("/schools/")
    token = uploads.save_error_workbook(user, report.error_workbook) if report.error_workbook else None
    _, ctx = _list_context(request, report, token)
    return render(request, "schools/list.html", ctx, status=400)


@fupin_view
def error_workbook(request, token):
    return error_workbook_download(request, token, "学校档案错误标注.xlsx")


@fupin_view
def school_page(request, code):
    user = request.user
    school = services.access_school(user, code)
    if request.method == "POST":
        access.require(user, Cap.SCHOOL_MANAGE, what=f"修改学校档案（{code}）")
        p = request.POST
        action = p.get("action", "")
        try:
            if action == "profile":
                services.profile_save(actor=user, code=code, values={
                    "kind": p.get("kind", ""), "village": p.get("village", "").strip(),
                    "boarding": p.get("boarding") == "1", "weak": p.get("weak") == "1"})
                messages.success(request, "学校档案已保存")
            elif action == "grade":
                services.grade_save(actor=user, code=code, year=form_int(p, "year", "学年", lo=1990, hi=2100),
                                    stage=p.get("stage", ""), grade=form_int(p, "grade", "年级", lo=1, hi=9),
                                    classes=form_int(p, "classes", "班数", 0, lo=0, hi=services.COUNT_MAX),
                                    pupils=form_int(p, "pupils", "在校生数", 0, lo=0, hi=services.COUNT_MAX),
                                    boarders=form_int(p, "boarders", "寄宿生数", 0, lo=0, hi=services.COUNT_MAX))
                messages.success(request, "分年级在校生已保存")
            elif action == "teacher":
                services.teacher_add(actor=user, code=code, name=p.get("name", ""), kind=p.get("kind", ""),
                                     home_unit=p.get("home_unit", ""), subject=p.get("subject", ""),
                                     start=form_date(p, "start", "到岗日期"),
                                     end=form_date(p, "end", "离岗日期") if p.get("end", "").strip() else None,
                                     living_allowance=p.get("living_allowance") == "1")
                messages.success(request, "教师已登记")
            elif action == "leave":
                services.teacher_leave(actor=user, code=code, teacher_id=form_int(p, "teacher", "教师", lo=1),
                                       end=form_date(p, "end", "离岗日期"))
                messages.success(request, "已登记离岗")
            elif action == "gap_project":
                services.gap_project_link(actor=user, code=code, item_id=p.get("item", ""), project_id=p.get("project", ""))
                messages.success(request, "已关联项目")
            elif action == "gap_unlink":
                services.gap_project_unlink(actor=user, code=code, link_id=p.get("link", ""))
                messages.success(request, "已取消关联")
            else:
                raise InvalidInput({"操作": "请从页面上的按钮提交"})
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/schools/{code}/")
    today = timezone.localdate()
    villages = access.regions_for(user).filter(level=5, code__startswith=school.region_id[:6]).order_by("code")
    sem = semesters.recent(today)[1][0]
    from fupin.education.models import Enrolment

    students = list(Enrolment.objects.filter(school=school, semester=sem).select_related("person")
                    .order_by("grade", "person__name")[:500])
    return render(request, "schools/school.html", {
        "school": school, **selectors.school_detail(user, school, today=today), "today": today,
        "kinds": SchoolKind.choices, "teacher_kinds": TeacherKind.choices, "villages": villages,
        "stages": [(v, l) for v, l in Stage.choices if v != Stage.COLLEGE], "students": students,
        "semester": sem, "semester_label": semesters.label(sem), "can_manage": access.may(user, Cap.SCHOOL_MANAGE),
        "project_choices": selectors.gap_project_choices(user, school) if access.may(user, Cap.SCHOOL_MANAGE) else []})


def _term(t):
    return t.term["text"] if t.term else ""


TEACHER_COLUMNS = [
    Column("school", "学校", lambda t: t.school.name, order=lambda t: t.school.code),
    Column("name", "姓名", lambda t: t.name, order=lambda t: t.name),
    Column("kind", "类别", lambda t: t.get_kind_display(), order=lambda t: t.kind),
    Column("home_unit", "派出单位", lambda t: t.home_unit),
    Column("start", "到岗", lambda t: t.start, order=lambda t: t.start),
    Column("end", "离岗", lambda t: t.end or "在岗", order=lambda t: (t.end is None, t.end or t.start)),
    Column("term", "最短期限", _term),
    Column("allowance", "乡村教师生活补助", lambda t: "享受" if t.living_allowance else ""),
]
TEACHER_FILTERS = [
    Filter("kind", "类别", tuple(TeacherKind.choices), lambda rows, v: [t for t in rows if t.kind == v]),
    Filter("term", "期限", (("short", "未满最短期限即离岗"), ("serving", "在岗")),
           lambda rows, v: [t for t in rows if (t.term and t.term["met"] is False if v == "short" else t.end is None)]),
]


@fupin_view
def teacher_template(request):
    access.require(request.user, Cap.SCHOOL_MANAGE)
    response = HttpResponse(importer.teacher_template_bytes(), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E6%95%99%E5%B8%88%E6%A8%A1%E6%9D%BF.xlsx"
    return response


@fupin_view
@require_POST
def teacher_import(request):
    user = request.user
    access.require(user, Cap.SCHOOL_MANAGE, what="导入教师")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要导入的 Excel 文件")
        return redirect("/schools/teachers/")
    report = importer.import_teachers(user, upload.read(), upload.name)
    if report.ok:
        messages.success(request, f"导入完成：新增 {report.created} 人，更新 {report.updated} 人，无变化 {report.unchanged} 人")
        return redirect("/schools/teachers/")
    token = uploads.save_error_workbook(user, report.error_workbook) if report.error_workbook else None
    return _teachers_page(request, report, token, status=400)


@fupin_view
def teachers(request):
    return _teachers_page(request)


def _teachers_page(request, report=None, token=None, status=200):
    user = request.user
    today = timezone.localdate()
    rows = list(selectors.teachers_for(user).order_by("school__code", "kind", "-start"))
    for t in rows:
        t.term = selectors.term_check(t, today)
    lst = listing(request, rows, TEACHER_COLUMNS, filters=TEACHER_FILTERS, default_sort="school")
    if lst.wants_export and report is None:
        return xlsx_response(user, lst, what="教师与支教挂职人员", object_type="school_teacher", object_id=user.region_id)
    return render(request, "schools/teachers.html", {"listing": lst, "report": report, "token": token,
                                                     "can_manage": access.may(user, Cap.SCHOOL_MANAGE)}, status=status)


@fupin_view
def rates(request):
    user = request.user
    today = timezone.localdate()
    choices = semesters.recent(today)
    chosen = request.GET.get("semester", "")
    sem = chosen if chosen in {c for c, _ in choices} else choices[1][0]
    return render(request, "schools/rates.html", {"r": selectors.rates(user, user.region, semester=sem),
                                                  "semesters": choices, "chosen": sem})


def _outcome(row):
    f = row["followup"]
    return f"{f.get_outcome_display()}{f'（{f.place}）' if f.place else ''}" if f else "未跟踪"


LIANGHOU_COLUMNS = [
    Column("village", "村", lambda r: r["person"].household.village.name, order=lambda r: r["person"].household.village_id),
    Column("name", "姓名", lambda r: r["person"].name, order=lambda r: r["person"].name),
    Column("id", "身份证号", lambda r: mask(r["person"].id_number)),
    Column("born", "出生年份", lambda r: birth_year(r["person"].birth_date)),
    Column("left", "毕业学段", lambda r: f"{r['left'].get_stage_display()}{r['left'].grade}年级" if r["left"] else ""),
    Column("school", "原学校", lambda r: r["left"].school.name if r["left"] else ""),
    Column("outcome", "去向", _outcome, order=_outcome),
    Column("date", "最近跟踪", lambda r: r["followup"].date if r["followup"] else "",
           order=lambda r: r["followup"].date.isoformat() if r["followup"] else ""),
]
def _followup_state(row, v: str) -> bool:
    f = row["followup"]
    if v == "none":
        return f is None
    if v == "open":  # no destination yet: not followed up, still persuading, or declined
        return f is None or f.outcome in (Outcome.PERSUADING, Outcome.DECLINED)
    return f is not None and f.outcome == v


LIANGHOU_FILTERS = [
    Filter("state", "跟踪情况", (("none", "未跟踪"), ("open", "未落实去向")) + tuple(Outcome.choices),
           lambda rows, v: [r for r in rows if _followup_state(r, v)]),
]


@fupin_view
def lianghou(request):
    user = request.user
    today = timezone.localdate()
    default_year = today.year if today.month >= 9 else today.year - 1
    year = form_int(request.GET, "year", "年度", default_year, lo=2000, hi=today.year)
    if request.method == "POST":
        access.require(user, Cap.SCHOOL_MANAGE, what="登记两后生跟踪")
        p = request.POST
        try:
            services.followup_record(actor=user, person_id=form_int(p, "person", "人员", lo=1),
                                     date=form_date(p, "date", "跟踪日期"), outcome=p.get("outcome", ""),
                                     place=p.get("place", "")[:200], note=p.get("note", "")[:600])
            messages.success(request, "跟踪情况已登记")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/schools/lianghou/?year={year}")
    rows = selectors.lianghou(user, year=year)
    lst = listing(request, rows, LIANGHOU_COLUMNS, filters=LIANGHOU_FILTERS, default_sort="village")
    if lst.wants_export:
        return xlsx_response(user, lst, what=f"{year}年两后生名单", object_type="lianghou", object_id=year)
    return render(request, "schools/lianghou.html", {
        "listing": lst, "year": year, "years": list(range(today.year, today.year - 6, -1)), "today": today,
        "outcomes": Outcome.choices, "can_manage": access.may(user, Cap.SCHOOL_MANAGE)})


def _duty_state(r) -> str:
    if r["talks_due"] is None:
        return "本地政策未规定"
    return "滞后" if r["behind"] else "按要求"


DUTY_COLUMNS = [
    Column("school", "学校", lambda r: r["mentor"].teacher.school.name, order=lambda r: r["mentor"].teacher.school.code),
    Column("teacher", "帮扶教师", lambda r: r["mentor"].teacher.name, order=lambda r: r["mentor"].teacher.name),
    Column("student", "学生", lambda r: r["mentor"].person.name, order=lambda r: r["mentor"].person.name),
    Column("village", "村", lambda r: r["mentor"].person.household.village.name if r["mentor"].person.household else ""),
    Column("talks", "谈心谈话（已做/应做）", lambda r: f"{r['talks']}/{r['talks_due'] if r['talks_due'] is not None else '—'}",
           order=lambda r: r["talks"] - (r["talks_due"] or 0)),
    Column("visits", "家访（已做/每学期）", lambda r: f"{r['visits']}/{r['visits_due'] if r['visits_due'] is not None else '—'}",
           order=lambda r: r["visits"]),
    Column("state", "情况", _duty_state, order=lambda r: not r["behind"]),
]
DUTY_FILTERS = [Filter("behind", "情况", (("1", "滞后"),), lambda rows, v: [r for r in rows if r["behind"]])]


@fupin_view
def duties(request):
    user = request.user
    today = timezone.localdate()
    choices = semesters.recent(today)
    chosen = request.GET.get("semester", "")
    sem = chosen if chosen in {c for c, _ in choices} else choices[1][0]
    if request.method == "POST":
        access.require(user, Cap.SCHOOL_MANAGE, what="登记教师帮扶学生")
        p = request.POST
        try:
            if p.get("action") == "assign":
                services.mentor_assign(actor=user, teacher_id=form_int(p, "teacher", "教师", lo=1),
                                       person_id=form_int(p, "person", "学生", lo=1), semester=p.get("semester", "")[:20])
                messages.success(request, "已安排帮扶教师")
            else:
                services.contact_record(actor=user, mentor_id=form_int(p, "mentor", "帮扶记录", lo=1),
                                        kind=p.get("kind", ""), date=form_date(p, "date", "日期"),
                                        note=p.get("note", "")[:600])
                messages.success(request, "已登记")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/schools/duties/?semester={sem}")
    lst = listing(request, selectors.duties(user, semester=sem, on=today), DUTY_COLUMNS, filters=DUTY_FILTERS,
                  default_sort="school")
    if lst.wants_export:
        return xlsx_response(user, lst, what=f"{semesters.label(sem)}教师帮扶学生", object_type="school_mentor",
                             object_id=sem)
    return render(request, "schools/duties.html", {"listing": lst, "semesters": choices, "chosen": sem,
                                                   "label": semesters.label(sem), "today": today,
                                                   "can_manage": access.may(user, Cap.SCHOOL_MANAGE)})
