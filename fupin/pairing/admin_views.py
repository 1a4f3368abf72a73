"""Pairing administration screens (the county office): units, helpers, work teams, the helper
import and the unpaired list. Views parse, call one service or selector, render."""
from __future__ import annotations

import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone

from fupin.core import access, audit
from fupin.core.errors import FupinError, NotFound
from fupin.core.roles import Cap
from fupin.core.views import form_int, fupin_view

from . import selectors, services
from .models import ExemptReason, HelperKind

HELPER_SORTS = {"unit": ("unit__name", "name"), "name": ("name",), "kind": ("kind", "unit__name", "name")}


@fupin_view
def admin(request):
    access.require(request.user, Cap.PAIRING_MANAGE)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "unit":
                unit = selectors.access_unit(request.user, form_int(request.POST, "unit", "帮扶单位")) \
                    if request.POST.get("unit") else None
                services.unit_save(actor=request.user, unit=unit, name=request.POST.get("name", ""),
                                   region_code=request.POST.get("region") or request.user.region_id)
            elif action in ("unit_off", "unit_on"):
                services.unit_set_active(actor=request.user, active=action == "unit_on",
                                         unit=selectors.access_unit(request.user, form_int(request.POST, "unit", "帮扶单位")))
            elif action == "helper":
                helper = selectors.access_helper(request.user, form_int(request.POST, "helper", "帮扶责任人")) \
                    if request.POST.get("helper") else None
                services.helper_save(actor=request.user, helper=helper,
                                     unit=selectors.access_unit(request.user, form_int(request.POST, "unit", "帮扶单位")),
                                     name=request.POST.get("name", ""), kind=request.POST.get("kind", ""),
                                     title=request.POST.get("title", ""),
                                     exempt_reason=request.POST.get("exempt_reason", ""))
            elif action in ("helper_off", "helper_on"):
                services.helper_set_active(actor=request.user, active=action == "helper_on",
                                           helper=selectors.access_helper(request.user,
                                                                          form_int(request.POST, "helper", "帮扶责任人")))
            elif action == "helper_user":
                account = None
                if request.POST.get("user"):
                    account = selectors.helper_accounts(request.user).filter(
                        pk=form_int(request.POST, "user", "登录账户")).first()
                    if account is None:
                        raise NotFound("找不到该帮扶责任人账户，或不在您的管辖范围内")
                services.helper_link_user(actor=request.user, user=account,
                                          helper=selectors.access_helper(request.user,
                                                                         form_int(request.POST, "helper", "帮扶责任人")))
            elif action == "import":
                upload = request.FILES.get("file")
                if upload is None:
                    raise FupinError("请选择要导入的 Excel 文件")
                n, problems, _ = services.helpers_import(actor=request.user, data=upload.read(), filename=upload.name)
                if problems:
                    raise FupinError("；".join(str(x) for x in problems[:20]) + "。未导入任何人员，请改正后重新导入")
                messages.success(request, f"已导入帮扶责任人 {n} 人")
                return redirect("/pairing/admin/")
            else:
                raise NotFound("没有这个操作")
        except FupinError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已保存")
        return redirect(request.get_full_path())
    units = selectors.units_for(request.user).order_by("-active", "name")
    helpers = selectors.helpers_for(request.user).select_related("unit", "user")
    unit_filter = request.GET.get("unit", "")
    if unit_filter.isdigit():
        helpers = helpers.filter(unit_id=int(unit_filter))
    kind = request.GET.get("kind", "")
    if kind in HelperKind.values:
        helpers = helpers.filter(kind=kind)
    sort = request.GET.get("sort", "unit")
    helpers = helpers.order_by("-active", *HELPER_SORTS.get(sort, HELPER_SORTS["unit"]))
    page = Paginator(helpers, 50).get_page(request.GET.get("page"))
    return render(request, "pairing/admin.html", {
        "units": units, "page": page, "kinds": HelperKind.choices, "reasons": ExemptReason.choices,
        "unit_filter": unit_filter, "kind": kind, "sort": sort, "accounts": selectors.helper_accounts(request.user),
        "regions": access.regions_for(request.user).filter(level__lte=4).order_by("code")[:200]})


@fupin_view
def teams(request):
    access.require(request.user, Cap.PAIRING_MANAGE)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "team":
                services.team_save(actor=request.user, name=request.POST.get("name", ""),
                                   village_code=request.POST.get("village", ""))
            elif action in ("team_off", "team_on"):
                services.team_set_active(actor=request.user, active=action == "team_on",
                                         team=selectors.access_team(request.user, form_int(request.POST, "team", "工作队")))
            elif action == "member":
                services.team_member_add(actor=request.user, name=request.POST.get("name", ""),
                                         team=selectors.access_team(request.user, form_int(request.POST, "team", "工作队")))
            elif action in ("member_off", "member_on"):
                services.team_member_set_active(actor=request.user, active=action == "member_on",
                                                member=selectors.access_member(request.user,
                                                                               form_int(request.POST, "member", "队员")))
            else:
                raise NotFound("没有这个操作")
        except FupinError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已保存")
        return redirect("/pairing/admin/teams/")
    items = selectors.teams_for(request.user).select_related("village").prefetch_related("members") \
        .order_by("-active", "village_id", "name")
    return render(request, "pairing/teams.html", {
        "page": Paginator(items, 50).get_page(request.GET.get("page")),
        "villages": access.regions_for(request.user).filter(level=5).order_by("code")[:1000]})


@fupin_view
def unpaired(request):
    code = request.GET.get("region") or request.user.region_id
    d = selectors.unpaired(request.user, code, timezone.localdate())
    if request.GET.get("format") == "xlsx":
        access.require(request.user, Cap.EXPORT)
        from openpyxl import Workbook

        from fupin.exchange.excel import safe
        from fupin.exchange.views import _xlsx

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("未结对户")
        ws.append(["户编号", "村", "状态"])
        n = 0
        for h in d["households"].iterator():
            ws.append([h.number, h.village.name, h.get_status_display()])
            n += 1
        ws2 = wb.create_sheet("结对不足或超额的帮扶责任人")
        ws2.append(["单位", "帮扶责任人", "类别", "应结对户数", "已结对户数"])
        for row in d["under"] + d["over"]:
            h = row["helper"]
            ws2.append([safe(h.unit.name), safe(h.name), h.get_kind_display(), row["quota"], row["current"]])
        out = io.BytesIO()
        wb.save(out)
        audit.export(request.user, what=f"导出 {d['region'].name} 未结对名单", object_type="unpaired",
                     object_id=d["region"].code, persons=n + len(d["under"]) + len(d["over"]))
        return _xlsx(out.getvalue(), f"未结对名单_{d['region'].code}.xlsx")
    page = Paginator(d["households"], 50).get_page(request.GET.get("page"))
    return render(request, "pairing/unpaired.html", {"d": d, "page": page, "s": selectors.satisfaction(
                                                         request.user, d["region"].code, timezone.localdate().year),
                                                     "regions": access.regions_for(request.user).filter(level__lte=4)
                                                     .order_by("code")[:200]})
