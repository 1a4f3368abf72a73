"""Screens of issue 17's second part: insurance coverage and the premium run, TB patients'
follow-up, tele-consultations, contract rates per team. Each view parses, calls one service or
selector, renders; lists page, filter, sort and export through core.listing."""
from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from fupin.core import access
from fupin.core.errors import FupinError, InvalidInput
from fupin.core.listing import Column, Filter, listing
from fupin.core.roles import Cap
from fupin.core.views import form_date, form_year, fupin_view
from fupin.exchange.lists import xlsx_response
from fupin.core.money import fen_to_yuan_str

from . import consults, insurance, keygroups, teams
from .models import Hospital, Scheme, TBCase
from .services import find_patient


def _region(request) -> str:
    return (request.GET.get("region") or request.POST.get("region") or request.user.region_id or "").strip()


def _village_filter(rows) -> Filter:
    villages = sorted({(r.village_id, r.village_name) for r in rows})
    return Filter("village", "村", tuple(villages), lambda rs, v: [r for r in rs if r.village_id == v])


# ---- insurance coverage and the premium run --------------------------------------------------------

UNINSURED_COLUMNS = [
    Column("village", "村", lambda r: r.village_name, order=lambda r: r.village_id),
    Column("name", "姓名", lambda r: r.name, order=lambda r: r.name),
    Column("category", "资助类别", lambda r: r.category_label or "—", order=lambda r: r.category),
    Column("subsidy", "财政代缴（元）", lambda r: fen_to_yuan_str(r.subsidy), order=lambda r: r.subsidy),
    # the household card may say insured while no enrolment of the year is known: a record to check
    Column("card", "户籍卡登记参保", lambda r: "是" if r.card_insured else "否", order=lambda r: r.card_insured),
]


@fupin_view
def coverage(request):
    user = request.user
    access.require(user, Cap.READ)
    region = _region(request)
    year = form_year(request.GET if request.method == "GET" else request.POST, "year", "年度", timezone.localdate().year)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "import":
                upload = request.FILES.get("file")
                if upload is None:
                    raise InvalidInput({"文件": "请选择参保名单 Excel 文件"})
                created, unchanged, problems = insurance.coverage_import(user, upload.read(), upload.name, year)
                for p in problems[:20]:
                    messages.error(request, str(p))
                if not problems:
                    messages.success(request, f"导入{year}年参保名单：新增 {created}，已有 {unchanged}")
            elif request.POST.get("action") == "run":
                run = insurance.premium_run(actor=user, region_code=region, year=year,
                                            on=form_date(request.POST, "date", "代缴日期", timezone.localdate()))
                messages.success(request, f"已代缴 {run.persons} 人 {year} 年医保个人缴费，共 {fen_to_yuan_str(run.total, grouping=True)} 元")
            else:
                person = find_patient(user, request.POST.get("id_number", ""))
                insurance.coverage_record(actor=user, person=person, year=year, scheme=request.POST.get("scheme", ""))
                messages.success(request, f"已登记 {person.name} {year} 年参保")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/health/insurance/?region={region}&year={year}")
    s = insurance.coverage_status(user, region, year)
    rows = s["uninsured"]
    cats = sorted({(r.category, r.category_label) for r in rows if r.category})
    lst = listing(request, rows, UNINSURED_COLUMNS, filters=[
        _village_filter(rows),
        Filter("category", "资助类别", tuple(cats), lambda rs, v: [r for r in rs if r.category == v])])
    if lst.wants_export:
        return xlsx_response(user, lst, what=f"{s['region'].name}{year}年未参保贫困人口名单", object_type="coverage",
                             object_id=s["region"].code)
    return render(request, "health/insurance.html", {"s": s, "listing": lst, "region": s["region"].code, "year": year,
                                                     "years": range(timezone.localdate().year + 1, 2015, -1),
                                                     "schemes": Scheme.choices})


COVERED_COLUMNS = [
    Column("village", "村", lambda c: c.person.household.village.name, order=("person__household__village_id",)),
    Column("name", "姓名", lambda c: c.person.name, order=("person__name",)),
    Column("scheme", "险种", lambda c: c.get_scheme_display(), order=("scheme",)),
    Column("how", "参保方式", lambda c: f"财政代缴（{c.run.date.isoformat()}）" if c.run_id else "本人缴费或单位参保",
           order=("run_id",)),
    Column("category", "资助类别", lambda c: insurance.CATEGORY_LABELS.get(c.category, "—")),
    Column("premium", "个人缴费标准（元）", lambda c: fen_to_yuan_str(c.premium) if c.run_id else "—"),
    Column("subsidy", "财政代缴（元）", lambda c: fen_to_yuan_str(c.subsidy) if c.run_id else "—", order=("subsidy",)),
]


@fupin_view
def covered(request):
    """The insured of a year: the premium runs' roster (代缴花名册) and those recorded as insured."""
    user = request.user
    year = form_year(request.GET, "year", "年度", timezone.localdate().year)
    region, qs = insurance.covered(user, _region(request), year)
    lst = listing(request, qs, COVERED_COLUMNS, filters=[
        Filter("how", "参保方式", (("run", "财政代缴"), ("own", "本人缴费或单位参保")),
               lambda rs, v: rs.filter(run__isnull=(v == "own")))])
    if lst.wants_export:
        return xlsx_response(user, lst, what=f"{region.name}{year}年参保名单", object_type="coverage", object_id=region.code)
    return render(request, "health/covered.html", {"listing": lst, "region": region, "year": year})


RUN_COLUMNS = [
    Column("date", "代缴日期", lambda r: r.date.isoformat(), order=("date", "pk")),
    Column("region", "区划", lambda r: r.region.name, order=("region_id",)),
    Column("persons", "人数", lambda r: r.persons, order=("persons",)),
    Column("total", "金额（元）", lambda r: fen_to_yuan_str(r.total), order=("total",)),
    Column("state", "状态", lambda r: f"已冲销：{r.reversal_reason}" if r.reversal_id else "有效", order=("reversal_id",)),
]


@fupin_view
def premium_runs(request):
    """The premium runs of a year, and the reversal of one (冲销: exactly the negative, with a reason)."""
    user = request.user
    if request.method == "POST":
        region = _region(request)
        year = form_year(request.POST, "year", "年度", timezone.localdate().year)
        try:
            run = insurance.premium_run_reverse(actor=user, pk=request.POST.get("run", ""),
                                                reason=request.POST.get("reason", ""), on=timezone.localdate())
            messages.success(request, f"已冲销 {run.date.isoformat()} 代缴的 {run.persons} 人，"
                                      f"共 {fen_to_yuan_str(run.total, grouping=True)} 元；这些人重新列为未参保")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/health/insurance/runs/?region={region}&year={year}")
    year = form_year(request.GET, "year", "年度", timezone.localdate().year)
    region, qs = insurance.premium_runs(user, _region(request), year)
    lst = listing(request, qs, RUN_COLUMNS)
    if lst.wants_export:
        return xlsx_response(user, lst, what=f"{region.name}{year}年资助参保代缴记录", object_type="premium_run",
                             object_id=region.code)
    return render(request, "health/premium_runs.html", {"listing": lst, "region": region, "year": year})


# ---- TB patients ------------------------------------------------------------------------------------

TB_COLUMNS = [
    Column("team", "签约团队", lambda r: r.team, order=lambda r: r.team),
    Column("village", "村", lambda r: r.village_name, order=lambda r: r.village_id),
    Column("name", "姓名", lambda r: r.name, order=lambda r: r.name),
    Column("started", "开始治疗", lambda r: r.started_on.isoformat(), order=lambda r: r.started_on),
    Column("done", "已随访（次）", lambda r: r.done, order=lambda r: r.done),
    Column("due", "应随访（次）", lambda r: r.due, order=lambda r: r.due),
    Column("next", "下次随访", lambda r: r.next_due.isoformat() if r.next_due else "疗程内随访已完成",
           order=lambda r: r.next_due or r.started_on),
    Column("overdue", "逾期（天）", lambda r: r.overdue_days or "", order=lambda r: r.overdue_days),
]


@fupin_view
def tb(request):
    from . import programmes as prog

    user = request.user
    access.require(user, Cap.READ)
    region = _region(request)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            person = find_patient(user, request.POST.get("id_number", ""))
            when = form_date(request.POST, "date", "日期", timezone.localdate())
            if action == "open":
                keygroups.tb_case_open(actor=user, person=person, started_on=when)
                messages.success(request, f"{person.name} 已纳入肺结核患者管理")
            elif action == "close":
                keygroups.tb_case_close(actor=user, person=person, on=when, outcome=request.POST.get("outcome", ""))
                messages.success(request, f"已登记 {person.name} 停止治疗")
            else:
                prog.service_record(actor=user, person=person, kind="tb_visit", on=when,
                                    team=request.POST.get("team", ""), doctor=request.POST.get("doctor", ""))
                messages.success(request, f"已登记 {person.name} 的随访")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/health/tb/?region={region}")
    on = form_date(request.GET, "date", "日期", timezone.localdate())
    s = keygroups.tb_status(user, region, on)
    rows = s["rows"]
    lst = listing(request, rows, TB_COLUMNS, filters=[
        Filter("overdue", "随访", (("1", "逾期未随访"),), lambda rs, v: [r for r in rs if r.overdue_days]),
        Filter("team", "签约团队", tuple((t, t) for t in sorted({r.team for r in rows})),
               lambda rs, v: [r for r in rs if r.team == v]),
        _village_filter(rows)])
    if lst.wants_export:
        return xlsx_response(user, lst, what=f"{s['region'].name}肺结核患者随访名单", object_type="tb_cases",
                             object_id=s["region"].code)
    return render(request, "health/tb.html", {"s": s, "listing": lst, "region": s["region"].code, "on": on,
                                              "outcomes": TBCase._meta.get_field("outcome").choices})


# ---- tele-consultation ----------------------------------------------------------------------------------

CONSULT_COLUMNS = [
    Column("date", "申请日期", lambda c: c.requested_on.isoformat(), order=("requested_on",)),
    Column("village", "村", lambda c: c.person.household.village.name, order=("person__household__village_id",)),
    Column("name", "患者", lambda c: c.person.name, order=("person__name",)),
    Column("requester", "申请医院", lambda c: c.requester.name, order=("requester__name",)),
    Column("consultant", "会诊医院", lambda c: c.consultant.name, order=("consultant__name",)),
    Column("question", "会诊目的", lambda c: c.question),
    Column("answered", "会诊日期", lambda c: c.answered_on.isoformat() if c.answered_on else "待会诊",
           order=("answered_on",)),
    Column("opinion", "会诊意见", lambda c: c.opinion),
]


@fupin_view
def consultations(request):
    user = request.user
    access.require(user, Cap.READ)
    region = _region(request)
    year = form_year(request.GET, "year", "年度", timezone.localdate().year)
    if request.method == "POST":
        try:
            when = form_date(request.POST, "date", "日期", timezone.localdate())
            if request.POST.get("action") == "answer":
                c = consults.consultation_answer(actor=user, consultation_id=request.POST.get("consultation", ""),
                                                 on=when, opinion=request.POST.get("opinion", ""))
                messages.success(request, f"已登记 {c.consultant.name} 的会诊意见")
            else:
                person = find_patient(user, request.POST.get("id_number", ""))
                c = consults.consultation_request(actor=user, person=person, requester_id=request.POST.get("requester", ""),
                                                  consultant_id=request.POST.get("consultant", ""), on=when,
                                                  question=request.POST.get("question", ""))
                messages.success(request, f"已提交 {person.name} 的远程会诊申请")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/health/consults/?region={region}&year={year}")
    reg, qs = consults.consultations(user, region, year)
    lst = listing(request, qs, CONSULT_COLUMNS, filters=[
        Filter("state", "状态", (("pending", "待会诊"), ("answered", "已会诊")),
               lambda rs, v: rs.filter(answered_on__isnull=(v == "pending")))])
    if lst.wants_export:
        return xlsx_response(user, lst, what=f"{reg.name}{year}年远程会诊记录", object_type="consultations",
                             object_id=reg.code)
    lo, hi = access.scope_range(user)
    return render(request, "health/consults.html", {
        "region": reg.code, "region_name": reg.name, "year": year, "listing": lst,
        "counts": consults.consultation_counts(user, reg.code, year),
        "years": range(timezone.localdate().year, 2015, -1),
        "requesters": Hospital.objects.filter(region_id__gte=lo, region_id__lte=hi, level__in=("township", "county"))
        .order_by("level", "code"),
        "consultants": Hospital.objects.exclude(level="township").order_by("level", "code")})


@fupin_view
def patient_consultations(request, pk):
    """One patient's consultations, oldest first (the patient's record)."""
    person = access.access_person(request.user, pk)
    rows = person.consultations.select_related("requester", "consultant").order_by("requested_on", "pk")
    return render(request, "health/patient_consults.html", {"person": person, "rows": rows})


MOBILE_COLUMNS = [
    Column("date", "日期", lambda m: m.date.isoformat(), order=("date",)),
    Column("hospital", "医疗机构", lambda m: m.hospital.name, order=("hospital__code",)),
    Column("township", "巡诊乡镇", lambda m: m.township.name, order=("township_id",)),
    Column("persons", "诊疗人次", lambda m: m.persons, order=("persons",)),
]


@fupin_view
def mobile(request):
    """巡回医疗: outings recorded, each hospital against the pack's numbers, townships not reached."""
    from .models import MobileClinic

    user = request.user
    access.require(user, Cap.READ)
    region = _region(request)
    year = form_year(request.GET, "year", "年度", timezone.localdate().year)
    if request.method == "POST":
        try:
            consults.mobile_clinic_record(actor=user, hospital_id=request.POST.get("hospital", ""),
                                          township_code=request.POST.get("township", ""),
                                          on=form_date(request.POST, "date", "日期", timezone.localdate()),
                                          persons=request.POST.get("persons", "").strip())
            messages.success(request, "巡回医疗已登记")
        except FupinError as exc:
            messages.error(request, exc.message)
        return redirect(f"/health/mobile/?region={region}&year={year}")
    import datetime as dt

    s = consults.mobile_clinic_status(user, region, year, min(timezone.localdate(), dt.date(year, 12, 31)))
    lo, hi = s["region"].code_range()
    lst = listing(request, MobileClinic.objects.filter(date__year=year, township__code__gte=lo, township__code__lte=hi)
                  .select_related("hospital", "township").order_by("-date", "-pk"), MOBILE_COLUMNS)
    if lst.wants_export:
        return xlsx_response(user, lst, what=f"{s['region'].name}{year}年巡回医疗记录", object_type="mobile_clinics",
                             object_id=s["region"].code)
    ulo, uhi = access.scope_range(user)
    return render(request, "health/mobile.html", {
        "s": s, "listing": lst, "region": s["region"].code, "year": year, "years": range(timezone.localdate().year, 2015, -1),
        "hospitals": Hospital.objects.filter(region_id__gte=ulo, region_id__lte=uhi, level__in=("county", "township"))
        .order_by("level", "code"),
        "townships": access.regions_for(user).filter(level=4).order_by("code")})


# ---- contract rate per team ---------------------------------------------------------------------------------

UNSIGNED_COLUMNS = [Column("village", "村", lambda r: r.village_name, order=lambda r: r.village_id),
                    Column("name", "姓名", lambda r: r.name, order=lambda r: r.name)]


@fupin_view
def team_rates(request):
    user = request.user
    region = _region(request)
    on = form_date(request.GET, "date", "日期", timezone.localdate())
    s = teams.team_rates(user, region, on)
    chosen = next((t for t in s["teams"] if t["team"] == request.GET.get("team")), None)
    lst = None
    if chosen is not None:
        lst = listing(request, chosen["unsigned"], UNSIGNED_COLUMNS, filters=[_village_filter(chosen["unsigned"])])
        if lst.wants_export:
            return xlsx_response(user, lst, what=f"{chosen['team']}未签约建档立卡人口", object_type="fd_team",
                                 object_id=s["region"].code)
    return render(request, "health/teams.html", {"s": s, "chosen": chosen, "listing": lst, "region": s["region"].code,
                                                 "on": on})


def indicator_extras(user, region_code: str, year: int) -> dict:
    """What the indicator page adds for issue 17: the insured rate, the TB management rate, the
    contract rate per team and the tele-consultation counts (each links to its list)."""
    import datetime as dt

    on = min(timezone.localdate(), dt.date(year, 12, 31))
    out = {"on": on}
    for key, read in (("coverage", lambda: insurance.coverage_status(user, region_code, year)),
                      ("tb", lambda: keygroups.tb_status(user, region_code, on)),
                      ("teams", lambda: teams.team_rates(user, region_code, on)),
                      ("consults", lambda: consults.consultation_counts(user, region_code, year)),
                      ("mobile", lambda: consults.mobile_clinic_status(user, region_code, year, on))):
        try:
            out[key] = read()
        except FupinError as exc:   # a year before a policy took effect: say so in its place
            out[key + "_error"] = exc.message
    return out
