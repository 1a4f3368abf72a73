"""Social assistance writes: enrolments, applications, re-checks, monthly payment runs.

Every amount comes from the rules (`fupin.policy.rules.welfare`) and the packs; every payment
goes through `fupin.funds.services`; every change of state writes its audit row in the same
transaction; access is checked before a transaction opens. The registry's `Person.assistance`
flag (none/dibao/tekun) is set and cleared here, when a 低保 or 特困 enrolment starts or stops.
"""
from __future__ import annotations

import datetime as dt

import polars as pl
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from fupin.core import access, audit, workdays
from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, AuditResult, Region, User
from fupin.core.roles import Cap, Role
from fupin.funds import services as funds
from fupin.funds.models import Account, AccountKind, Entry, FundingSource
from fupin.policy.engine import run_batch, run_case
from fupin.policy.explain import described
from fupin.policy.errors import PolicyError
from fupin.policy.money import MoneyError, parse_yuan, yuan
from fupin.policy.packs import shipped_packs
from fupin.policy.rules.welfare import ASSET_TESTS, CARE_LEVELS, CATEGORIES_OF, LABELS, MODEL, RULE_OF
from fupin.registry.choices import Assistance
from fupin.registry.models import Household, Person

from .models import (Application, AppState, AssetRecord, Decision, Enrolment, Flag, LineKind, PaymentRun, Programme,
                     Recheck, RecheckResult, RunLine, RunStatus)

packs = shipped_packs
# who acts on a step of each tier (the county tier is the civil-affairs office)
TIER_ROLES = {"village": {Role.VILLAGE_CADRE}, "township": {Role.TOWNSHIP_OFFICER}, "county": {Role.CIVIL_AFFAIRS}}
TIER_LABEL = {"village": "村级", "township": "乡镇", "county": "县级民政部门"}
MONTHLY = [p for p in Programme.values if p != Programme.TEMPORARY]


def today() -> dt.date:
    return timezone.localdate()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def period(month: dt.date) -> str:
    return f"{month:%Y-%m}"


def parse_month(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{text}-01") if len(text or "") == 7 else month_start(dt.date.fromisoformat(text))
    except (TypeError, ValueError):
        raise InvalidInput({"发放月份": f"“{text}”应写作 2026-12"}) from None


def _p(code: str, name: str, when: dt.date):
    try:
        return packs().for_region(code).lookup(name, when).value
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def _check_category(programme: str, category: str, care_level: str) -> None:
    if programme not in Programme.values:
        raise InvalidInput({"救助项目": f"“{programme}”不是救助项目；可选：{'、'.join(Programme.labels)}"})
    allowed = CATEGORIES_OF[programme]
    if category not in allowed:
        raise InvalidInput({"类别": f"{Programme(programme).label}的类别应为 {'、'.join(LABELS[c] for c in allowed)} 之一"})
    if care_level not in CARE_LEVELS:
        raise InvalidInput({"照料护理等级": f"应为 {'、'.join(LABELS[c] for c in CARE_LEVELS)} 之一"})


# ---- the means test and one case ----------------------------------------------------------------

def household_means(household: Household, month: dt.date) -> tuple[int, int]:
    """(per-capita monthly income in fen, members counted) from the registry: the latest yearly
    income ÷ 12 (rounded down; a loss counts as 0), and the living members less the kinds the
    pack excludes (`welfare.dibao.excluded_members`)."""
    income = household.incomes.order_by("-year").first()
    monthly = max(income.per_capita, 0) // 12 if income else 0
    excluded = set(_p(household.village_id, "welfare.dibao.excluded_members", month))
    counted = 0
    for p in household.persons.filter(alive=True):
        if "tekun" in excluded and p.assistance == "tekun":
            continue
        if "migrant_full_year" in excluded and p.migrant_months >= 12:
            continue
        counted += 1
    return monthly, counted


# ---- the family's assets, as verified at the home visit ------------------------------------------

# form / API key → (Chinese name, kind); blank means none (0, no)
ASSET_FIELDS = {
    "deposits": ("银行存款（元）", "yuan"),
    "securities": ("有价证券（元）", "yuan"),
    "insurance": ("商业保险现金价值（元）", "yuan"),
    "vehicles": ("机动车辆（辆）", "count"),
    "vehicles_exempt": ("其中经营用或残疾成员代步用（辆）", "count"),
    "commercial_housing": ("有商业用房", "bool"),
    "houses": ("住房套数", "count"),
    "businesses": ("工商登记（企业、个体户）数", "count"),
}
NO_ASSETS = dict(financial_assets=0, vehicle=False, commercial_housing=False, houses=0, business=False)


def parse_assets(raw: dict) -> dict:
    """The assets typed on the home-verification step (web form or API) → AssetRecord fields,
    or InvalidInput naming every wrong field in Chinese. Amounts through `parse_yuan`."""
    errors, out = {}, {}
    for key, (label, kind) in ASSET_FIELDS.items():
        value = raw.get(key)
        if isinstance(value, str):
            value = value.strip()
        if value is None or value == "":
            out[key] = False if kind == "bool" else 0
        elif kind == "yuan":
            try:
                out[key] = parse_yuan(value, label)
            except MoneyError as exc:
                errors[label] = exc.problem
        elif kind == "count":
            if isinstance(value, bool) or not (isinstance(value, int) or str(value).isdigit()) or int(value) < 0 \
                    or int(value) > 99:
                errors[label] = f"“{str(value)[:20]}”应为0到99的整数"
            else:
                out[key] = int(value)
        else:
            if isinstance(value, bool):
                out[key] = value
            elif str(value) in ("on", "true", "1", "是", "有"):
                out[key] = True
            elif str(value) in ("off", "false", "0", "否", "无"):
                out[key] = False
            else:
                errors[label] = f"“{str(value)[:20]}”应为“有”或“无”"
    if not errors and out["vehicles_exempt"] > out["vehicles"]:
        errors[ASSET_FIELDS["vehicles_exempt"][0]] = f"不能多于机动车辆总数（{out['vehicles']} 辆）"
    if errors:
        raise InvalidInput(errors)
    return out


def assets_text(a) -> str:
    """An AssetRecord in one plain-Chinese line (for the audit row and the screens)."""
    return (f"存款 {yuan(a.deposits)} 元、有价证券 {yuan(a.securities)} 元、商业保险现金价值 {yuan(a.insurance)} 元"
            f"（金融资产合计 {yuan(a.financial_assets)} 元）；机动车 {a.vehicles} 辆"
            f"（其中经营用或残疾成员代步用 {a.vehicles_exempt} 辆）；商业用房{'有' if a.commercial_housing else '无'}；"
            f"住房 {a.houses} 套；工商登记 {a.businesses} 个")


def household_assets(household: Household) -> dict:
    """The rule's asset inputs from the household's latest verified assets (none recorded: none)."""
    latest = AssetRecord.objects.filter(household=household).order_by("-recorded_at", "-id").first()
    return latest.inputs() if latest else dict(NO_ASSETS)


def refusal(explanation: dict) -> str:
    """Why a 低保 case computed 0, in words: the failed asset tests, else the income."""
    failed = [b.rsplit("：", 1)[0] for b in explanation.get("branches", []) if b.endswith("：是")
              and b.rsplit("：", 1)[0] in ASSET_TESTS]
    return "、".join(failed) if failed else "家庭月人均收入不低于低保标准"


def case_for(*, region: str, month: dt.date, programme: str, category: str, care_level: str = "none",
             income: int = 0, members: int = 1, used_this_year: int = 0, financial_assets: int = 0,
             vehicle: bool = False, commercial_housing: bool = False, houses: int = 0, business: bool = False) -> dict:
    return dict(region=region, date=month, programme=programme, category=category, care_level=care_level,
                income=income, members=members, used_this_year=used_this_year, financial_assets=financial_assets,
                vehicle=vehicle, commercial_housing=commercial_housing, houses=houses, business=business)


def compute(case: dict) -> tuple[int, dict]:
    """One case: the amount of its programme's rule in fen, and the plain-Chinese explanation."""
    try:
        results = run_case(MODEL, case, packs())
    except PolicyError as exc:
        raise FupinError(exc.message) from None
    rule = RULE_OF[case["programme"]]
    item = next(r for r in results if r.rule == rule)
    return item.amount, item.explanation


def _param_text(name: str, v: dict, chain_key: str) -> str:
    """A parameter as '<its name> <value>（source）': yuan with 元, lists of words by their labels."""
    try:
        chain = packs().chain(chain_key.split("/")[0])
        param = described(chain, name)
        unit, description = chain.unit(name), (param.description if param else "")
    except (PolicyError, KeyError):
        unit, description = "yuan", ""
    head = description.split("：")[0].split("；")[0] if description else ""
    value = v["value"]
    if isinstance(value, (list, tuple)):
        shown = "、".join(LABELS.get(str(x), str(x)) for x in value)
    elif unit == "yuan":
        shown = f"{value}元"
    else:
        shown = str(value)
    return f"{head + ' ' if head else ''}{shown}（{v['source']}）"


def explain(explanation: dict) -> str:
    """The explanation in one plain-Chinese sentence (no parameter names, no codes)."""
    params = "；".join(_param_text(k, v, explanation.get("pack", "")) for k, v in explanation["parameters"].items())
    branches = "，".join(explanation["branches"])
    return f"{explanation['label']} {explanation['amount']} 元：{explanation.get('description') or ''}" \
           f"{'。依据：' + branches if branches else ''}{'。标准：' + params if params else ''}"


def used_temporary(household: Household, year: int) -> int:
    return sum(Enrolment.objects.filter(household=household, programme=Programme.TEMPORARY, start__year=year)
               .values_list("monthly_amount", flat=True))


def enrolment_case(e: Enrolment, month: dt.date) -> dict:
    return case_for(region=e.household.village_id, month=month, programme=e.programme, category=e.category,
                    care_level=e.care_level, income=e.income, members=e.members, used_this_year=e.used_before,
                    **enrolment_assets(e))


def enrolment_assets(e: Enrolment) -> dict:
    return dict(financial_assets=e.financial_assets, vehicle=e.vehicle, commercial_housing=e.commercial_housing,
                houses=e.houses, business=e.business)


# ---- enrolments: start and stop (the registry flag follows) ---------------------------------------

def _flag_members(household: Household, person: Person, programme: str, on: bool, actor: User) -> None:
    """Keep `Person.assistance` consistent with running 低保/特困 enrolments."""
    if programme == Programme.TEKUN:
        targets = [person]
        value = "tekun" if on else "none"
    elif programme == Programme.DIBAO:
        targets = list(household.persons.filter(alive=True).exclude(assistance="tekun"))
        value = "dibao" if on else "none"
    else:
        return
    for p in targets:
        if not on and p.assistance != programme:
            continue
        if p.assistance != value:
            before = p.assistance
            Person.objects.filter(pk=p.pk).update(assistance=value)
            audit.record(actor, AuditAction.UPDATE, object_type="person", object_id=p.pk, household_id=household.pk,
                         summary=f"{p.name} 低保/特困标识：{Assistance(before).label} → {Assistance(value).label}（社会救助）",
                         detail={"fields": {"assistance": [before, value]}})


def _enrol(actor: User, *, household: Household, person: Person, programme: str, category: str, care_level: str,
           start: dt.date, application: Application | None = None, income: int | None = None,
           members: int | None = None, assets: dict | None = None) -> Enrolment:
    """Inside a transaction: a new running enrolment from `start`, its amount from the rules.
    A 低保 case reads the registry's income and members and the latest verified assets."""
    month = month_start(start)
    if income is None or members is None:
        income, members = household_means(household, month) if programme == Programme.DIBAO else (0, 1)
    if assets is None:
        assets = household_assets(household) if programme == Programme.DIBAO else dict(NO_ASSETS)
    used = used_temporary(household, month.year) if programme == Programme.TEMPORARY else 0
    amount, explanation = compute(case_for(region=household.village_id, month=month, programme=programme,
                                           category=category, care_level=care_level, income=income, members=members,
                                           used_this_year=used, **assets))
    if amount <= 0:
        why = refusal(explanation) if programme == Programme.DIBAO else "按政策计算金额为0（如临时救助已达本年上限）"
        raise FupinError(f"{person.name}：{why}，不能纳入{Programme(programme).label}")
    recheck = None
    if programme in (Programme.DIBAO, Programme.TEKUN):
        months = _p(household.village_id, "welfare.dibao.recheck_months", month)
        recheck = month
        for _ in range(months):
            recheck = next_month(recheck)
    try:
        with transaction.atomic():
            e = Enrolment.objects.create(
                household=household, person=person, programme=programme, category=category, care_level=care_level,
                income=income, members=members, used_before=used, monthly_amount=amount, start=month, **assets,
                stop=next_month(month) if programme == Programme.TEMPORARY else None,
                stop_reason="一次性救助" if programme == Programme.TEMPORARY else "",
                next_recheck=recheck, application=application, created_by=actor)
    except IntegrityError:
        raise FupinError(f"{person.name} 已在享受{Programme(programme).label}，不能重复纳入") from None
    _flag_members(household, person, programme, True, actor)
    audit.record(actor, AuditAction.CREATE, object_type="welfare_enrolment", object_id=e.pk, household_id=household.pk,
                 summary=f"{person.name} 纳入{Programme(programme).label}（{LABELS[category]}），"
                         f"自 {period(month)} 起每月 {yuan(amount)} 元")
    return e


def access_enrolment(user: User, pk, cap: str = Cap.READ) -> Enrolment:
    access.require(user, cap)
    lo, hi = access.scope_range(user)
    e = (Enrolment.objects.select_related("household__village", "person")
         .filter(pk=pk, household__village_id__gte=lo, household__village_id__lte=hi).first()
         if str(pk).isdigit() else None)
    if e is None:
        raise NotFound(f"找不到救助对象记录（编号 {pk}），或不在您的管辖范围内")
    return e


def enrolment_grant(*, actor: User, household_id: int, person_id: int, programme: str, category: str,
                    care_level: str = "none", start: dt.date | None = None) -> Enrolment:
    """Civil affairs enrols a recipient directly (temporary assistance, disability and family-
    planning support, which have no village procedure here)."""
    access.require(actor, Cap.WELFARE_MANAGE, what="纳入社会救助")
    _check_category(programme, category, care_level)
    household = access.access_household(actor, household_id)
    person = access.access_person(actor, person_id)
    if person.household_id != household.pk or not person.alive:
        raise InvalidInput({"救助对象": f"{person.name} 不是该户在世成员"})
    with transaction.atomic():
        return _enrol(actor, household=household, person=person, programme=programme, category=category,
                      care_level=care_level, start=start or today())


def _stop(actor: User, e: Enrolment, effective: dt.date, reason: str) -> None:
    Enrolment.objects.filter(pk=e.pk).update(stop=effective, stop_reason=reason[:200])
    running = Enrolment.objects.filter(programme=e.programme, stop__isnull=True).exclude(pk=e.pk)
    still = running.filter(household=e.household).exists() if e.programme == Programme.DIBAO \
        else running.filter(person=e.person).exists()
    if not still:
        _flag_members(e.household, e.person, e.programme, False, actor)


def enrolment_stop(*, actor: User, enrolment_id: int, reason: str) -> Enrolment:
    """Stop from next month; stopping needs a reason."""
    e = access_enrolment(actor, enrolment_id, Cap.WELFARE_MANAGE)
    if not (reason or "").strip():
        raise InvalidInput({"停发原因": "停发必须写明原因"})
    with transaction.atomic():
        e = Enrolment.objects.select_for_update().select_related("household", "person").get(pk=e.pk)
        if e.stop is not None:
            raise FupinError(f"该记录已于 {period(e.stop)} 起停发")
        effective = next_month(today())
        _stop(actor, e, effective, reason.strip())
        audit.record(actor, AuditAction.UPDATE, object_type="welfare_enrolment", object_id=e.pk,
                     household_id=e.household_id,
                     summary=f"{e.person.name} {Programme(e.programme).label}自 {period(effective)} 起停发：{reason.strip()}")
    e.refresh_from_db()
    return e


# ---- applications through the procedure in the pack ----------------------------------------------


def procedure(code: str, programme: str, when: dt.date) -> tuple[dict, str]:
    chain = packs().for_region(code)
    for name in (f"welfare.application.{programme}", "welfare.application.default"):
        try:
            return chain.lookup(name, when).value, chain.key
        except PolicyError:
            continue
    raise FupinError(f"政策包未规定{Programme(programme).label}的申请程序")


def _deny(actor: User, message: str) -> None:
    audit.record(actor, AuditAction.DENIED, object_type="capability", object_id="welfare_application",
                 result=AuditResult.DENIED, summary=message)
    raise AccessDenied(message)


def may_start(user: User) -> bool:
    return user.is_authenticated and user.role in TIER_ROLES["village"] | TIER_ROLES["township"] | TIER_ROLES["county"]


def require_may_start(actor: User) -> None:
    if not may_start(actor):
        _deny(actor, "您的角色不能受理社会救助申请")


def application_start(*, actor: User, household_id: int, person_id: int, programme: str, category: str,
                      care_level: str = "none", consent_assets: bool, on_behalf: bool = False,
                      comment: str = "") -> Application:
    """An application by the household or on its behalf by a cadre; consent to check the
    family's assets is required by the first step of the procedure."""
    require_may_start(actor)
    _check_category(programme, category, care_level)
    household = access.access_household(actor, household_id)
    person = access.access_person(actor, person_id)
    if person.household_id != household.pk or not person.alive:
        raise InvalidInput({"申请人": f"{person.name} 不是该户在世成员"})
    when = today()
    definition, pack = procedure(household.village_id, programme, when)
    if definition["steps"][0].get("consent_required") and not consent_assets:
        raise InvalidInput({"授权核查": "申请人须承诺并授权核查家庭收入和财产状况，才能受理"})
    if Enrolment.objects.filter(person=person, programme=programme, stop__isnull=True).exists():
        raise FupinError(f"{person.name} 已在享受{Programme(programme).label}")
    try:
        with transaction.atomic():
            app = Application.objects.create(
                household=household, person=person, programme=programme, category=category, care_level=care_level,
                on_behalf=on_behalf, consent_assets=consent_assets, definition=definition, pack=pack,
                step_due=workdays.add_working_days(when, definition["steps"][0]["due_working_days"]), started_by=actor)
            audit.record(actor, AuditAction.CREATE, object_type="welfare_application", object_id=app.pk,
                         household_id=household.pk,
                         summary=f"{person.name} 申请{Programme(programme).label}"
                                 f"{'（干部代为申请）' if on_behalf else ''}{'：' + comment if comment else ''}")
    except IntegrityError:
        raise FupinError(f"{person.name} 已有一份办理中的{Programme(programme).label}申请") from None
    return app


def access_application(user: User, pk) -> Application:
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    app = (Application.objects.select_related("household__village", "person")
           .filter(pk=pk, household__village_id__gte=lo, household__village_id__lte=hi).first()
           if str(pk).isdigit() else None)
    if app is None:
        raise NotFound(f"找不到申请（编号 {pk}），或不在您的管辖范围内")
    return app


def may_act(user: User, app: Application) -> bool:
    step = app.current
    return step is not None and user.role in TIER_ROLES[step["tier"]]


def application_act(*, actor: User, application_id: int, step_key: str, approve: bool, comment: str = "",
                    verifiers: list | None = None, evidence: list | None = None,
                    assets: dict | None = None) -> Application:
    """Approve or refuse the current step. The steps go in order; each tier acts on its own
    steps; after a step with a notice, the next waits until the notice has run its days.

    A step marked `assets` in the procedure (入户核实) records the family's assets as verified
    (`assets`: the fields of ASSET_FIELDS, blank = none). A step marked `means_test` (县级审批)
    computes the amount first: when the means test fails (income or assets), the application
    is not approved: it ends 未批准 with the reason recorded as that step's decision, as the
    county tells the applicant in writing why (民发〔2021〕57号)."""
    app = access_application(actor, application_id)
    step = app.current
    if step is not None and actor.role not in TIER_ROLES[step["tier"]]:
        _deny(actor, f"“{step['label']}”须由{TIER_LABEL[step['tier']]}办理")
    verifiers = [v.strip() for v in (verifiers or []) if v and v.strip()]
    if approve and step is not None and step.get("assets") and step["key"] == step_key:
        if assets is None:
            raise InvalidInput({"家庭财产": f"“{step['label']}”须登记核查到的家庭财产（没有的填0或留空）"})
        assets = parse_assets(assets)
    with transaction.atomic():
        app = Application.objects.select_for_update().select_related("household", "person").get(pk=app.pk)
        step = app.current
        if step is None:
            raise FupinError(f"该申请{app.get_state_display()}，不能再办理")
        if step["key"] != step_key:
            raise FupinError(f"当前步骤为“{step['label']}”，请刷新页面后再办理")
        when = today()
        if not approve:
            if not comment.strip():
                raise InvalidInput({"理由": "不予通过时必须写明理由"})
            app.state, app.completed_at = AppState.REJECTED, timezone.now()
            app.save(update_fields=["state", "completed_at"])
            Decision.objects.create(application=app, step=app.step, step_key=step["key"], step_label=step["label"],
                                    approved=False, actor=actor, comment=comment, evidence=evidence or [])
            audit.record(actor, AuditAction.UPDATE, object_type="welfare_application", object_id=app.pk,
                         household_id=app.household_id, summary=f"{Programme(app.programme).label}申请："
                                                                 f"{step['label']} 不予通过（{comment}）")
            return app
        if app.notice_end and when <= app.notice_end:
            raise FupinError(f"公示期至 {app.notice_end} 结束，公示期满后方可进行下一步")
        if len(set(verifiers)) < step.get("min_verifiers", 0):
            raise InvalidInput({"核实人": f"“{step['label']}”须至少 {step['min_verifiers']} 人入户核实，请填写核实人姓名"})
        if step.get("evidence_required") and not evidence:
            raise InvalidInput({"佐证材料": f"“{step['label']}”须填写佐证材料（如入户核实表编号）"})
        if step.get("means_test") and app.programme == Programme.DIBAO:
            income, members = household_means(app.household, month_start(when))
            amount, explanation = compute(case_for(
                region=app.household.village_id, month=month_start(when), programme=app.programme,
                category=app.category, care_level=app.care_level, income=income, members=members,
                **household_assets(app.household)))
            if amount <= 0:
                return _not_eligible(actor, app, step, refusal(explanation), comment)
        decision = Decision.objects.create(application=app, step=app.step, step_key=step["key"],
                                           step_label=step["label"], approved=True, actor=actor, comment=comment,
                                           verifiers=verifiers, evidence=evidence or [])
        if step.get("assets"):
            _record_assets(actor, app, decision, assets)
        app.notice_end = when + dt.timedelta(days=step["notice_days"] - 1) if step.get("notice_days") else None
        last = app.step == len(app.definition["steps"]) - 1
        if last:
            app.state, app.completed_at = AppState.APPROVED, timezone.now()
            _enrol(actor, household=app.household, person=app.person, programme=app.programme,
                   category=app.category, care_level=app.care_level, start=when, application=app)
        else:
            app.step += 1
            start_from = app.notice_end + dt.timedelta(days=1) if app.notice_end else when
            app.step_due = workdays.add_working_days(start_from, app.definition["steps"][app.step]["due_working_days"])
        app.save()
        audit.record(actor, AuditAction.UPDATE, object_type="welfare_application", object_id=app.pk,
                     household_id=app.household_id,
                     summary=f"{Programme(app.programme).label}申请：{step['label']} 通过" + (f"（{comment}）" if comment else ""))
    return app


def _record_assets(actor: User, app: Application, decision: Decision, fields: dict) -> AssetRecord:
    record = AssetRecord.objects.create(household=app.household, application=app, decision=decision,
                                        recorded_by=actor, **fields)
    audit.record(actor, AuditAction.CREATE, object_type="welfare_assets", object_id=record.pk,
                 household_id=app.household_id,
                 summary=f"{app.person.name} {Programme(app.programme).label}申请入户核查家庭财产：{assets_text(record)}",
                 detail={"fields": {k: fields[k] for k in ASSET_FIELDS}, "application": app.pk})
    return record


def _not_eligible(actor: User, app: Application, step: dict, why: str, comment: str) -> Application:
    """Inside the step's transaction: the county's approval finds the household not eligible;
    the application ends 未批准 and its record says why."""
    reason = f"经核算不符合{Programme(app.programme).label}条件：{why}" + (f"（{comment}）" if comment else "")
    app.state, app.completed_at = AppState.REJECTED, timezone.now()
    app.save(update_fields=["state", "completed_at"])
    Decision.objects.create(application=app, step=app.step, step_key=step["key"], step_label=step["label"],
                            approved=False, actor=actor, comment=reason[:500])
    audit.record(actor, AuditAction.UPDATE, object_type="welfare_application", object_id=app.pk,
                 household_id=app.household_id,
                 summary=f"{Programme(app.programme).label}申请：{step['label']} 不予批准（{reason}）")
    return app


# ---- periodic re-checks ---------------------------------------------------------------------------

def recheck_record(*, actor: User, enrolment_id: int, stop: bool = False, reason: str = "") -> Recheck:
    """Record a re-check: the amount is recomputed from the registry's current income and
    members and the household's latest verified assets; a change (raise or cut) or a stop takes effect from next month. Stopping needs a
    reason; so does a stop that the recomputation makes (income now above the standard)."""
    e = access_enrolment(actor, enrolment_id, Cap.WELFARE_MANAGE)
    reason = (reason or "").strip()
    with transaction.atomic():
        e = Enrolment.objects.select_for_update().select_related("household", "person").get(pk=e.pk)
        if e.stop is not None:
            raise FupinError(f"该记录已于 {period(e.stop)} 起停发，无需复核")
        when = today()
        effective = next_month(when)
        if e.programme == Programme.DIBAO:
            income, members = household_means(e.household, effective)
            assets = household_assets(e.household)
        else:
            income, members, assets = e.income, e.members, enrolment_assets(e)
        new, explanation = compute(case_for(region=e.household.village_id, month=effective, programme=e.programme,
                                            category=e.category, care_level=e.care_level, income=income,
                                            members=members, used_this_year=e.used_before, **assets))
        if stop or new == 0:
            if not reason:
                why = refusal(explanation) if e.programme == Programme.DIBAO else "按政策计算金额为0"
                raise InvalidInput({"停发原因": "停发必须写明原因" + (f"（复核计算金额为0：{why}）" if new == 0 else "")})
            result, new = RecheckResult.STOP, 0
            _stop(actor, e, effective, reason)
        elif new == e.monthly_amount:
            result = RecheckResult.KEEP
            months = _p(e.household.village_id, "welfare.dibao.recheck_months", effective)
            due = effective
            for _ in range(months - 1):
                due = next_month(due)
            Enrolment.objects.filter(pk=e.pk).update(next_recheck=due)
        else:
            result = RecheckResult.RAISE if new > e.monthly_amount else RecheckResult.LOWER
            _stop(actor, e, effective, f"复核{RecheckResult(result).label}")
            _enrol(actor, household=e.household, person=e.person, programme=e.programme, category=e.category,
                   care_level=e.care_level, start=effective, application=e.application, income=income, members=members,
                   assets=assets)
        r = Recheck.objects.create(enrolment=e, checked_on=when, result=result, old_amount=e.monthly_amount,
                                   new_amount=new, effective=effective, reason=reason[:300], actor=actor)
        audit.record(actor, AuditAction.UPDATE, object_type="welfare_recheck", object_id=r.pk,
                     household_id=e.household_id,
                     summary=f"{e.person.name} {Programme(e.programme).label}复核：{r.get_result_display()}，"
                             f"自 {period(effective)} 起每月 {yuan(new)} 元" + (f"（{reason}）" if reason else ""))
    return r


# ---- monthly payment runs -------------------------------------------------------------------------

def budget_for(county: Region, programme: str, year: int) -> Account:
    """The county's budget line of one programme and year (created empty; money comes by allocation)."""
    return funds.account_for(code=f"welfare:{county.code}:{programme}:{year}",
                             name=f"{county.name}{year}年{Programme(programme).label}资金", kind=AccountKind.BUDGET,
                             source=FundingSource.CENTRAL, programme=f"welfare.{programme}", year=year,
                             region_id=county.code)


def _county(actor: User, code: str) -> Region:
    region = access.access_region(actor, code)
    if region.level != 3:
        raise InvalidInput({"县": "发放按县计算，请选择县级区划"})
    return region


def _running_in(county: Region, programme: str, month: dt.date):
    lo, hi = county.code_range()
    return Enrolment.objects.filter(programme=programme, start__lte=month, household__village_id__gte=lo,
                                    household__village_id__lte=hi).filter(Q(stop__isnull=True) | Q(stop__gt=month))


def run_compute(*, actor: User, programme: str, county_code: str, month: dt.date) -> PaymentRun:
    """Compute one programme's payments of one month in one county (WELFARE_MANAGE). A second
    run of a month only pays whoever the posted runs of that month did not (a supplement)."""
    access.require(actor, Cap.WELFARE_MANAGE, what="计算社会救助发放")
    if programme not in Programme.values:
        raise InvalidInput({"救助项目": f"“{programme}”不是救助项目"})
    county = _county(actor, county_code)
    return _run_compute(actor, programme, county, month_start(month))


@transaction.atomic
def _run_compute(actor: User, programme: str, county: Region, month: dt.date) -> PaymentRun:
    from fupin.core.bulk import frame_from_query, insert_frame

    Region.objects.select_for_update().filter(pk=county.pk).first()   # one computation at a time per county
    pending = PaymentRun.objects.filter(programme=programme, county=county, month=month) \
        .exclude(status=RunStatus.POSTED).first()
    if pending:
        raise FupinError(f"{county.name} {period(month)} {Programme(programme).label}已有一次"
                         f"{pending.get_status_display()}的计算（编号 {pending.pk}），请先审批发放后再算")
    run = PaymentRun.objects.create(programme=programme, county=county, month=month, computed_by=actor,
                                    budget=budget_for(county, programme, month.year))
    # NOT EXISTS (an anti-join), not NOT IN: a re-run of a month of two million paid lines
    paid = RunLine.objects.filter(enrolment_id=OuterRef("pk"), run__programme=programme, run__county=county,
                                  run__month=month, run__status=RunStatus.POSTED, kind=LineKind.MONTHLY)
    running = _running_in(county, programme, month).filter(~Exists(paid))
    # one read of everyone due; recipients recorded as dead before the month are not paid but
    # listed for review instead
    everyone = frame_from_query(running.order_by("id"), [
        ("id", pl.Int64), ("person_id", pl.Int64), ("household__village_id", pl.Utf8), ("category", pl.Utf8),
        ("care_level", pl.Utf8), ("income", pl.Int64), ("members", pl.Int64), ("used_before", pl.Int64),
        ("financial_assets", pl.Int64), ("vehicle", pl.Boolean), ("commercial_housing", pl.Boolean),
        ("houses", pl.Int64), ("business", pl.Boolean),
        ("person__alive", pl.Boolean), ("person__death_date", pl.Date), ("person__name", pl.Utf8)])
    dead = ~pl.col("person_alive") & (pl.col("person_death_date").is_null() | (pl.col("person_death_date") < month))
    stopped = [{"name": n, "reason": "已死亡（户籍库记录），本月不发放，请办理停发"}
               for n in everyone.filter(dead)["person_name"].to_list()]
    raw = everyone.filter(~dead)
    frame = raw.select(
        pl.col("id").alias("_id"), pl.col("person_id").alias("_person"),
        pl.col("household_village_id").alias("region"), pl.lit(month, dtype=pl.Date).alias("date"),
        pl.lit(programme).alias("programme"), "category", "care_level", "income", "members",
        pl.col("used_before").alias("used_this_year"), "financial_assets", "vehicle", "commercial_housing", "houses",
        "business")
    # those stopped from this month (an exception to review: they are no longer paid)
    lo, hi = county.code_range()
    due = set(everyone["person_id"].to_list())
    for person_id, name, reason in (Enrolment.objects.filter(programme=programme, stop=month,
                                                             household__village_id__gte=lo, household__village_id__lte=hi)
                                    .exclude(programme=Programme.TEMPORARY)
                                    .values_list("person_id", "person__name", "stop_reason")):
        if person_id not in due:
            stopped.append({"name": name, "reason": reason})
    lines_count, total, chains = 0, 0, ""
    if frame.height:
        rule = RULE_OF[programme]
        try:
            out = run_batch(MODEL, frame, packs())
        except PolicyError as exc:
            raise FupinError(exc.message) from None
        prev = frame_from_query(RunLine.objects.filter(
            run__programme=programme, run__county=county, run__month=previous_month(month),
            run__status=RunStatus.POSTED, kind=LineKind.MONTHLY), [("person_id", pl.Int64), ("amount", pl.Int64)])
        prev = prev.group_by("person_id").agg(pl.col("amount").sum().alias("previous")) \
            .rename({"person_id": "_person"})
        ratio = _p(county.code, "welfare.recheck.jump_ratio", month)
        amount, previous = pl.col("amount"), pl.col("previous")
        lines = (out.select("_id", "_person", pl.col(rule).alias("amount"))
                 .join(prev, on="_person", how="left", maintain_order="left")
                 .filter(amount > 0)
                 .with_columns(
                     pl.when(previous.is_null()).then(pl.lit(Flag.NEW.value))
                     .when((amount - previous).abs() * 1_000_000 > previous * ratio).then(pl.lit(Flag.JUMP.value))
                     .when(amount != previous).then(pl.lit(Flag.CHANGED.value))
                     .otherwise(pl.lit("")).alias("flag")))
        insert_frame(RunLine, lines.select(
            pl.lit(run.pk, dtype=pl.Int64).alias("run_id"), pl.col("_id").alias("enrolment_id"),
            pl.col("_person").alias("person_id"), pl.lit(LineKind.MONTHLY.value).alias("kind"), "amount",
            "previous", "flag", pl.lit("").alias("reason")))
        lines_count, total = lines.height, int(lines["amount"].sum() or 0)
        chains = "; ".join(sorted({packs().for_region(c).key for c in frame["region"].unique().to_list()}))
    PaymentRun.objects.filter(pk=run.pk).update(total=total, lines_count=lines_count, packs=chains, stopped=stopped)
    run.refresh_from_db()
    audit.record(actor, AuditAction.CREATE, object_type="welfare_run", object_id=run.pk,
                 summary=f"计算 {county.name} {period(month)} {Programme(programme).label}：{lines_count} 人，"
                         f"{yuan(total)} 元")
    return run


def access_run(user: User, run_id, cap: str | None = None) -> PaymentRun:
    access.require(user, cap or Cap.READ, what=f"办理社会救助发放 {run_id}" if cap else "")
    run = PaymentRun.objects.select_related("county", "budget").filter(pk=run_id).first() \
        if str(run_id).isdigit() else None
    if run is None or not access.in_scope(user, run.county_id):
        raise NotFound(f"找不到发放计算 {run_id}，或不在您的管辖范围内")
    return run


def run_approve(*, actor: User, run_id: int) -> PaymentRun:
    """Approved by a different person than the one who computed it."""
    run = access_run(actor, run_id, Cap.WELFARE_APPROVE)
    if run.computed_by_id == actor.pk:
        audit.record(actor, AuditAction.DENIED, object_type="welfare_run", object_id=run.pk, result=AuditResult.DENIED,
                     summary="计算人审批自己的计算")
        raise AccessDenied("计算人不能审批自己的计算，请由另一位工作人员审批")
    with transaction.atomic():
        run = PaymentRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.COMPUTED:
            raise FupinError(f"计算 {run.pk} 当前为“{run.get_status_display()}”，不能审批")
        run.status, run.approved_by = RunStatus.APPROVED, actor
        run.save(update_fields=["status", "approved_by"])
        audit.record(actor, AuditAction.UPDATE, object_type="welfare_run", object_id=run.pk,
                     summary=f"审批社会救助发放计算 {run.pk}")
    return run


def run_post(*, actor: User, run_id: int, date: dt.date | None = None) -> PaymentRun:
    """Post an approved run: one ledger line per recipient, entitlement `welfare.<programme>`
    and period `YYYY-MM`, so the ledger itself refuses a second payment of a month."""
    run = access_run(actor, run_id, Cap.WELFARE_APPROVE)
    return _run_post(actor, run.pk, date or today())


@transaction.atomic
def _run_post(actor: User, run_id: int, date: dt.date) -> PaymentRun:
    from fupin.core.bulk import frame_from_query

    run = PaymentRun.objects.select_for_update().select_related("budget").get(pk=run_id)
    if run.status == RunStatus.POSTED:
        raise FupinError(f"计算 {run.pk} 已发放入账，不能重复发放")
    if run.status != RunStatus.APPROVED:
        raise FupinError(f"计算 {run.pk} 尚未审批，不能发放")
    lines = frame_from_query(run.lines.order_by("id"), [
        ("person_id", pl.Int64), ("person__id_number", pl.Utf8), ("person__name", pl.Utf8), ("amount", pl.Int64)]) \
        .rename({"person_id_number": "id_number", "person_name": "name"})
    if lines.height:
        payees = funds.payee_accounts_for_persons(lines.select("person_id", "id_number", "name"))
        payments = lines.join(payees.select("person_id", "payee_id"), on="person_id", how="left",
                              maintain_order="left").select(
            "payee_id", pl.col("name").alias("payee_name"), pl.lit(f"welfare.{run.programme}").alias("entitlement"),
            "amount", pl.lit(period(run.month)).alias("period"))
        if payments.height != lines.height or payments["payee_id"].null_count():
            raise FupinError("发放名单与收款账户对应不上，已全部回滚")
        funds.payments_post_frame(actor=actor, budget=run.budget, payments=payments, date=date,
                                  decision_type="welfare_run", decision_id=str(run.pk))
    run.status, run.posted_at = RunStatus.POSTED, timezone.now()
    run.save(update_fields=["status", "posted_at"])
    audit.record(actor, AuditAction.UPDATE, object_type="welfare_run", object_id=run.pk,
                 summary=f"社会救助发放计算 {run.pk} 发放入账：{lines.height} 人")
    return run


def _payee(person: Person) -> Account:
    return funds.payee_for_person(person)


def back_pay(*, actor: User, enrolment_id: int, month: dt.date, reason: str) -> object:
    """Pay a month the enrolment was due but not paid (e.g. approved late), with a reason. The
    ledger line has the month's entitlement and period, so it can never pay a month twice."""
    e = access_enrolment(actor, enrolment_id, Cap.WELFARE_APPROVE)
    if not (reason or "").strip():
        raise InvalidInput({"补发原因": "补发必须写明原因"})
    month = month_start(month)
    if month < e.start or (e.stop is not None and month >= e.stop) or month > month_start(today()):
        raise FupinError(f"{period(month)} 不在该对象的享受期内，不能补发")
    amount, _ = compute(enrolment_case(e, month))
    county = Region.objects.get(code=funds.county_of(e.household.village_id))
    budget = budget_for(county, e.programme, month.year)
    with transaction.atomic():
        txn = funds.payments_post(actor=actor, budget=budget, date=today(), decision_type="welfare_back_pay",
                                  decision_id=f"{e.pk}:{period(month)}",
                                  payments=[funds.Payment(_payee(e.person), amount, f"welfare.{e.programme}",
                                                          period(month))])
        audit.record(actor, AuditAction.CREATE, object_type="welfare_enrolment", object_id=e.pk,
                     household_id=e.household_id,
                     summary=f"补发 {e.person.name} {period(month)} {Programme(e.programme).label} {yuan(amount)} 元：{reason}")
    return txn


def overpayment_recover(*, actor: User, enrolment_id: int, month: dt.date, reason: str):
    """Recover a month paid in error (e.g. the recipient had died): the month's ledger line is
    reversed back to its budget line, with the reason."""
    e = access_enrolment(actor, enrolment_id, Cap.WELFARE_APPROVE)
    if not (reason or "").strip():
        raise InvalidInput({"追回原因": "追回必须写明原因"})
    entry = (funds.live_payment_lines().filter(account__person=e.person,
                                  entitlement=f"welfare.{e.programme}", period=period(month_start(month)))
             .select_related("transaction").first())
    if entry is None:
        raise FupinError(f"{e.person.name} {period(month_start(month))} 没有可追回的{Programme(e.programme).label}发放")
    with transaction.atomic():
        rev = funds.ledger_reverse(actor=actor, txn=entry.transaction, reason=f"追回多发：{reason}", date=today(),
                                   entries=[entry])
        audit.record(actor, AuditAction.UPDATE, object_type="welfare_enrolment", object_id=e.pk,
                     household_id=e.household_id,
                     summary=f"追回 {e.person.name} {period(month_start(month))} {Programme(e.programme).label} "
                             f"{yuan(entry.amount)} 元：{reason}")
    return rev
