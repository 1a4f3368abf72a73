"""Screens of the pubhealth room. Views parse input, call one service or selector, render."""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fupin.core import access
from fupin.core.errors import FupinError
from fupin.core.listing import Column, Filter, listing
from fupin.core.roles import Cap
from fupin.core.views import form_date, form_int, fupin_view
from fupin.exchange import uploads
from fupin.exchange.views import error_workbook_download
from fupin.exchange.lists import xlsx_response

from . import catalogue, importer, selectors, services

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _programme(a) -> str:
    return catalogue.programmes().get(a.programme, {}).get("name", "")


ACTIVITY_COLUMNS = [
    Column("date", "日期", lambda a: a.date, order=("date", "id")),
    Column("programme", "项目", _programme, order=("programme", "date")),
    Column("region", "乡镇或村", lambda a: a.region.name, order=("region_id", "date")),
    Column("place", "地点", lambda a: a.place),
    Column("organiser", "组织单位", lambda a: a.organiser),
    Column("participants", "参加人数", lambda a: a.participants, order=("participants", "id")),
    Column("note", "情况说明", lambda a: a.note),
]


def _activity_filters():
    return [Filter("programme", "项目", tuple((c, p["name"]) for c, p in catalogue.programmes().items()),
                   lambda qs, v: qs.filter(programme=v))]


@fupin_view
def home(request):
    user = request.user
    today = timezone.localdate()
    year = form_int(request.GET, "year", "年度", today.year, lo=2000, hi=today.year + 1)
    if request.method == "POST":
        access.require(user, Cap.PUBHEALTH_MANAGE, what="登记公共卫生项目活动")  # refused: 403, audited
        p = request.POST
        try:
            services.activity_record(actor=user, region_code=p.get("region", "")[:12],
                                     programme=p.get("programme", "")[:24], date=form_date(p, "date", "日期"),
                                     place=p.get("place", "")[:200], organiser=p.get("organiser", "")[:200],
                                     participants=form_int(p, "participants", "参加人数", lo=0, hi=services.COUNT_MAX),
                                     note=p.get("note", "")[:600])
            messages.success(request, "活动已登记")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect("/pubhealth/")
    lst = listing(request, selectors.activities_for(user), ACTIVITY_COLUMNS, filters=_activity_filters(),
                  default_sort="-date")
    if lst.wants_export:
        return xlsx_response(user, lst, what="公共卫生项目活动", object_type="pubhealth_activity", object_id=user.region_id)
    counts = selectors.activity_counts(user, user.region, start=dt.date(year, 1, 1), end=dt.date(year, 12, 31))
    places = access.regions_for(user).filter(level__in=[4, 5]).order_by("code")
    return render(request, "pubhealth/home.html", {
        "listing": lst, "counts": counts, "year": year, "years": list(range(today.year, today.year - 5, -1)),
        "today": today, "programmes": catalogue.programmes(), "places": places,
        "can_manage": access.may(user, Cap.PUBHEALTH_MANAGE)})


@fupin_view
def activity_template(request):
    access.require(request.user, Cap.PUBHEALTH_MANAGE)
    response = HttpResponse(importer.activity_template_bytes(), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E9%A1%B9%E7%9B%AE%E6%B4%BB%E5%8A%A8%E6%A8%A1%E6%9D%BF.xlsx"
    return response


@fupin_view
@require_POST
def activity_import(request):
    user = request.user
    access.require(user, Cap.PUBHEALTH_MANAGE, what="导入公共卫生项目活动")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要导入的 Excel 文件")
        return redirect("/pubhealth/")
    report = importer.import_activities(user, upload.read(), upload.name)
    if report.ok:
        messages.success(request, f"导入完成：新增 {report.created} 次活动，更新 {report.updated} 次，无变化 {report.unchanged} 次")
    else:
        messages.error(request, "导入未完成，没有任何数据被写入：" + "；".join(str(p) for p in report.problems[:10]))
    return redirect("/pubhealth/")


def _rates_page(request, report=None, token=None, status=200):
    user = request.user
    today = timezone.localdate()
    year = form_int(request.GET, "year", "年度", today.year - 1, lo=2000, hi=today.year)
    return render(request, "pubhealth/rates.html", {
        "r": selectors.rates(user, user.region, year=year), "years": list(range(today.year, today.year - 6, -1)),
        "report": report, "token": token, "can_manage": access.may(user, Cap.PUBHEALTH_MANAGE)}, status=status)


@fupin_view
def rates(request):
    return _rates_page(request)


@fupin_view
def figures_export(request):
    user = request.user
    year = form_int(request.GET, "year", "年度", timezone.localdate().year - 1, lo=2000, hi=2100)
    response = HttpResponse(importer.export_figures(user, user.region, year), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E5%85%AC%E5%85%B1%E5%8D%AB%E7%94%9F%E6%8C%87%E6%A0%87.xlsx"
    return response


@fupin_view
def figures_template(request):
    access.require(request.user, Cap.PUBHEALTH_MANAGE)
    response = HttpResponse(importer.template_bytes(), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E5%85%AC%E5%85%B1%E5%8D%AB%E7%94%9F%E6%8C%87%E6%A0%87%E6%A8%A1%E6%9D%BF.xlsx"
    return response



@fupin_view
@require_POST
def figures_import(request):
    user = request.user
    access.require(user, Cap.PUBHEALTH_MANAGE, what="导入公共卫生指标数据")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要导入的 Excel 文件")
        return redirect("/pubhealth/rates/")
    report = importer.import_figures(user, upload.read(), upload.name)
    if report.ok:
        messages.success(request, f"导入完成：新增 {report.created} 条，更新 {report.updated} 条，无变化 {report.unchanged} 条")
        return redirect("/pubhealth/rates/")
    token = uploads.save_error_workbook(user, report.error_workbook) if report.error_workbook else None
    return _rates_page(request, report, token, status=400)


@fupin_view
def error_workbook(request, token):
    return error_workbook_download(request, token, "公共卫生指标错误标注.xlsx")
