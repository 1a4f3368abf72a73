"""Screens of the student aid procedure. Views parse, call one service, render."""
from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone

from fupin.core import access
from fupin.core.errors import FupinError, NotFound
from fupin.core.views import form_date, form_int, form_year, form_yuan, fupin_view
from fupin.registry.selectors import find_person

from . import aid
from .models import AidState, School, SchoolMeasureKind


def _school(request, data):
    lo, hi = access.scope_range(request.user)
    school = School.objects.filter(pk=form_int(data, "school", "学校"), region_id__gte=lo[:6] + "000000",
                                   region_id__lte=hi).first()
    if school is None:
        raise NotFound("找不到该学校，或不在您的管辖范围内")
    return school


def _schools(request):
    lo, hi = access.scope_range(request.user)
    return School.objects.filter(region_id__gte=lo[:6] + "000000", region_id__lte=hi).order_by("code")


@fupin_view
def applications(request):
    if request.method == "POST":
        try:
            person = find_person(request.user, request.POST.get("id_number", ""))
            a = aid.aid_apply(actor=request.user, person=person, school=_school(request, request.POST),
                              year=form_year(request.POST, "year", "学年"), item=request.POST.get("item", ""),
                              amount=form_yuan(request.POST, "amount", "金额"), in_kind=request.POST.get("in_kind", ""))
        except FupinError as exc:
            messages.error(request, exc.message)
            return redirect("/education/aid/")
        messages.success(request, "已申请")
        return redirect(f"/education/aid/{a.pk}/")
    items = aid.applications_for(request.user).select_related("person", "school")
    state = request.GET.get("state", "")
    if state in AidState.values:
        items = items.filter(state=state)
    if request.GET.get("school", "").isdigit():
        items = items.filter(school_id=int(request.GET["school"]))
    items = items.order_by("-year", "school__code", "person__name", "pk")
    return render(request, "education/aid.html", {
        "page": Paginator(items, 50).get_page(request.GET.get("page")), "states": AidState.choices, "state": state,
        "schools": _schools(request), "school": request.GET.get("school", ""), "year": timezone.localdate().year})


@fupin_view
def application(request, pk):
    a = aid.access_application(request.user, pk)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "decide":
                aid.aid_decide(actor=request.user, application=a,
                               on=form_date(request.POST, "date", "决定日期", timezone.localdate()))
            else:
                aid.aid_review(actor=request.user, application=a, approved=request.POST.get("action") == "approve",
                               note=request.POST.get("note", ""))
        except FupinError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已办理")
        return redirect(f"/education/aid/{a.pk}/")
    proc = aid.procedure(a)
    step = proc["steps"][a.step] if a.state == AidState.REVIEWING else None
    return render(request, "education/aid_application.html", {"a": a, "steps": proc["steps"], "step": step,
                                                              "today": timezone.localdate().isoformat()})


@fupin_view
def notice(request):
    school = _school(request, request.GET)
    year = form_year(request.GET, "year", "学年")
    return render(request, "education/aid_notice.html", {"school": school, "year": year,
                                                         "rows": aid.notice(request.user, school, year)})


@fupin_view
def payments(request):
    from fupin.exchange.views import _xlsx

    school = _school(request, request.GET)
    year = form_year(request.GET, "year", "学年")
    data, _ = aid.payment_list(request.user, school, year)
    return _xlsx(data, f"学生资助发放名单_{school.code}_{year}.xlsx")


@fupin_view
def measures(request):
    """School-level aid measures: list, filter, sort, Excel; the school aid office records them."""
    from fupin.core.listing import Column, Filter, listing
    from fupin.core.money import fen_to_yuan_str
    from fupin.exchange.lists import xlsx_response

    user = request.user
    if request.method == "POST":
        try:
            aid.measure_record(actor=user, school=_school(request, request.POST), year=form_year(request.POST, "year", "学年"),
                               kind=request.POST.get("kind", ""), description=request.POST.get("description", ""),
                               students=form_int(request.POST, "students", "受助学生", lo=0),
                               value=form_yuan(request.POST, "value", "金额或价值"),
                               date=form_date(request.POST, "date", "日期", timezone.localdate()))
        except FupinError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已登记")
        return redirect("/education/aid/measures/")
    schools = list(_schools(request))
    years = sorted(set(aid.measures_for(user).values_list("year", flat=True)), reverse=True)
    columns = [Column("year", "学年", lambda m: m.year, "year"), Column("school", "学校", lambda m: m.school.name, "school__code"),
               Column("kind", "措施", lambda m: m.get_kind_display(), "kind"),
               Column("description", "内容", lambda m: m.description),
               Column("students", "受助学生（人）", lambda m: m.students, "students"),
               Column("value", "金额或价值（元）", lambda m: fen_to_yuan_str(m.value), "value"),
               Column("date", "日期", lambda m: m.date.isoformat(), "date")]
    filters = [Filter("school", "学校", tuple((str(x.pk), x.name) for x in schools), lambda qs, v: qs.filter(school_id=int(v))),
               Filter("kind", "措施", tuple(SchoolMeasureKind.choices), lambda qs, v: qs.filter(kind=v)),
               Filter("year", "学年", tuple((str(y), str(y)) for y in years), lambda qs, v: qs.filter(year=int(v)))]
    lst = listing(request, aid.measures_for(user).select_related("school"), columns, filters=filters, default_sort="-year")
    if lst.wants_export:
        return xlsx_response(user, lst, what="学校资助措施", object_type="school_measures", object_id=user.region_id)
    return render(request, "education/aid_measures.html", {
        "listing": lst, "schools": schools, "kinds": SchoolMeasureKind.choices, "year": timezone.localdate().year,
        "today": timezone.localdate().isoformat()})
