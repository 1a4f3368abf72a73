"""Writes of the project library. Each action checks capability, region and (for life-cycle
steps) the roles the pack names *before* its transaction opens, so a refusal's audit row
survives; each change writes its audit event in the same transaction.

Who may do which step is data (`projects.lifecycle`), copied into the project when it is
proposed (ADR 0007): a change of policy applies to new projects."""
from __future__ import annotations

import datetime as dt
import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from fupin.core import access, audit
from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, AuditResult, Region, User
from fupin.core.money import fen_to_yuan_str
from fupin.core.roles import Cap
from fupin.funds import services as funds
from fupin.funds.models import FundingSource
from fupin.policy.errors import PolicyError
from fupin.policy.packs import shipped_packs

from .models import AllocationNotice, Asset, Beneficiary, BudgetLine, Category, Progress, ProgressPhoto, Project, State, Step


def lifecycle(region_code: str, when: dt.date) -> dict:
    try:
        return shipped_packs().for_region(region_code).lookup("projects.lifecycle", when).value
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def _refuse(actor: User, cap: str, message: str):
    """A refusal that is not a missing capability (wrong region, a step of another office)."""
    audit.record(actor, AuditAction.DENIED, object_type="capability", object_id=cap, result=AuditResult.DENIED,
                 summary=message)
    raise AccessDenied(message)


def access_project(user: User, pk, cap: str = Cap.READ) -> Project:
    """A project the user may see (READ) or act on: capability, then region (else not found)."""
    access.require(user, cap)
    lo, hi = access.scope_range(user)
    project = Project.objects.select_related("region").filter(pk=pk, region_id__gte=lo, region_id__lte=hi).first() \
        if str(pk).isdigit() else None
    if project is None:
        raise NotFound(f"找不到项目（编号 {pk}），或不在您的管辖范围内")
    return project


def _next_number(region_code: str, year: int) -> str:
    prefix = f"XM{region_code[:6]}-{year}-"
    n = Project.objects.filter(number__startswith=prefix).count() + 1
    while Project.objects.filter(number=f"{prefix}{n:03d}").exists():
        n += 1
    return f"{prefix}{n:03d}"


def project_create(*, actor: User, region_code: str, name: str, year: int, category: str, content: str,
                   implementer: str, start: dt.date, end: dt.date, budget: dict[str, int],
                   household_numbers: list[str] = ()) -> Project:
    """Propose a project (申报入库): its plan by funding source and its beneficiary households."""
    access.require(actor, Cap.PROJECT_MANAGE, what=f"申报项目 {name}")
    region = Region.objects.filter(code=region_code).first()
    if region is None or region.level not in (3, 4, 5) or not access.in_scope(actor, region.code):
        _refuse(actor, Cap.PROJECT_MANAGE, f"实施地点 {region_code or '（未选择）'} 不在您的管辖范围内，不能申报")
    rules = lifecycle(region.code, start)
    if actor.role not in rules["propose_roles"]:
        _refuse(actor, Cap.PROJECT_MANAGE, "您的岗位不能申报项目（按政策由村、乡镇或县扶贫办申报）")
    errors = {}
    if not name.strip():
        errors["项目名称"] = "必须填写"
    if category not in Category.values:
        errors["类别"] = f"应为 {'、'.join(Category.labels)} 之一"
    if not implementer.strip():
        errors["实施单位"] = "必须填写"
    if not content.strip():
        errors["建设内容"] = "必须填写"
    if end < start:
        errors["计划完工"] = f"不能早于计划开工日期 {start}"
    unknown = [s for s in budget if s not in FundingSource.values]
    if unknown:
        errors["资金来源"] = f"{'、'.join(unknown)} 不是资金来源"
    if any(v < 0 for v in budget.values()) or sum(budget.values()) <= 0:
        errors["计划投资"] = "各来源金额不能为负，合计须大于0"
    wanted = {n.strip() for n in household_numbers if n.strip()}
    households = list(access.households_for(actor).filter(number__in=wanted).order_by("number"))
    missing = sorted(wanted - {h.number for h in households})
    if missing:
        errors["受益户"] = f"户编号 {'、'.join(missing[:5])} 找不到或不在您的管辖范围内"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        project = Project.objects.create(
            number=_next_number(region.code, year), name=name.strip(), region=region, year=year, category=category,
            content=content.strip(), implementer=implementer.strip(), start=start, end=end, lifecycle=rules,
            token=secrets.token_urlsafe(16), created_by=actor)
        BudgetLine.objects.bulk_create([BudgetLine(project=project, source=s, amount=v)
                                        for s, v in budget.items() if v > 0])
        Beneficiary.objects.bulk_create([Beneficiary(project=project, household=h) for h in households])
        audit.record(actor, AuditAction.CREATE, object_type="project", object_id=project.pk,
                     summary=f"申报项目 {project.number} {project.name}，计划投资 {fen_to_yuan_str(sum(budget.values()))} 元，"
                             f"受益 {len(households)} 户")
    return project


def next_step(project: Project) -> dict | None:
    return next((s for s in project.lifecycle["steps"] if s["from"] == project.state), None)


def project_step(*, actor: User, project: Project, key: str, date: dt.date, note: str = "",
                 score: int | None = None, asset: dict | None = None) -> Step:
    """Do the project's next life-cycle step. The pack says who may, and what it must record:
    acceptance its record, hand-over its asset (owner, value, beneficiaries), evaluation its score."""
    given, project = project, access_project(actor, project.pk, Cap.PROJECT_MANAGE)
    step = next_step(project)
    if step is None or step["key"] != key:
        raise FupinError(f"项目当前状态为“{project.get_state_display()}”，不能办理这一步；请刷新页面后重试")
    if actor.role not in step["roles"]:
        _refuse(actor, Cap.PROJECT_MANAGE, f"“{step['label']}”不由您的岗位办理")
    errors = {}
    if step.get("record") and not note.strip():
        errors["验收记录"] = "竣工验收必须填写验收记录（参加人员、结论、问题及整改）"
    if step.get("score") and (score is None or not 0 <= score <= 100):
        errors["绩效评分"] = "应为0到100的整数"
    if step.get("asset"):
        asset = asset or {}
        if not (asset.get("name") or "").strip():
            errors["资产名称"] = "必须填写"
        if not (asset.get("owner") or "").strip():
            errors["产权归属"] = "必须填写（如某某村集体经济组织）"
        if not isinstance(asset.get("value"), int) or asset["value"] <= 0:
            errors["资产价值"] = "须大于0"
        if not isinstance(asset.get("beneficiaries"), int) or asset["beneficiaries"] < 0:
            errors["受益户数"] = "应为不小于0的整数"
    if date > timezone.localdate():
        errors["日期"] = "不能晚于今天"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if locked.state != step["from"]:
            raise FupinError("该项目刚被他人办理过这一步；请刷新页面")
        done = Step.objects.create(project=locked, key=key, label=step["label"], to_state=step["to"], date=date,
                                   actor=actor, note=note.strip()[:500], score=score if step.get("score") else None)
        if step.get("asset"):
            Asset.objects.create(project=locked, name=asset["name"].strip(), owner=asset["owner"].strip(),
                                 value=asset["value"], beneficiaries=asset["beneficiaries"], handed_over=date)
        Project.objects.filter(pk=locked.pk).update(state=step["to"])
        audit.record(actor, AuditAction.UPDATE, object_type="project", object_id=locked.pk,
                     summary=f"项目 {locked.number}：{step['label']}（{State(step['to']).label}）",
                     detail={"step": key, "from": step["from"], "to": step["to"]})
    given.state = step["to"]
    return done


def _compress(data: bytes):
    from fupin.pairing.services import _compress as shrink   # the pairing room's photo handling

    return shrink(data)


def progress_record(*, actor: User, project: Project, date: dt.date, percent: int, note: str,
                    photos: list[bytes] = ()) -> Progress:
    """A progress report while the works are under way, with its photos (shrunk, EXIF kept)."""
    project = access_project(actor, project.pk, Cap.PROJECT_MANAGE)
    if project.state not in project.lifecycle["progress_states"]:
        raise FupinError(f"项目状态为“{project.get_state_display()}”，只有实施中的项目可以报告进度")
    last = project.progress.order_by("-date", "-id").first()
    errors = {}
    if not 0 <= percent <= 100:
        errors["完成进度"] = "应为0到100的整数"
    elif last is not None and percent < last.percent:
        errors["完成进度"] = f"不能低于上次报告的 {last.percent}%"
    if not note.strip():
        errors["进展情况"] = "必须填写"
    if date > timezone.localdate():
        errors["日期"] = "不能晚于今天"
    if errors:
        raise InvalidInput(errors)
    shrunk = [_compress(d) for d in photos]          # an unreadable photo refuses before anything is written
    with transaction.atomic():
        report = Progress.objects.create(project=project, date=date, percent=percent, note=note.strip()[:500],
                                         actor=actor)
        for small, lat, lon in shrunk:
            name = default_storage.save(f"projects/{project.pk}/{report.pk}.jpg", ContentFile(small))
            ProgressPhoto.objects.create(progress=report, file=name, latitude=lat, longitude=lon, bytes=len(small))
        audit.record(actor, AuditAction.CREATE, object_type="project_progress", object_id=report.pk,
                     summary=f"项目 {project.number} 进度 {percent}%（{date}），照片 {len(shrunk)} 张")
    return report


# ---- money: through the ledger ------------------------------------------------------------------

def _budget_account(project: Project, source: str):
    return funds.project_budget_account(project_number=project.number, source=source, year=project.year,
                                        region_code=project.region_id,
                                        name=f"{project.name}（{FundingSource(source).label}）")


def _money_check(actor: User, project: Project, states_key: str, what: str) -> Project:
    access.require(actor, Cap.PROJECT_FUNDS, what=f"{what}（项目 {project.pk}）")
    project = access_project(actor, project.pk, Cap.PROJECT_FUNDS)
    if project.state not in project.lifecycle[states_key]:
        raise FupinError(f"项目状态为“{project.get_state_display()}”，不能{what}")
    return project


def project_allocate(*, actor: User, project: Project, source: str, amount: int, date: dt.date,
                     decision_id: str) -> object:
    """Allocate money from a funding source to the project (资金拨付), never beyond its plan."""
    project = _money_check(actor, project, "allocate_states", "拨付资金")
    line = project.budget.filter(source=source).first()
    if line is None:
        raise InvalidInput({"资金来源": f"项目计划中没有“{FundingSource(source).label if source in FundingSource.values else source}”的资金"})
    from .selectors import allocated_by_source

    have = allocated_by_source(project).get(source, 0)
    if amount > line.amount - have:
        raise InvalidInput({"拨付金额": f"超过计划：{FundingSource(source).label}计划 {fen_to_yuan_str(line.amount)} 元，"
                                        f"已拨 {fen_to_yuan_str(have)} 元，最多还能拨 {fen_to_yuan_str(line.amount - have)} 元"})
    with transaction.atomic():
        txn = funds.allocation_post(actor=actor, budget=_budget_account(project, source), amount=amount, date=date,
                                    decision_type="project_allocation", decision_id=decision_id,
                                    memo=f"项目 {project.number} {project.name}")
        audit.record(actor, AuditAction.UPDATE, object_type="project", object_id=project.pk,
                     summary=f"项目 {project.number} 拨入{FundingSource(source).label} {fen_to_yuan_str(amount)} 元")
    return txn


def project_pay(*, actor: User, project: Project, source: str, amount: int, date: dt.date, decision_id: str,
                household_id: int | None = None) -> object:
    """Pay from one source's budget line of the project: to its implementer (contractor), or to
    one of its beneficiary households (a direct subsidy). Overdraw and duplicates are refused
    by the ledger."""
    project = _money_check(actor, project, "pay_states", "支付资金")
    if source not in FundingSource.values or not project.budget.filter(source=source).exists():
        raise InvalidInput({"资金来源": "项目计划中没有这一来源的资金"})
    if amount <= 0:
        raise InvalidInput({"支付金额": "须大于0"})
    if not decision_id.strip():
        raise InvalidInput({"支付凭证号": "必须填写"})
    household = None
    if household_id is not None:
        b = project.beneficiaries.select_related("household").filter(household_id=household_id).first()
        if b is None:
            raise InvalidInput({"受益户": "该户不是本项目的受益户"})
        household = b.household
    with transaction.atomic():
        payee = funds.payee_for_household(household) if household is not None else \
            funds.contractor_payee(name=project.implementer, region_code=project.region_id)
        txn = funds.payments_post(actor=actor, budget=_budget_account(project, source), date=date,
                                  decision_type="project_payment", decision_id=decision_id.strip(),
                                  payments=[funds.Payment(payee=payee, amount=amount,
                                                          entitlement=f"project.{project.number}",
                                                          period=decision_id.strip()[:20])])
        audit.record(actor, AuditAction.UPDATE, object_type="project", object_id=project.pk,
                     household_id=household.pk if household else None,
                     summary=f"项目 {project.number} 支付 {fen_to_yuan_str(amount)} 元给"
                             f"{'受益户 ' + household.number if household else '实施单位 ' + project.implementer}")
    return txn


# ---- housing subsidies in instalments --------------------------------------------------------------

def housing_rule(region_code: str, when: dt.date) -> dict:
    try:
        return shipped_packs().for_region(region_code).lookup("housing.subsidy", when).value
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def housing_compute(household, kind: str, rule: dict) -> tuple[int, int, list[str]]:
    """(persons, amount in fen, plain-Chinese explanation) of a household's housing subsidy."""
    from fupin.policy.money import parse_yuan

    from .models import HousingKind

    if kind not in HousingKind.values:
        raise InvalidInput({"类型": f"应为 {'、'.join(HousingKind.labels)} 之一"})
    r = rule[kind]
    persons = household.persons.filter(alive=True).count()
    grade = household.housing_grade or ""
    lines, amount = [], 0
    if r["grades"]:
        if grade not in r["grades"]:
            raise FupinError(f"户 {household.number} 的住房安全等级为“{grade or '未鉴定'}”，"
                             f"{r['label']}只补助 {'、'.join(f'{g}级' for g in r['grades'])} 危房；请先鉴定住房等级")
        amount += parse_yuan(str(r["grades"][grade]), f"housing.subsidy.{kind}.grades.{grade}")
        lines.append(f"{grade}级危房定额 {fen_to_yuan_str(amount)} 元")
    if int(r["per_person"]):
        per = parse_yuan(str(r["per_person"]), f"housing.subsidy.{kind}.per_person")
        amount += per * persons
        lines.append(f"按人口 {persons} 人 × {fen_to_yuan_str(per)} 元 = {fen_to_yuan_str(per * persons)} 元")
    return persons, amount, lines


def instalment_amounts(total: int, rule: dict) -> list[int]:
    """Each instalment's share of the total in fen; the last takes the remainder, so they add up."""
    shares = [total * int(i["percent"]) // 100 for i in rule["instalments"][:-1]]
    return shares + [total - sum(shares)]


def housing_grant(*, actor: User, household_id: int, kind: str, before: str, date: dt.date):
    """核定 a household's housing subsidy (危房改造 or 易地扶贫搬迁): the amount from the pack, the
    evidence before works; a household already granted one is refused (never both)."""
    from .models import HousingSubsidy

    access.require(actor, Cap.PROJECT_MANAGE, what="核定住房保障补助")
    household = access.access_household(actor, household_id)
    existing = HousingSubsidy.objects.filter(household=household).first()
    if existing is not None:
        raise FupinError(f"户 {household.number} 已核定{existing.get_kind_display()}补助，危房改造和易地扶贫搬迁不能重复享受")
    if not before.strip():
        raise InvalidInput({"改造前情况": "必须填写（现住房情况、照片编号等）"})
    rule = housing_rule(household.village_id, date)
    persons, amount, lines = housing_compute(household, kind, rule)
    with transaction.atomic():
        s = HousingSubsidy.objects.create(household=household, kind=kind, grade=household.housing_grade or "",
                                          persons=persons, amount=amount, rule=rule, explanation=lines,
                                          before=before.strip()[:300], granted_on=date, created_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="housing_subsidy", object_id=s.pk, household_id=household.pk,
                     summary=f"核定{s.get_kind_display()}补助 {fen_to_yuan_str(amount)} 元（{'；'.join(lines)}）")
    return s


def housing_pay(*, actor: User, subsidy, date: dt.date, evidence: str, decision_id: str):
    """Pay the next instalment from the county's housing budget line; an instalment that the pack
    ties to acceptance needs the acceptance recorded as its evidence."""
    from .models import HousingInstalment

    access.require(actor, Cap.PROJECT_FUNDS, what="拨付住房保障补助")
    household = access.access_household(actor, subsidy.household_id)
    done = subsidy.instalments.count()
    plan = subsidy.rule["instalments"]
    if done >= len(plan):
        raise FupinError(f"户 {household.number} 的{subsidy.get_kind_display()}补助已全部拨付")
    step = plan[done]
    if not evidence.strip():
        raise InvalidInput({"拨付依据": "竣工验收情况必须填写" if step.get("acceptance") else "必须填写（开工或进度情况）"})
    amount = instalment_amounts(subsidy.amount, subsidy.rule)[done]
    county = funds.county_of(household.village_id)
    with transaction.atomic():
        budget = funds.programme_budget_account(programme="housing", region_code=county, year=subsidy.granted_on.year,
                                                source=FundingSource.CENTRAL, name=f"{subsidy.granted_on.year}年住房保障补助资金")
        txn = funds.payments_post(actor=actor, budget=budget, date=date, decision_type="housing_subsidy",
                                  decision_id=decision_id.strip() or f"住房补助{subsidy.pk}号第{done + 1}期",
                                  payments=[funds.Payment(payee=funds.payee_for_household(household), amount=amount,
                                                          entitlement=f"housing.{subsidy.kind}", period=str(done + 1))])
        HousingInstalment.objects.create(subsidy=subsidy, number=done + 1, amount=amount, date=date,
                                         evidence=evidence.strip()[:300], transaction=txn)
        audit.record(actor, AuditAction.UPDATE, object_type="housing_subsidy", object_id=subsidy.pk,
                     household_id=household.pk,
                     summary=f"{subsidy.get_kind_display()}补助第{done + 1}期（{step['label']}）{fen_to_yuan_str(amount)} 元")
    return txn


# ---- cooperatives and dividends -------------------------------------------------------------------

def cooperative_create(*, actor: User, name: str, region_code: str, members: dict[str, int]):
    """A cooperative (or enterprise) with its member households and their shares."""
    from .models import Cooperative, Membership

    access.require(actor, Cap.PROJECT_MANAGE, what=f"登记合作社 {name}")
    if not access.in_scope(actor, region_code) or not Region.objects.filter(code=region_code).exists():
        _refuse(actor, Cap.PROJECT_MANAGE, f"区划 {region_code} 不在您的管辖范围内")
    if not name.strip():
        raise InvalidInput({"名称": "必须填写"})
    households = {h.number: h for h in access.households_for(actor).filter(number__in=list(members))}
    missing = sorted(set(members) - set(households))
    if missing or not members or any(int(v) <= 0 for v in members.values()):
        raise InvalidInput({"成员户": f"户编号 {'、'.join(missing)} 找不到或不在您的管辖范围内" if missing
                            else "至少一户，每户股份须大于0"})
    with transaction.atomic():
        coop = Cooperative.objects.create(name=name.strip()[:120], region_id=region_code)
        Membership.objects.bulk_create([Membership(cooperative=coop, household=households[n], shares=int(v))
                                        for n, v in sorted(members.items())])
        audit.record(actor, AuditAction.CREATE, object_type="cooperative", object_id=coop.pk,
                     summary=f"登记合作社 {coop.name}，成员 {len(members)} 户，共 {sum(members.values())} 股")
    return coop


def dividend_shares(total: int, shares: list[int]) -> list[int]:
    """Split `total` fen by shares: each its floor, the leftover fen one each to the largest
    remainders (earlier members first on ties), so the parts add up to the total exactly."""
    whole = sum(shares)
    parts = [total * s // whole for s in shares]
    left = total - sum(parts)
    order = sorted(range(len(shares)), key=lambda i: (-(total * shares[i] % whole), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def dividend_pay(*, actor: User, cooperative, year: int, total: int, date: dt.date, decision_id: str):
    """The year's dividend: the cooperative's money comes in (社会帮扶 source) and goes out to its
    member households by shares, one ledger transaction each way, once a year."""
    from .models import Dividend

    access.require(actor, Cap.PROJECT_FUNDS, what=f"发放合作社分红（{cooperative.name}）")
    if not access.in_scope(actor, cooperative.region_id):
        _refuse(actor, Cap.PROJECT_FUNDS, f"合作社“{cooperative.name}”不在您的管辖范围内")
    if total <= 0:
        raise InvalidInput({"分红总额": "须大于0"})
    if Dividend.objects.filter(cooperative=cooperative, year=year).exists():
        raise FupinError(f"{cooperative.name} {year}年的分红已发放")
    members = list(cooperative.members.select_related("household").order_by("household__number"))
    parts = dividend_shares(total, [m.shares for m in members])
    with transaction.atomic():
        budget = funds.programme_budget_account(programme=f"dividend:{cooperative.pk}", region_code=cooperative.region_id,
                                                year=year, source=FundingSource.SOCIAL, name=f"{cooperative.name}{year}年分红")
        funds.allocation_post(actor=actor, budget=budget, amount=total, date=date, decision_type="dividend",
                              decision_id=decision_id or f"dividend-{cooperative.pk}-{year}", memo=f"{cooperative.name}分红资金")
        txn = funds.payments_post(actor=actor, budget=budget, date=date, decision_type="dividend",
                                  decision_id=decision_id or f"dividend-{cooperative.pk}-{year}",
                                  payments=[funds.Payment(payee=funds.payee_for_household(m.household), amount=amount,
                                                          entitlement=f"dividend.{cooperative.pk}", period=str(year))
                                            for m, amount in zip(members, parts) if amount])
        d = Dividend.objects.create(cooperative=cooperative, year=year, total=total, transaction=txn)
        audit.record(actor, AuditAction.CREATE, object_type="dividend", object_id=d.pk,
                     summary=f"{cooperative.name} {year}年分红 {fen_to_yuan_str(total)} 元，{len(members)} 户")
    return d


# ---- micro-credit: loans, repayments, interest subsidies, renewals --------------------------------

def _credit_rule(region_code: str, when: dt.date) -> dict:
    try:
        return shipped_packs().for_region(region_code).lookup("credit.microloan", when).value
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def _add_months(d: dt.date, months: int) -> dt.date:
    import calendar

    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def outstanding(loan, on: dt.date | None = None) -> int:
    """Principal not yet repaid (on a date: repayments up to and including that day)."""
    from django.db.models import Sum

    paid = loan.repayments.filter(**({"date__lte": on} if on else {})).aggregate(s=Sum("amount"))["s"] or 0
    return loan.amount - paid


def loan_record(*, actor: User, household_id: int, bank: str, amount: int, term_months: int, purpose: str,
                start: dt.date, renewed_from=None):
    """A micro-loan of a registered household, within the pack's amount and term."""
    from fupin.policy.money import parse_yuan

    from .models import Loan

    access.require(actor, Cap.PROJECT_FUNDS, what="登记扶贫小额信贷")
    household = access.access_household(actor, household_id)
    rule = _credit_rule(household.village_id, start)
    top = parse_yuan(str(rule["max_amount"]), "credit.microloan.max_amount")
    errors = {}
    if not bank.strip():
        errors["贷款银行"] = "必须填写"
    if not 0 < amount <= top:
        errors["贷款金额"] = f"应大于0且不超过 {fen_to_yuan_str(top)} 元"
    if not 0 < term_months <= int(rule["max_term_months"]) and renewed_from is None:
        errors["期限"] = f"应为1到{rule['max_term_months']}个月"
    if not purpose.strip():
        errors["用途"] = "必须填写（如发展产业的项目）"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        loan = Loan.objects.create(household=household, bank=bank.strip()[:80], amount=amount, term_months=term_months,
                                   purpose=purpose.strip()[:200], start=start, due=_add_months(start, term_months),
                                   rule=rule, renewed_from=renewed_from, created_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="loan", object_id=loan.pk, household_id=household.pk,
                     summary=f"{'展期' if renewed_from else '登记'}小额信贷 {fen_to_yuan_str(amount)} 元，{term_months} 个月（{loan.bank}）")
    return loan


def loan_repay(*, actor: User, loan, amount: int, date: dt.date):
    from .models import Repayment

    access.require(actor, Cap.PROJECT_FUNDS, what="登记小额信贷还款")
    access.access_household(actor, loan.household_id)
    left = outstanding(loan)
    if not 0 < amount <= left:
        raise InvalidInput({"还款金额": f"应大于0且不超过未还本金 {fen_to_yuan_str(left)} 元"})
    with transaction.atomic():
        r = Repayment.objects.create(loan=loan, date=date, amount=amount)
        audit.record(actor, AuditAction.UPDATE, object_type="loan", object_id=loan.pk, household_id=loan.household_id,
                     summary=f"小额信贷还款 {fen_to_yuan_str(amount)} 元，未还 {fen_to_yuan_str(left - amount)} 元")
    return r


def interest_subsidy_amount(loan, start: dt.date, end: dt.date) -> int:
    """Interest on the principal outstanding each day from `start` to `end` (inclusive) at the
    pack's rate, a year of 365 days, rounded half up to the fen once for the period."""
    from decimal import ROUND_HALF_UP, Decimal

    rate = Decimal(str(loan.rule["subsidy_rate"]))
    repayments = list(loan.repayments.order_by("date").values_list("date", "amount"))
    fen_days, day = 0, start
    principal = loan.amount - sum(a for d, a in repayments if d < start)
    for d, a in [(d, a) for d, a in repayments if start <= d <= end] + [(end + dt.timedelta(days=1), 0)]:
        fen_days += principal * (d - day).days   # repaid on day d: that day no longer bears interest
        principal -= a
        day = d
    return int((Decimal(fen_days) * rate / 365).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def interest_subsidy_pay(*, actor: User, loan, start: dt.date, end: dt.date, date: dt.date):
    """Pay the period's interest subsidy (财政贴息) to the household from the county's line."""
    from .models import InterestSubsidy

    access.require(actor, Cap.PROJECT_FUNDS, what="发放小额信贷贴息")
    household = access.access_household(actor, loan.household_id)
    if start < loan.start or end > loan.due or end < start:
        raise InvalidInput({"计息期间": f"应在放款日 {loan.start} 至到期日 {loan.due} 之内"})
    if loan.subsidies.filter(start__lte=end, end__gte=start).exists():
        raise FupinError("这一期间已经贴息，不能重复贴息")
    amount = interest_subsidy_amount(loan, start, end)
    if amount <= 0:
        raise FupinError("这一期间没有未还本金，无需贴息")
    with transaction.atomic():
        budget = funds.programme_budget_account(programme="credit_subsidy", region_code=funds.county_of(household.village_id),
                                                year=end.year, source=FundingSource.CITY_COUNTY, name=f"{end.year}年小额信贷贴息资金")
        txn = funds.payments_post(actor=actor, budget=budget, date=date, decision_type="interest_subsidy",
                                  decision_id=f"loan-{loan.pk}-{start}",
                                  payments=[funds.Payment(payee=funds.payee_for_household(household), amount=amount,
                                                          entitlement=f"credit.{loan.pk}", period=start.isoformat())])
        s = InterestSubsidy.objects.create(loan=loan, start=start, end=end, amount=amount, transaction=txn)
        audit.record(actor, AuditAction.UPDATE, object_type="loan", object_id=loan.pk, household_id=household.pk,
                     summary=f"小额信贷贴息 {start} 至 {end}：{fen_to_yuan_str(amount)} 元")
    return s


def loan_renew(*, actor: User, loan, months: int, date: dt.date):
    """展期: the outstanding principal becomes a new loan for at most the pack's renewal months."""
    if hasattr(loan, "renewal"):
        raise FupinError("这笔贷款已经展期过")
    left = outstanding(loan)
    if left <= 0:
        raise FupinError("这笔贷款已还清，无需展期")
    if not 0 < months <= int(loan.rule["max_renewal_months"]):
        raise InvalidInput({"展期月数": f"应为1到{loan.rule['max_renewal_months']}个月"})
    return loan_record(actor=actor, household_id=loan.household_id, bank=loan.bank, amount=left, term_months=months,
                       purpose=loan.purpose, start=date, renewed_from=loan)


def next_instalment(subsidy) -> dict | None:
    """The instalment to pay next (label, amount), or None when all are paid."""
    done = len(subsidy.instalments.all())
    plan = subsidy.rule["instalments"]
    if done >= len(plan):
        return None
    return dict(plan[done], number=done + 1, amount=instalment_amounts(subsidy.amount, subsidy.rule)[done])


def allocation_notice_publish(*, actor: User, year: int) -> AllocationNotice:
    """Publish the yearly fund-allocation notice of the actor's region (once per year; publishing
    again returns the same notice): from now on its public page answers at the notice's token."""
    access.require(actor, Cap.PROJECT_MANAGE, what=f"公布{year}年资金公告")
    region = actor.region
    existing = AllocationNotice.objects.filter(region=region, year=year).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        notice = AllocationNotice.objects.create(region=region, year=year, token=secrets.token_urlsafe(16),
                                                 published_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="allocation_notice", object_id=notice.pk,
                     summary=f"公布{region.name}{year}年扶贫项目资金安排公告")
    return notice
