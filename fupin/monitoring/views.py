"""Pages of the monitoring room: parse, call one service or selector, render."""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fupin.core import access, idcard
from fupin.core.errors import FupinError, InvalidInput
from fupin.core.roles import Cap
from fupin.core.views import fupin_view
from fupin.exchange import uploads
from fupin.exchange.views import error_workbook_download
from fupin.exchange.excel import Problem
from fupin.jobs.services import job_submit
from fupin.core.listing import Column, listing
from fupin.exchange.lists import xlsx_response
from fupin.policy.packs import shipped_packs
from fupin.workflows.models import MonitoredType, labelled

from . import lists, selectors, services
from .models import Band, WarningState

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        raise InvalidInput({"数据日期": f"“{raw}”不是日期，应写作 2026-11-01"}) from None


@fupin_view
def home(request):
    user = request.user
    can_monitor, can_import = access.may(user, Cap.MONITOR), access.may(user, Cap.MONITOR_IMPORT)
    if not (can_monitor or can_import):
        access.require(user, Cap.MONITOR)
    report = None
    if request.method == "POST":
        # checked before request.FILES is touched: nothing is parsed or written for a refused user
        access.require(user, Cap.MONITOR_IMPORT, what="导入部门比对名单")
        upload = request.FILES.get("file")
        if upload is None:
            raise FupinError("请选择要导入的名单文件（Excel 或 CSV）")
        too_large = uploads.too_large_message(upload)
        if too_large:
            report = services.ImportReport(problems=[Problem(None, None, None, None, too_large)])
        else:  # the form is checked here; the file is parsed, checked, saved and linked by a background job
            as_of = _date(request.POST.get("as_of", ""))
            kind = lists.kinds().get(request.POST.get("kind", ""))
            try:
                services.batch_form_check(kind=request.POST.get("kind", ""), source=request.POST.get("source", ""),
                                          as_of=as_of)
            except InvalidInput as exc:
                messages.error(request, exc.message)
                return redirect("/monitoring/")
            job = job_submit(actor=user, kind="department_list_import",
                             title=f"导入部门比对名单（{kind.label if kind else '未知类型'}）：{upload.name}",
                             params={"kind": request.POST.get("kind", ""), "source": request.POST.get("source", ""),
                                     "as_of": as_of.isoformat() if as_of else ""},
                             upload=upload.read(), upload_name=upload.name)
            return redirect(f"/jobs/{job.pk}/")
    ctx = {"report": report, "kinds": lists.kinds().values(), "can_import": can_import, "can_monitor": can_monitor,
           "batches": selectors.batches_for(user).select_related("imported_by")[:30]}
    if can_monitor:
        ctx["counts"] = selectors.counts(user)
        ctx["response_days"] = selectors.response_days(user)
        ctx["dashboard"] = selectors.dashboard(user)
        ctx["reviews"] = selectors.review_queue(user).count()
    return render(request, "monitoring/home.html", ctx)


@fupin_view
def error_workbook(request, token):
    return error_workbook_download(request, token, "比对名单错误标注.xlsx")


@fupin_view
def batch_page(request, pk):
    batch = selectors.access_batch(request.user, pk)
    kind = lists.kinds().get(batch.kind)
    rows = batch.list_rows.prefetch_related("links__person__household").order_by("row")
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    for r in page:
        r.shown_id = idcard.mask(r.id_number)  # masked for every role (SPEC §14)
    return render(request, "monitoring/batch.html", {"batch": batch, "kind": kind, "page": page,
                                                     "warnings": batch.warnings.select_related("village")})


WARNING_COLUMNS = [
    Column("label", "疑点", lambda w: w.label, order=("label", "due")),
    Column("village", "村", lambda w: w.village.name, order=("village_id", "due")),
    Column("household", "户", lambda w: w.household.number if w.household else "未在户籍", order=("household__number", "due")),
    Column("source", "来源", lambda w: f"{w.batch.source} {w.batch.as_of:%Y-%m-%d}", order=("batch__source", "due")),
    Column("created", "推送", lambda w: w.created_on.isoformat(), order="created_on"),
    Column("due", "期限", lambda w: w.due.isoformat(), order="due"),
    Column("state", "状态", lambda w: w.get_state_display(), order=("state", "due")),
]


@fupin_view
def warnings_page(request):
    user = request.user
    state = request.GET.get("state", WarningState.OPEN)
    if state not in WarningState.values and state != "all":
        state = WarningState.OPEN
    overdue = bool(request.GET.get("overdue"))
    qs = selectors.queue(user, state="" if state == "all" else state, overdue_only=overdue,
                         rule=request.GET.get("rule", ""), village=request.GET.get("village", ""),
                         month=request.GET.get("month", ""))
    rows = listing(request, qs, WARNING_COLUMNS, default_sort="due")
    if rows.wants_export:
        return xlsx_response(user, rows, what="部门预警清单", object_type="warnings", object_id=user.region_id)
    return render(request, "monitoring/warnings.html", {"listing": rows, "page": rows.page, "state": state,
                                                        "overdue": overdue,
                                                        "states": [("all", "全部"), *WarningState.choices],
                                                        "today": timezone.localdate(),
                                                        "counts": selectors.counts(user)})


@fupin_view
def warning_page(request, pk):
    w = selectors.access_warning(request.user, pk)
    types = []
    if w.household_id:
        definition = shipped_packs().for_region(w.village_id).lookup("workflow.monitoring", timezone.localdate()).value
        types = definition["types"]
    return render(request, "monitoring/warning.html", {"w": w, "types": labelled(MonitoredType, types),
                                                       "today": timezone.localdate()})


@require_POST
@fupin_view
def warning_action(request, pk, action):
    try:
        if action == "start":
            w = services.warning_start(actor=request.user, warning_id=pk,
                                       monitored_type=request.POST.get("monitored_type", ""),
                                       comment=request.POST.get("comment", ""))
            messages.success(request, "已发起监测对象识别")
            return redirect(f"/households/{w.household_id}/")
        if action == "dismiss":
            services.warning_dismiss(actor=request.user, warning_id=pk, reason=request.POST.get("reason", ""))
            messages.success(request, "已排除该预警")
        else:
            raise Http404
    except FupinError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    return redirect(f"/monitoring/warnings/{pk}/")


def _dates_agree(a, b) -> str:
    if a is None or b is None:
        return ""
    days = abs((a - b).days)
    return "（两条记录出生日期一致）" if days == 0 else f"（两条记录出生日期相差 {days} 天）"


@fupin_view
def review_page(request):
    links = selectors.review_queue(request.user)
    page = Paginator(links, 20).get_page(request.GET.get("page"))
    show = idcard.mask  # always masked here: a full number is shown (and logged) only on the household page
    pairs = []
    for link in page:
        row, person = link.row, link.person
        h = person.household
        pairs.append({"link": link, "rows": [
            ("姓名", row.name, person.name),
            ("公民身份号码", show(row.id_number), show(person.id_number)),
            ("性别", {"M": "男", "F": "女"}.get(row.sex, ""), person.get_sex_display()),
            # beside a masked ID only the year, and whether the two dates agree (the date itself
            # would bring the masked number down to a handful of candidates)
            ("出生年份", f"{row.birth_date.year}年" if row.birth_date else "",
             f"{person.birth_date.year}年" + _dates_agree(row.birth_date, person.birth_date)),
            ("住址", row.address, h.address or h.village.name),
            ("户", "", f"{h.number}（{h.get_status_display()}）")]})
    return render(request, "monitoring/review.html", {"page": page, "pairs": pairs, "band": Band})


@require_POST
@fupin_view
def review_decide(request, pk):
    try:
        services.link_decide(actor=request.user, link_id=pk, decision=request.POST.get("decision", ""))
        messages.success(request, "复核决定已保存，以后的批次遇到同一对记录将沿用")
    except FupinError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    return redirect("/monitoring/review/")


# ---- self-declaration ---------------------------------------------------------------------------------

def declare(request):
    """The public phone page (no sign-in): a resident declares a difficulty. A signed-in cadre
    uses the same page and is recorded as having entered it on the resident's behalf."""
    from fupin.core.models import Region

    actor = request.user if request.user.is_authenticated else None
    ctx = {"villages": Region.objects.filter(level=5).select_related("parent").order_by("code"),
           "village": request.GET.get("village", ""), "form": {}}
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in ("name", "id_number", "phone", "village", "difficulty")}
        try:
            d = services.declaration_lodge(name=form["name"], id_number=form["id_number"], phone=form["phone"],
                                           village_code=form["village"], difficulty=form["difficulty"],
                                           actor=actor, ip=None if actor else request.META.get("REMOTE_ADDR"))
        except FupinError as exc:
            return render(request, "monitoring/declare.html",
                          ctx | {"error": exc.message, "form": form, "village": form["village"]},
                          status=exc.status)
        return render(request, "monitoring/declare.html", ctx | {"done": d})
    return render(request, "monitoring/declare.html", ctx)


@fupin_view
def declarations_page(request):
    from .models import Declaration, DeclarationState

    access.require(request.user, Cap.MONITOR)
    lo, hi = access.scope_range(request.user)
    qs = Declaration.objects.filter(village_id__gte=lo, village_id__lte=hi, state=DeclarationState.OPEN) \
        .select_related("village")
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    for d in page:
        d.masked_id = idcard.mask(d.id_number)
    return render(request, "monitoring/declarations.html", {"page": page, "today": timezone.localdate(),
                                                            "types": MonitoredType.choices})


@require_POST
@fupin_view
def declaration_action(request, pk, action):
    try:
        if action == "accept":
            d = services.declaration_accept(actor=request.user, declaration_id=pk,
                                            monitored_type=request.POST.get("monitored_type", ""))
            messages.success(request, f"已受理 {d.name} 的申报并发起监测对象识别")
        elif action == "decline":
            services.declaration_decline(actor=request.user, declaration_id=pk, reason=request.POST.get("reason", ""))
            messages.success(request, "已记录不予受理的理由")
        else:
            raise Http404
    except FupinError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    return redirect("/monitoring/declarations/")
