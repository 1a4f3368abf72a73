"""Screens of work plans, leading groups and meetings. Views parse input, call one service or
selector, and render."""
from __future__ import annotations

import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, Level
from fupin.core.roles import Cap
from fupin.core.views import form_date, form_int, form_year, fupin_view

from . import selectors, services
from .models import GroupRole, ItemState

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _schools(user):
    from fupin.education.models import School

    lo, hi = access.scope_range(user)
    return School.objects.filter(region_id__gte=lo, region_id__lte=hi).order_by("code")


def _regions(user):
    return access.regions_for(user).filter(level__in=[Level.COUNTY, Level.TOWNSHIP]).order_by("code")


def _opt_int(post, key, label):
    return form_int(post, key, label, lo=1) if (post.get(key) or "").strip() else None


def _item_values(post) -> dict:
    return {"target": post.get("target", ""), "quantity": _opt_int(post, "quantity", "数量"),
            "measure": post.get("measure", ""), "owner_unit": post.get("owner_unit", ""),
            "owner_person": post.get("owner_person", ""), "evidence_required": post.get("evidence_required", ""),
            "due": form_date(post, "due", "完成时限")}


@fupin_view
def home(request):
    user = request.user
    today = timezone.localdate()
    year = form_year(request.GET, "year", "年度", today.year)
    if request.method == "POST":
        access.require(user, Cap.PLAN_MANAGE, what="编制计划或成立领导小组")
        try:
            if request.POST.get("action") == "group":
                g = services.group_create(actor=user, region_code=request.POST.get("region", ""),
                                          name=request.POST.get("name", ""), office=request.POST.get("office", ""),
                                          school_id=_opt_int(request.POST, "school", "学校"))
                return redirect(f"/plans/groups/{g.pk}/")
            plan = services.plan_create(actor=user, region_code=request.POST.get("region", ""),
                                        year=form_year(request.POST, "year", "年度"), title=request.POST.get("title", ""),
                                        school_id=_opt_int(request.POST, "school", "学校"))
            return redirect(f"/plans/{plan.pk}/")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect("/plans/")
    plans = list(selectors.plans_for(user, year=year))
    for p in plans:
        p.s = selectors.summary(p, today)
    return render(request, "plans/home.html", {
        "plans": plans, "year": year, "groups": selectors.groups_for(user), "today": today,
        "overdue": selectors.overdue_items(user, today=today).count(),
        "can_manage": access.may(user, Cap.PLAN_MANAGE), "regions": _regions(user), "schools": _schools(user)})


@fupin_view
def plan_page(request, pk):
    user = request.user
    plan = services.access_plan(user, pk)
    today = timezone.localdate()
    if request.method == "POST":
        access.require(user, Cap.PLAN_MANAGE, what=f"修改计划（编号 {pk}）")
        try:
            services.item_add(actor=user, plan=plan, values=_item_values(request.POST))
            messages.success(request, "已添加任务")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/plans/{pk}/")
    g = request.GET
    f = {"state": g.get("state", "")[:10], "overdue": g.get("overdue") == "1", "owner": g.get("owner", "")[:80],
         "sort": g.get("sort", "number")[:10]}
    qs = selectors.items(plan.items.all(), today=today, **f)
    page = Paginator(qs, 50).get_page(g.get("page"))
    for i in page:
        i.overdue = selectors.is_overdue(i, today)
    return render(request, "plans/plan.html", {
        "plan": plan, "page": page, "f": f, "s": selectors.summary(plan, today), "today": today,
        "states": ItemState.choices, "owners": sorted(set(plan.items.values_list("owner_unit", flat=True))),
        "can_manage": access.may(user, Cap.PLAN_MANAGE)})


@fupin_view
def plan_export(request, pk):
    from openpyxl import Workbook

    from fupin.exchange import excel

    user = request.user
    access.require(user, Cap.EXPORT, what=f"导出计划（编号 {pk}）")
    plan = services.access_plan(user, pk)
    today = timezone.localdate()
    rows = [[i.number, i.target, i.quantity, i.measure, i.owner_unit, i.owner_person, i.due, i.evidence_required,
             "逾期未完成" if selectors.is_overdue(i, today) else i.get_state_display(), i.done_on, i.evidence]
            for i in plan.items.order_by("number", "id")]
    wb = Workbook(write_only=True)
    excel.write_sheet(wb.create_sheet("计划任务"), ["序号", "目标任务", "数量", "计量单位", "责任单位", "责任人", "完成时限",
                                                  "佐证材料", "状态", "完成日期", "完成情况与佐证"], rows)
    out = io.BytesIO()
    wb.save(out)
    audit.record(user, AuditAction.EXPORT, object_type="plan", object_id=plan.pk,
                 summary=f"导出计划“{plan.title}”：{len(rows)} 项任务", detail={"items": len(rows)})
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="plan-{plan.pk}.xlsx"'
    return response


@fupin_view
def plan_report(request, pk, kind):
    if kind not in selectors.REPORT_TITLES:
        raise NotFound("没有这种报告；请从计划页点选半年报告或年度总结")
    plan = services.access_plan(request.user, pk)
    return render(request, "plans/report.html", {"plan": plan, "r": selectors.report(plan, kind)})


@fupin_view
@require_POST
def item_done(request, pk):
    user = request.user
    access.require(user, Cap.PLAN_MANAGE, what=f"登记事项完成（编号 {pk}）")
    item = services.access_item(user, pk)
    back = f"/plans/{item.plan_id}/" if item.plan_id else f"/plans/groups/{item.meeting.group_id}/"
    try:
        services.item_done(actor=user, item_id=pk, done_on=form_date(request.POST, "done_on", "完成日期"),
                           evidence=request.POST.get("evidence", ""),
                           done_quantity=_opt_int(request.POST, "done_quantity", "完成数量"))
        messages.success(request, "已登记完成")
    except FupinError as exc:
        messages.error(request, exc.message)
    return redirect(back)


@fupin_view
def overdue(request):
    today = timezone.localdate()
    page = Paginator(selectors.overdue_items(request.user, today=today), 50).get_page(request.GET.get("page"))
    return render(request, "plans/overdue.html", {"page": page, "today": today})


@fupin_view
def group_page(request, pk):
    user = request.user
    group = services.access_group(user, pk)
    today = timezone.localdate()
    if request.method == "POST":
        access.require(user, Cap.PLAN_MANAGE, what=f"修改领导小组（编号 {pk}）")
        action = request.POST.get("action")
        try:
            if action == "member":
                services.member_add(actor=user, group=group, role=request.POST.get("role", ""),
                                    name=request.POST.get("name", ""), post=request.POST.get("post", ""),
                                    duties=request.POST.get("duties", ""), start=form_date(request.POST, "start", "起"))
            elif action == "meeting":
                services.meeting_record(actor=user, group=group, date=form_date(request.POST, "date", "日期"),
                                        title=request.POST.get("title", ""), minutes=request.POST.get("minutes", ""))
            elif action == "decision":
                meeting = services.access_meeting(user, form_int(request.POST, "meeting", "会议", lo=1))
                if meeting.group_id != group.pk:
                    raise NotFound("该会议不属于这个领导小组")
                services.item_add(actor=user, meeting=meeting, values=_item_values(request.POST))
            else:
                raise InvalidInput({"操作": "请从页面上的按钮提交"})
            messages.success(request, "已保存")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/plans/groups/{pk}/")
    meetings = list(group.meetings.prefetch_related("items"))
    for m in meetings:
        for i in m.items.all():
            i.overdue = selectors.is_overdue(i, today)
    return render(request, "plans/group.html", {
        "group": group, "members": group.members.all(), "meetings": meetings, "today": today,
        "roles": GroupRole.choices, "can_manage": access.may(user, Cap.PLAN_MANAGE)})


@fupin_view
def school_gaps(request):
    today = timezone.localdate()
    year = form_year(request.GET, "year", "年度", today.year)
    rows = selectors.school_gaps(request.user, year=year, today=today)
    if request.GET.get("open") == "1":
        rows = [r for r in rows if r["open"]]
    return render(request, "plans/schools.html", {"rows": rows, "year": year, "only_open": request.GET.get("open") == "1"})


@fupin_view
def bulletins(request):
    """The bulletin page (简报): published bulletins of the user's region; drafts for their editors."""
    from .models import Bulletin

    user = request.user
    if request.method == "POST":
        access.require(user, Cap.PLAN_MANAGE, what="编写工作简报")
        try:
            b = services.bulletin_compose(actor=user, region_code=request.POST.get("region", ""),
                                          start=form_date(request.POST, "start", "期间起"),
                                          end=form_date(request.POST, "end", "期间止"), title=request.POST.get("title", ""))
            return redirect(f"/plans/bulletins/{b.pk}/")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect("/plans/bulletins/")
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    qs = Bulletin.objects.filter(region_id__gte=lo, region_id__lte=hi).select_related("region")
    can_manage = access.may(user, Cap.PLAN_MANAGE)
    if not can_manage:
        qs = qs.filter(published_at__isnull=False)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "plans/bulletins.html", {"page": page, "can_manage": can_manage, "regions": _regions(user),
                                                    "today": timezone.localdate()})


@fupin_view
def bulletin_page(request, pk):
    user = request.user
    b = services.access_bulletin(user, pk)
    if request.method == "POST":
        access.require(user, Cap.PLAN_MANAGE, what=f"修改或发布简报（编号 {pk}）")
        try:
            if request.POST.get("action") == "publish":
                services.bulletin_publish(actor=user, pk=pk)
                messages.success(request, "简报已发布")
            else:
                services.bulletin_edit(actor=user, pk=pk, title=request.POST.get("title", ""),
                                       body=request.POST.get("body", ""))
                messages.success(request, "已保存")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/plans/bulletins/{pk}/")
    return render(request, "plans/bulletin.html", {"b": b, "paragraphs": b.body.split("\n\n"),
                                                   "can_manage": access.may(user, Cap.PLAN_MANAGE)})
