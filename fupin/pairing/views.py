from __future__ import annotations

import io
import secrets

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.utils import timezone

from fupin.core import access
from fupin.core.errors import FupinError, NotFound
from fupin.core.roles import Cap
from fupin.core.listing import Column, Filter, listing
from fupin.exchange.lists import xlsx_response
from fupin.core.views import form_date, form_int, form_year, form_yuan, fupin_view
from fupin.exchange.views import _xlsx

from . import cards, services
from .models import Helper, MeasureKind, Pair
from .selectors import pairable_helpers


@fupin_view
def home(request):
    """A helper's phone page: my households, and what is due this year."""
    helper = services.helper_for(request.user)
    year = timezone.localdate().year
    pairs = list(helper.pairs.filter(ended_on__isnull=True).select_related("household__village"))
    days = len({v.date for v in helper.visits.filter(date__year=year)})
    need = services.p(pairs[0].household.village_id, "pairing.helper.min_days", timezone.localdate()) if pairs else None
    rows = []
    for pr in pairs:
        n = pr.household.measures.filter(date__year=year).count()
        rows.append({"pair": pr, "measures": n, "visits": pr.household.visits.filter(date__year=year, helper=helper).count()})
    return render(request, "pairing/home.html", {"helper": helper, "rows": rows, "days": days, "need": need,
                                                    "today": timezone.localdate().isoformat(),
                                                    "measure_kinds": MeasureKind.choices})


@fupin_view
def visit(request, household_pk):
    helper = services.helper_for(request.user)
    pr = Pair.objects.filter(helper=helper, household_id=household_pk, ended_on__isnull=True).select_related("household").first()
    if pr is None:
        raise NotFound("该户不是您结对帮扶的户")
    if request.method == "POST":
        try:
            v = services.visit_record(
                actor=request.user, household=pr.household, date=form_date(request.POST, "date", "走访日期"),
                minutes=form_int(request.POST, "minutes", "时长"), done=request.POST.get("done", ""),
                found=request.POST.get("found", ""), satisfaction=request.POST.get("satisfaction", ""),
                photos=[f.read() for f in request.FILES.getlist("photos")],
                client_token=request.POST.get("client_token") or secrets.token_hex(16))
        except (FupinError, ValueError) as exc:
            message = getattr(exc, "message", "日期或时长填写有误")
            if request.headers.get("X-Retry"):
                return JsonResponse({"error": message}, status=400)
            messages.error(request, message)
            return redirect(request.path)
        if request.headers.get("X-Retry"):
            return JsonResponse({"id": v.pk})
        messages.success(request, "走访已记录")
        return redirect("/pairing/")
    return render(request, "pairing/visit.html", {"h": pr.household, "token": secrets.token_hex(16),
                                                     "today": timezone.localdate().isoformat()})


@require_POST
@fupin_view
def measure(request, household_pk):
    helper = services.helper_for(request.user)
    pr = Pair.objects.filter(helper=helper, household_id=household_pk, ended_on__isnull=True).select_related("household").first()
    if pr is None:
        raise NotFound("该户不是您结对帮扶的户")
    try:
        services.measure_record(actor=request.user, household=pr.household, kind=request.POST.get("kind", ""),
                                money=form_yuan(request.POST, "money", "资金"),
                                date=form_date(request.POST, "date", "日期"),
                                description=request.POST.get("description", ""))
        messages.success(request, "措施已记录")
    except (FupinError, ValueError, ArithmeticError) as exc:
        messages.error(request, getattr(exc, "message", "请检查填写的内容"))
    return redirect("/pairing/")


@fupin_view
def compliance(request):
    year = form_year(request.GET, "year", "年度", timezone.localdate().year)
    data = services.compliance(request.user, request.GET.get("region") or request.user.region_id, year)
    if request.GET.get("format") == "xlsx":
        access.require(request.user, Cap.EXPORT)
        from openpyxl import Workbook

        from fupin.exchange.excel import safe
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("帮扶责任人")
        ws.append(["单位", "帮扶责任人", "在村入户天数", "结对户", "投入资金（元）", "帮扶措施（项）", "是否达标", "差距"])
        for r in data["helpers"]:
            for hrow in r["households"]:
                ws.append([safe(r["helper"].unit.name), safe(r["helper"].name), r["days"], hrow["household"].number,
                           f"{hrow['money'] / 100:.2f}", hrow["measures"], "是" if r["ok"] else "否", "；".join(r["shortfalls"])])
        ws2 = wb.create_sheet("驻村工作队")
        ws2.append(["工作队", "队员", "驻村天数", "是否达标", "入户调查不足的月份"])
        for t in data["teams"]:
            for m in t["members"]:
                ws2.append([t["team"].name, m["member"].name, m["days"], "是" if m["ok"] else "否",
                            "、".join(f"{x}月" for x in t["short_months"])])
        out = io.BytesIO()
        wb.save(out)
        from fupin.core import audit
        audit.export(request.user, what=f"导出 {data['region'].name} {year} 年帮扶工作达标情况", object_type="compliance",
                     object_id=data["region"].code,
                     persons=sum(len(r["households"]) for r in data["helpers"])
                     + sum(len(t["members"]) for t in data["teams"]))
        return _xlsx(out.getvalue(), f"帮扶达标情况_{data['region'].code}_{year}.xlsx")
    return render(request, "pairing/compliance.html", {"d": data})


@fupin_view
def four_cards(request, code):
    from fupin.printing.pdf import four_cards as render_cards

    year = form_year(request.GET, "year", "年度", timezone.localdate().year)
    if code.isdigit() and len(code) == 12:  # a whole region: a bulk print of personal data
        access.require(request.user, Cap.EXPORT, what="批量打印四卡")
        region = access.access_region(request.user, code)
        lo, hi = region.code_range()
        households = access.households_for(request.user).filter(village_id__gte=lo, village_id__lte=hi).order_by("number")
    elif code.isascii() and code.isdigit() and len(code) < 19:   # one household, by its id
        households = [access.access_household(request.user, int(code))]
    else:
        raise NotFound(f"“{code[:40]}”既不是 12 位区划代码，也不是户的系统编号")
    data = [cards.card_data(request.user, h, year) for h in households]
    if not data:
        raise FupinError("该区划没有户")
    pdf = render_cards(data)
    from fupin.core import audit
    audit.export(request.user, what=f"打印四卡（{len(data)} 户）", object_type="four_cards", object_id=code,
                 persons=sum(len(d["members"]) for d in data))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="four-cards-{code}.pdf"'
    return response


@fupin_view
def pairing(request):
    access.require(request.user, Cap.WRITE)
    if request.method == "POST" and request.FILES.get("file"):
        n, problems, _ = services.import_pairs(request.user, request.FILES["file"].read(), request.FILES["file"].name,
                                               start=form_date(request.POST, "start", "开始日期", timezone.localdate()))
        if problems:
            messages.error(request, "；".join(str(p) for p in problems[:20]) + "。未导入任何结对")
        else:
            messages.success(request, f"已按名单结对 {n} 户")
        return redirect("/pairing/pairs/")
    if request.method == "POST":
        try:
            helper = pairable_helpers(request.user).filter(pk=form_int(request.POST, "helper", "帮扶责任人")).first()
            if helper is None:
                raise NotFound("找不到该帮扶责任人，或其单位不在您的管辖范围内；请从列表中选择")
            household = access.access_household(request.user, form_int(request.POST, "household", "户的系统编号"))
            services.pair(actor=request.user, helper=helper, household=household,
                          start=form_date(request.POST, "start", "开始日期", timezone.localdate()))
            messages.success(request, "已结对")
        except (FupinError, ValueError, Helper.DoesNotExist) as exc:
            messages.error(request, getattr(exc, "message", "请检查填写的内容"))
        return redirect("/pairing/pairs/")
    lo, hi = access.scope_range(request.user)
    pairs = Pair.objects.filter(household__village_id__gte=lo, household__village_id__lte=hi, ended_on__isnull=True) \
        .select_related("helper__unit", "household")
    coverage = list(pairs.order_by().values_list("helper__unit__name").annotate(n=Count("id")).order_by("helper__unit__name"))
    units = tuple((name, name) for name, _ in coverage)
    rows = listing(request, pairs, PAIR_COLUMNS, default_sort="unit",
                   filters=[Filter("unit", "单位", units, lambda qs, v: qs.filter(helper__unit__name=v))])
    if rows.wants_export:
        return xlsx_response(request.user, rows, what="结对帮扶名单", object_type="pairs", object_id=request.user.region_id)
    return render(request, "pairing/pairs.html", {"listing": rows, "helpers": pairable_helpers(request.user),
                                                   "coverage": coverage})


PAIR_COLUMNS = [
    Column("unit", "单位", lambda p: p.helper.unit.name, order=("helper__unit__name", "helper__name")),
    Column("helper", "帮扶责任人", lambda p: p.helper.name, order=("helper__name", "household__number")),
    Column("household", "户", lambda p: p.household.number, order="household__number"),
    Column("until", "结对期至", lambda p: p.locked_until.isoformat(), order=("locked_until", "household__number")),
]


@fupin_view
def team(request):
    """A work-team member's phone page: days in the village and household surveys."""
    member = getattr(request.user, "team_member", None)
    if member is None:
        raise NotFound("您的账户不是驻村工作队员")
    if request.method == "POST":
        try:
            date = form_date(request.POST, "date", "日期")
            if request.POST.get("action") == "survey":
                h = access.households_for(request.user).filter(number=request.POST.get("number", "").strip()).first()
                if h is None:
                    raise NotFound("户编号不存在或不在您的管辖范围内")
                services.team_survey(actor=request.user, household=h, date=date, note=request.POST.get("note", ""))
            else:
                services.team_day(actor=request.user, date=date)
            messages.success(request, "已记录")
        except (FupinError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "日期应为 YYYY-MM-DD"))
        return redirect("/pairing/team/")
    year = timezone.localdate().year
    return render(request, "pairing/team.html", {"m": member, "days": member.days.filter(date__year=year).count(),
                                                    "surveys": member.team.surveys.filter(date__year=year).count(),
                                                    "today": timezone.localdate().isoformat()})


@fupin_view
def photo(request, pk):
    """A visit photo (full size, or a small thumbnail for the household page), served only to
    someone who may read the household; never a public media address."""
    from django.core.files.storage import default_storage

    from . import selectors

    ph = selectors.access_photo(request.user, pk)
    try:
        with default_storage.open(ph.file) as f:
            data = f.read()
    except FileNotFoundError:
        raise NotFound(f"照片文件（编号 {pk}）已不存在") from None
    if request.GET.get("size") == "thumb":
        from PIL import Image

        img = Image.open(io.BytesIO(data))
        img.thumbnail((240, 240))
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=70)
        data = out.getvalue()
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
