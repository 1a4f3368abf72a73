"""The board (作战图), its drill-down lists and exports, targets (任务书) and problems.

Views parse input, call one selector or service and render."""
from __future__ import annotations

import io
import secrets

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fupin.core import access, audit, idcard
from fupin.core.errors import InvalidInput, NotFound
from fupin.core.models import Region
from fupin.core.money import fen_to_yuan_str
from fupin.core.roles import Cap
from fupin.core.listing import Column, listing
from fupin.exchange.lists import xlsx_response
from fupin.policy import labels
from fupin.core.views import form_date, form_int, form_year, fupin_view

from . import policy, selectors, services
from .models import ProblemSource, ProblemState


def _year(request) -> int:
    return form_year(request.GET, "year", "年度", timezone.localdate().year)


def _crumbs(user, region: Region) -> list[Region]:
    """The region's ancestors the user may open, top first."""
    out, r = [], region
    while r is not None and access.in_scope(user, r.code):
        out.append(r)
        r = r.parent
    return out[::-1]


@fupin_view
def home(request):
    access.require(request.user, Cap.READ)
    return redirect(f"/oversight/{request.user.region_id}/")


@fupin_view
def board(request, code: str):
    user = request.user
    region = access.access_region(user, code)
    year, today = _year(request), timezone.localdate()
    live = request.GET.get("live") == "1"
    data = selectors.board(user, region, year=year, today=today, live=live)
    children = selectors.children_table(user, region, year=year, today=today, by=request.GET.get("by", ""), live=live)
    chart = None
    if children["rows"]:
        by, i = children["by"], children["by_index"]
        chart = {"title": f"{by.name}（{'比率 %' if by.is_rate else by.unit}）",
                 "labels": [r["region"].name for r in children["rows"]],
                 "values": [(r["cells"][i]["rate"] or 0) / 10 if by.is_rate else r["cells"][i]["value"]
                            for r in children["rows"]]}
    from . import inspections as insp

    return render(request, "oversight/board.html", {"inspections": insp.rates_for_region(user, region),
        "region": region, "crumbs": _crumbs(user, region), "year": year, "groups": data["groups"], "by_source": data["by_source"],
        "counted_at": data["counted_at"], "live": live,
        "children": children, "chart": chart, "today": today, "can_targets": access.may(user, Cap.SET_TARGETS),
        "can_problems": access.may(user, Cap.PROBLEM_MANAGE)})


def _indicator(key: str) -> policy.Indicator:
    ind = policy.indicators().get(key)
    if ind is None:
        raise NotFound("没有这项指标，请从作战图上点选")
    return ind


def _split(request, ind) -> str | None:
    from fupin.funds.models import FundingSource

    src = request.GET.get("source") or None
    if src is not None and (not ind.split or src not in FundingSource.values):
        raise InvalidInput({"资金来源": "请从作战图上点选资金来源"})
    return src


def _list_rows(request, code: str, key: str):
    user = request.user
    region = access.access_region(user, code)
    ind = _indicator(key)
    selectors.list_access(user, ind)
    year, split = _year(request), _split(request, ind)
    rows = selectors.indicator_rows(user, region, ind, year=year, today=timezone.localdate(), split=split)
    return region, ind, year, split, rows


@require_POST
@fupin_view
def board_refresh(request, code: str):
    """Count the board of this region (and the regions below it) now and keep the numbers for today."""
    user = request.user
    region = access.access_region(user, code)
    year = form_year(request.POST, "year", "年度", timezone.localdate().year)
    services.snapshot_refresh(actor=user, region=region, year=year, today=timezone.localdate())
    messages.success(request, f"已重新统计 {region.name} {year} 年作战图")
    return redirect(f"/oversight/{region.code}/?year={year}")


@fupin_view
def indicator_list(request, code: str, key: str):
    region, ind, year, split, rows = _list_rows(request, code, key)
    from fupin.funds.models import FundingSource

    page = Paginator(rows, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    # the board's number, from the same rows (a count is the paginator's own count: one query, not two)
    total = page.paginator.count if selectors.QUERIES[ind.query].measure == "count" else selectors.measure(ind, rows)
    kind = selectors.QUERIES[ind.query].kind
    if kind == "aid_lines":
        page.object_list = [_aid_labelled(line) for line in page.object_list]
    return render(request, "oversight/list.html", {
        "region": region, "ind": ind, "year": year, "kind": kind, "page": page, "total": total,
        "total_text": selectors.show(ind, total),
        "count": page.paginator.count, "split_label": FundingSource(split).label if split else "",
        "query": request.GET.urlencode(), "today": timezone.localdate(), "crumbs": _crumbs(request.user, region)})


# ---- Excel: every list exports, formula-safe, logged with the number of persons ----------------------

def _aid_labelled(line):
    """An aid line with its semester and item as officials say them (2024年秋季学期, not 2024-autumn)."""
    from fupin.education.selectors import LABELS, _semester_label

    line.semester_label, line.item_label = _semester_label(line.run.semester), LABELS.get(line.item, line.item)
    return line


def _sheet_rows(kind: str, rows):
    """(headers, row values, persons named) of one list."""
    if kind == "households":
        return (["户编号", "所属村", "户主", "在世人数", "状态", "状态起始日期"],
                ([h.number, h.village.name, h.head_name or "", h.size or 0, h.get_status_display(),
                  h.status_since.isoformat() if h.status_since else ""] for h in rows.iterator(chunk_size=2000)),
                rows.exclude(head_name=None).count())
    if kind == "persons":
        return (["姓名", "证件号码（脱敏）", "性别", "出生年份", "户编号", "所属村", "户状态"],
                ([p.name, idcard.mask(p.id_number), p.get_sex_display(), f"{p.birth_date.year}年", p.household.number,
                  p.household.village.name, p.household.get_status_display()] for p in rows.iterator(chunk_size=2000)),
                rows.count())
    if kind == "vouchers":
        return (["业务日期", "凭证编号", "类型", "预算科目", "资金来源", "待遇项目", "期间", "收款笔数", "金额（元）"],
                ([e.transaction.date.isoformat(), e.transaction_id, e.transaction.get_kind_display(), e.account.name,
                  e.account.get_source_display(), labels.entitlement(e.entitlement or e.transaction.entitlement),
                  labels.period(e.period or e.transaction.period), e.payees or 0, fen_to_yuan_str(e.shown)]
                 for e in rows.iterator(chunk_size=2000)),
                0)
    if kind == "measures":
        return (["日期", "户编号", "帮扶责任人", "类型", "内容", "投入资金（元）"],
                ([m.date.isoformat(), m.household.number, m.helper.name, m.kind_label, m.description,
                  fen_to_yuan_str(m.money)] for m in rows.iterator(chunk_size=2000)), 0)
    if kind == "visit_days":
        return (["走访日期", "帮扶责任人", "帮扶单位", "走访户数", "时长（分钟）"],
                ([r["date"].isoformat(), r["helper__name"], r["helper__unit__name"], r["households"], r["minutes"]]
                 for r in rows), 0)
    if kind == "claims":
        return (["出院日期", "医院", "患者", "户编号", "总费用（元）", "个人自付（元）"],
                ([c.discharge_date.isoformat(), c.hospital.name, c.person.name, c.person.household.number,
                  fen_to_yuan_str(c.total), fen_to_yuan_str(c.patient)] for c in rows.iterator(chunk_size=2000)),
                rows.values("person_id").distinct().count())
    if kind == "aid_lines":
        return (["学期", "学校", "学生", "户编号", "资助项目", "金额（元）"],
                ([l.semester_label, l.school.name, l.person.name, l.person.household.number, l.item_label,
                  fen_to_yuan_str(l.amount)] for l in map(_aid_labelled, rows.iterator(chunk_size=2000))),
                rows.values("person_id").distinct().count())
    if kind == "figures":   # public-health figures (fupin/pubhealth): the region and both parts
        return (["区划", "分子", "分母", "数据来源"],
                ([f.region.name, f.numerator, f.denominator, f.source] for f in rows.iterator(chunk_size=2000)), 0)
    if kind == "support_members":   # counterpart support (fupin/support)
        return (["季度", "派出医院", "科室", "派驻人员", "受援医院"],
                ([f"第{m.dispatch.quarter}季度", m.dispatch.department.hospital.name, m.dispatch.department.name,
                  m.staff.name, m.dispatch.supported.name] for m in rows.iterator(chunk_size=2000)), 0)
    if kind == "support_activities":
        return (["日期", "派驻人员", "受援医院", "类型", "说明"],
                ([a.date.isoformat(), a.member.staff.name, a.member.dispatch.supported.name, a.get_kind_display(),
                  a.note] for a in rows.iterator(chunk_size=2000)), 0)
    types = policy.problem_types()
    return (["问题类型", "问题描述", "区划", "涉及户", "责任单位", "责任人", "整改期限", "状态", "来源"],
            ([types.get(p.type, ""), p.title, p.region.name, p.household.number if p.household else "", p.owner_unit,
              p.owner_name, p.deadline.isoformat(), p.get_state_display(), p.get_source_display()]
             for p in rows.iterator(chunk_size=2000)),
            rows.exclude(household=None).count() + rows.filter(household=None, source=ProblemSource.AUDIT).count())


def _workbook(title: str, headers, values) -> bytes:
    from openpyxl import Workbook

    from fupin.exchange.excel import safe

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.append([safe(title)])
    ws.append(headers)
    for row in values:
        ws.append([safe(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _xlsx(data: bytes, filename: str) -> HttpResponse:
    from urllib.parse import quote

    r = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    r["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return r


@fupin_view
def indicator_export(request, code: str, key: str):
    access.require(request.user, Cap.EXPORT, what="导出作战图清单")
    region, ind, year, split, rows = _list_rows(request, code, key)
    kind = selectors.QUERIES[ind.query].kind
    headers, values, persons = _sheet_rows(kind, rows)
    title = f"{region.name}{year}年 {ind.name}"
    if split:
        from fupin.funds.models import FundingSource
        title += f"（{FundingSource(split).label}）"
    data = _workbook(title, headers, values)
    audit.export(request.user, what=f"作战图清单：{title}", object_type="indicator", object_id=f"{code}:{key}",
                 persons=persons)
    return _xlsx(data, f"{title}.xlsx")


# ---- targets (任务书) -----------------------------------------------------------------------------------

@fupin_view
def targets(request):
    user = request.user
    access.require(user, Cap.SET_TARGETS, what="下达年度目标")
    year = form_year(request.POST or request.GET, "year", "年度", timezone.localdate().year)
    if request.method == "POST":
        region = services.access_child_region(user, request.POST.get("region", ""))
        ind = _indicator(request.POST.get("indicator", ""))
        value = services.parse_target(ind, request.POST.get("value", ""))
        services.target_set(actor=user, region=region, year=year, indicator=ind, value=value)
        messages.success(request, f"已下达 {region.name} {year} 年“{ind.name}”目标")
        return redirect(f"/oversight/targets/?year={year}")
    children = list(Region.objects.filter(parent_id=user.region_id).order_by("code"))
    inds = [i for i in policy.indicators().values() if not i.split]
    today = timezone.localdate()
    rows = []
    for child in children:
        set_targets = selectors.targets_of(child, year)
        cells = []
        for ind in inds:
            if ind.key not in set_targets:
                continue
            value = selectors.indicator_value(user, child, ind, year=year, today=today)
            progress = value
            if ind.base:
                progress = selectors.rate_permille(value, selectors.indicator_value(user, child, policy.indicators()[ind.base],
                                                                                   year=year, today=today))
            fmt = selectors.percent if ind.base else (lambda v, ind=ind: f"{selectors.show(ind, v)} {ind.unit}")
            cells.append({"ind": ind, "target": fmt(set_targets[ind.key]), "progress": fmt(progress),
                          "met": selectors.is_met(ind, progress, set_targets[ind.key])})
        rows.append({"region": child, "cells": cells})
    return render(request, "oversight/targets.html", {"year": year, "children": children, "indicators": inds,
                                                      "rows": rows})


@require_POST
@fupin_view
def targets_import(request):
    user = request.user
    access.require(user, Cap.SET_TARGETS, what="导入年度目标")
    year = form_year(request.POST, "year", "年度", timezone.localdate().year)
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidInput({"文件": "请选择要导入的 Excel 文件"})
    result = services.targets_import(actor=user, data=upload.read(), filename=upload.name, year=year)
    if result.errors:
        for e in result.errors[:50]:
            messages.error(request, e)
        messages.error(request, "文件中有错误，一条目标也没有导入；请改正后重新导入")
    else:
        messages.success(request, f"已导入 {result.saved} 条 {year} 年目标")
    return redirect(f"/oversight/targets/?year={year}")


@fupin_view
def targets_template(request):
    access.require(request.user, Cap.SET_TARGETS, what="下载年度目标导入模板")
    children = Region.objects.filter(parent_id=request.user.region_id).order_by("code")
    first = next((i for i in policy.indicators().values() if i.key == "exits_year"), None)
    rows = [[c.code, first.name if first else "", ""] for c in children]
    return _xlsx(_workbook("年度目标任务书（区划代码、指标名称、目标值；比率填百分数）", ["区划代码", "指标名称", "目标值"], rows),
                 "年度目标导入模板.xlsx")


# ---- problems ------------------------------------------------------------------------------------------

@fupin_view
def problems(request):
    user = request.user
    qs = selectors.problems_for(user).select_related("region__parent", "household", "escalated_to")
    state = request.GET.get("state", "")
    if state:
        if state not in ProblemState.values:
            raise InvalidInput({"状态": "请从列表中选择状态"})
        qs = qs.filter(state=state)
    type_ = request.GET.get("type", "")
    if type_:
        qs = qs.filter(type=type_)
    from django.db.models import Count, Q

    from .models import RectificationCampaign

    campaign = request.GET.get("campaign", "")
    if campaign:
        qs = qs.filter(campaign_id=form_int(request.GET, "campaign", "专项整改行动", lo=1))
    slo, shi = access.scope_range(user)
    campaigns = list(RectificationCampaign.objects.filter(region_id__gte=slo, region_id__lte=shi).select_related("region")
                     .annotate(n=Count("problems"), closed=Count("problems", filter=Q(problems__state=ProblemState.VERIFIED)))[:50])
    for c in campaigns:
        c.phase_now = c.phase_on(timezone.localdate())
    overdue = request.GET.get("overdue") == "1"
    if overdue:   # past the deadline and not closed: escalated to the level above the problem's region
        qs = qs.exclude(state=ProblemState.VERIFIED).filter(deadline__lt=timezone.localdate())
    escalated = request.GET.get("escalated") == "1"
    if escalated:   # overdue problems below that the nightly job moved up to this user's level
        qs = qs.exclude(state=ProblemState.VERIFIED).filter(escalated_to_id=user.region_id)
    rows = listing(request, qs, PROBLEM_COLUMNS, default_sort="deadline", page_size=selectors.PAGE_SIZE)
    if rows.wants_export:
        return xlsx_response(user, rows, what="问题清单", object_type="problems", object_id=user.region_id)
    return render(request, "oversight/problems.html", {
        "listing": rows, "page": rows.page, "types": policy.problem_types(), "states": ProblemState.choices, "state": state, "type": type_,
        "overdue": overdue, "escalated": escalated, "campaigns": campaigns, "campaign": campaign,
        "phases": policy.problems()["campaign_phases"],
        "today": timezone.localdate(), "can_manage": access.may(user, Cap.PROBLEM_MANAGE),
        "regions": access.regions_for(user).order_by("code")[:500]})


PROBLEM_COLUMNS = [
    Column("id", "编号", lambda p: p.pk, order="id"),
    Column("type", "问题类型", lambda p: policy.problem_types().get(p.type, p.type), order=("type", "deadline")),
    Column("title", "问题描述", lambda p: p.title),
    Column("region", "区划", lambda p: p.region.name, order=("region_id", "deadline")),
    Column("owner", "责任单位", lambda p: p.owner_unit, order=("owner_unit", "deadline")),
    Column("deadline", "整改期限", lambda p: p.deadline.isoformat(), order="deadline"),
    Column("state", "状态", lambda p: p.get_state_display(), order=("state", "deadline")),
]


@require_POST
@fupin_view
def problem_new(request):
    user, post = request.user, request.POST
    household = post.get("household", "").strip()
    household_pk = None
    if household:
        access.require(user, Cap.READ)
        h = access.households_for(user).filter(number=household).values_list("pk", flat=True).first()
        if h is None:
            raise InvalidInput({"涉及户": f"找不到户编号 {household[:30]}，或该户不在您的管辖范围内"})
        household_pk = h
    deadline = form_date(post, "deadline", "整改期限", None) if post.get("deadline") else None
    p = services.problem_create(actor=user, type=post.get("type", ""), title=post.get("title", ""),
                                region_code=post.get("region", ""), household_pk=household_pk,
                                owner_unit=post.get("owner_unit", ""), owner_name=post.get("owner_name", ""),
                                deadline=deadline, today=timezone.localdate(),
                                campaign_pk=form_int(post, "campaign", "专项整改行动", lo=1) if post.get("campaign") else None)
    messages.success(request, f"已登记问题（编号 {p.pk}）")
    return redirect(f"/oversight/problems/{p.pk}/")


@require_POST
@fupin_view
def rectification_new(request):
    post = request.POST
    access.require(request.user, Cap.PROBLEM_MANAGE, what="发起专项整改行动")
    dates = {ph["key"]: (form_date(post, f"{ph['key']}_start", f"{ph['name']}开始日期"),
                         form_date(post, f"{ph['key']}_end", f"{ph['name']}结束日期"))
             for ph in policy.problems()["campaign_phases"]}
    c = services.rectification_campaign_create(actor=request.user, name=post.get("name", ""),
                                               region_code=post.get("region", ""), dates=dates)
    messages.success(request, f"已发起专项整改行动“{c.name}”")
    return redirect(f"/oversight/problems/?campaign={c.pk}")


@fupin_view
def problem_page(request, pk: int):
    user = request.user
    p = selectors.access_problem(user, pk)
    allowed = [(a, t[3]) for a, t in services.TRANSITIONS.items() if p.state in t[0] and access.may(user, t[2])]
    return render(request, "oversight/problem.html", {
        "p": p, "type": policy.problem_types().get(p.type, ""), "history": selectors.problem_history(p),
        "actions": allowed, "today": timezone.localdate()})


@require_POST
@fupin_view
def problem_action(request, pk: int, action: str):
    user = request.user
    if action not in services.TRANSITIONS:
        raise NotFound("没有这个整改操作")
    cap = services.TRANSITIONS[action][2]
    access.require(user, cap, what=f"{services.TRANSITIONS[action][3]}：问题 {pk}")   # before the problem is read
    p = selectors.access_problem(user, pk)
    services.problem_transition(actor=user, problem=p, action=action, note=request.POST.get("note", ""),
                                today=timezone.localdate())
    messages.success(request, f"已{services.TRANSITIONS[action][3]}")
    return redirect(f"/oversight/problems/{pk}/")


@require_POST
@fupin_view
def lookback(request):
    event = services.lookback_draw(actor=request.user, seed=request.POST.get("seed", ""),
                                   count=form_int(request.POST, "count", "抽查件数", lo=1, hi=100000))
    return redirect(f"/oversight/problems/lookback/{event.pk}/")


@fupin_view
def lookback_page(request, pk: int):
    from fupin.core.models import AuditEvent

    user = request.user
    access.require(user, Cap.PROBLEM_MANAGE, what="查看回头看抽查")
    event = AuditEvent.objects.filter(pk=pk, object_type="lookback", actor__region_id=user.region_id).first()
    if event is None:
        raise NotFound("找不到这次回头看抽查")
    drawn = list(selectors.problems_for(user).filter(pk__in=event.detail["problems"]).select_related("region"))
    return render(request, "oversight/lookback.html", {"event": event, "problems": drawn,
                                                       "types": policy.problem_types()})


@require_POST
@fupin_view
def problems_from_audit(request):
    created = services.problems_from_audit(actor=request.user, today=timezone.localdate())
    messages.success(request, f"资金审计检查发现的问题已转入问题清单：新增 {len(created)} 件（已登记过的不重复登记）")
    return redirect("/oversight/problems/")



# ---- inspections (自查、复查、抽查) ---------------------------------------------------------------------

@fupin_view
def inspections(request):
    from fupin.registry.choices import Status

    from . import inspections as insp
    from .models import CampaignKind

    user = request.user
    if request.method == "POST":
        post = request.POST
        access.require(user, Cap.INSPECT, what="组织检查抽样")
        c = insp.campaign_create(actor=user, name=post.get("name", ""), kind=post.get("kind", ""),
                                 region_code=post.get("region", ""), start=form_date(post, "start", "开始日期"),
                                 end=form_date(post, "end", "结束日期"), team=post.get("team", ""),
                                 seed=post.get("seed", ""),
                                 per_stratum=form_int(post, "per_stratum", "每层抽取户数", lo=1, hi=100000),
                                 statuses=post.getlist("statuses"))
        messages.success(request, f"已抽取 {c.samples.count()} 户，可打印走访核查表")
        return redirect(f"/oversight/inspections/{c.pk}/")
    return render(request, "oversight/inspections.html", {
        "campaigns": insp.campaigns_for(user)[:200], "kinds": CampaignKind.choices, "statuses": Status.choices,
        "regions": access.regions_for(user).filter(level__lte=4).order_by("code")[:500],
        "can_inspect": access.may(user, Cap.INSPECT), "today": timezone.localdate()})


@fupin_view
def inspection_page(request, pk: int):
    from . import inspections as insp
    from .models import Identification, Satisfaction

    user = request.user
    c = insp.access_campaign(user, pk)
    samples = list(c.samples.select_related("household__village", "finding"))
    return render(request, "oversight/inspection.html", {
        "c": c, "samples": samples, "rates": insp.campaign_rates(c), "can_inspect": access.may(user, Cap.INSPECT),
        "identifications": Identification.choices, "satisfactions": Satisfaction.choices,
        "token": secrets.token_urlsafe(16)})


@fupin_view
def inspection_sheet(request, pk: int):
    """The visit sheet to print: the drawn households with blank boxes for the findings."""
    from fupin.registry.models import Person

    from . import inspections as insp

    user = request.user
    access.require(user, Cap.INSPECT, what=f"打印走访核查表：检查 {pk}")
    c = insp.access_campaign(user, pk)
    samples = list(c.samples.select_related("household__village"))
    heads = dict(Person.objects.filter(household_id__in=[s.household_id for s in samples], relation="head", alive=True)
                 .values_list("household_id", "name"))
    for s in samples:
        s.head = heads.get(s.household_id, "")
    audit.export(user, what=f"走访核查表：{c.name}", object_type="campaign", object_id=c.pk,
                 persons=sum(1 for s in samples if s.head))
    return render(request, "oversight/sheet.html", {"c": c, "samples": samples})


@require_POST
@fupin_view
def finding_save(request, pk: int, sample_pk: int):
    from . import inspections as insp

    user = request.user
    access.require(user, Cap.INSPECT, what=f"记录核查结果：检查 {pk}")
    c = insp.access_campaign(user, pk)
    post = request.POST
    exit_raw = post.get("exit_correct", "")
    exit_correct = {"yes": True, "no": False}.get(exit_raw)
    insp.finding_record(actor=user, campaign=c, sample_pk=sample_pk, identification=post.get("identification", ""),
                        exit_correct=exit_correct, satisfaction=post.get("satisfaction", ""), note=post.get("note", ""),
                        client_token=post.get("client_token", ""), today=timezone.localdate())
    messages.success(request, "已保存核查结果")
    return redirect(f"/oversight/inspections/{pk}/#s{sample_pk}")
