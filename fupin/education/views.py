from __future__ import annotations


from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fupin.core import access
from fupin.core.errors import FupinError
from fupin.core.roles import Cap
from fupin.core.views import form_date, fupin_view
from fupin.exchange.views import _xlsx
from fupin.funds.models import Account, AccountKind

from . import selectors, services
from .importer import import_roster
from .models import DropoutVisit, FiveHeads, RunLine, SubsidyRun


@fupin_view
def runs_page(request):
    access.require(request.user, Cap.READ)
    lo, hi = access.scope_range(request.user)
    runs = SubsidyRun.objects.filter(region_id__gte=lo, region_id__lte=hi).select_related("region").order_by("-id")[:50]
    budgets = Account.objects.filter(kind=AccountKind.BUDGET, programme="education")
    if request.method == "POST":
        try:
            budget = budgets.filter(pk=request.POST.get("budget")).first()
            if budget is None:
                raise FupinError("请选择支付所用的预算科目")
            run = services.run_compute(actor=request.user, semester=request.POST.get("semester", "").strip(),
                                       region_code=request.POST.get("region") or request.user.region_id, budget=budget)
        except FupinError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"已计算（编号 {run.pk}）：{run.lines_count} 项，请审核")
            return redirect(f"/education/runs/{run.pk}/")
    return render(request, "education/runs.html", {"runs": runs, "budgets": budgets})


@fupin_view
def run_page(request, pk):
    run, schools = selectors.review(request.user, pk)
    return render(request, "education/run.html", {"run": run, "schools": schools})


@require_POST
@fupin_view
def run_action(request, pk, action):
    try:
        if action == "approve":
            services.run_approve(actor=request.user, run_id=pk)
            messages.success(request, "已审核")
        elif action == "post":
            services.run_post(actor=request.user, run_id=pk)
            messages.success(request, "已发放并记入资金账簿")
    except FupinError as exc:
        messages.error(request, exc.message)
    return redirect(f"/education/runs/{pk}/")


@fupin_view
def run_payments(request, pk):
    return _xlsx(selectors.payment_list(request.user, pk), f"教育资助发放名单_{pk}.xlsx")


@fupin_view
def line_explain(request, pk):
    line = RunLine.objects.select_related("run", "enrolment__person__household", "enrolment__school").filter(pk=pk).first()
    if line is None or not access.in_scope(request.user, line.run.region_id):
        raise FupinError("找不到该项")
    return JsonResponse(services.explain_line(line), json_dumps_params={"ensure_ascii": False})


@fupin_view
def dropout_page(request):
    township = request.GET.get("township") or request.user.region_id
    semester = request.GET.get("semester", "")
    data = rates = None
    if semester:
        try:
            data = selectors.dropout_list(request.user, township, semester)
            rates = selectors.dropout_rates_by_school(request.user, township, semester)
        except FupinError as exc:
            messages.error(request, exc.message)
    heads = FiveHeads.objects.filter(township_id=township).first()
    return render(request, "education/dropout.html", {"d": data, "rates": rates, "township": township,
                                                      "semester": semester, "heads": heads,
                                                      "print": request.GET.get("print")})


@require_POST
@fupin_view
def five_heads_save(request):
    from django.db import transaction

    from fupin.core import audit
    from fupin.core.models import AuditAction
    access.require(request.user, Cap.WRITE)
    township = access.access_region(request.user, request.POST.get("township", ""))
    if township.level != 4:
        raise FupinError("五长责任名单按乡镇设置，请输入乡镇代码")
    names = {k: request.POST.get(k, "").strip()[:40] for k in ("county_head", "township_head", "bureau_head")}
    if not all(names.values()):
        raise FupinError("请填写县长、乡镇长、教育局长三人姓名")
    with transaction.atomic():
        FiveHeads.objects.update_or_create(township=township, defaults=names)
        audit.record(request.user, AuditAction.UPDATE, object_type="five_heads", object_id=township.code,
                     summary=f"设置 {township.name} 五长责任名单")
    messages.success(request, "五长责任名单已保存")
    return redirect(f"/education/dropout/?township={township.code}&semester={request.POST.get('semester', '')}")


@require_POST
@fupin_view
def dropout_visit(request, person_pk):
    person = access.access_person(request.user, person_pk, Cap.WRITE)
    date = form_date(request.POST, "date", "走访日期")
    from fupin.core import audit
    from fupin.core.models import AuditAction
    from django.db import transaction
    with transaction.atomic():
        v = DropoutVisit.objects.create(person=person, date=date, visitor=request.POST.get("visitor", "")[:60] or request.user.username,
                                        finding=request.POST.get("finding", "")[:300], returned=bool(request.POST.get("returned")),
                                        recorded_by=request.user)
        audit.record(request.user, AuditAction.CREATE, object_type="dropout_visit", object_id=v.pk,
                     household_id=person.household_id, summary=f"控辍保学走访 {person.name}（{'已返校' if v.returned else '未返校'}）")
    messages.success(request, "走访已记录")
    return redirect(request.POST.get("next") or "/education/dropout/")


@fupin_view
def roster_import(request):
    report = None
    if request.method == "POST" and request.FILES.get("file"):
        report = import_roster(request.user, request.FILES["file"].read(), request.FILES["file"].name,
                               dry_run=bool(request.POST.get("dry_run")))
    return render(request, "education/roster.html", {"report": report})
