"""Screens of the welfare room: parse the form, call one service or selector, render."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fupin.core import access
from fupin.core.errors import AccessDenied, FupinError, NotFound
from fupin.core.roles import Cap
from fupin.core.views import fupin_view
from fupin.policy.rules.welfare import CARE_LEVELS, CATEGORIES_OF, LABELS

from . import selectors, services
from .models import AppState, Programme

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SORTS = {"village": ("household__village_id", "household__number", "id"), "amount": ("-monthly_amount", "id"),
         "start": ("-start", "id")}


def _xlsx(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def _message(request, exc: FupinError) -> None:
    """A refusal or a record out of reach is an error page (403/404, audited by the access
    layer); any other problem is shown on the form."""
    if isinstance(exc, (AccessDenied, NotFound)):
        raise exc
    messages.error(request, exc.message)


def _category_choices():
    return [(p, Programme(p).label, [(c, LABELS[c]) for c in cs]) for p, cs in CATEGORIES_OF.items()]


def _month(request, key="month") -> dt.date:
    return services.parse_month((request.POST.get(key) or request.GET.get(key) or "").strip())


@fupin_view
def home(request):
    """Recipients of the user's region: filter by programme, village and state; sort; page; export."""
    qs = selectors.enrolments_for(request.user)
    g = request.GET
    programme, village, state = g.get("programme", ""), g.get("village", ""), g.get("state", "running")
    if programme in Programme.values:
        qs = qs.filter(programme=programme)
    if village:
        qs = qs.filter(household__village_id=village)
    if state == "running":
        qs = qs.filter(stop__isnull=True)
    elif state == "stopped":
        qs = qs.filter(stop__isnull=False)
    qs = qs.order_by(*SORTS.get(g.get("sort"), SORTS["village"]))
    if g.get("format") == "xlsx":
        return _xlsx(selectors.enrolments_export(request.user, qs), "社会救助对象名单.xlsx")
    page = Paginator(qs.select_related("person", "household__village"), 50).get_page(g.get("page"))
    query = urlencode({k: v for k, v in g.items() if k != "page"})
    return render(request, "welfare/home.html", {
        "page": page, "query": query, "programmes": Programme.choices, "f": {"programme": programme, "village": village,
                                                                          "state": state, "sort": g.get("sort", "village")},
        "villages": access.regions_for(request.user).filter(level=5).order_by("code"),
        "due": selectors.recheck_due(request.user).count() if access.may(request.user, Cap.WELFARE_MANAGE) else 0})


@fupin_view
def apply(request, household_pk):
    """Take an application for a household (by the household, or on its behalf by a cadre)."""
    household = access.access_household(request.user, household_pk)
    services.require_may_start(request.user)
    if request.method == "POST":
        p = request.POST
        try:
            app = services.application_start(
                actor=request.user, household_id=household.pk, person_id=int(p.get("person") or 0),
                programme=p.get("programme", ""), category=p.get(f"category_{p.get('programme', '')}", ""),
                care_level=p.get("care_level", "none"), consent_assets=p.get("consent") == "on",
                on_behalf=p.get("on_behalf") == "on", comment=p.get("comment", "")[:200])
        except FupinError as exc:
            _message(request, exc)
        else:
            messages.success(request, "已受理申请，请按步骤办理")
            return redirect(f"/welfare/applications/{app.pk}/")
    return render(request, "welfare/apply.html", {
        "h": household, "persons": household.persons.filter(alive=True), "programmes": _category_choices(),
        "care_levels": [(c, LABELS[c]) for c in CARE_LEVELS]})


@fupin_view
def applications(request):
    qs = selectors.applications_for(request.user).select_related("person", "household__village")
    state = request.GET.get("state", "in_progress")
    if state in AppState.values:
        qs = qs.filter(state=state)
    page = Paginator(qs.order_by("step_due", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "welfare/applications.html", {"page": page, "state": state, "states": AppState.choices})


@fupin_view
def application_page(request, pk):
    app = services.access_application(request.user, pk)
    if request.method == "POST":
        p = request.POST
        step = app.current or {}
        approve = p.get("decision") == "approve"
        try:
            app = services.application_act(
                actor=request.user, application_id=app.pk, step_key=p.get("step", ""),
                approve=approve, comment=p.get("comment", "")[:500],
                verifiers=[p.get("verifier1", ""), p.get("verifier2", "")],
                evidence=[x for x in [p.get("evidence", "").strip()[:200]] if x],
                # the home-verification step's asset fields (a checkbox is absent when unticked)
                assets={k: p.get(k, "")[:30] for k in services.ASSET_FIELDS} if step.get("assets") else None)
        except FupinError as exc:
            _message(request, exc)
        else:
            if approve and app.state == AppState.REJECTED:
                messages.warning(request, f"不予批准：{app.decisions.order_by('-id').first().comment}")
            else:
                messages.success(request, "已办理")
        return redirect(f"/welfare/applications/{app.pk}/")
    open_ = app.state == AppState.IN_PROGRESS
    steps = [dict(s, done=i < app.step or app.state == AppState.APPROVED, current=open_ and i == app.step)
             for i, s in enumerate(app.definition["steps"])]
    may_act = services.may_act(request.user, app)
    return render(request, "welfare/application.html", {
        "app": app, "steps": steps, "decisions": app.decisions.select_related("actor"),
        "may_act": may_act, "today": services.today(),
        "asset_fields": services.ASSET_FIELDS.items(),
        "assets": [(a, services.assets_text(a)) for a in app.assets.select_related("recorded_by")],
        "findings": selectors.asset_findings(request.user, app.household)
        if may_act and (app.current or {}).get("assets") else None})


@fupin_view
def enrolment_page(request, pk):
    e = services.access_enrolment(request.user, pk)
    month = services.month_start(services.today())
    _, explanation = services.compute(services.enrolment_case(e, max(month, e.start)))
    return render(request, "welfare/enrolment.html", {
        "e": e, "explanation": services.explain(explanation), "rechecks": e.rechecks.select_related("actor"),
        "history": selectors.enrolments_for(request.user).filter(person=e.person, programme=e.programme).order_by("start")})


@require_POST
@fupin_view
def enrolment_action(request, pk, action):
    p = request.POST
    try:
        if action == "stop":
            services.enrolment_stop(actor=request.user, enrolment_id=pk, reason=p.get("reason", "")[:200])
            messages.success(request, "已停发（自下月起）")
        elif action == "recheck":
            r = services.recheck_record(actor=request.user, enrolment_id=pk, stop=p.get("stop") == "on",
                                        reason=p.get("reason", "")[:300])
            messages.success(request, f"复核结果：{r.get_result_display()}")
        elif action == "back-pay":
            services.back_pay(actor=request.user, enrolment_id=pk, month=_month(request), reason=p.get("reason", "")[:200])
            messages.success(request, "已补发")
        elif action == "recover":
            services.overpayment_recover(actor=request.user, enrolment_id=pk, month=_month(request),
                                         reason=p.get("reason", "")[:200])
            messages.success(request, "已追回")
        else:
            raise NotFound("没有这一操作")
    except FupinError as exc:
        _message(request, exc)
    return redirect(f"/welfare/enrolments/{pk}/")


@fupin_view
def rechecks(request):
    access.require(request.user, Cap.WELFARE_MANAGE, what="查看到期复核名单")
    page = Paginator(selectors.recheck_due(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "welfare/rechecks.html", {"page": page})


@fupin_view
def runs(request):
    qs = selectors.runs_for(request.user).select_related("county")
    if request.method == "POST":
        try:
            run = services.run_compute(actor=request.user, programme=request.POST.get("programme", ""),
                                       county_code=request.POST.get("county", ""), month=_month(request))
        except FupinError as exc:
            _message(request, exc)
        else:
            messages.success(request, f"已计算：{run.lines_count} 人，请另一位工作人员审核")
            return redirect(f"/welfare/runs/{run.pk}/")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "welfare/runs.html", {
        "page": page, "programmes": Programme.choices, "this_month": f"{services.today():%Y-%m}",
        "counties": access.regions_for(request.user).filter(level=3).order_by("code")})


@fupin_view
def run_page(request, pk):
    run, lines = selectors.review(request.user, pk)
    page = Paginator(lines, 100).get_page(request.GET.get("page"))
    return render(request, "welfare/run.html", {"run": run, "page": page})


@require_POST
@fupin_view
def run_action(request, pk, action):
    if action not in ("approve", "post"):
        raise NotFound("没有这一操作；可选：审批、发放入账")
    try:
        if action == "approve":
            services.run_approve(actor=request.user, run_id=pk)
            messages.success(request, "已审批")
        else:
            services.run_post(actor=request.user, run_id=pk)
            messages.success(request, "已发放并记入资金账簿")
    except FupinError as exc:
        _message(request, exc)
    return redirect(f"/welfare/runs/{pk}/")


@fupin_view
def run_payments(request, pk):
    return _xlsx(selectors.payment_list(request.user, pk), f"社会救助银行发放名单_{pk}.xlsx")
