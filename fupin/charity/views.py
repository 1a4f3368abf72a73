"""Pages of the charity room: parse, call one service or selector, render."""
from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core import signing
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fupin.core import access, audit
from fupin.core.errors import InvalidInput
from fupin.core.models import Region
from fupin.core.money import amount_in_words
from fupin.core.roles import Cap
from fupin.core.views import form_date, form_int, fupin_view
from fupin.policy.errors import PolicyError
from fupin.policy.money import parse_yuan
from fupin.registry.models import Person

from . import selectors, services
from .models import Campaign, DonationKind, DonorKind, GrantCall, GrantState, SunshineClass


def _yuan(data, key: str, label: str) -> int:
    try:
        return parse_yuan((data.get(key) or "").strip(), label)   # the one money parser
    except PolicyError as exc:
        raise InvalidInput({label: getattr(exc, "problem", exc.message)}) from None


def _may_see(user) -> None:
    if not (access.may(user, Cap.CHARITY_RECORD) or access.may(user, Cap.CHARITY_GRANT)):
        access.require(user, Cap.CHARITY_RECORD, what="查看社会捐赠与慈善资助")


@fupin_view
def home(request):
    user = request.user
    _may_see(user)
    county = services._county(user)
    today = timezone.localdate()
    year = form_int(request.GET, "year", "年度", today.year, lo=2000, hi=2100)
    rules = services.programmes(county, today)
    programme = request.GET.get("programme", "")
    if programme and programme not in rules:
        raise InvalidInput({"资助项目": "请从列表中选择"})
    state = request.GET.get("state", "")
    if state and state not in GrantState.values:
        raise InvalidInput({"状态": "请从列表中选择"})
    scope = access.scope_range(user)
    grants = Paginator(selectors.grants_in(scope, state=state, programme=programme)
                       .prefetch_related("objections").select_related("sunshine_class"), 50).get_page(request.GET.get("page"))
    candidates = []
    if programme and access.may(user, Cap.CHARITY_RECORD):   # the same rule as each application, for the whole scope
        lo, hi = scope
        candidates = list(Person.objects.filter(services.eligible_q(rules[programme], year),
                                                household__village_id__gte=lo, household__village_id__lte=hi)
                          .select_related("household__village").order_by("household__number", "name")[:200])
    villages = access.regions_for(user).filter(level=5).order_by("code")
    from fupin.education.models import School
    return render(request, "charity/home.html", {
        "classes": SunshineClass.objects.filter(region_id=county).select_related("school", "sponsor").order_by("-year", "name"),
        "schools": School.objects.filter(region__code__startswith=county[:6]).order_by("code")
        if county else School.objects.none(),
        "notice_programmes": [(k, r["label"]) for k, r in rules.items()],
        "campaigns": Campaign.objects.filter(region_id=county).order_by("-year"),
        "calls": GrantCall.objects.filter(region_id=county)[:20],
        "donations": selectors.donations_in(county)[:50], "grants": grants, "rules": rules, "programme": programme,
        "state": state, "states": GrantState.choices, "year": year, "candidates": candidates, "villages": villages,
        "donor_kinds": DonorKind.choices, "donation_kinds": DonationKind.choices, "today": today.isoformat(),
        "may_record": access.may(user, Cap.CHARITY_RECORD), "may_grant": access.may(user, Cap.CHARITY_GRANT)})


@require_POST
@fupin_view
def action(request, action: str):
    user, post = request.user, request.POST
    today = timezone.localdate()
    campaign = services.access_campaign(user, post["campaign"]) if post.get("campaign") else None
    cls = services.access_class(user, post["sunshine_class"]) if post.get("sunshine_class") else None
    if action == "donate":
        kind = post.get("kind", "")
        donor = services.donor_get_or_create(actor=user, name=post.get("donor", "")[:120], kind=post.get("donor_kind", ""))
        d = services.donation_record(actor=user, donor=donor, date=form_date(post, "date", "捐赠日期", today), kind=kind,
                                     amount=_yuan(post, "amount", "金额" if kind == DonationKind.CASH else "物资估价"),
                                     designation=post.get("designation", ""), items=post.get("items", "")[:200],
                                     campaign=campaign, sunshine_class=cls)
        messages.success(request, f"已登记捐赠，票据号 {d.number}")
    elif action == "campaign":
        c = services.campaign_create(actor=user, year=form_int(post, "year", "年度", lo=2000, hi=2100),
                                     name=post.get("name", "")[:120])
        return redirect(f"/charity/campaigns/{c.pk}/")
    elif action == "call":
        call = services.call_publish(actor=user, programme=post.get("programme", ""),
                                     year=form_int(post, "year", "年度", lo=2000, hi=2100),
                                     published=form_date(post, "published", "发布日期", today),
                                     apply_until=form_date(post, "apply_until", "申报截止日期"),
                                     title=post.get("title", "")[:120], content=post.get("content", "")[:1000])
        messages.success(request, f"已发布申报公告：{call.title}")
    elif action == "pledge":
        if campaign is None:
            raise InvalidInput({"扶贫日活动": "请选择"})
        donor = services.donor_get_or_create(actor=user, name=post.get("donor", "")[:120], kind=post.get("donor_kind", ""))
        services.pledge_record(actor=user, campaign=campaign, donor=donor, amount=_yuan(post, "amount", "认捐金额"))
        messages.success(request, f"已登记 {donor.name} 的认捐")
        return redirect(f"/charity/campaigns/{campaign.pk}/")
    elif action == "apply":
        g = services.grant_apply(actor=user, person_id=form_int(post, "person", "学生", lo=1),
                                 programme=post.get("programme", ""), year=form_int(post, "year", "年度", lo=2000, hi=2100),
                                 campaign=campaign, sunshine_class=cls)
        messages.success(request, f"已申报{g.label}：{g.person.name}")
    elif action == "class":
        from fupin.education.models import School

        school = School.objects.filter(pk=form_int(post, "school", "学校", lo=1)).first()
        if school is None:
            raise InvalidInput({"学校": "请从列表中选择"})
        sponsor = None
        if post.get("sponsor", "").strip():
            sponsor = services.donor_get_or_create(actor=user, name=post["sponsor"][:120], kind=post.get("donor_kind", ""))
        c = services.sunshine_class_create(actor=user, school=school, sponsor=sponsor, name=post.get("name", "")[:80],
                                           year=form_int(post, "year", "入学年度", lo=2000, hi=2100))
        return redirect(f"/charity/classes/{c.pk}/")
    else:
        raise InvalidInput({"操作": "不是社会捐赠的操作"})
    return redirect("/charity/")


@require_POST
@fupin_view
def grant_action(request, pk: int, action: str):
    user, post = request.user, request.POST
    g = services.access_grant(user, pk, Cap.CHARITY_RECORD if action in ("visit", "object") else Cap.CHARITY_GRANT)
    if action in ("approve", "reject"):
        services.grant_review(actor=user, grant=g, approve=action == "approve", note=post.get("note", "")[:500])
    elif action == "decide":
        services.grant_decide(actor=user, grant=g, on=form_date(post, "date", "确定日期", timezone.localdate()),
                              note=post.get("note", "")[:500])
    elif action == "object":
        services.objection_record(actor=user, grant=g, received=form_date(post, "date", "收到日期", timezone.localdate()),
                                  content=post.get("content", "")[:500], objector=post.get("objector", "")[:60])
    elif action == "pay":
        services.grant_pay(actor=user, grant=g, date=form_date(post, "date", "拨款日期", timezone.localdate()))
    elif action == "visit":
        services.grant_visit(actor=user, grant=g, note=post.get("note", "")[:500])
    else:
        raise InvalidInput({"操作": "不是资助申请的操作"})
    messages.success(request, f"{g.label}：{g.person.name} 已办理")
    return redirect("/charity/")


@require_POST
@fupin_view
def objection_action(request, pk: int, action: str):
    user, post = request.user, request.POST
    o = services.access_objection(user, pk)
    if action not in ("uphold", "dismiss"):
        raise InvalidInput({"操作": "不是异议处理的操作"})
    services.objection_handle(actor=user, objection=o, upheld=action == "uphold", finding=post.get("finding", "")[:500])
    messages.success(request, f"异议已处理：{o.get_result_display()}")
    return redirect("/charity/?state=notice")


@fupin_view
def grant_notice(request):
    """The printable public notice of a programme and year (公示资助对象): name, village and
    reason of each student in the notice period, never an ID number or a birth date."""
    from fupin.printing.charity import grant_notice as render_pdf

    user = request.user
    _may_see(user)
    county = services._county(user)
    rules = services.programmes(county, timezone.localdate())
    programme = request.GET.get("programme", "")
    if programme not in rules:
        raise InvalidInput({"资助项目": "请从列表中选择"})
    year = form_int(request.GET, "year", "年度", timezone.localdate().year, lo=2000, hi=2100)
    rows = selectors.notice_rows(access.scope_range(user), programme=programme, year=year)
    region = user.region.name
    token = signing.dumps({"r": user.region_id, "p": programme, "y": year}, salt=NOTICE_SALT, compress=True)
    pdf = render_pdf(f"{region}{year}年“{rules[programme]['label']}”资助对象公示", rows, issuer=f"{region}慈善会",
                     url=request.build_absolute_uri(f"/charity/public/notice/{token}/"))
    audit.export(user, what=f"打印{year}年{rules[programme]['label']}资助对象公示", object_type="charity_notice",
                 object_id=programme, persons=len(rows))
    r = HttpResponse(pdf, content_type="application/pdf")
    r["Content-Disposition"] = f"inline; filename=charity-notice-{year}.pdf"
    return r


NOTICE_SALT = "fupin.charity.notice"


def notice_public(request, token: str):
    """The public page of a grant notice (the QR code on the printed notice points here): no login;
    name, village, reason and amount only, never an ID number or a birth date."""
    try:
        key = signing.loads(token, salt=NOTICE_SALT)
        region = Region.objects.get(code=key["r"])
        programme, year = str(key["p"]), int(key["y"])
    except (signing.BadSignature, Region.DoesNotExist, KeyError, TypeError, ValueError):
        return render(request, "core/error.html", {"message": "找不到该公示"}, status=404)
    label = services.programmes(region.code, dt.date(year, 12, 31)).get(programme, {}).get("label", "")
    rows = selectors.public_notice_rows(region.code_range(), programme=programme, year=year)
    return render(request, "charity/notice_public.html", {
        "title": f"{region.name}{year}年“{label}”资助对象公示", "rows": rows, "issuer": f"{region.name}慈善会"})


@fupin_view
def class_page(request, pk: int):
    cls = services.access_class(request.user, pk)
    return render(request, "charity/class.html", {
        "st": selectors.class_statement(cls), "public_url": request.build_absolute_uri(f"/charity/sponsor/{cls.token}/")})


@fupin_view
def class_statement_pdf(request, pk: int):
    from fupin.printing.charity import class_statement as render_pdf

    cls = services.access_class(request.user, pk)
    st = selectors.class_statement(cls)
    pdf = render_pdf(st, request.build_absolute_uri(f"/charity/sponsor/{cls.token}/"))
    audit.export(request.user, what=f"打印{cls.name}资金使用情况", object_type="sunshine_class", object_id=cls.pk,
                 persons=len(st["out"]))
    r = HttpResponse(pdf, content_type="application/pdf")
    r["Content-Disposition"] = f"inline; filename=sunshine-class-{cls.pk}.pdf"
    return r


def sponsor_page(request, token: str):
    """The sponsor's own view of what its money paid (no login; students' names masked)."""
    cls = SunshineClass.objects.select_related("school", "sponsor").filter(token=token).first()
    if cls is None or not cls.sponsor_id:
        return render(request, "core/error.html", {"message": "找不到该阳光班的资金使用情况"}, status=404)
    return render(request, "charity/sponsor.html", {"st": selectors.class_statement(cls)})


@fupin_view
def campaign_page(request, pk: int):
    user = request.user
    _may_see(user)
    c = services.access_campaign(user, pk, Cap.CHARITY_RECORD if access.may(user, Cap.CHARITY_RECORD) else Cap.CHARITY_GRANT)
    return render(request, "charity/campaign.html", {
        "c": c, "pledges": selectors.pledge_progress(c), "account": selectors.public_account(c),
        "donor_kinds": DonorKind.choices, "may_record": access.may(user, Cap.CHARITY_RECORD),
        "public_url": f"/charity/public/{c.token}/"})


@fupin_view
def receipt(request, pk: int):
    from fupin.printing.charity import donation_receipt

    d = services.access_donation(request.user, pk)
    county = services.county_fund(d.designation_id)
    pdf = donation_receipt(d, amount_in_words(d.amount), issuer=county.name.replace("慈善扶贫统筹资金", "慈善会"))
    audit.export(request.user, what=f"打印捐赠收据 {d.number}", object_type="donation", object_id=d.pk, persons=0)
    r = HttpResponse(pdf, content_type="application/pdf")
    r["Content-Disposition"] = f"inline; filename=receipt-{d.pk}.pdf"
    return r


def public_account(request, token: str):
    """The public account of a campaign: what came in and where it went, beneficiaries masked."""
    c = Campaign.objects.filter(token=token).first()
    if c is None:
        return render(request, "core/error.html", {"message": "找不到该活动的公开账目"}, status=404)
    return render(request, "charity/public.html", {"account": selectors.public_account(c), "c": c})


@fupin_view
def export(request):
    """Donations and grants of the user's county as Excel (names, no ID numbers); audited."""
    import io
    from urllib.parse import quote

    from decimal import Decimal

    from openpyxl import Workbook

    from fupin.exchange.excel import safe

    user = request.user
    _may_see(user)
    access.require(user, Cap.EXPORT, what="导出捐赠与资助台账")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("捐赠")
    ws.append(["票据号", "捐赠人", "类型", "日期", "形式", "物资", "金额或估价（元）", "定向", "扶贫日活动"])
    for d in selectors.donations_in(services._county(user)).iterator(chunk_size=2000):
        ws.append([safe(v) for v in (d.number, d.donor.name, d.donor.get_kind_display(), d.date.isoformat(),
                                     d.get_kind_display(), d.items)] + [Decimal(d.amount) / 100]
                  + [safe(d.designation.name), safe(d.campaign.name if d.campaign else "")])
    ws = wb.create_sheet("资助")
    ws.append(["项目", "第几年", "学生", "村", "户编号", "年度", "金额（元）", "状态"])
    persons = set()
    for g in selectors.grants_in(access.scope_range(user)).iterator(chunk_size=2000):
        persons.add(g.person_id)
        ws.append([safe(v) for v in (g.label, g.instalment, g.person.name, g.person.household.village.name,
                                     g.person.household.number, g.year)] + [Decimal(g.amount) / 100, g.get_state_display()])
    audit.export(user, what="导出捐赠与资助台账", object_type="charity", object_id="", persons=len(persons))
    out = io.BytesIO()
    wb.save(out)
    r = HttpResponse(out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    r["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote('捐赠与资助台账.xlsx')}"
    return r
