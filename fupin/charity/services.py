"""Writes of the charity room. Access (capability, region) is checked before a transaction
opens; every change writes its audit event in the same transaction; cash goes through the
ledger (`funds.allocation_post` for money in, `funds.payments_post` for grants out).

Programme rules are pack data (`charity.programmes`): the stage of schooling, whether the
student must be in the first year, which household statuses qualify, the amount and for how
many years. `eligibility` explains one case; `eligible_q` is the same rule for a whole county."""
from __future__ import annotations

import datetime as dt
import functools
import secrets

from django.db import transaction
from django.utils import timezone
from django.db.models import Exists, OuterRef, Q

from fupin.core import access, audit
from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, AuditResult, Region, User
from fupin.core.money import fen_to_yuan_str
from fupin.core.roles import Cap
from fupin.funds import services as funds
from fupin.policy.errors import PolicyError
from fupin.policy.money import parse_yuan
from fupin.policy.packs import shipped_packs

from .models import (Campaign, Donation, DonationKind, Donor, DonorKind, Grant, GrantCall, GrantObjection, GrantState,
                     ObjectionResult, Pledge, SunshineClass)


def _pack(region_code: str, name: str, when: dt.date):
    try:
        return shipped_packs().for_region(region_code).lookup(name, when).value
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def programmes(region_code: str, when: dt.date) -> dict[str, dict]:
    """The programmes in force, each with its amount in fen (parsed by the one money parser)."""
    out = {}
    for key, rule in _pack(region_code, "charity.programmes", when).items():
        out[key] = dict(rule, amount=parse_yuan(str(rule["amount_yuan"]), f"charity.programmes.{key}"))
    return out


@functools.lru_cache(maxsize=1)
def _programme_names() -> dict[str, str]:
    """Every programme any pack has ever named, by its key (the packs do not change while running)."""
    out: dict[str, str] = {}
    for pack in shipped_packs().packs.values():
        param = pack.parameters.get("charity.programmes")
        for v in (param.values if param else ()):
            for key, rule in (v.value or {}).items():
                out.setdefault(key, rule.get("label", ""))
    return out


def programme_label(code: str) -> str:
    """A charity payment's entitlement as read: 'college' → the programme's name; 'college.province' → its
    name and "（省级承担部分）"."""
    key, province = code.removesuffix(".province"), code.endswith(".province")
    return (_programme_names().get(key) or "慈善资助") + ("（省级承担部分）" if province else "")


def _refuse(actor: User, cap: str, message: str):
    audit.record(actor, AuditAction.DENIED, object_type="capability", object_id=cap, result=AuditResult.DENIED,
                 summary=message)
    raise AccessDenied(message)


def _county(actor: User) -> str:
    code = actor.region_id or ""
    return funds.county_of(code) if code else code


def county_fund(region_code: str):
    county = funds.county_of(region_code)
    name = Region.objects.filter(code=county).values_list("name", flat=True).first() or county
    return funds.charity_fund_account(region_code=county, name=f"{name}慈善扶贫统筹资金")


def province_fund(region_code: str):
    province = region_code[:2] + "0" * 10
    name = Region.objects.filter(code=province).values_list("name", flat=True).first() or province
    return funds.charity_fund_account(region_code=province, name=f"{name}慈善总会扶贫资金")


def village_fund(village: Region):
    return funds.charity_fund_account(region_code=village.code, name=f"{village.name}村集体帮扶资金")


# ---- donors, campaigns, pledges, donations --------------------------------------------------------

def donor_get_or_create(*, actor: User, name: str, kind: str) -> Donor:
    access.require(actor, Cap.CHARITY_RECORD, what=f"登记捐赠人 {name}")
    if not name.strip():
        raise InvalidInput({"捐赠人": "必须填写"})
    if kind not in DonorKind.values:
        raise InvalidInput({"捐赠人类型": f"应为 {'、'.join(DonorKind.labels)} 之一"})
    county = _county(actor)
    with transaction.atomic():
        donor, created = Donor.objects.get_or_create(region_id=county, name=name.strip()[:120], defaults={"kind": kind})
        if created:
            audit.record(actor, AuditAction.CREATE, object_type="donor", object_id=donor.pk, summary=f"登记捐赠人 {donor.name}")
    return donor


def campaign_create(*, actor: User, year: int, name: str = "") -> Campaign:
    """This county's 扶贫日 campaign of a year; its day comes from the pack (17 October)."""
    access.require(actor, Cap.CHARITY_GRANT, what=f"建立{year}年扶贫日活动")
    county = _county(actor)
    first = _pack(county, "charity.poverty_day", dt.date(year, 12, 31))
    day = first.replace(year=year)
    if Campaign.objects.filter(region_id=county, year=year).exists():
        raise FupinError(f"{year}年扶贫日活动已建立")
    with transaction.atomic():
        c = Campaign.objects.create(name=name.strip() or f"{year}年“扶贫日”募捐活动", region_id=county, year=year, day=day,
                                    token=secrets.token_urlsafe(16))
        audit.record(actor, AuditAction.CREATE, object_type="campaign", object_id=c.pk, summary=f"建立 {c.name}（{day}）")
    return c


def call_publish(*, actor: User, programme: str, year: int, published: dt.date, apply_until: dt.date,
                 title: str = "", content: str = "") -> GrantCall:
    """The opening step of a programme's year (下发通知、发布公告): the county's call for
    applications with its dates. Once a year per programme; applications follow in its window."""
    access.require(actor, Cap.CHARITY_GRANT, what=f"发布{year}年慈善资助申报公告")
    county = _county(actor)
    rules = programmes(county, dt.date(year, 9, 1))
    rule = rules.get(programme)
    if rule is None:
        raise InvalidInput({"资助项目": f"应为 {'、'.join(r['label'] for r in rules.values())} 之一"})
    if apply_until < published:
        raise InvalidInput({"申报截止日期": f"应不早于发布日期 {published}"})
    if GrantCall.objects.filter(region_id=county, programme=programme, year=year).exists():
        raise FupinError(f"{year}年“{rule['label']}”的申报公告已发布")
    with transaction.atomic():
        call = GrantCall.objects.create(region_id=county, programme=programme, label=rule["label"], year=year,
                                        title=title.strip() or f"关于申报{year}年“{rule['label']}”资助的通知",
                                        content=content.strip(), published=published, apply_until=apply_until,
                                        created_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="charity_call", object_id=call.pk,
                     summary=f"发布申报公告：{call.title}（{published} 至 {apply_until} 接受申报）")
    return call


def _check_call(village: str, rule: dict, programme: str, year: int, on: dt.date) -> None:
    """The pack's opening step: when it is required, an application needs the county's published
    call of that programme and year, and comes within the call's dates."""
    call_rule = _pack(village, "charity.grant_procedure", dt.date(year, 9, 1)).get("call") or {}
    if not call_rule.get("required"):
        return
    call = GrantCall.objects.filter(region_id=funds.county_of(village), programme=programme, year=year).first()
    if call is None:
        raise FupinError(f"尚未发布{year}年“{rule['label']}”的申报公告（{call_rule['label']}），发布后才能接受申报")
    if not call.published <= on <= call.apply_until:
        raise FupinError(f"{year}年“{rule['label']}”的申报期为 {call.published} 至 {call.apply_until}，"
                         f"{on} 不在申报期内")


def access_campaign(user: User, pk, cap: str = Cap.CHARITY_RECORD) -> Campaign:
    access.require(user, cap)
    c = Campaign.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if c is None or c.region_id != _county(user):
        raise NotFound(f"找不到扶贫日活动（编号 {pk}），或不在您的管辖范围内")
    return c


def pledge_record(*, actor: User, campaign: Campaign, donor: Donor, amount: int) -> Pledge:
    access.require(actor, Cap.CHARITY_RECORD, what="登记认捐")
    if amount <= 0:
        raise InvalidInput({"认捐金额": "须大于0"})
    with transaction.atomic():
        pledge, created = Pledge.objects.get_or_create(campaign=campaign, donor=donor, defaults={"amount": amount})
        if not created:
            raise FupinError(f"{donor.name} 已认捐 {fen_to_yuan_str(pledge.amount)} 元；认捐只登记一次")
        audit.record(actor, AuditAction.CREATE, object_type="pledge", object_id=pledge.pk,
                     summary=f"{donor.name} 认捐 {fen_to_yuan_str(amount)} 元（{campaign.name}）")
    return pledge


def _receipt_number(county: str, date: dt.date) -> str:
    prefix = f"JZ{county[:6]}{date.year}"
    n = Donation.objects.filter(number__startswith=prefix).count() + 1
    while Donation.objects.filter(number=f"{prefix}{n:05d}").exists():
        n += 1
    return f"{prefix}{n:05d}"


def donation_record(*, actor: User, donor: Donor, date: dt.date, kind: str, amount: int, designation: str = "",
                    items: str = "", campaign: Campaign | None = None,
                    sunshine_class: SunshineClass | None = None) -> Donation:
    """A donation with its receipt number. Cash designated to a village goes to that village's
    collective account, otherwise to the county fund, through the ledger; goods are recorded
    at their valuation (not cash: no ledger entry)."""
    access.require(actor, Cap.CHARITY_RECORD, what=f"登记 {donor.name} 的捐赠")
    county = _county(actor)
    target = Region.objects.filter(code=designation or county).first()
    if target is None or not (target.code == county or (target.level == 5 and access.in_scope(actor, target.code))):
        _refuse(actor, Cap.CHARITY_RECORD, f"定向区划 {designation} 不是您管辖范围内的村，也不是本县统筹")
    errors = {}
    if kind not in DonationKind.values:
        errors["捐赠形式"] = "应为 资金 或 物资"
    if amount <= 0:
        errors["金额" if kind == DonationKind.CASH else "物资估价"] = "须大于0"
    if kind == DonationKind.IN_KIND and not items.strip():
        errors["物资名称及数量"] = "捐赠物资须写明名称和数量"
    if date > timezone.localdate():
        errors["捐赠日期"] = "不能晚于今天"
    if sunshine_class is not None and sunshine_class.sponsor_id != donor.pk:
        errors["定向冠名阳光班"] = (f"“{sunshine_class.name}”的冠名捐赠方是"
                                f"{sunshine_class.sponsor.name if sunshine_class.sponsor_id else '省、县慈善组织联合资助'}，"
                                f"不是 {donor.name}")
    if sunshine_class is not None and kind != DonationKind.CASH:
        errors["捐赠形式"] = "定向阳光班的捐赠须为资金"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        d = Donation.objects.create(number=_receipt_number(county, date), donor=donor, campaign=campaign, date=date,
                                    kind=kind, amount=amount, items=items.strip()[:200], designation=target,
                                    recorded_by=actor, sunshine_class=sunshine_class)
        if kind == DonationKind.CASH:
            if sunshine_class is not None:   # earmarked: the sponsor's money stays apart for its class
                fund = class_fund(sunshine_class)
            else:
                fund = village_fund(target) if target.level == 5 else county_fund(county)
            txn = funds.allocation_post(actor=actor, budget=fund, amount=amount, date=date, decision_type="donation",
                                        decision_id=d.number, memo=f"{donor.name} 捐赠")
            Donation.objects.filter(pk=d.pk).update(transaction=txn)
            d.transaction = txn
        audit.record(actor, AuditAction.CREATE, object_type="donation", object_id=d.pk,
                     summary=f"{donor.name} 捐赠{d.get_kind_display()} {fen_to_yuan_str(amount)} 元"
                             f"（{target.name}，票据 {d.number}）")
    return d


def access_donation(user: User, pk) -> Donation:
    access.require(user, Cap.CHARITY_RECORD)
    d = Donation.objects.select_related("donor", "designation", "campaign").filter(pk=pk).first() \
        if str(pk).isdigit() else None
    if d is None or funds.county_of(d.designation_id) != _county(user):
        raise NotFound(f"找不到捐赠（编号 {pk}），或不在您的管辖范围内")
    return d


# ---- programme grants -----------------------------------------------------------------------------

def eligible_q(rule: dict, year: int) -> Q:
    """The programme's rule over persons: alive, household in a qualifying status, enrolled this
    autumn at the programme's stage (in the first year when the programme says so)."""
    from fupin.education.models import CollegeStudent, Enrolment

    if rule.get("college_levels"):   # beyond the county's schools: the college-student database
        enrolled = CollegeStudent.objects.filter(person=OuterRef("pk"), level__in=rule["college_levels"],
                                                 outcome="studying")
        enrolled = enrolled.filter(entry_year=year) if rule.get("first_year") else enrolled.filter(entry_year__lte=year)
    else:
        enrolled = Enrolment.objects.filter(person=OuterRef("pk"), semester=f"{year}-autumn", stage=rule["stage"],
                                            status="enrolled")
        if rule.get("first_year"):
            enrolled = enrolled.filter(grade=1)
    return Q(alive=True, household__status__in=rule["statuses"]) & Q(Exists(enrolled))


def eligibility(person, rule: dict, year: int) -> tuple[bool, list[str]]:
    """One student against one programme, with a plain-Chinese reason per condition."""
    from fupin.education.models import Enrolment, Stage
    from fupin.registry.choices import Status

    def Stage_label(code):  # noqa: N802
        return Stage(code).label if code in Stage.values else code

    reasons, ok = [], True
    if not person.alive:
        ok = False
        reasons.append("× 已死亡")
    status = person.household.status if person.household_id else ""
    if status in rule["statuses"]:
        reasons.append(f"√ 户的状态为“{Status(status).label}”，属于资助对象")
    else:
        ok = False
        reasons.append(f"× 户的状态为“{Status(status).label if status in Status.values else '无'}”，"
                       f"资助对象限于{'、'.join(Status(s).label for s in rule['statuses'])}")
    if rule.get("college_levels"):
        return _college_eligibility(person, rule, year, ok, reasons)
    e = Enrolment.objects.filter(person=person, semester=f"{year}-autumn", status="enrolled").first()
    stage = Stage_label(rule["stage"])
    if e is None:
        ok = False
        reasons.append(f"× {year}年秋季学期没有在读学籍（{stage}）")
    elif e.stage != rule["stage"]:
        ok = False
        reasons.append(f"× {year}年秋季在读{Stage_label(e.stage)}，本项目资助{stage}学生")
    elif rule.get("first_year") and e.grade != 1:
        ok = False
        reasons.append(f"× {year}年秋季在读{stage}{e.grade}年级，本项目只资助当年新录取（一年级）的学生")
    else:
        reasons.append(f"√ {year}年秋季{'新录取' if rule.get('first_year') else '在读'}{stage}（{e.school.name}）")
    return ok, reasons


def _college_eligibility(person, rule: dict, year: int, ok: bool, reasons: list[str]) -> tuple[bool, list[str]]:
    """The college half of `eligibility`: a record in the college-student database at one of the
    programme's levels, still studying, entered this year when the programme says so."""
    from fupin.education.models import CollegeLevel, CollegeStudent

    levels = "、".join(CollegeLevel(x).label for x in rule["college_levels"])
    records = list(CollegeStudent.objects.filter(person=person, outcome="studying", entry_year__lte=year)
                   .order_by("-entry_year"))
    fit = [r for r in records if r.level in rule["college_levels"]]
    if not fit:
        return False, reasons + [f"× 大学生库中没有{year}年在读的{levels}记录"]
    r = fit[0]
    if rule.get("first_year") and r.entry_year != year:
        return False, reasons + [f"× {r.entry_year}年入学（{r.college}），本项目只资助{year}年新录取的学生"]
    return ok, reasons + [f"√ {r.entry_year}年考入{r.college}（{r.get_level_display()}）"]


def grant_apply(*, actor: User, person_id: int, programme: str, year: int,
                campaign: Campaign | None = None, sunshine_class: SunshineClass | None = None,
                on: dt.date | None = None) -> Grant:
    """An application (申报): the eligibility is checked now and kept with its reasons; a
    student who already has this programme's grant (or all its years) is refused."""
    access.require(actor, Cap.CHARITY_RECORD, what=f"申报慈善资助 {programme}")
    person = access.access_person(actor, person_id)
    rules = programmes(person.household.village_id, dt.date(year, 9, 1))
    rule = rules.get(programme)
    if rule is None:
        raise InvalidInput({"资助项目": f"应为 {'、'.join(r['label'] for r in rules.values())} 之一"})
    earlier = list(Grant.objects.filter(programme=programme, person=person).exclude(state=GrantState.REJECTED)
                   .order_by("year"))
    if any(g.year == year for g in earlier) or len(earlier) >= int(rule["years"]):
        raise FupinError(f"{person.name} 已获得过“{rule['label']}”资助"
                         f"（{'、'.join(f'{g.year}年' for g in earlier)}），同一资助不能重复享受")
    if not earlier:      # a later year of a multi-year grant continues the first application
        _check_call(person.household.village_id, rule, programme, year, on or timezone.localdate())
    first = rule.get("first_year") and not earlier
    ok, reasons = eligibility(person, rule, year) if (first or not rule.get("first_year")) else (True, [
        f"√ 连续资助第{len(earlier) + 1}年（首年 {earlier[0].year} 年已审查）"])
    if not ok:
        raise FupinError(f"{person.name} 不符合“{rule['label']}”资助条件：" + "；".join(r for r in reasons if r.startswith("×")))
    if earlier and earlier[0].sunshine_class_id:   # later years stay in the class of the first
        sunshine_class = earlier[0].sunshine_class
    if sunshine_class is not None:
        _check_class_member(person, programme, sunshine_class, earlier)
    with transaction.atomic():
        g = Grant.objects.create(programme=programme, label=rule["label"], person=person, year=year,
                                 instalment=len(earlier) + 1, amount=rule["amount"], campaign=campaign,
                                 explanation=reasons, sunshine_class=sunshine_class)
        audit.record(actor, AuditAction.CREATE, object_type="charity_grant", object_id=g.pk,
                     household_id=person.household_id,
                     summary=f"申报{rule['label']}：{person.name}（{year}年，{fen_to_yuan_str(g.amount)} 元）")
    return g


def access_grant(user: User, pk, cap: str) -> Grant:
    access.require(user, cap)
    lo, hi = access.scope_range(user)
    g = Grant.objects.select_related("person__household").filter(
        pk=pk, person__household__village_id__gte=lo, person__household__village_id__lte=hi).first() \
        if str(pk).isdigit() else None
    if g is None:
        raise NotFound(f"找不到资助申请（编号 {pk}），或不在您的管辖范围内")
    return g


def procedure(grant: Grant) -> dict:
    """The grant procedure in force (pack `charity.grant_procedure`): review steps and notice days."""
    return _pack(grant.person.household.village_id, "charity.grant_procedure", dt.date(grant.year, 9, 1))


def grant_review(*, actor: User, grant: Grant, approve: bool, note: str = "", on: dt.date | None = None) -> Grant:
    """One review step of the pack's procedure (组织评审). A refusal needs its reason and ends the
    application; the last approval opens the public notice (公示资助对象) for the pack's days."""
    grant = access_grant(actor, grant.pk, Cap.CHARITY_GRANT)
    if grant.state != GrantState.APPLIED:
        raise FupinError(f"该申请状态为“{grant.get_state_display()}”，不在评审中")
    if not approve and not note.strip():
        raise InvalidInput({"意见": "不通过时必须写明理由"})
    proc = procedure(grant)
    step = proc["steps"][grant.step]
    on = on or timezone.localdate()
    fields = {"step": grant.step + 1, "note": note.strip()[:500]}
    if not approve:
        fields["state"] = GrantState.REJECTED
    elif grant.step + 1 == len(proc["steps"]):
        fields.update(state=GrantState.NOTICE, notice_from=on, notice_until=on + dt.timedelta(days=int(proc["notice_days"]) - 1))
    with transaction.atomic():
        if Grant.objects.filter(pk=grant.pk, state=GrantState.APPLIED, step=grant.step).update(**fields) != 1:
            raise FupinError("该申请刚被他人处理过；请刷新页面")
        audit.record(actor, AuditAction.UPDATE, object_type="charity_grant", object_id=grant.pk,
                     household_id=grant.person.household_id,
                     summary=f"{grant.label}{step['label']}：{grant.person.name} {'通过' if approve else '不通过'}"
                             + (f"（{note.strip()}）" if note.strip() else "")
                             + (f"；{proc['notice_label']} {on} 至 {fields['notice_until']}" if "notice_until" in fields else ""))
    grant.refresh_from_db()
    return grant


def objection_record(*, actor: User, grant: Grant, received: dt.date, content: str, objector: str = "") -> GrantObjection:
    """An objection received while the notice runs (by letter, phone or in person)."""
    grant = access_grant(actor, grant.pk, Cap.CHARITY_RECORD)
    if grant.state != GrantState.NOTICE:
        raise FupinError(f"该申请状态为“{grant.get_state_display()}”，只有公示中的资助对象可以登记异议")
    if not (grant.notice_from <= received <= grant.notice_until):
        raise InvalidInput({"收到日期": f"公示期为 {grant.notice_from} 至 {grant.notice_until}，收到日期应在公示期内"})
    if not content.strip():
        raise InvalidInput({"异议内容": "必须填写"})
    with transaction.atomic():
        o = GrantObjection.objects.create(grant=grant, received=received, objector=objector.strip()[:60],
                                          content=content.strip()[:500], recorded_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="charity_objection", object_id=o.pk,
                     household_id=grant.person.household_id,
                     summary=f"{grant.label}公示异议：{grant.person.name}（{received} 收到）")
    return o


def access_objection(user: User, pk) -> GrantObjection:
    o = GrantObjection.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    if o is None:
        raise NotFound(f"找不到异议（编号 {pk}）")
    access_grant(user, o.grant_id, Cap.CHARITY_GRANT)
    return o


def objection_handle(*, actor: User, objection: GrantObjection, upheld: bool, finding: str,
                     on: dt.date | None = None) -> GrantObjection:
    """The county checks the objection and decides: upheld cancels the grant; dismissed keeps it."""
    grant = access_grant(actor, objection.grant_id, Cap.CHARITY_GRANT)
    if objection.result:
        raise FupinError("该异议已处理")
    if not finding.strip():
        raise InvalidInput({"核查情况": "必须写明核查情况"})
    on = on or timezone.localdate()
    result = ObjectionResult.UPHELD if upheld else ObjectionResult.DISMISSED
    with transaction.atomic():
        if GrantObjection.objects.filter(pk=objection.pk, result="").update(
                result=result, finding=finding.strip()[:500], handled_by=actor, handled_on=on) != 1:
            raise FupinError("该异议刚被他人处理过；请刷新页面")
        if upheld:
            Grant.objects.filter(pk=grant.pk, state=GrantState.NOTICE).update(
                state=GrantState.REJECTED, note=f"公示期内异议成立：{finding.strip()}"[:500])
        audit.record(actor, AuditAction.UPDATE, object_type="charity_objection", object_id=objection.pk,
                     household_id=grant.person.household_id,
                     summary=f"{grant.label}公示异议处理：{grant.person.name}，{result.label}（{finding.strip()}）")
    objection.refresh_from_db()
    return objection


def grant_decide(*, actor: User, grant: Grant, on: dt.date, note: str = "") -> Grant:
    """After the notice has run its days with no objection left open, the county decides
    (确定资助对象); then the grant may be paid."""
    grant = access_grant(actor, grant.pk, Cap.CHARITY_GRANT)
    if grant.state != GrantState.NOTICE:
        raise FupinError(f"该申请状态为“{grant.get_state_display()}”，公示期满后才能确定资助对象")
    if on <= grant.notice_until:
        raise FupinError(f"公示期至 {grant.notice_until}，期满后（{grant.notice_until + dt.timedelta(days=1)} 起）才能确定资助对象")
    open_ = grant.objections.filter(result="").count()
    if open_:
        raise FupinError(f"公示期内收到的异议还有 {open_} 件未处理，处理后才能确定资助对象")
    with transaction.atomic():
        if Grant.objects.filter(pk=grant.pk, state=GrantState.NOTICE).update(
                state=GrantState.APPROVED, decided_on=on, note=note.strip()[:500] or "公示无异议") != 1:
            raise FupinError("该申请刚被他人处理过；请刷新页面")
        audit.record(actor, AuditAction.UPDATE, object_type="charity_grant", object_id=grant.pk,
                     household_id=grant.person.household_id,
                     summary=f"{grant.label}确定资助对象：{grant.person.name}（{on}）")
    grant.refresh_from_db()
    return grant


def grant_pay(*, actor: User, grant: Grant, date: dt.date) -> Grant:
    """Pay an approved grant from the county's charity fund to the student (拨款)."""
    grant = access_grant(actor, grant.pk, Cap.CHARITY_GRANT)
    if grant.state != GrantState.APPROVED:
        raise FupinError(f"该申请状态为“{grant.get_state_display()}”，审定通过后才能拨款")
    person = grant.person
    rule = programmes(person.household.village_id, dt.date(grant.year, 9, 1)).get(grant.programme, {})
    # a programme funded jointly (慈善阳光班: province and county charities 50/50) pays its
    # provincial share from the province's charity fund; the county pays the rest
    province_part = grant.amount * int(rule.get("province_percent", 0)) // 100
    cls = grant.sunshine_class
    if cls is not None and cls.sponsor_id:   # a named sponsor pays the whole grant from its earmarked fund
        province_part, county_budget = 0, class_fund(cls)
    else:
        county_budget = county_fund(person.household.village_id)
    payee = funds.payee_for_person(person)
    with transaction.atomic():
        if province_part:
            funds.payments_post(actor=actor, budget=province_fund(person.household.village_id), date=date,
                                decision_type="charity_grant", decision_id=f"grant-{grant.pk}",
                                payments=[funds.Payment(payee=payee, amount=province_part,
                                                        entitlement=f"charity.{grant.programme}.province",
                                                        period=str(grant.instalment))])
        txn = funds.payments_post(actor=actor, budget=county_budget, date=date,
                                  decision_type="charity_grant", decision_id=f"grant-{grant.pk}",
                                  payments=[funds.Payment(payee=payee, amount=grant.amount - province_part,
                                                          entitlement=f"charity.{grant.programme}",
                                                          period=str(grant.instalment))])
        if Grant.objects.filter(pk=grant.pk, state=GrantState.APPROVED).update(state=GrantState.PAID, transaction=txn) != 1:
            raise FupinError("该申请刚被他人处理过；请刷新页面")
        audit.record(actor, AuditAction.UPDATE, object_type="charity_grant", object_id=grant.pk,
                     household_id=person.household_id,
                     summary=f"{grant.label}拨款 {fen_to_yuan_str(grant.amount)} 元给 {person.name}")
    grant.state, grant.transaction = GrantState.PAID, txn
    return grant


def grant_visit(*, actor: User, grant: Grant, note: str) -> Grant:
    """The follow-up visit (回访) after payment."""
    grant = access_grant(actor, grant.pk, Cap.CHARITY_RECORD)
    if grant.state != GrantState.PAID:
        raise FupinError("拨款后才能登记回访")
    if not note.strip():
        raise InvalidInput({"回访记录": "必须填写"})
    with transaction.atomic():
        Grant.objects.filter(pk=grant.pk).update(state=GrantState.VISITED, note=note.strip()[:500])
        audit.record(actor, AuditAction.UPDATE, object_type="charity_grant", object_id=grant.pk,
                     household_id=grant.person.household_id, summary=f"{grant.label}回访：{grant.person.name}")
    grant.state = GrantState.VISITED
    return grant


# ---- 慈善阳光班: classes, joint or by one named sponsor --------------------------------------------

def class_fund(cls: SunshineClass):
    """The earmarked fund of a sponsored class (its sponsor's donations in, its grants out)."""
    return funds.sponsored_fund_account(key=f"class-{cls.pk}", region_code=cls.region_id,
                                        name=f"{cls.name}（{cls.sponsor.name}冠名）定向资金")


def sunshine_class_create(*, actor: User, school, year: int, sponsor: Donor | None = None,
                          name: str = "") -> SunshineClass:
    """A class of a school's entry year; with a sponsor, its money is kept apart (冠名全额资助)."""
    access.require(actor, Cap.CHARITY_GRANT, what=f"建立慈善阳光班（{year}年）")
    county = _county(actor)
    if funds.county_of(school.region_id) != county:
        raise NotFound(f"找不到学校 {school.name}，或不在您的管辖范围内")
    if sponsor is not None and sponsor.region_id != county:
        raise NotFound(f"找不到捐赠人 {sponsor.name}，或不是本县登记的捐赠人")
    if SunshineClass.objects.filter(school=school, year=year).exists():
        raise FupinError(f"{school.name} {year}年已建立慈善阳光班")
    label = name.strip() or (f"{school.name}{year}级“{sponsor.name}”慈善阳光班" if sponsor else
                             f"{school.name}{year}级慈善阳光班")
    with transaction.atomic():
        cls = SunshineClass.objects.create(name=label[:80], region_id=county, school=school, year=year, sponsor=sponsor,
                                           token=secrets.token_urlsafe(16))
        audit.record(actor, AuditAction.CREATE, object_type="sunshine_class", object_id=cls.pk,
                     summary=f"建立{cls.name}（{'由 ' + sponsor.name + ' 冠名全额资助' if sponsor else '省、县慈善组织联合资助'}）")
    return cls


def access_class(user: User, pk) -> SunshineClass:
    if not (access.may(user, Cap.CHARITY_RECORD) or access.may(user, Cap.CHARITY_GRANT)):
        access.require(user, Cap.CHARITY_RECORD, what="查看慈善阳光班")
    cls = SunshineClass.objects.select_related("school", "sponsor").filter(pk=pk).first() \
        if str(pk).isdigit() else None
    if cls is None or cls.region_id != _county(user):
        raise NotFound(f"找不到慈善阳光班（编号 {pk}），或不在您的管辖范围内")
    return cls


def _check_class_member(person, programme: str, cls: SunshineClass, earlier: list[Grant]) -> None:
    """A class's students are 慈善阳光班 grantees enrolled at its school in its entry year."""
    from fupin.education.models import Enrolment

    if programme != "sunshine_class":
        raise InvalidInput({"阳光班": "只有“慈善阳光班”资助可以选择阳光班"})
    if earlier:
        return
    at = Enrolment.objects.filter(person=person, semester=f"{cls.year}-autumn", school=cls.school,
                                  status="enrolled").exists()
    if not at:
        raise FupinError(f"{person.name} {cls.year}年秋季不在 {cls.school.name} 就读，不能编入{cls.name}")
