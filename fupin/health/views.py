from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.utils import timezone

from fupin.core import access, idcard
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.money import amount_in_words
from fupin.core.roles import Cap
from fupin.core.views import form_date, fupin_view
from fupin.policy.money import yuan
from fupin.policy.rules.health import VISITS, VISIT_LABELS

from . import services
from .models import Claim, Hospital


def _hospitals(user):
    lo, hi = access.scope_range(user)
    return Hospital.objects.filter(region_id__gte=lo, region_id__lte=hi).order_by("code")


def _bill(post) -> dict:
    errors = {}
    try:
        date = dt.date.fromisoformat(post.get("discharge_date", ""))
    except ValueError:
        errors["出院日期"] = "应为 YYYY-MM-DD"
        date = None
    if post.get("visit_type") not in VISITS:
        errors["就诊类型"] = "请选择"
    bill = {"discharge_date": date, "visit_type": post.get("visit_type"), "in_county": post.get("in_county") == "1",
            "referred": post.get("referred") == "1"}
    try:
        bill |= services.parse_bill_amounts(post)  # yuan → fen: the one parser
    except InvalidInput as exc:
        errors |= exc.errors
    if errors:
        raise InvalidInput(errors)
    return bill


def _context(request):
    user = request.user
    raw = (request.POST.get("hospital") or request.GET.get("hospital") or "").strip()
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise NotFound(f"医疗机构编号“{raw[:20]}”无效，请从列表中选择医疗机构")
    hospital = (_hospitals(user).filter(pk=raw).first() if raw else None) or _hospitals(user).first()
    if hospital is None:
        raise NotFound("您的辖区内没有登记医疗机构")
    person = services.find_patient(user, request.POST.get("id_number", ""))  # posted only, never in a URL
    return hospital, person


@fupin_view
def window(request):
    access.require(request.user, Cap.FIND_BY_FULL_ID)
    ctx = {"hospitals": _hospitals(request.user), "visits": [(v, VISIT_LABELS[v]) for v in VISITS],
           "today": timezone.localdate().isoformat()}
    if request.GET.get("id_number"):  # never from a URL: access logs and history would keep it
        ctx["error"] = "身份证号请在查找框中输入后点“查找”，不要放在网址中"
    elif request.method == "POST" and request.POST.get("id_number"):
        try:
            hospital, person = _context(request)
            ctx.update(person=person, hospital=hospital,
                       categories=services.categories(person, hospital.region_id, timezone.localdate()))
        except FupinError as exc:
            ctx["error"] = exc.message
    return render(request, "health/window.html", ctx)


@require_POST
@fupin_view
def preview(request):
    access.require(request.user, Cap.SETTLE, what="试算医疗费用")  # the capability first: a refusal is audited
    try:
        hospital, person = _context(request)
        result = services.preview(user=request.user, hospital=hospital, person=person, bill=_bill(request.POST))
    except FupinError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    return JsonResponse({"payers": [{"label": p["label"], "amount": p["amount"], "rule": p["rule"],
                                     "why": "；".join(p["explanation"]["branches"])} for p in result["payers"]],
                         "patient": result["patient"], "shortfall": result["shortfall"],
                         "categories": result["claim"]["categories"]})


@require_POST
@fupin_view
def settle(request):
    access.require(request.user, Cap.SETTLE, what="医疗费用结算")
    try:
        hospital, person = _context(request)
        claim = services.settle(user=request.user, hospital=hospital, person=person,
                                number=request.POST.get("number", "").strip(), bill=_bill(request.POST))
    except FupinError as exc:
        messages.error(request, exc.message)
        return window(request)  # the same patient again, without putting the ID number in a URL
    messages.success(request, f"结算完成，个人自付 {yuan(claim.patient)} 元")
    return redirect(f"/health/claims/{claim.pk}/")


def _claim(user, pk) -> Claim:
    claim = Claim.objects.select_related("hospital", "person").filter(pk=pk).first()
    if claim is None or not access.in_scope(user, claim.hospital.region_id):
        raise NotFound("找不到该结算，或不在您的管辖范围内")
    return claim


@fupin_view
def claim_page(request, pk):
    access.require(request.user, Cap.FIND_BY_FULL_ID)
    claim = _claim(request.user, pk)
    labels = claim.explanation.get("_labels", {})
    lines = [(labels.get(k, k), v, "；".join(claim.explanation.get(k, {}).get("branches", [])))
             for k, v in claim.breakdown.items()]
    return render(request, "health/claim.html", {"claim": claim, "lines": lines,
                                                 "words": amount_in_words(claim.patient)})


@fupin_view
def slip(request, pk):
    from fupin.printing.pdf import settlement_slip
    access.require(request.user, Cap.FIND_BY_FULL_ID)
    claim = _claim(request.user, pk)
    pdf = settlement_slip(claim, claim.explanation.get("_labels", {}), amount_in_words(claim.patient),
                          idcard.mask(claim.person.id_number))
    from fupin.core import audit
    audit.export(request.user, what=f"打印结算单 {claim.number}", object_type="claim", object_id=claim.pk, persons=1)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="slip-{claim.pk}.pdf"'
    return response


@require_POST
@fupin_view
def reverse(request, pk):
    try:
        if not request.POST.get("confirm"):
            raise InvalidInput({"确认冲销": "请勾选“我已核对”后再冲销"})
        services.reverse(user=request.user, claim_id=pk, reason=request.POST.get("reason", ""))
        messages.success(request, "已冲销，累计额与资金账簿已恢复")
    except FupinError as exc:
        messages.error(request, exc.message)
    return redirect(f"/health/claims/{pk}/")


@fupin_view
def programmes(request):
    from . import programmes as prog

    user = request.user
    access.require(user, Cap.READ)
    region = request.GET.get("region") or user.region_id
    on = form_date(request.GET, "date", "日期", timezone.localdate())
    ctx = {"region": region, "on": on, "kinds": [("echinococcosis_surgery", "包虫病手术"),
                                                 ("poor_mother_delivery", "贫困孕产妇住院分娩"),
                                                 ("disabled_child_0_6", "0–6岁残疾儿童"),
                                                 ("schistosomiasis_late", "晚期血吸虫病"), ("kashin_beck", "大骨节病")],
           "diseases": sorted(prog.disease_lists()["names"].items(), key=lambda x: x[1])}
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "import":
                created, unchanged, problems, _ = prog.import_services(user, request.FILES["file"].read(),
                                                                       request.FILES["file"].name)
                if problems:
                    ctx["problems"] = problems
                else:
                    messages.success(request, f"导入家庭医生服务记录：新增 {created}，已有 {unchanged}")
            else:
                person = services.find_patient(user, request.POST.get("id_number", ""))
                when = form_date(request.POST, "date", "日期", timezone.localdate())
                if action == "condition":
                    prog.condition_record(actor=user, person=person, code=request.POST.get("code", ""), diagnosed_on=when)
                    messages.success(request, "病情已登记")
                elif action == "certificate":
                    prog.certificate_issue(actor=user, person=person, kind=request.POST.get("kind", ""),
                                           disease=request.POST.get("code", ""), number=request.POST.get("number", ""),
                                           valid_from=when, valid_to=form_date(request.POST, "valid_to", "有效期止"))
                    messages.success(request, "门诊服务证已登记")
                elif action == "fixed":
                    s = prog.fixed_subsidy_claim(actor=user, person=person, kind=request.POST.get("kind", ""), date=when,
                                                 region_code=person.household.village_id)
                    messages.success(request, f"定额补助已支付 {yuan(s.amount)} 元")
        except (FupinError, ValueError, KeyError) as exc:
            messages.error(request, getattr(exc, "message", "请检查填写的内容"))
    try:
        ctx["s"] = prog.followup_status(user, region, on)
    except FupinError as exc:
        ctx["error"] = exc.message
    return render(request, "health/programmes.html", ctx)
