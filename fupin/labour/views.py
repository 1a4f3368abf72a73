"""Screens of the labour room. Views parse, call one service or selector, render."""
from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fupin.core import access
from fupin.core.errors import FupinError, NotFound
from fupin.core.views import form_date, form_int, form_year, form_yuan, fupin_view
from fupin.registry.selectors import find_person

from . import selectors, services
from .models import Capacity, CourseKind, Employment


def _region(request):
    code = request.GET.get("region") or request.POST.get("region") or request.user.region_id
    return access.access_region(request.user, code)


def _year(request):
    return form_year(request.GET, "year", "年度", timezone.localdate().year)


def _fail(request, exc):
    messages.error(request, getattr(exc, "message", "请检查填写的内容"))


SORTS = {"name": "person__name", "-income": "-monthly_income", "-months": "-months", "household": "person__household__number"}


@fupin_view
def home(request):
    """Employment counts by region, and the year's records: paged, filtered, sorted, exported."""
    region, year = _region(request), _year(request)
    if request.GET.get("format") == "xlsx":
        from fupin.exchange.views import _xlsx

        data, _ = services.labour_export(actor=request.user, region_code=region.code, year=year)
        return _xlsx(data, f"劳动力_{region.code}_{year}.xlsx")
    counts = selectors.employment_counts(request.user, region.code, year)
    records = selectors.records_for(request.user, region.code, year).select_related("person__household")
    employment = request.GET.get("employment", "")
    if employment in Employment.values:
        records = records.filter(employment=employment)
    sort = request.GET.get("sort", "household")
    records = records.order_by(SORTS.get(sort, "person__household__number"), "pk")
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    regions = access.regions_for(request.user).filter(level__lte=4).order_by("code")[:500]
    return render(request, "labour/home.html", {
        "c": counts, "page": page, "region": region, "year": year, "employment": employment, "sort": sort,
        "employments": Employment.choices, "regions": regions, "sorts": [("household", "按户"), ("name", "按姓名"),
                                                                       ("-income", "月收入从高到低"),
                                                                       ("-months", "务工月数从多到少")]})


@require_POST
@fupin_view
def import_records(request):
    year = form_year(request.POST, "year", "年度", timezone.localdate().year)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要导入的 Excel 文件")
        return redirect("/labour/")
    n, problems, _ = services.labour_import(actor=request.user, data=upload.read(), filename=upload.name, year=year)
    if problems:
        messages.error(request, "；".join(str(x) for x in problems[:20]) + "。未导入任何记录，请改正后重新导入")
    else:
        messages.success(request, f"已导入 {year} 年劳动力信息 {n} 人")
    return redirect(f"/labour/?year={year}")


@fupin_view
def person(request, pk):
    """One member's labour record of a year (the household page links here)."""
    p = access.access_person(request.user, pk)
    year = form_year(request.GET, "year", "年度", timezone.localdate().year)
    record = p.labour_records.filter(year=year).first()
    if request.method == "POST":
        try:
            services.labour_record_save(actor=request.user, person=p, year=year, data={
                "capacity": request.POST.get("capacity", ""), "employment": request.POST.get("employment", ""),
                "employer": request.POST.get("employer", ""), "skills": request.POST.get("skills", ""),
                "months": form_int(request.POST, "months", "务工月数", 0, lo=0, hi=12),
                "monthly_income": form_yuan(request.POST, "monthly_income", "月收入")})
        except FupinError as exc:
            _fail(request, exc)
            return redirect(request.get_full_path())
        messages.success(request, "已保存")
        return redirect(f"/households/{p.household_id}/")
    return render(request, "labour/person.html", {"p": p, "r": record, "year": year, "capacities": Capacity.choices,
                                                   "employments": Employment.choices})


@fupin_view
def courses(request):
    if request.method == "POST":
        try:
            c = services.course_create(
                actor=request.user, name=request.POST.get("name", ""), kind=request.POST.get("kind", ""),
                county_code=request.POST.get("county", ""), provider=request.POST.get("provider", ""),
                start=form_date(request.POST, "start", "开班日期"), end=form_date(request.POST, "end", "结业日期"),
                sessions=form_int(request.POST, "sessions", "课次", lo=1, hi=1000))
        except FupinError as exc:
            _fail(request, exc)
            return redirect("/labour/courses/")
        messages.success(request, f"已开设 {c.name}")
        return redirect(f"/labour/courses/{c.pk}/")
    page = Paginator(selectors.courses_for(request.user).select_related("county"), 50).get_page(request.GET.get("page"))
    counties = access.regions_for(request.user).filter(level=3)
    if not counties and request.user.region_id:
        counties = [request.user.region.parent] if request.user.region.level == 4 else []
    return render(request, "labour/courses.html", {"page": page, "kinds": CourseKind.choices, "counties": counties,
                                                    "today": timezone.localdate().isoformat()})


@fupin_view
def course(request, pk):
    c = selectors.access_course(request.user, pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "enrol":
                who = find_person(request.user, request.POST.get("id_number", ""))
                services.enrol(actor=request.user, course=c, person=who,
                               on=form_date(request.POST, "date", "报名日期", timezone.localdate()))
            elif action == "attend":
                services.attendance_sheet(actor=request.user, course=c, date=form_date(request.POST, "date", "日期"),
                                          enrolment_ids=[int(x) for x in request.POST.getlist("present") if x.isdigit()])
            elif action == "complete":
                e = selectors.access_enrolment(request.user, form_int(request.POST, "enrolment", "报名记录"))
                services.complete(actor=request.user, enrolment=e, certificate=request.POST.get("certificate", ""),
                                  on=form_date(request.POST, "date", "结业日期", c.end))
            elif action == "pay":
                services.training_subsidies_pay(actor=request.user, course=c, decision_id=request.POST.get("decision", ""),
                                                date=form_date(request.POST, "date", "发放日期", timezone.localdate()))
            else:
                raise NotFound("没有这个操作")
        except FupinError as exc:
            _fail(request, exc)
        else:
            messages.success(request, "已办理")
        return redirect(f"/labour/courses/{c.pk}/")
    return render(request, "labour/course.html", {"c": c, "enrolments": selectors.enrolments_of(request.user, c),
                                                   "today": timezone.localdate().isoformat()})


@fupin_view
def subsidy_audit(request):
    region = _region(request)
    findings = services.subsidy_audit(actor=request.user, region_code=region.code)
    return render(request, "labour/audit.html", {"region": region, "findings": findings})


@fupin_view
def posts(request):
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "create":
                services.post_create(actor=request.user, name=request.POST.get("name", ""),
                                     village_code=request.POST.get("village", ""),
                                     monthly_pay=form_yuan(request.POST, "monthly_pay", "每月岗位补贴"))
            elif action == "assign":
                post = selectors.access_post(request.user, form_int(request.POST, "post", "岗位"))
                who = find_person(request.user, request.POST.get("id_number", ""))
                services.post_assign(actor=request.user, post=post, person=who,
                                     start=form_date(request.POST, "date", "上岗日期", timezone.localdate()))
            elif action == "release":
                h = selectors.access_holding(request.user, form_int(request.POST, "holding", "上岗记录"))
                services.post_release(actor=request.user, holding=h,
                                      end=form_date(request.POST, "date", "离岗日期", timezone.localdate()))
            elif action == "pay":
                services.post_pay_month(actor=request.user, region_code=request.POST.get("region") or request.user.region_id,
                                        month=request.POST.get("month", ""), decision_id=request.POST.get("decision", ""),
                                        date=form_date(request.POST, "date", "发放日期", timezone.localdate()))
            else:
                raise NotFound("没有这个操作")
        except FupinError as exc:
            _fail(request, exc)
        else:
            messages.success(request, "已办理")
        return redirect("/labour/posts/")
    items = selectors.posts_for(request.user).select_related("village").prefetch_related("holdings__person")
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "labour/posts.html", {
        "page": page, "villages": access.regions_for(request.user).filter(level=5).order_by("code")[:1000],
        "today": timezone.localdate().isoformat(), "month": timezone.localdate().strftime("%Y-%m")})
