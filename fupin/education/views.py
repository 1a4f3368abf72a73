from __future__ import annotations


from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fupin.core import access
from fupin.policy import semester as semesters
from fupin.core.errors import FupinError, NotFound
from fupin.core.roles import Cap
from fupin.core.views import form_date, fupin_view
from fupin.core.listing import Column, Filter, listing
from fupin.exchange.lists import xlsx_response
from fupin.exchange.views import _xlsx
from fupin.policy.money import yuan
from fupin.funds.models import Account, AccountKind
from fupin.jobs.services import job_submit

from . import selectors, services
from .models import FiveHeads, SubsidyRun


@fupin_view
def runs_page(request):
    access.require(request.user, Cap.READ)
    lo, hi = access.scope_range(request.user)
    runs = SubsidyRun.objects.filter(region_id__gte=lo, region_id__lte=hi).select_related("region").order_by("-id")[:50]
    budgets = Account.objects.filter(kind=AccountKind.BUDGET, programme="education", region_id__gte=lo,
                                     region_id__lte=hi)
    if request.method == "POST":
        access.require(request.user, Cap.EDU_MANAGE, what="计算教育资助")
        try:
            budget = budgets.filter(pk=request.POST.get("budget")).first()
            if budget is None:
                raise FupinError("请选择支付所用的预算科目")
            semester = request.POST.get("semester", "").strip()
            services.parse_semester(semester)   # a typing slip is answered here, not by a job
            region = access.access_region(request.user, request.POST.get("region") or request.user.region_id)
        except FupinError as exc:
            messages.error(request, exc.message)
        else:
            job = job_submit(actor=request.user, kind="semester_run", title=f"计算 {region.name} {semesters.label(semester)} 教育资助",
                             params={"semester": semester, "region": region.code, "budget": budget.pk})
            return redirect(f"/jobs/{job.pk}/")
    return render(request, "education/runs.html", {"runs": runs, "budgets": budgets,
                                                   "roster": selectors.roster_summary(request.user)})


def _label(line) -> str:
    return selectors.LABELS.get(line.item, line.item)


RUN_COLUMNS = [
    Column("school", "学校", lambda l: l.school.name, order=("school__code", "person__name", "item")),
    Column("name", "姓名", lambda l: l.person.name, order=("person__name", "item")),
    Column("grade", "学段/年级", lambda l: f"{l.enrolment.get_stage_display()} {l.enrolment.grade}年级",
           order=("enrolment__stage", "enrolment__grade", "person__name")),
    Column("item", "项目", _label, order=("item", "person__name")),
    Column("amount", "金额（元）", lambda l: yuan(l.amount), order=("amount", "person__name")),
    Column("paid", "此前已发（元）", lambda l: yuan(l.already_paid), order=("already_paid", "person__name")),
]


@fupin_view
def run_page(request, pk):
    run, schools, lines = selectors.review(request.user, pk)
    items = sorted({i for i in lines.values_list("item", flat=True).distinct()})
    filters = [Filter("school", "学校", tuple((str(s["school"].pk), s["school"].name) for s in schools),
                      lambda qs, v: qs.filter(school_id=int(v))),
               Filter("item", "项目", tuple((i, selectors.LABELS.get(i, i)) for i in items),
                      lambda qs, v: qs.filter(item=v))]
    rows = listing(request, lines, RUN_COLUMNS, filters=filters, default_sort="school")
    if rows.wants_export:
        return xlsx_response(request.user, rows, what=f"资助计算{run.pk}审核清单", object_type="subsidy_run",
                             object_id=run.pk)
    for line in rows.page:
        line.label = _label(line)
    return render(request, "education/run.html", {"run": run, "schools": schools, "listing": rows})


@require_POST
@fupin_view
def run_action(request, pk, action):
    if action not in ("approve", "post"):
        raise NotFound("没有这一操作；资助计算可以审核或发放入账")
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
    """What "查看计算依据" shows under a review row: the sentence and the trace in words (never the
    case's inputs or the parameters' codes, which the page does not show)."""
    from fupin.policy import explain

    explanation = services.explain_line(services.access_line(request.user, pk))
    return JsonResponse({"label": explanation["label"], "amount": explanation["amount"], "date": explanation["date"],
                         "sentence": explain.sentence(explanation), "trace": explain.trace(explanation),
                         "pack": explain.pack_title(explanation["pack"])},
                        json_dumps_params={"ensure_ascii": False})


@fupin_view
def dropout_page(request):
    township = request.GET.get("township") or request.user.region_id
    access.access_region(request.user, township)   # an unknown or foreign code is a Chinese 404
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
    heads = services.five_heads_set(actor=request.user, township_code=request.POST.get("township", ""),
                                    names=request.POST)
    messages.success(request, "五长责任名单已保存")
    return redirect(f"/education/dropout/?township={heads.township_id}&semester={request.POST.get('semester', '')}")


@require_POST
@fupin_view
def dropout_visit(request, person_pk):
    services.dropout_visit_record(actor=request.user, person_id=person_pk, date=form_date(request.POST, "date", "走访日期"),
                                  visitor=request.POST.get("visitor", ""), finding=request.POST.get("finding", ""),
                                  returned=bool(request.POST.get("returned")))
    messages.success(request, "走访已记录")
    from fupin.core.account_views import safe_next

    return redirect(safe_next(request, "/education/dropout/"))   # never off-site


@fupin_view
def roster_import(request):
    access.require(request.user, Cap.EDU_MANAGE, what="导入学生名册")
    report = None
    if request.method == "POST" and request.FILES.get("file"):
        upload, dry_run = request.FILES["file"], bool(request.POST.get("dry_run"))
        job = job_submit(actor=request.user, kind="roster_import", params={"dry_run": dry_run},
                         title=f"{'试导入' if dry_run else '导入'}学生名册：{upload.name}",
                         upload=upload.read(), upload_name=upload.name)
        return redirect(f"/jobs/{job.pk}/")
    return render(request, "education/roster.html", {"report": report})
