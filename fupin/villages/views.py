"""Screens of the village register. Views parse input, call one service or selector, render."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fupin.core import access
from fupin.core.errors import FupinError, InvalidInput
from fupin.core.roles import Cap
from fupin.core.views import form_date, form_int, form_year, form_yuan, fupin_view
from fupin.exchange import uploads
from fupin.exchange.views import error_workbook_download

from . import importer, selectors, services
from .models import DutyKind, PoorKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 50



def _filters(request):
    g = request.GET
    return {"township": g.get("township", "")[:12], "kind": g.get("kind", "")[:20], "state": g.get("state", "")[:20],
            "sort": g.get("sort", "code")[:20]}


@fupin_view
def village_list(request):
    user = request.user
    f = _filters(request)
    qs = selectors.villages_for(user, **f)
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    region = user.region
    return render(request, "villages/list.html", {
        "page": page, "f": f, "kinds": PoorKind.choices, "townships": selectors.townships_for(user),
        "totals": selectors.totals(user, region), "can_manage": access.may(user, Cap.VILLAGE_MANAGE),
        "can_export": access.may(user, Cap.EXPORT), "report": None})


@fupin_view
def village_export(request):
    user = request.user
    access.require(user, Cap.EXPORT, what="导出村级档案")
    data = importer.export_register(user, selectors.villages_for(user, **_filters(request)))
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E6%9D%91%E7%BA%A7%E6%A1%A3%E6%A1%88.xlsx"
    return response


@fupin_view
def village_template(request):
    access.require(request.user, Cap.VILLAGE_MANAGE)
    response = HttpResponse(importer.template_bytes(), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E6%9D%91%E7%BA%A7%E6%A1%A3%E6%A1%88%E6%A8%A1%E6%9D%BF.xlsx"
    return response


@fupin_view
@require_POST
def village_import(request):
    user = request.user
    access.require(user, Cap.VILLAGE_MANAGE, what="导入村级档案")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择要导入的 Excel 文件")
        return redirect("/villages/")
    report = importer.import_register(user, upload.read(), upload.name)
    if report.ok:
        messages.success(request, f"导入完成：新增 {report.created} 个村，更新 {report.updated} 个，无变化 {report.unchanged} 个")
        return redirect("/villages/")
    token = uploads.save_error_workbook(user, report.error_workbook) if report.error_workbook else None
    f = _filters(request)
    page = Paginator(selectors.villages_for(user, **f), PAGE).get_page(1)
    return render(request, "villages/list.html", {
        "page": page, "f": f, "kinds": PoorKind.choices, "townships": selectors.townships_for(user),
        "totals": selectors.totals(user, user.region), "can_manage": True,
        "can_export": access.may(user, Cap.EXPORT), "report": report, "token": token}, status=400)


@fupin_view
def error_workbook(request, token):
    return error_workbook_download(request, token, "村级档案错误标注.xlsx")


@fupin_view
def village_exits(request):
    """Every poor village of the user's region not yet exited, checked against the exit criteria."""
    user = request.user
    on = form_date(request.GET, "on", "核查日期", timezone.localdate())
    checks = selectors.exit_checks(user, user.region, on=on)
    names = dict(access.regions_for(user).filter(code__in=list(checks)).values_list("code", "name"))
    rows = [{"code": c, "name": names.get(c, c), **r} for c, r in checks.items()]
    return render(request, "villages/exits.html", {"rows": rows, "on": on,
                                                   "eligible": sum(1 for r in rows if r["eligible"])})


def _decimal(raw: str, label: str) -> Decimal:
    try:
        d = Decimal((raw or "0").strip())
    except InvalidOperation:
        raise InvalidInput({label: f"“{raw[:20]}”不是数字"}) from None
    if not d.is_finite() or d.as_tuple().exponent < -2:
        raise InvalidInput({label: "应为最多两位小数的数"})
    return d


def _register_values(post) -> dict:
    values = {"poor_kind": post.get("poor_kind", "")}
    for f in ("poor_since", "key_since", "exited_on"):
        values[f] = form_date(post, f, str(services.LABELS[f]), None) if post.get(f, "").strip() else None
    for f, hi in services.NUMBER_LIMITS.items():
        values[f] = form_int(post, f, str(services.LABELS[f]), 0, lo=0, hi=hi)
    for f in services.DECIMAL_LIMITS:
        values[f] = _decimal(post.get(f, ""), str(services.LABELS[f]))
    for f in ("road_hardened", "piped_water", "electricity", "broadband", "clinic", "culture_room"):
        values[f] = post.get(f) == "1"
    return values


@fupin_view
def village_page(request, code):
    user = request.user
    region = services.access_village_region(user, code)
    if request.method == "POST":
        access.require(user, Cap.VILLAGE_MANAGE, what=f"修改村级档案（{code}）")  # refused: 403, audited
        action = request.POST.get("action", "")
        try:
            if action == "register":
                services.village_save(actor=user, code=code, values=_register_values(request.POST))
                messages.success(request, "村级档案已保存")
            elif action == "finance":
                services.finance_save(actor=user, code=code, year=form_year(request.POST, "year", "年度"),
                                      income=form_yuan(request.POST, "income", "村级收入"),
                                      collective_income=form_yuan(request.POST, "collective_income", "集体经济收入"),
                                      debt=form_yuan(request.POST, "debt", "负债"),
                                      debt_note=request.POST.get("debt_note", "").strip())
                messages.success(request, "村级财务已保存")
            elif action == "duty":
                replaces = request.POST.get("replaces", "").strip()
                services.duty_assign(actor=user, code=code, kind=request.POST.get("kind", ""),
                                     name=request.POST.get("name", ""), unit=request.POST.get("unit", ""),
                                     programme=request.POST.get("programme", ""),
                                     start=form_date(request.POST, "start", "开始日期"),
                                     replaces_id=form_int(request.POST, "replaces", "接替", lo=1) if replaces else None)
                messages.success(request, "帮扶责任已登记")
            elif action == "duty_end":
                services.duty_end(actor=user, code=code, duty_id=form_int(request.POST, "duty", "记录", lo=1),
                                  end=form_date(request.POST, "end", "结束日期"))
                messages.success(request, "已登记结束")
            elif action == "exit":
                services.village_exit(actor=user, code=code, on=form_date(request.POST, "on", "退出日期"))
                messages.success(request, "已登记整村退出")
            else:
                raise InvalidInput({"操作": "请从页面上的按钮提交"})
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/villages/{code}/")
    today = timezone.localdate()
    detail = selectors.village_detail(user, region)
    check = selectors.exit_check(user, code, on=today)
    return render(request, "villages/village.html", {
        "region": region, **detail, "check": check, "today": today, "kinds": PoorKind.choices,
        "duty_kinds": DutyKind.choices, "can_manage": access.may(user, Cap.VILLAGE_MANAGE)})
