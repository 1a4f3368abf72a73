"""Screens of the college-student database. Views parse, call one service, render."""
from __future__ import annotations

import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone

from fupin.core import access, audit, idcard
from fupin.core.errors import FupinError, NotFound
from fupin.core.roles import Cap
from fupin.core.views import form_date, form_year, form_yuan, fupin_view
from fupin.registry.selectors import find_person

from . import college
from .models import CollegeAidKind, CollegeLevel, CollegeOutcome

SORTS = {"year": ("-entry_year", "person__name"), "name": ("person__name",), "college": ("college", "person__name")}


def _data(post):
    return {"college": post.get("college", ""), "major": post.get("major", ""), "level": post.get("level", ""),
            "entry_year": form_year(post, "entry_year", "入学年份"), "wish": post.get("wish", ""),
            "outcome": post.get("outcome", ""), "employer": post.get("employer", "")}


@fupin_view
def students(request):
    region = access.access_region(request.user, request.GET.get("region") or request.user.region_id)
    if request.method == "POST":
        try:
            person = find_person(request.user, request.POST.get("id_number", ""))
            s = college.college_student_save(actor=request.user, person=person, data=_data(request.POST))
        except FupinError as exc:
            messages.error(request, exc.message)
            return redirect(request.get_full_path())
        messages.success(request, "已登记")
        return redirect(f"/education/college/{s.pk}/")
    items = college.students_for(request.user, region.code).select_related("person__household")
    outcome, level = request.GET.get("outcome", ""), request.GET.get("level", "")
    if outcome in CollegeOutcome.values:
        items = items.filter(outcome=outcome)
    if level in CollegeLevel.values:
        items = items.filter(level=level)
    sort = request.GET.get("sort", "year")
    items = items.order_by(*SORTS.get(sort, SORTS["year"]), "pk")
    if request.GET.get("format") == "xlsx":
        access.require(request.user, Cap.EXPORT)
        from openpyxl import Workbook

        from fupin.exchange.excel import safe
        from fupin.exchange.views import _xlsx

        full = access.may(request.user, Cap.REVEAL_ID)
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("大学生")
        ws.append(["户编号", "姓名", "身份证号", "院校", "专业", "层次", "入学年份", "就业意向", "毕业去向", "就业单位", "资助合计（元）"])
        n = 0
        for s in items.prefetch_related("aid"):
            ws.append([safe(x) for x in (s.person.household.number, s.person.name,
                                          s.person.id_number if full else idcard.mask(s.person.id_number), s.college,
                                          s.major, s.get_level_display(), s.entry_year, s.wish, s.get_outcome_display(),
                                          s.employer, f"{sum(a.amount for a in s.aid.all()) / 100:.2f}")])
            n += 1
        out = io.BytesIO()
        wb.save(out)
        audit.export(request.user, what=f"导出 {region.name} 大学生信息", object_type="college", object_id=region.code,
                     persons=n, full_ids=full)
        return _xlsx(out.getvalue(), f"大学生_{region.code}.xlsx")
    return render(request, "education/college.html", {
        "region": region, "page": Paginator(items, 50).get_page(request.GET.get("page")), "outcome": outcome,
        "level": level, "sort": sort, "levels": CollegeLevel.choices, "outcomes": CollegeOutcome.choices,
        "regions": access.regions_for(request.user).filter(level__lte=4).order_by("code")[:200],
        "this_year": timezone.localdate().year})


@fupin_view
def student(request, pk):
    s = college.access_student(request.user, pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "edit":
                college.college_student_save(actor=request.user, person=s.person, student=s, data=_data(request.POST))
            elif action == "aid":
                college.college_aid_record(actor=request.user, student=s, kind=request.POST.get("kind", ""),
                                           year=form_year(request.POST, "year", "学年"),
                                           amount=form_yuan(request.POST, "amount", "金额"),
                                           note=request.POST.get("note", ""))
            elif action == "entrant":
                college.entrant_aid_pay(actor=request.user, student=s, decision_id=request.POST.get("decision", ""),
                                        date=form_date(request.POST, "date", "发放日期", timezone.localdate()))
            else:
                raise NotFound("没有这个操作")
        except FupinError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已办理")
        return redirect(f"/education/college/{s.pk}/")
    return render(request, "education/college_student.html", {
        "s": s, "levels": CollegeLevel.choices, "outcomes": CollegeOutcome.choices,
        "kinds": [(v, label) for v, label in CollegeAidKind.choices if v != "entrant"],
        "today": timezone.localdate().isoformat()})
