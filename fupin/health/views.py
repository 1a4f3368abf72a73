from __future__ import annotations

import datetime as dt
import re

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.utils import timezone

from fupin.core import access, idcard
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.listing import Column, Filter, listing
from fupin.core.money import amount_in_words
from fupin.core.roles import Cap, can
from fupin.core.views import form_date, fupin_view
from fupin.exchange.lists import xlsx_response
from fupin.policy.money import yuan
from fupin.policy.rules.health import VISITS, VISIT_LABELS

from . import services
from .models import Claim, Hospital


def _hospitals(user):
    lo, hi = access.scope_range(user)
    return Hospital.objects.filter(region_id__gte=lo, region_id__lte=hi).order_by("code")


BILL_FIELDS = ("number", "visit_type", "discharge_date", "in_county", "referred", "total", "in_policy", "waivable")


def _bill(post) -> dict:
    errors = {}
    text = post.get("discharge_date", "").strip()
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        errors["出院日期"] = (f"{text[:10]} 不是存在的日期" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)
                          else "应为 YYYY-MM-DD，例如 2026-03-01")
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
def window(request, bill=None):
    """The window: find the patient, then the bill. `bill`: the bill as typed, when its settlement
    was refused (the form comes back filled in, so the clerk corrects rather than retypes)."""
    access.require(request.user, Cap.FIND_BY_FULL_ID)
    ctx = {"hospitals": _hospitals(request.user), "visits": [(v, VISIT_LABELS[v]) for v in VISITS],
           "bill": bill or {"discharge_date": timezone.localdate().isoformat(), "in_county": "1", "waivable": "0"}}
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
        # the same patient and bill again, without putting the ID number in a URL
        return window(request, bill={k: request.POST.get(k, "") for k in BILL_FIELDS})
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
    lines = [(labels.get(k, k), v, "；".join(services.explanation_of(claim, k).get("branches", [])))
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
    # who may reverse at all is answered first (and a refusal audited), the missing tick after
    access.require(request.user, Cap.REVERSE_SETTLEMENT, what=f"冲销医疗结算（结算单 {pk}）")
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
    from . import followup, programmes as prog, selectors
    from .models import Service

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
            if action == "marking":
                ids, problems = prog.read_marked_ids(user, request.FILES["file"].read(), request.FILES["file"].name)
                if problems:
                    ctx["contract_problems"] = problems
                else:
                    ctx["marking"] = selectors.marking_compare(user, region, on, ids)
            elif action == "import_contracts":
                created, unchanged, problems, _ = prog.import_contracts(user, request.FILES["file"].read(),
                                                                        request.FILES["file"].name)
                if problems:
                    ctx["contract_problems"] = problems
                else:
                    messages.success(request, f"导入家庭医生签约：新增 {created}，已有 {unchanged}")
            elif action == "import":
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
                elif action == "sign":
                    made = prog.contract_sign(actor=user, person=person, whole_household=request.POST.get("household") == "1",
                                              team=request.POST.get("team", ""), doctor=request.POST.get("doctor", ""),
                                              package=request.POST.get("package", ""), signed_on=when)
                    messages.success(request, f"已签约 {len(made)} 人：{'、'.join(c.person.name for c in made)}，"
                                              f"有效期至 {made[0].valid_to}")
                elif action == "renew":
                    c = prog.contract_renew(actor=user, person=person, on=when)
                    messages.success(request, f"已续签，{c.signed_on} 至 {c.valid_to}")
                elif action == "end":
                    prog.contract_end(actor=user, person=person, on=when, reason=request.POST.get("reason", ""))
                    messages.success(request, "已解约")
                elif action == "service":
                    prog.service_record(actor=user, person=person, kind=request.POST.get("kind", ""), on=when,
                                        team=request.POST.get("team", ""), doctor=request.POST.get("doctor", ""),
                                        finding=request.POST.get("finding", ""))
                    messages.success(request, "随访记录已登记")
                elif action == "pregnancy":
                    prog.pregnancy_register(actor=user, person=person, registered_on=when,
                                            expected_on=form_date(request.POST, "expected_on", "预产期"))
                    messages.success(request, "孕产妇已建册")
                elif action == "delivered":
                    prog.pregnancy_delivered(actor=user, person=person, on=when)
                    messages.success(request, "已登记分娩")
                elif action == "fixed":
                    s = prog.fixed_subsidy_claim(actor=user, person=person, kind=request.POST.get("kind", ""), date=when,
                                                 region_code=person.household.village_id)
                    messages.success(request, f"定额补助已支付 {yuan(s.amount)} 元")
        except (FupinError, ValueError, KeyError) as exc:
            messages.error(request, getattr(exc, "message", "请检查填写的内容"))
    try:
        # counted, sorted and paged by the database: the page reads one page of the follow-up
        # list and the figures, never the county's thousands of rows (issue 13 §3)
        ctx["s"] = followup.figures(user, region, on)
        ctx["rates"] = ctx["s"]["rates"]
        ctx["checkups"] = selectors.checkup_status(user, region, on.year)
        ctx["certificates"] = selectors.certificate_status(user, region, on)
        ctx["chronic"] = sorted((c, prog.disease_lists()["names"][c]) for c in prog.disease_lists()["chronic"])
        if request.GET.get("format") == "checkups":
            return _checkups_workbook(user, ctx["checkups"])
        ctx["packages"] = services.packs().for_region(ctx["s"]["region"].code).lookup("health.fd.packages", on).value
        ctx["service_kinds"] = Service.KINDS
        ctx["listing"] = _followup_listing(request, user, region, on)
    except FupinError as exc:
        ctx["error"] = exc.message
    else:
        if ctx["listing"].wants_export:
            return xlsx_response(user, ctx["listing"], what="逾期未随访名单", object_type="followup", object_id=region)
    return render(request, "health/programmes.html", ctx)


# The follow-up list: one row (a dict of followup.COLUMNS) per person and group that is behind.
SERVICE_LABELS = {"followup": "随访", "check": "体检", "child_check": "儿童健康检查", "assessment": "健康评估",
                  "prenatal": "孕期保健", "postnatal": "产后访视"}


def _missing(row) -> str:
    from .followup import missing

    return "、".join(f"{SERVICE_LABELS[k]} {n} 次" for k, n in missing(row))


def _followup_columns(villages: dict) -> list[Column]:
    """Each sort keeps the list's own order (team, village, name) among equals; the village's name
    comes from the region's villages (`villages`: code → name), not from every row's join."""
    return [Column("team", "签约团队", lambda r: r["team"], order=("team", "vid", "pname")),
            Column("village", "村", lambda r: villages.get(r["vid"], r["vid"]), order=("vid", "team", "pname")),
            Column("name", "姓名", lambda r: r["pname"], order=("pname", "team", "vid")),
            Column("group", "类别", lambda r: r["grp"], order=("grp", "team", "vid", "pname")),
            Column("missing", "欠缺", _missing, order=("short", "team", "vid", "pname"))]


def _filtered_already(rows, value):
    return rows   # followup.rows filtered in the database, before its UNION (which cannot be filtered after)


def _followup_listing(request, user, region: str, on: dt.date):
    """The follow-up list as the page's query string asks: filtered, sorted and paged in SQL, a
    first page of 20 on the page, every row of the filter in the export."""
    from . import followup

    c = followup.choices(user, region, on)
    filters = [Filter("team", "签约团队", tuple((t, t) for t in c["teams"]), _filtered_already),
               Filter("village", "村", c["villages"], _filtered_already),
               Filter("group", "类别", tuple((g, g) for g in c["groups"]), _filtered_already)]
    chosen = {f.key: request.GET[f.key] for f in filters if request.GET.get(f.key) in {v for v, _ in f.choices}}
    names = dict(c["villages"])
    rows = followup.find(user, region, on, **chosen)
    # a county's (or a wider region's) whole list names thousands: shown a village at a time, each
    # read by its own index (at 200,000 persons the county's count and first page took 1 s); exported whole
    whole = access.access_region(user, region).level <= 3 and "village" not in chosen
    found = listing(request, rows.rows, _followup_columns(names), filters=filters, default_sort="team", page_size=20,
                    tiebreak="pid", total=None if whole else rows.count(), uncounted=whole)
    if not whole:
        found.page.object_list = [dict(r, vname=names.get(r["vid"], r["vid"])) for r in found.page.object_list]
    return found


TREATMENT_SORTS = {"village": ("person__household__village_id", "person__name"), "hospital": ("hospital__name", "person__name"),
                   "stage": ("stage", "person__name"), "assigned": ("-assigned_on", "person__name")}


@fupin_view
def treatment(request):
    """三个一批: the candidates found from the registry and the diagnoses, and the cases of a batch
    from the hospital chosen to treatment and outcome."""
    from django.core.paginator import Paginator

    from fupin.core.views import form_year

    from . import programmes as prog, selectors
    from .models import Batch, Outcome, Stage

    user = request.user
    access.require(user, Cap.READ)
    data = request.POST if request.method == "POST" else request.GET
    year = form_year(data, "year", "年度", timezone.localdate().year)
    batch = data.get("batch") if data.get("batch") in Batch.values else Batch.CONCENTRATED
    stage = request.GET.get("stage") if request.GET.get("stage") in Stage.values else ""
    sort = request.GET.get("sort") if request.GET.get("sort") in TREATMENT_SORTS else "village"
    regions = access.regions_for(user).filter(level__lte=4).order_by("code")
    region = data.get("region") if regions.filter(code=data.get("region", "")).exists() else user.region_id
    if request.method == "POST":
        try:
            when = form_date(request.POST, "date", "日期", timezone.localdate())
            if request.POST.get("action") == "open":
                prog.treatment_case_open(actor=user, condition_id=request.POST.get("condition", ""), batch=batch,
                                         year=year, hospital_id=request.POST.get("hospital", ""), on=when)
                messages.success(request, "已纳入救治，并确定救治医院")
            else:
                prog.treatment_case_advance(actor=user, case_id=request.POST.get("case", ""), on=when,
                                            outcome=request.POST.get("outcome", ""))
                messages.success(request, "救治进度已更新")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/health/treatment/?region={region}&year={year}&batch={batch}")
    region_obj, cases, stages = selectors.treatment_cases(user, region, year, batch, stage)
    cases = cases.order_by(*TREATMENT_SORTS[sort])
    if request.GET.get("format") == "xlsx":
        return _treatment_workbook(user, region_obj, year, batch, cases)
    names = prog.disease_lists()["names"]
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    ctx = {"year": year, "batch": batch, "batches": Batch.choices, "stage": stage, "stages": stages, "sort": sort,
           "region": region, "regions": regions, "region_obj": region_obj, "outcomes": Outcome.choices, "page": page,
           "rows": [(c, names.get(c.disease, "")) for c in page], "years": range(timezone.localdate().year, 2015, -1)}
    if can(user.role, Cap.RECORD_CONDITION):
        ctx["candidates"] = [(p, c, names.get(c.code, ""))
                             for p, c in selectors.treatment_candidates(user, region, year, batch)]
        ctx["hospitals"] = Hospital.objects.order_by("level", "name")
    return render(request, "health/treatment.html", ctx)


def _treatment_workbook(user, region, year, batch, cases):
    import io

    from openpyxl import Workbook

    from fupin.core import audit
    from fupin.exchange.excel import safe

    from . import programmes as prog
    from .models import Batch

    access.require(user, Cap.EXPORT)
    names = prog.disease_lists()["names"]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(Batch(batch).label)
    ws.append(["村", "姓名", "病种", "救治医院", "进度", "确定医院日期", "开始救治日期", "完成救治日期", "结果"])
    n = 0
    for c in cases:
        n += 1
        ws.append([safe(c.person.household.village.name), safe(c.person.name), names.get(c.disease, ""), safe(c.hospital.name),
                   c.get_stage_display(), c.assigned_on, c.started_on, c.ended_on, c.get_outcome_display()])
    out = io.BytesIO()
    wb.save(out)
    audit.export(user, what=f"导出 {region.name} {year} 年{Batch(batch).label}名单", object_type="treatment_cases",
                 object_id=region.code, persons=n)
    response = HttpResponse(out.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="treatment-{year}.xlsx"'
    return response


@fupin_view
def indicators(request):
    """The health bureau's settlement indicators of a year (in-county rate, self-pay share)."""
    from fupin.core.views import form_year

    from . import selectors

    user = request.user
    access.require(user, Cap.READ)
    regions = access.regions_for(user).filter(level__lte=4).order_by("code")
    region = request.GET.get("region") if regions.filter(code=request.GET.get("region", "")).exists() else user.region_id
    year = form_year(request.GET, "year", "年度", timezone.localdate().year)
    from .pages import indicator_extras   # coverage, TB, teams, tele-consultation (issue 17)

    return render(request, "health/indicators.html", {
        "i": selectors.settlement_indicators(user, region, year), "regions": regions, "region": region, "year": year,
        "years": range(timezone.localdate().year, 2015, -1), "x": indicator_extras(user, region, year)})


def _checkups_workbook(user, status):
    """Who is still due for the year's free check-up, by village (names and villages, no IDs)."""
    import io

    from openpyxl import Workbook

    from fupin.core import audit
    from fupin.exchange.excel import safe

    access.require(user, Cap.EXPORT)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("应检未检")
    ws.append(["村", "姓名", "性别"])
    for p in status["due"]:
        ws.append([safe(p.household.village.name), safe(p.name), p.get_sex_display()])
    out = io.BytesIO()
    wb.save(out)
    audit.export(user, what=f"导出 {status['region'].name} {status['year']} 年免费健康体检应检未检名单",
                 object_type="checkups", object_id=status["region"].code, persons=len(status["due"]))
    response = HttpResponse(out.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="checkups-{status["year"]}.xlsx"'
    return response
