from __future__ import annotations


from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from fupin.core import access
from fupin.core.errors import FupinError, NotFound
from fupin.core.roles import Cap
from fupin.core.views import form_date, form_int, fupin_view
from fupin.policy.money import yuan
from fupin.health.models import Hospital

from . import services
from .models import Assessment, Department, Dispatch, PlanChange


def _hospitals(user):
    lo, hi = access.scope_range(user)
    return Hospital.objects.filter(region_id__gte=lo, region_id__lte=hi)


@fupin_view
def plan_page(request):
    user = request.user
    if access.may(user, Cap.SUPPORT_RECORD) and not access.may(user, Cap.SUPPORT_MANAGE):
        staff = getattr(user, "support_staff", None)
        member = staff.memberships.order_by("-dispatch__handover").first() if staff else None
        if member is None:
            raise NotFound("您还没有派驻安排")
        return redirect(f"/support/members/{member.pk}/")
    access.require(user, Cap.SUPPORT_MANAGE)
    hospitals = _hospitals(user).filter(departments__isnull=False).distinct()
    if request.method == "POST":
        try:
            hospital = hospitals.get(pk=request.POST.get("hospital"))
            if request.POST.get("action") == "refuse":
                from fupin.funds.models import Account, AccountKind

                dispatch = Dispatch.objects.get(department__hospital=hospital, pk=form_int(request.POST, "dispatch", "批次"))
                budget = Account.objects.filter(pk=form_int(request.POST, "budget", "预算科目"), kind=AccountKind.BUDGET).first()
                s = services.refusal_record(actor=user, dispatch=dispatch, reason=request.POST.get("reason", ""),
                                            budget=budget)
                messages.success(request, f"已登记 {dispatch.department.name} 拒派，罚款 {yuan(s.amount)} 元")
            elif request.POST.get("action") == "defer":
                dept = Department.objects.get(hospital=hospital, pk=request.POST.get("department"))
                services.deferral_decide(actor=user, department=dept, cycle=form_int(request.POST, "cycle", "轮次", 0),
                                         decision=request.POST.get("decision", ""), reason=request.POST.get("reason", ""))
                messages.success(request, "延期已登记，请重新生成计划")
            else:
                supported = _hospitals(user).get(pk=request.POST.get("supported"))
                created = services.plan_generate(actor=user, hospital=hospital, supported=supported,
                                                 year=form_int(request.POST, "year", "年"), quarter=form_int(request.POST, "quarter", "季度"),
                                                 quarters=form_int(request.POST, "quarters", "批数", 4))
                messages.success(request, f"已生成 {len(created)} 批")
        except (FupinError, ValueError, KeyError, Hospital.DoesNotExist, Department.DoesNotExist,
                Dispatch.DoesNotExist) as exc:
            messages.error(request, getattr(exc, "message", "请检查填写的内容"))
        return redirect("/support/")
    dispatches = Dispatch.objects.filter(department__hospital__in=hospitals).select_related(
        "department", "supported").prefetch_related("members__staff", "members__assessment").order_by("handover")
    return render(request, "support/plan.html", {"hospitals": hospitals, "dispatches": dispatches,
                                                 "supported": _hospitals(user), "today": timezone.localdate(),
                                                 "can_approve": access.may(user, Cap.APPROVE_ALLOWANCE),
                                                 "budgets": _budgets(user)})


@fupin_view
def bulletin(request, month):
    access.require(request.user, Cap.SUPPORT_MANAGE)
    if not (len(month) == 7 and month[4] == "-" and month[:4].isdigit() and month[5:].isdigit()
            and 1 <= int(month[5:]) <= 12):
        raise NotFound(f"月份“{month[:20]}”应写成 2024-09 这样的格式")
    changes = PlanChange.objects.filter(month=month, dispatch__department__hospital__in=_hospitals(request.user)) \
        .select_related("dispatch__department", "replaced", "replacement").order_by("recorded_at")
    return render(request, "support/bulletin.html", {"changes": changes, "month": month})


@fupin_view
def member_page(request, pk):
    if request.method == "POST" and request.POST.get("action") == "approve":
        return _approve(request, pk)
    member = services.access_member(request.user, pk)
    if request.method == "POST":
        try:
            action = request.POST.get("action")
            if action == "activity":
                services.activity_record(actor=request.user, member=member, kind=request.POST.get("kind", ""),
                                         date=form_date(request.POST, "date", "日期"), note=request.POST.get("note", ""))
                messages.success(request, "已登记")
            elif action == "leave":
                services.leave_request(actor=request.user, member=member, start=form_date(request.POST, "start", "开始日期"),
                                       days=form_int(request.POST, "days", "请假天数"), head_approved=bool(request.POST.get("head_approved")),
                                       explanation=request.POST.get("explanation", ""), informed=bool(request.POST.get("informed")))
                messages.success(request, "请假已登记")
            elif action == "unauthorised":
                services.unauthorised_record(actor=request.user, member=member, kind=request.POST.get("kind", ""),
                                             start=form_date(request.POST, "start", "开始日期"),
                                             days=form_int(request.POST, "days", "工作日数"), note=request.POST.get("note", ""))
                messages.success(request, "已登记")
            elif action == "assess":
                services.assess(actor=request.user, member=member)
                messages.success(request, "考核已计算")
        except (FupinError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "请检查填写的内容"))
        return redirect(f"/support/members/{pk}/")
    acts = {k: [a for a in member.activities.all() if a.kind == k] for k in ("teaching", "round", "attendance")}
    assessment = Assessment.objects.filter(member=member).first()
    from .models import Sanction
    from django.db.models import Q

    sanctions = Sanction.objects.filter(Q(staff=member.staff) | Q(member=member)).select_related("department", "staff") \
        .order_by("date", "id")
    return render(request, "support/member.html", {"m": member, "acts": acts, "a": assessment, "sanctions": sanctions,
                                                   "unauthorised": member.unauthorised.order_by("start", "id"),
                                                   "today": timezone.localdate().isoformat(),
                                                   "can_manage": access.may(request.user, Cap.SUPPORT_MANAGE),
                                                   "can_approve": access.may(request.user, Cap.APPROVE_ALLOWANCE),
                                                   "budgets": _budgets(request.user)})


def _budgets(user):
    from fupin.funds.models import Account, AccountKind

    lo, hi = access.scope_range(user)
    return Account.objects.filter(kind=AccountKind.BUDGET, region_id__gte=lo, region_id__lte=hi).order_by("code")


def _approve(request, pk):
    """Approve an assessment and pay the allowance from the chosen budget line. The capability
    is checked first (a refusal is audited), then the record and the budget line's region."""
    from fupin.funds.models import Account, AccountKind

    access.require(request.user, Cap.APPROVE_ALLOWANCE, what=f"审批派驻补助（派驻记录 {pk}）")
    try:
        member = services.access_member(request.user, pk)
        a = Assessment.objects.filter(member=member).first()
        if a is None:
            raise FupinError("尚未考核，不能审批")
        budget = Account.objects.filter(pk=form_int(request.POST, "budget", "预算科目"), kind=AccountKind.BUDGET).first()
        services.approve(actor=request.user, assessment=a, budget=budget)
        messages.success(request, "考核已审核，补助已发放")
    except FupinError as exc:
        messages.error(request, exc.message)
    return redirect(f"/support/members/{pk}/")


@fupin_view
def certificate(request, pk):
    from fupin.printing.pdf import service_certificate

    member = services.access_member(request.user, pk)
    a = Assessment.objects.filter(member=member).first()
    if a is None:
        raise FupinError("尚未考核，不能出具鉴定表")
    if not a.result["certificate_granted"]:
        raise FupinError(f"不能出具鉴定表：{a.result['certificate_reason']}")
    pdf = service_certificate(member, a.result)
    from fupin.core import audit
    audit.export(request.user, what="出具对口支援服务鉴定表", object_type="support_member", object_id=member.pk, persons=1)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{member.pk}.pdf"'
    return response
