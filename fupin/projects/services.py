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

from fupin.core import access, audit
from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, AuditResult, Region, User
from fupin.core.money import fen_to_yuan_str
from fupin.core.roles import Cap
from fupin.funds import services as funds
from fupin.funds.models import FundingSource
from fupin.policy.errors import PolicyError
from fupin.policy.packs import shipped_packs

from .models import Asset, Beneficiary, BudgetLine, Category, Progress, ProgressPhoto, Project, State, Step


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
                   household_ids: list[int] = ()) -> Project:
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
    households = list(access.households_for(actor).filter(pk__in=list(household_ids)))
    if len(households) != len(set(household_ids)):
        errors["受益户"] = "有受益户找不到或不在您的管辖范围内"
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
    if date > dt.date.today():
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
    if date > dt.date.today():
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
