"""Screens of the policy what-if. Views parse input, call one service or selector, render."""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput
from fupin.core.listing import Column, Filter, listing
from fupin.core.roles import Cap
from fupin.core.views import fupin_view
from fupin.jobs.services import job_submit

from . import exports, selectors, services
from .models import Result

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _regions(user):
    """The regions a scenario may be made for: the user's own and the levels down to township."""
    return access.regions_for(user).filter(level__lte=4).order_by("code")


def _years():
    this = timezone.localdate().year
    return list(range(this + 1, this - 4, -1))


def _changes_from(post, params: list[dict]) -> dict:
    """Only the values typed differently from the one in force (the form shows the current one)."""
    out = {}
    for p in params:
        raw = (post.get(f"p:{p['name']}") or "").strip()
        if raw and raw not in (p["current"], p["current_shown"]):
            out[p["name"]] = raw
    return out


@fupin_view
def scenario_list(request):
    user = request.user
    access.require(user, Cap.WHATIF, what="打开政策测算")
    data = request.POST if request.method == "POST" else request.GET
    region_code = (data.get("region") or user.region_id or "")[:12]
    year = (data.get("year") or "")[:4]
    year = year if year.isdigit() else str(timezone.localdate().year)
    params = selectors.parameters(region_code, dt.date(int(year), 1, 1)) if access.in_scope(user, region_code) else []
    if request.method == "POST":
        for p in params:
            p["typed"] = request.POST.get(f"p:{p['name']}", "")
        try:
            if request.FILES.get("file"):
                scenario = services.scenario_from_yaml(actor=user, data=request.FILES["file"].read(),
                                                       region_code=region_code)
            else:
                scenario = services.scenario_save(actor=user, name=request.POST.get("name", ""),
                                                  region_code=region_code, year=year,
                                                  changes=_changes_from(request.POST, params),
                                                  note=request.POST.get("note", ""))
        except InvalidInput as exc:
            for field, message in exc.errors.items():
                messages.error(request, f"{field}：{message}")
        except FupinError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已保存情景“{scenario.name}”，请点“测算”计算结果")
            return redirect(f"/whatif/{scenario.pk}/")
    scenarios = list(selectors.scenarios_for(user)[:200])
    latest = {r.scenario_id: r for r in Result.objects.filter(scenario__in=scenarios).order_by("scenario_id", "-id")}
    return render(request, "whatif/list.html", {
        "scenarios": [(s, latest.get(s.pk)) for s in scenarios], "regions": _regions(user), "years": _years(),
        "region_code": region_code, "year": year, "params": params,
        "post": request.POST if request.method == "POST" else {}})


@fupin_view
def scenario_page(request, pk):
    user = request.user
    scenario = services.access_scenario(user, pk)
    params = selectors.parameters(scenario.region_id, dt.date(scenario.year, 1, 1))
    if request.method == "POST":
        try:
            services.scenario_save(actor=user, scenario_id=scenario.pk, name=request.POST.get("name", scenario.name),
                                   region_code=scenario.region_id, year=request.POST.get("year", scenario.year),
                                   changes=_changes_from(request.POST, params), note=request.POST.get("note", ""))
        except InvalidInput as exc:
            for field, message in exc.errors.items():
                messages.error(request, f"{field}：{message}")
        except FupinError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已保存改动；点“测算”按新参数计算")
            return redirect(f"/whatif/{scenario.pk}/")
    result = scenario.results.order_by("-id").first()
    for p in params:
        p["scenario"] = scenario.changes.get(p["name"])
        p["shown"] = selectors.shown(p["unit"], p["scenario"]) if p["scenario"] is not None else ""
    changed = [p for p in params if p["scenario"] is not None]
    chart = None
    if result:
        chart = {"title": "各户年度待遇变化（户数）", "labels": [b["label"] for b in result.summary["histogram"]],
                 "values": [b["count"] for b in result.summary["histogram"]]}
    return render(request, "whatif/scenario.html", {
        "scenario": scenario, "params": params, "changed": changed, "result": result, "chart": chart,
        "stale": bool(result and result.changes != scenario.changes),
        "top": selectors.most_affected(user, result) if result else [],
        "proposals": scenario.proposals.order_by("-id"), "today": timezone.localdate(),
        "can_export": access.may(user, Cap.EXPORT)})


@fupin_view
@require_POST
def scenario_run(request, pk):
    scenario = services.access_scenario(request.user, pk)
    job = job_submit(actor=request.user, kind="whatif_run", title=f"政策测算：{scenario.name}",
                     params={"scenario": scenario.pk})
    return redirect(f"/jobs/{job.pk}/")


def _result(user, pk) -> tuple:
    scenario = services.access_scenario(user, pk)
    result = scenario.results.order_by("-id").first()
    if result is None:
        raise FupinError("该情景还没有测算结果：请先点“测算”")
    return scenario, result


@fupin_view
def result_workbook(request, pk):
    user = request.user
    access.require(user, Cap.EXPORT, what="导出政策测算结果")
    scenario, result = _result(user, pk)
    data, households = exports.workbook(user, scenario, result)
    audit.export(user, what=f"导出政策测算“{scenario.name}”各户变化", object_type="whatif_result",
                 object_id=result.pk, persons=households)
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E6%94%BF%E7%AD%96%E6%B5%8B%E7%AE%97.xlsx"
    return response


@fupin_view
def result_brief(request, pk):
    from fupin.printing.whatif import brief

    user = request.user
    scenario, result = _result(user, pk)
    params = {p["name"]: p for p in selectors.parameters(scenario.region_id, dt.date(scenario.year, 1, 1))}
    rows = [{"label": params[n]["description"] if n in params else n,
             "current": params[n]["current_shown"] if n in params else "",
             "scenario": selectors.shown(params[n]["unit"], v) if n in params else str(v),
             "unit": params[n]["unit"] if n in params else ""} for n, v in result.changes.items()]
    top = selectors.most_affected(user, result, n=8)
    data = brief(scenario, result, rows, top)
    audit.export(user, what=f"打印政策测算“{scenario.name}”简报", object_type="whatif_result", object_id=result.pk,
                 persons=len(top))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = "inline; filename*=UTF-8''brief.pdf"
    return response


def _money(key: str, label: str) -> Column:
    return Column(key, label, lambda r: r[key], order=lambda r: r[key])


CHANGE_COLUMNS = [Column("household", "户", lambda r: r["_household"], order=lambda r: r["_household"]),
                  _money("current", "现行（元）"), _money("scenario", "情景（元）"), _money("change", "变化（元）")]


@fupin_view
def household_list(request, pk):
    """Every household whose yearly amount changes: paged, sorted, filtered by direction and
    region; the page's households are then read with their head (masked)."""
    import polars as pl

    user = request.user
    scenario, result = _result(user, pk)
    table = selectors.result_households(result).filter(pl.col("change") != 0)
    regions = [(r["code"], r["name"]) for r in result.summary["regions"]]
    filters = [Filter("direction", "变化", (("up", "增加"), ("down", "减少")),
                      lambda rows, v: [r for r in rows if (r["change"] > 0) == (v == "up")]),
               Filter("region", "区划", tuple(regions),
                      lambda rows, v: [r for r in rows if r["_village"].startswith(v)])]
    rows = listing(request, table.to_dicts(), CHANGE_COLUMNS, filters=filters, default_sort="-change", page_size=50)
    page = selectors.household_rows(user, pl.DataFrame(list(rows.page), schema=table.schema)) if len(rows.page) else []
    return render(request, "whatif/households.html", {"scenario": scenario, "listing": rows, "rows": page,
                                                       "can_export": access.may(user, Cap.EXPORT)})


@fupin_view
def household_page(request, pk, household_pk):
    scenario = services.access_scenario(request.user, pk)
    found = services.household_explanations(actor=request.user, scenario=scenario, household_id=household_pk)
    return render(request, "whatif/household.html", {"scenario": scenario, **found})


@fupin_view
@require_POST
def propose(request, pk):
    try:
        proposal = services.proposal_start(actor=request.user, scenario_id=pk, effective=request.POST.get("effective", ""),
                                           source=request.POST.get("source", ""))
    except InvalidInput as exc:
        for field, message in exc.errors.items():
            messages.error(request, f"{field}：{message}")
        return redirect(f"/whatif/{pk}/")
    except FupinError as exc:
        messages.error(request, exc.message)
        return redirect(f"/whatif/{pk}/")
    messages.success(request, "已提出政策包修订，等待审批")
    return redirect(f"/whatif/proposals/{proposal.pk}/")


@fupin_view
def proposal_page(request, pk):
    user = request.user
    proposal = services.access_proposal(user, pk)
    if request.method == "POST":
        try:
            services.proposal_act(actor=user, proposal_id=proposal.pk, approve=request.POST.get("decision") == "approve",
                                  comment=request.POST.get("comment", ""))
        except InvalidInput as exc:
            for field, message in exc.errors.items():
                messages.error(request, f"{field}：{message}")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/whatif/proposals/{proposal.pk}/")
    params = {p["name"]: p for p in selectors.parameters(proposal.scenario.region_id, proposal.effective)}
    rows = [{"label": params[n]["description"] if n in params else n,
             "current": params[n]["current_shown"] if n in params else "",
             "value": selectors.shown(params[n]["unit"], v) if n in params else str(v)} for n, v in proposal.changes.items()]
    return render(request, "whatif/proposal.html", {
        "proposal": proposal, "rows": rows, "may_act": services.may_act(user, proposal),
        "step": proposal.steps[proposal.step] if proposal.state == "in_progress" else None,
        "pack_title": services.pack_title(proposal.pack)})


@fupin_view
def proposal_pack(request, pk):
    proposal = services.access_proposal(request.user, pk)
    if proposal.state != "approved":
        raise FupinError("修订尚未批准，不能下载新版本政策包")
    audit.record(request.user, "export", object_type="whatif_proposal", object_id=proposal.pk,
                 summary=f"下载已批准的新版本政策包（修订 {proposal.pk}）")
    response = HttpResponse(proposal.pack_text, content_type="text/yaml; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename={proposal.pack}.yaml"
    return response

