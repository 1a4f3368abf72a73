"""Pages of the project library: parse, call one service or selector, render."""
from __future__ import annotations

import io
from urllib.parse import quote

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput
from fupin.core.roles import Cap
from fupin.core.views import form_date, form_int, fupin_view
from fupin.funds.models import FundingSource
from fupin.policy.errors import PolicyError
from fupin.policy.money import parse_yuan

from . import selectors, services
from .models import AllocationNotice, Category, Project, State

PAGE_SIZE = 50


def _yuan(data, key: str, label: str, *, blank_zero: bool = False) -> int:
    raw = (data.get(key) or "").strip()
    if not raw and blank_zero:
        return 0
    try:
        return parse_yuan(raw, label)   # the one money parser
    except PolicyError as exc:
        raise InvalidInput({label: getattr(exc, "problem", exc.message)}) from None


def _filters(request):
    g = request.GET
    state, category = g.get("state", ""), g.get("category", "")
    if state and state not in State.values:
        raise InvalidInput({"状态": "请从列表中选择"})
    if category and category not in Category.values:
        raise InvalidInput({"类别": "请从列表中选择"})
    year = form_int(g, "year", "年度", 0, lo=0, hi=9999)
    return dict(year=year or None, state=state, category=category, sort=g.get("sort", ""))


@fupin_view
def library(request):
    user = request.user
    access.require(user, Cap.READ, what="查看项目库")
    scope = access.scope_range(user)
    f = _filters(request)
    page = Paginator(selectors.projects_in(scope, **f), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "projects/library.html", {
        "page": page, "f": f, "states": State.choices, "categories": Category.choices,
        "by_source": selectors.progress_by_source(scope, f["year"]), "counts": selectors.state_counts(scope, f["year"]),
        "can_propose": access.may(user, Cap.PROJECT_MANAGE), "this_year": timezone.localdate().year})


@fupin_view
def library_export(request):
    from decimal import Decimal

    from openpyxl import Workbook

    from fupin.exchange.excel import safe

    user = request.user
    access.require(user, Cap.EXPORT, what="导出项目库")
    rows = selectors.projects_in(access.scope_range(user), **_filters(request))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("项目库")
    ws.append(["项目编号", "项目名称", "实施地点", "年度", "类别", "实施单位", "计划开工", "计划完工", "状态", "计划投资（元）"])
    n = 0
    for p in rows.iterator(chunk_size=2000):
        n += 1
        ws.append([safe(v) for v in (p.number, p.name, p.region.name, p.year, p.get_category_display(), p.implementer,
                                     p.start.isoformat(), p.end.isoformat(), p.get_state_display())]
                  + [Decimal(p.planned or 0) / 100])
    audit.export(user, what=f"导出项目库 {n} 个项目", object_type="projects", object_id="", persons=0)
    out = io.BytesIO()
    wb.save(out)
    r = HttpResponse(out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    r["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote('项目库.xlsx')}"
    return r


@fupin_view
def project_new(request):
    user = request.user
    access.require(user, Cap.PROJECT_MANAGE, what="申报项目")
    if request.method == "POST":
        post = request.POST
        budget = {s: _yuan(post, f"budget_{s}", f"{label}计划金额", blank_zero=True) for s, label in FundingSource.choices}
        p = services.project_create(
            actor=user, region_code=post.get("region", ""), name=post.get("name", "")[:120],
            year=form_int(post, "year", "年度", lo=2000, hi=2100), category=post.get("category", ""),
            content=post.get("content", "")[:500], implementer=post.get("implementer", "")[:120],
            start=form_date(post, "start", "计划开工"), end=form_date(post, "end", "计划完工"), budget=budget,
            household_numbers=post.get("households", "").replace("，", ",").replace("\n", ",").split(","))
        messages.success(request, f"已申报项目 {p.number}")
        return redirect(f"/projects/{p.pk}/")
    regions = access.regions_for(user).filter(level__in=(3, 4, 5)).order_by("code")
    return render(request, "projects/new.html", {"regions": regions, "categories": Category.choices,
                                                 "sources": FundingSource.choices, "year": timezone.localdate().year})


@fupin_view
def project_page(request, pk: int):
    user = request.user
    p = services.access_project(user, pk)
    step = services.next_step(p)
    return render(request, "projects/project.html", {
        "p": p, "money": selectors.money(p), "step": step, "steps": p.steps.select_related("actor"),
        "progress": p.progress.prefetch_related("photos"), "asset": getattr(p, "asset", None),
        "beneficiaries": p.beneficiaries.select_related("household__village").order_by("household__number"),
        "may_step": step is not None and access.may(user, Cap.PROJECT_MANAGE) and user.role in step["roles"],
        "may_progress": access.may(user, Cap.PROJECT_MANAGE) and p.state in p.lifecycle["progress_states"],
        "may_allocate": access.may(user, Cap.PROJECT_FUNDS) and p.state in p.lifecycle["allocate_states"],
        "may_pay": access.may(user, Cap.PROJECT_FUNDS) and p.state in p.lifecycle["pay_states"],
        "today": timezone.localdate().isoformat(), "public_url": request.build_absolute_uri(f"/projects/public/{p.token}/")})


@require_POST
@fupin_view
def project_action(request, pk: int, action: str):
    user, post = request.user, request.POST
    p = services.access_project(user, pk)
    today = timezone.localdate()
    if action == "step":
        asset = None
        if post.get("asset_name") is not None:
            asset = {"name": post.get("asset_name", ""), "owner": post.get("asset_owner", ""),
                     "value": _yuan(post, "asset_value", "资产价值"),
                     "beneficiaries": form_int(post, "asset_households", "受益户数", lo=0)}
        score = form_int(post, "score", "绩效评分", lo=0, hi=100) if post.get("score") else None
        done = services.project_step(actor=user, project=p, key=post.get("key", ""), note=post.get("note", "")[:500],
                                     date=form_date(post, "date", "日期", today), score=score, asset=asset)
        messages.success(request, f"已办理：{done.label}")
    elif action == "progress":
        services.progress_record(actor=user, project=p, date=form_date(post, "date", "日期", today),
                                 percent=form_int(post, "percent", "完成进度", lo=0, hi=100),
                                 note=post.get("note", "")[:500], photos=[f.read() for f in request.FILES.getlist("photos")])
        messages.success(request, "已记录项目进度")
    elif action == "allocate":
        services.project_allocate(actor=user, project=p, source=post.get("source", ""),
                                  amount=_yuan(post, "amount", "拨付金额"), date=form_date(post, "date", "拨付日期", today),
                                  decision_id=post.get("decision_id", "")[:60])
        messages.success(request, "已拨付")
    elif action == "pay":
        household = form_int(post, "household", "受益户", 0, lo=0)
        services.project_pay(actor=user, project=p, source=post.get("source", ""), amount=_yuan(post, "amount", "支付金额"),
                             date=form_date(post, "date", "支付日期", today), decision_id=post.get("decision_id", "")[:60],
                             household_id=household or None)
        messages.success(request, "已支付")
    else:
        raise InvalidInput({"操作": "不是项目库的操作"})
    return redirect(f"/projects/{p.pk}/")


@fupin_view
def project_notice(request, pk: int):
    from fupin.printing.projects import project_notice as render_pdf

    p = services.access_project(request.user, pk)
    pdf = render_pdf(selectors.public_view(p), request.build_absolute_uri(f"/projects/public/{p.token}/"))
    audit.export(request.user, what=f"打印项目公示 {p.number}", object_type="project", object_id=p.pk, persons=0)
    r = HttpResponse(pdf, content_type="application/pdf")
    r["Content-Disposition"] = f"inline; filename=notice-{p.pk}.pdf"
    return r


def public_page(request, token: str):
    """The public, read-only page of a project (the QR code on the posted notice points here):
    no names, no ID numbers."""
    p = Project.objects.select_related("region__parent__parent").filter(token=token).first()
    if p is None:
        return render(request, "core/error.html", {"message": "找不到该项目公示"}, status=404)
    return render(request, "projects/public.html", selectors.public_view(p))


# ---- housing, cooperatives, micro-credit ------------------------------------------------------------

def _household_id(user, post, key="household") -> int:
    number = (post.get(key) or "").strip()
    h = access.households_for(user).filter(number=number).values_list("pk", flat=True).first() if number else None
    if h is None:
        raise InvalidInput({"户编号": f"“{number}”找不到或不在您的管辖范围内" if number else "必须填写"})
    return h


@fupin_view
def support_page(request):
    from .models import Cooperative, HousingKind, HousingSubsidy, Loan

    user = request.user
    if not (access.may(user, Cap.PROJECT_MANAGE) or access.may(user, Cap.PROJECT_FUNDS)):
        access.require(user, Cap.PROJECT_MANAGE, what="查看住房、产业与信贷扶持")
    lo, hi = scope = access.scope_range(user)
    today = timezone.localdate()
    housing = list(HousingSubsidy.objects.filter(household__village_id__gte=lo, household__village_id__lte=hi)
                   .select_related("household").prefetch_related("instalments").order_by("-granted_on", "-id")[:100])
    for s in housing:
        s.next_step = services.next_instalment(s)
    loans = list(Loan.objects.filter(household__village_id__gte=lo, household__village_id__lte=hi)
                 .select_related("household").prefetch_related("repayments", "subsidies").order_by("-start", "-id")[:100])
    for x in loans:
        x.left = services.outstanding(x)
    return render(request, "projects/support.html", {
        "housing": housing, "kinds": HousingKind.choices, "loans": loans, "overdue": selectors.overdue_loans(scope, today),
        "coops": Cooperative.objects.filter(region_id__gte=lo, region_id__lte=hi).prefetch_related("members__household", "dividends"),
        "villages": access.regions_for(user).filter(level=5).order_by("code"), "today": today.isoformat(), "year": today.year,
        "may_manage": access.may(user, Cap.PROJECT_MANAGE), "may_pay": access.may(user, Cap.PROJECT_FUNDS)})


@require_POST
@fupin_view
def support_action(request, action: str):
    from .models import Cooperative, HousingSubsidy, Loan

    user, post = request.user, request.POST
    today = timezone.localdate()
    date = form_date(post, "date", "日期", today)
    lo, hi = access.scope_range(user)

    def pick(model, field):
        pk = form_int(post, "pk", "编号", lo=1)
        obj = model.objects.filter(pk=pk, **{f"{field}__gte": lo, f"{field}__lte": hi}).first()
        if obj is None:
            raise InvalidInput({"编号": "找不到，或不在您的管辖范围内"})
        return obj

    if action == "housing":
        services.housing_grant(actor=user, household_id=_household_id(user, post), kind=post.get("kind", ""),
                               before=post.get("before", "")[:300], date=date)
    elif action == "housing-pay":
        services.housing_pay(actor=user, subsidy=pick(HousingSubsidy, "household__village_id"), date=date,
                             evidence=post.get("evidence", "")[:300], decision_id=post.get("decision_id", "")[:60])
    elif action == "coop":
        members = {}
        for part in post.get("members", "").replace("，", ",").replace("\n", ",").split(","):
            if part.strip():
                number, _, shares = part.replace("：", ":").partition(":")
                members[number.strip()] = form_int({"s": shares.strip()}, "s", f"户 {number.strip()} 的股份", lo=1)
        services.cooperative_create(actor=user, name=post.get("name", "")[:120], region_code=post.get("region", ""),
                                    members=members)
    elif action == "dividend":
        services.dividend_pay(actor=user, cooperative=pick(Cooperative, "region_id"),
                              year=form_int(post, "year", "年度", lo=2000, hi=2100), total=_yuan(post, "total", "分红总额"),
                              date=date, decision_id=post.get("decision_id", "")[:60])
    elif action == "loan":
        services.loan_record(actor=user, household_id=_household_id(user, post), bank=post.get("bank", "")[:80],
                             amount=_yuan(post, "amount", "贷款金额"), term_months=form_int(post, "months", "期限", lo=1, hi=600),
                             purpose=post.get("purpose", "")[:200], start=date)
    elif action == "repay":
        services.loan_repay(actor=user, loan=pick(Loan, "household__village_id"), amount=_yuan(post, "amount", "还款金额"),
                            date=date)
    elif action == "subsidy":
        services.interest_subsidy_pay(actor=user, loan=pick(Loan, "household__village_id"),
                                      start=form_date(post, "start", "计息起日"), end=form_date(post, "end", "计息止日"),
                                      date=date)
    elif action == "renew":
        services.loan_renew(actor=user, loan=pick(Loan, "household__village_id"),
                            months=form_int(post, "months", "展期月数", lo=1, hi=600), date=date)
    else:
        raise InvalidInput({"操作": "不是住房、产业与信贷扶持的操作"})
    messages.success(request, "已办理")
    return redirect("/projects/support/")


@require_POST
@fupin_view
def allocation_publish(request):
    """Publish (or find) this year's fund-allocation notice, then print it."""
    year = form_int(request.POST, "year", "年度", timezone.localdate().year, lo=2000, hi=2100)
    services.allocation_notice_publish(actor=request.user, year=year)
    return redirect(f"/projects/allocations.pdf?year={year}")


@fupin_view
def allocation_notice(request):
    """资金公告公示 of a year: every project in the user's scope with its money by source, and a
    QR code to the notice's public page (published first)."""
    from fupin.printing.projects import allocation_notice as render_pdf

    user = request.user
    access.require(user, Cap.READ, what="打印年度资金公告")
    year = form_int(request.GET, "year", "年度", timezone.localdate().year, lo=2000, hi=2100)
    notice = AllocationNotice.objects.filter(region=user.region, year=year).first()
    if notice is None:
        raise FupinError(f"{user.region.name}{year}年资金公告尚未公布；请在项目库页面点“公布并打印年度资金公告”")
    view = selectors.allocation_view(user.region, year)
    url = request.build_absolute_uri(f"/projects/allocations/public/{notice.token}/")
    pdf = render_pdf(view["title"], view["rows"], view["totals"], url=url)
    audit.export(user, what=f"打印{year}年资金公告（{len(view['rows'])} 个项目）", object_type="projects", object_id=year,
                 persons=0)
    r = HttpResponse(pdf, content_type="application/pdf")
    r["Content-Disposition"] = f"inline; filename=allocations-{year}.pdf"
    return r


def allocation_public(request, token: str):
    """The public page of a published fund-allocation notice (the QR code points here): no login,
    nothing personal."""
    notice = AllocationNotice.objects.select_related("region").filter(token=token).first()
    if notice is None:
        return render(request, "core/error.html", {"message": "找不到该资金公告"}, status=404)
    return render(request, "projects/allocations_public.html",
                  dict(selectors.allocation_view(notice.region, notice.year), notice=notice))


@fupin_view
def photo(request, pk: int):
    """A progress photo, served only to someone who may read the project; never a public address."""
    from django.core.files.storage import default_storage

    from fupin.core.errors import NotFound

    ph = selectors.access_photo(request.user, pk)
    try:
        with default_storage.open(ph.file) as f:
            data = f.read()
    except FileNotFoundError:
        raise NotFound(f"照片文件（编号 {pk}）已不存在") from None
    r = HttpResponse(data, content_type="image/jpeg")
    r["Cache-Control"] = "private, no-store"
    return r
