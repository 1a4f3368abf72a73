"""Reports upward (报表): the catalogue, one region's report of a period, its steps, Excel and PDF.

Views parse input, call one selector or service and render."""
from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fupin.core import access, audit
from fupin.core.errors import NotFound
from fupin.core.roles import Cap
from fupin.core.views import fupin_view

from . import policy, reports, services


@fupin_view
def open_period(request):
    """The period picker's target: to the picked report and period."""
    form = reports.access_form(request.GET.get("form", ""))
    period = reports.parse_period(form, request.GET.get("period", ""))
    return redirect(f"/oversight/reports/{form.key}/{period.code}/")


@fupin_view
def catalogue(request):
    access.require(request.user, Cap.READ)
    today = timezone.localdate()
    forms = [{"form": f, "periods": reports.recent_periods(f, today)} for f in policy.report_forms().values()]
    return render(request, "oversight/reports.html", {"forms": forms, "region": request.user.region})


def _open(request, key: str, period: str):
    form = reports.access_form(key)
    period = reports.parse_period(form, period)
    code = request.GET.get("region") or request.POST.get("region") or request.user.region_id
    region = access.access_region(request.user, code)
    return form, period, region


def _rows(form, table) -> dict:
    """The stored table as printed: every cell as text."""
    show = reports.show_cell
    return {"rows": [{"name": r["name"], "code": r["code"], "filed": r["filed"],
                      "cells": [show(form, i, v) for i, v in enumerate(r["cells"])]} for r in table["rows"]],
            "total": [show(form, i, v) for i, v in enumerate(table["total"])]}


@fupin_view
def report(request, key: str, period: str):
    user = request.user
    form, period, region = _open(request, key, period)
    today = timezone.localdate()
    filing = reports.filing_of(user, form, region, period)
    own = region.code == user.region_id
    return render(request, "oversight/report.html", {
        "form": form, "period": period, "region": region, "filing": filing,
        "table": _rows(form, filing.table) if filing else None, "due": reports.due_date(form, period),
        "files_here": region.level in form.files, "children": reports.children_status(user, form, region, period, today),
        "can_file": access.may(user, Cap.REPORT_FILE) and own and region.level in form.files,
        "periods": reports.recent_periods(form, today)})


@fupin_view
@require_POST
def report_action(request, key: str, period: str, action: str):
    user = request.user
    form, period, region = _open(request, key, period)
    back = f"/oversight/reports/{form.key}/{period.code}/"
    if action == "generate":
        services.report_generate(actor=user, form=form, region=region, period=period)
        messages.success(request, "报表已生成，请由另一名工作人员审核签发")
    elif action == "return":
        filing = reports.filing_of(user, form, region, period)
        if filing is None:
            raise NotFound("该单位还没有这期报表")
        services.report_return(actor=user, form=form, filing=filing, reason=request.POST.get("reason", ""))
        messages.success(request, f"已退回{region.name}的报表")
    else:
        filing = reports.filing_of(user, form, region, period)
        if filing is None:
            raise NotFound("还没有生成这期报表")
        services.report_step(actor=user, form=form, filing=filing, action=action)
        messages.success(request, "报表已审核签发" if action == "review" else "报表已上报")
    return redirect(back)


def _filing_for_export(request, key: str, period: str):
    access.require(request.user, Cap.EXPORT, what="导出报表")
    form, period, region = _open(request, key, period)
    filing = reports.filing_of(request.user, form, region, period)
    if filing is None:
        raise NotFound("还没有生成这期报表")
    return form, period, region, filing


def _download(data: bytes, filename: str, content_type: str):
    from urllib.parse import quote

    from django.http import HttpResponse

    r = HttpResponse(data, content_type=content_type)
    r["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return r


@fupin_view
def report_xlsx(request, key: str, period: str):
    from fupin.exchange.reports import report_workbook

    form, period, region, filing = _filing_for_export(request, key, period)
    name = f"{region.name}{period.label}{form.title}"
    data = report_workbook(form, region.name, period.label, filing)
    audit.export(request.user, what=f"报表：{name}", object_type="report", object_id=filing.pk, persons=0)
    return _download(data, f"{name}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@fupin_view
def report_pdf(request, key: str, period: str):
    from fupin.printing.reports import report_form

    form, period, region, filing = _filing_for_export(request, key, period)
    name = f"{region.name}{period.label}{form.title}"
    data = report_form(form, region.name, period.label, _rows(form, filing.table), filing)
    audit.export(request.user, what=f"报表（打印）：{name}", object_type="report", object_id=filing.pk, persons=0)
    return _download(data, f"{name}.pdf", "application/pdf")
