"""Writes of the oversight room: yearly targets (任务书) and the problem list with its states.

Every write checks capability and region before its transaction opens (a refusal's audit row
survives and nothing changes) and writes its audit row inside the transaction."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fupin.core import access, audit
from fupin.core.errors import AccessDenied, InvalidInput, NotFound
from fupin.core.models import AuditAction, AuditResult, Region, User
from fupin.core.roles import Cap

from . import policy
from .models import Problem, ProblemSource, ProblemState, Target

# ---- targets ---------------------------------------------------------------------------------------


def access_child_region(user: User, code: str) -> Region:
    """A region whose targets the user sets: one level directly below the user's own (the level above
    enters the task book of the level below)."""
    access.require(user, Cap.SET_TARGETS, what=f"下达区划 {code} 的年度目标")
    region = Region.objects.filter(code=code).first()
    if region is None or not access.in_scope(user, region.code):
        raise NotFound(f"找不到区划 {code}，或不在您的管辖范围内")
    if region.parent_id != user.region_id:
        audit.record(user, AuditAction.DENIED, object_type="target", object_id=code, result="denied",
                     summary=f"只能下达直接下级的目标：{region.name}")
        raise AccessDenied(f"“{region.name}”不是您的直接下级区划：年度目标由上一级下达，请联系其上级")
    return region


def parse_target(ind: policy.Indicator, raw: str) -> int:
    """A target as typed: a whole number of 户/人/件, yuan for money, a percent (up to one decimal) for a rate."""
    from decimal import Decimal, InvalidOperation

    raw = (raw or "").strip().replace(",", "").rstrip("%％")
    try:
        d = Decimal(raw)
    except InvalidOperation:
        d = None
    if ind.is_rate:
        if d is None or not d.is_finite() or not 0 <= d <= 100 or d != d.quantize(Decimal("0.1")):
            raise InvalidInput({ind.name: f"“{raw[:20]}”应为 0 到 100 之间的百分数，最多一位小数，如 95 或 99.5"})
        return int(d * 10)
    if ind.is_money:
        from fupin.policy.errors import PolicyError
        from fupin.policy.money import parse_yuan
        try:
            return parse_yuan(raw, ind.name)
        except PolicyError as exc:
            raise InvalidInput({ind.name: getattr(exc, "problem", exc.message)}) from None
    if d is None or not d.is_finite() or d != d.to_integral_value() or not 0 <= d <= 10**9:
        raise InvalidInput({ind.name: f"“{raw[:20]}”应为不小于 0 的整数（{ind.unit}）"})
    return int(d)


def target_set(*, actor: User, region: Region, year: int, indicator: policy.Indicator, value: int) -> Target:
    if not access.may(actor, Cap.SET_TARGETS) or region.parent_id != actor.region_id:
        access_child_region(actor, region.code)   # records the refusal and raises
    with transaction.atomic():
        old = Target.objects.filter(region=region, year=year, indicator=indicator.key).first()
        t, _ = Target.objects.update_or_create(region=region, year=year, indicator=indicator.key,
                                               defaults={"value": value, "set_by": actor})
        audit.record(actor, AuditAction.UPDATE if old else AuditAction.CREATE, object_type="target",
                     object_id=t.pk, summary=f"下达{year}年目标：{region.name} {indicator.name}",
                     detail={"region": region.code, "indicator": indicator.key, "year": year,
                             "value": [old.value if old else None, value]})
    return t


@dataclass
class ImportResult:
    saved: int
    errors: list[str]


def targets_import(*, actor: User, data: bytes, filename: str, year: int) -> ImportResult:
    """Targets from a workbook: 区划代码, 指标名称, 目标值 (one row per region and indicator).

    Every row is checked first; with any error nothing is saved."""
    from fupin.exchange import excel

    access.require(actor, Cap.SET_TARGETS, what="导入年度目标")
    columns = [excel.Column("code", "区划代码", excel.digits(12, 12, "区划代码"), required=True),
               excel.Column("name", "指标名称", excel.text(60), required=True),
               excel.Column("value", "目标值", excel.text(30), required=True)]
    try:
        table = excel.read_table(data, columns, filename=filename)
    except excel.FileRejected as exc:
        raise InvalidInput({"文件": exc.message}) from None
    errors = [str(p) for p in table.problems]
    good = []
    children = {r.code: r for r in Region.objects.filter(parent_id=actor.region_id)}
    for row, v in table.rows:
        region = children.get(v.get("code") or "")
        ind = policy.by_name(v.get("name") or "")
        if region is None:
            errors.append(f"第{row}行：区划代码 {v.get('code')} 不是您的直接下级区划，目标由其上一级下达")
            continue
        if ind is None:
            errors.append(f"第{row}行：没有名为“{v.get('name')}”的指标，请按看板上的指标名称填写")
            continue
        try:
            good.append((region, ind, parse_target(ind, str(v.get("value") or ""))))
        except InvalidInput as exc:
            errors.append(f"第{row}行：{exc.message}")
    if errors:
        return ImportResult(0, errors)
    with transaction.atomic():
        for region, ind, value in good:
            target_set(actor=actor, region=region, year=year, indicator=ind, value=value)
        audit.record(actor, AuditAction.IMPORT, object_type="target", object_id=filename[:60],
                     summary=f"导入{year}年目标 {len(good)} 条")
    return ImportResult(len(good), [])


# ---- problems --------------------------------------------------------------------------------------

def problem_create(*, actor: User, type: str, title: str, region_code: str, household_pk: int | None,
                   owner_unit: str, owner_name: str = "", deadline: dt.date | None = None,
                   source: str = ProblemSource.MANUAL, source_key: str = "", today: dt.date | None = None,
                   campaign_pk: int | None = None) -> Problem:
    access.require(actor, Cap.PROBLEM_MANAGE, what="登记问题")
    region = access.access_region(actor, region_code)
    household = access.access_household(actor, household_pk) if household_pk else None
    if household is not None and not (region.code_range()[0] <= household.village_id <= region.code_range()[1]):
        raise InvalidInput({"涉及户": f"户 {household.number} 不在“{region.name}”，请选该户所在的区划"})
    campaign = None
    if campaign_pk:
        from .models import RectificationCampaign
        lo, hi = access.scope_range(actor)
        campaign = RectificationCampaign.objects.filter(pk=campaign_pk, region_id__gte=lo, region_id__lte=hi).first()
        if campaign is None:
            raise InvalidInput({"专项整改行动": "找不到该行动，或不在您的管辖范围内"})
    types = policy.problem_types()
    errors = {}
    if type not in types:
        errors["问题类型"] = "请从列表中选择问题类型"
    if not title.strip():
        errors["问题描述"] = "必须填写"
    if not owner_unit.strip():
        errors["责任单位"] = "必须填写"
    today = today or timezone.localdate()
    deadline = deadline or today + dt.timedelta(days=policy.problems()["rectify_days"])
    if deadline < today:
        errors["整改期限"] = "不能早于今天"
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        p = Problem.objects.create(type=type, title=title.strip()[:300], region=region, household=household,
                                   owner_unit=owner_unit.strip()[:80], owner_name=owner_name.strip()[:40],
                                   deadline=deadline, source=source, source_key=source_key, created_by=actor,
                                   campaign=campaign)
        audit.record(actor, AuditAction.CREATE, object_type="problem", object_id=p.pk,
                     household_id=household.pk if household else None,
                     summary=f"登记问题：{types[type]}（{region.name}）", detail={"state": p.state, "title": p.title})
    return p


# action → (states it may start from, state it leads to, capability, Chinese verb)
TRANSITIONS = {
    "start": ((ProblemState.OPEN, ProblemState.REOPENED), ProblemState.RECTIFYING, Cap.PROBLEM_RECTIFY, "开始整改"),
    "submit": ((ProblemState.RECTIFYING,), ProblemState.SUBMITTED, Cap.PROBLEM_RECTIFY, "提交整改结果"),
    "verify": ((ProblemState.SUBMITTED,), ProblemState.VERIFIED, Cap.PROBLEM_MANAGE, "核验销号"),
    "reopen": ((ProblemState.SUBMITTED, ProblemState.VERIFIED), ProblemState.REOPENED, Cap.PROBLEM_MANAGE,
               "退回重新整改"),
    # 回头看: a closed problem looked at again and found still fixed (the state stays; the check is recorded)
    "confirm": ((ProblemState.VERIFIED,), ProblemState.VERIFIED, Cap.PROBLEM_MANAGE, "回头看复核无误"),
}


def problem_transition(*, actor: User, problem: Problem, action: str, note: str = "",
                       today: dt.date | None = None) -> Problem:
    """Move a problem along open → rectifying → submitted → verified (销号) or reopened.

    Submitting needs the evidence note; verifying is done by someone other than the submitter;
    reopening needs a reason. Capability and region are checked before anything is written."""
    if action not in TRANSITIONS:
        raise InvalidInput({"操作": "不是问题整改的操作"})
    sources, target, cap, verb = TRANSITIONS[action]
    access.require(actor, cap, what=f"{verb}：问题 {problem.pk}")
    if not access.in_scope(actor, problem.region_id):
        raise NotFound(f"找不到问题（编号 {problem.pk}），或不在您的管辖范围内")
    if problem.state not in sources:
        raise InvalidInput({"状态": f"问题当前为“{problem.get_state_display()}”，不能{verb}；"
                                    f"可{verb}的状态：{'、'.join(ProblemState(s).label for s in sources)}"})
    note = note.strip()
    if action == "submit" and not note:
        raise InvalidInput({"整改情况与佐证": "提交前请写明整改了什么、佐证材料在哪里"})
    if action == "reopen" and not note:
        raise InvalidInput({"退回理由": "请写明哪里没有整改到位"})
    if action == "verify" and problem.submitted_by_id == actor.pk:
        audit.record(actor, AuditAction.DENIED, object_type="problem", object_id=problem.pk, result="denied",
                     summary="不能核验自己提交的整改结果")
        raise AccessDenied("不能核验自己提交的整改结果：请由另一位有核验权限的人员核验销号")
    with transaction.atomic():
        locked = Problem.objects.select_for_update().get(pk=problem.pk)
        if locked.state != problem.state:
            raise InvalidInput({"状态": "该问题刚被他人处理过，请刷新后再试"})
        before = locked.state
        locked.state = target
        fields = ["state"]
        if action == "submit":
            locked.evidence, locked.submitted_by = note[:1000], actor
            fields += ["evidence", "submitted_by"]
        elif action == "verify":
            locked.verified_by, locked.closed_on = actor, today or timezone.localdate()
            fields += ["verified_by", "closed_on"]
        elif action == "reopen":
            locked.verified_by, locked.closed_on = None, None
            fields += ["verified_by", "closed_on"]
        locked.save(update_fields=fields)
        audit.record(actor, AuditAction.UPDATE, object_type="problem", object_id=locked.pk,
                     household_id=locked.household_id, summary=f"{verb}：{locked.title[:80]}",
                     detail={"state": [before, target], "action": action, "note": note[:500]})
    return locked


def problems_from_audit(*, actor: User, today: dt.date | None = None) -> list[Problem]:
    """Turn every finding of the ledger audit checks in the user's scope into a problem, once."""
    from fupin.core.money import fen_to_yuan_str
    from fupin.funds import selectors as funds
    from fupin.funds.models import Account, Entry

    access.require(actor, Cap.PROBLEM_MANAGE, what="把资金审计检查结果转为问题")
    scope = access.scope_range(actor)
    rules = policy.problems()["audit_checks"]
    today = today or timezone.localdate()
    findings = []   # (check, source_key, region code, household id, fields)

    def place(entry_id: int | None = None, account_id: int | None = None):
        """Where a finding lies: the payee's village, else the budget line's region, else the user's."""
        acc = Account.objects.filter(pk=account_id).select_related("person__household", "household").first() \
            if account_id else None
        if acc is None and entry_id:
            acc = Entry.objects.select_related("account__person__household", "account__household").get(pk=entry_id).account
        hh = (acc.person.household if acc and acc.person_id and acc.person.household_id else
              acc.household if acc and acc.household_id else None)
        if hh is not None and access.in_scope(actor, hh.village_id):
            return hh.village_id, hh.pk
        if entry_id:
            budget = Entry.objects.filter(transaction_id=Entry.objects.get(pk=entry_id).transaction_id,
                                          account__kind="budget").values_list("account__region_id", flat=True).first()
            if budget and access.in_scope(actor, budget):
                return budget, None
        return actor.region_id, None

    for r in funds.payments_to_deceased(scope):
        findings.append(("deceased", f"deceased:entry:{r['id']}", *place(entry_id=r["id"]), {
            "payee": r["account__payee_name"], "death": r["account__person__death_date"], "date": r["transaction__date"],
            "amount": fen_to_yuan_str(r["amount"]), "entitlement": r["entitlement"], "period": r["period"]}))
    for r in funds.payments_to_unknown_persons(scope):
        findings.append(("unknown", f"unknown:entry:{r['id']}", *place(entry_id=r["id"]), {
            "payee": r["account__payee_name"], "amount": fen_to_yuan_str(r["amount"]),
            "entitlement": r["entitlement"], "period": r["period"]}))
    for r in funds.duplicate_payments(scope):
        findings.append(("duplicate", f"duplicate:{r['account_id']}:{r['entitlement']}:{r['period']}"[:80],
                         *place(account_id=r["account_id"]), {
            "payee": r["account__payee_name"], "entitlement": r["entitlement"], "period": r["period"],
            "n": r["n"], "amount": fen_to_yuan_str(r["total"])}))
    known = set(Problem.objects.filter(source_key__in=[f[1] for f in findings]).values_list("source_key", flat=True))
    created = []
    deadline = today + dt.timedelta(days=policy.problems()["rectify_days"])
    types = policy.problem_types()
    with transaction.atomic():
        for check, key, region_code, household_id, fields in findings:
            if key in known:
                continue
            rule = rules[check]
            p = Problem.objects.create(type=rule["type"], title=rule["title"].format(**fields)[:300],
                                       region_id=region_code, household_id=household_id, owner_unit=rule["owner_unit"],
                                       deadline=deadline, source=ProblemSource.AUDIT, source_key=key, created_by=actor)
            audit.record(actor, AuditAction.CREATE, object_type="problem", object_id=p.pk, household_id=household_id,
                         summary=f"资金审计检查转问题：{types[p.type]}", detail={"state": p.state, "source_key": key})
            created.append(p)
    return created


# ---- pre-aggregated board numbers ---------------------------------------------------------------------

def snapshot_refresh(*, region: Region, year: int, today: dt.date, actor: User | None = None) -> int:
    """Count every indicator for the region and every region below it — the same queries the board
    and its lists use — and store them. Run from the board (a reader, for a region in scope) or by
    the nightly command (actor None, once per province).

    One grouped query per indicator and split, by the rows' full 12-digit code; each level's
    numbers are the sums of those groups by code prefix — exactly what that level's own grouped
    query gives, since every row has one code (a count of distinct rows, a sum of amounts). Visit
    days are not additive (a helper's day in two villages is one day of their township), so they
    keep one grouped query per level."""
    from django.utils import timezone

    from fupin.core.models import PREFIX_LEN
    from fupin.funds.models import FundingSource

    from fupin.core.bulk import insert_rows

    from . import selectors
    from .models import Snapshot

    if actor is not None:
        region = access.access_region(actor, region.code)
    lo, hi = region.code_range()
    levels = range(region.level, 6)
    codes = {lv: list(Region.objects.filter(level=lv, code__gte=lo, code__lte=hi).values_list("code", flat=True))
             for lv in levels}
    now = timezone.now()
    rows = []
    for ind in policy.indicators().values():
        for split in [None] + (list(FundingSource.values) if ind.split else []):
            ctx = selectors.Ctx(lo, hi, year, today, split)
            fine = None if selectors.QUERIES[ind.query].kind == "visit_days" else selectors.grouped(ind, ctx, 12)
            for lv in levels:
                n = PREFIX_LEN[lv]
                if fine is None:
                    values = selectors.grouped(ind, ctx, n)
                else:
                    values = {}
                    for key, v in fine.items():
                        values[key[:n]] = values.get(key[:n], 0) + v
                rows += [dict(region_id=code, year=year, indicator=ind.key, split=split or "",
                              value=values.get(code[:n], 0), computed_at=now) for code in codes[lv]]
    with transaction.atomic():
        Snapshot.objects.filter(region_id__gte=lo, region_id__lte=hi, year=year).delete()
        insert_rows(Snapshot, rows)
    return len(rows)


def lookback_draw(*, actor: User, seed: str, count: int):
    """回头看: draw `count` closed (销号) problems of the user's scope, reproducibly from the seed
    (sorted by number, then random.Random(seed).sample), and record which were drawn."""
    import random

    from . import selectors

    access.require(actor, Cap.PROBLEM_MANAGE, what="回头看抽查已销号问题")
    errors = {}
    if not seed.strip():
        errors["抽样种子"] = "请填写抽样种子（如通知文号），同一种子可重现同一样本"
    if count < 1:
        errors["抽查件数"] = "至少 1 件"
    if errors:
        raise InvalidInput(errors)
    closed = list(selectors.problems_for(actor).filter(state=ProblemState.VERIFIED).order_by("id").values_list("id", flat=True))
    drawn = sorted(random.Random(seed.strip()).sample(closed, min(count, len(closed))))
    with transaction.atomic():
        event = audit.record(actor, AuditAction.CREATE, object_type="lookback", object_id=seed.strip()[:60],
                             summary=f"回头看：从 {len(closed)} 件已销号问题中抽查 {len(drawn)} 件",
                             detail={"seed": seed.strip(), "problems": drawn, "population": len(closed)})
    return event


def rectification_campaign_create(*, actor: User, name: str, region_code: str, dates: dict[str, tuple]) -> "object":
    """A rectification campaign with one (start, end) per phase of policies/problems.yaml, in order."""
    from .models import RectificationCampaign

    access.require(actor, Cap.PROBLEM_MANAGE, what="发起专项整改行动")
    region = access.access_region(actor, region_code)
    errors, phases, last_end = {}, [], None
    if not name.strip():
        errors["名称"] = "必须填写"
    for ph in policy.problems()["campaign_phases"]:
        start, end = dates.get(ph["key"], (None, None))
        if start is None or end is None:
            errors[ph["name"]] = "请填写开始和结束日期"
            continue
        if end < start:
            errors[ph["name"]] = "结束日期不能早于开始日期"
        if last_end is not None and start <= last_end:
            errors[ph["name"]] = "应在上一阶段结束之后开始"
        last_end = end
        phases.append({"key": ph["key"], "name": ph["name"], "start": start.isoformat(), "end": end.isoformat()})
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        c = RectificationCampaign.objects.create(name=name.strip()[:120], region=region, phases=phases, created_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="rectification_campaign", object_id=c.pk,
                     summary=f"发起专项整改行动：{c.name}（{region.name}）", detail={"phases": phases})
    return c


# ---- reports upward (报表): generate → review (a second person) → submit; the level above may return ----

def _report_denied(actor: User, what: str, message: str):
    """A refused report step, with its audit row (written outside any transaction, so it stays)."""
    audit.record(actor, AuditAction.DENIED, object_type="report", result=AuditResult.DENIED, summary=what)
    raise AccessDenied(message)


def _may_file(actor: User, form: policy.ReportForm, region: Region) -> None:
    access.require(actor, Cap.REPORT_FILE, what=f"填报《{form.title}》")
    if region.code != actor.region_id:
        _report_denied(actor, f"填报{region.name}《{form.title}》：不是本单位", f"只能填报本单位（{actor.region.name}）的报表")
    if region.level not in form.files:
        raise InvalidInput({"报表": f"《{form.title}》不由{region.get_level_display()}一级填报"})


def report_generate(*, actor: User, form: policy.ReportForm, region: Region, period, today: dt.date | None = None):
    """Count the report from the registry (or consolidate what the level below submitted) and keep it,
    frozen, for review. A submitted report is not regenerated unless the level above returns it."""
    from django.utils import timezone

    from . import reports
    from .models import FilingState, ReportFiling

    _may_file(actor, form, region)
    today = today or timezone.localdate()
    if period.start > today:
        raise InvalidInput({"报告期": f"{period.label}尚未开始，不能生成报表"})
    table = reports.compute_table(actor, form, region, period, today)
    with transaction.atomic():
        f = ReportFiling.objects.select_for_update().filter(form=form.key, region=region, period=period.code).first()
        if f is not None and f.state == FilingState.SUBMITTED:
            raise InvalidInput({"报表": f"{period.label}《{form.title}》已上报；如需更正，请上级退回后重新生成"})
        if f is None:
            f = ReportFiling(form=form.key, region=region, period=period.code)
        f.table, f.state = table, FilingState.GENERATED
        f.generated_by, f.generated_at = actor, timezone.now()
        f.reviewed_by = f.reviewed_at = f.submitted_by = f.submitted_at = None
        f.save()
        audit.record(actor, AuditAction.CREATE, object_type="report", object_id=f.pk,
                     summary=f"生成报表：{region.name}{period.label}《{form.title}》",
                     detail={"form": form.key, "period": period.code, "missing": table["missing"]})
    return f


REPORT_STEPS = {
    # action → (state it starts from, state it leads to, Chinese verb)
    "review": ("generated", "reviewed", "审核签发"),
    "submit": ("reviewed", "submitted", "上报"),
}


def report_step(*, actor: User, form: policy.ReportForm, filing, action: str):
    """Review (签发, by someone other than who generated it) or submit a region's own report."""
    from django.utils import timezone

    from .models import FilingState

    if action not in REPORT_STEPS:
        raise NotFound("没有这个操作")
    start, end, verb = REPORT_STEPS[action]
    _may_file(actor, form, filing.region)
    if filing.state != start:
        raise InvalidInput({"报表": f"报表当前为“{filing.get_state_display()}”，不能{verb}"})
    if action == "review" and filing.generated_by_id == actor.pk:
        raise InvalidInput({"审核签发": "报表须由生成人以外的人员审核签发"})
    if action == "submit" and filing.table.get("missing"):
        raise InvalidInput({"报表": "下级尚未全部上报：" + "、".join(filing.table["missing"]) + "。请待其上报后重新生成"})
    with transaction.atomic():
        filing.state = FilingState(end)
        now = timezone.now()
        if action == "review":
            filing.reviewed_by, filing.reviewed_at = actor, now
        else:
            filing.submitted_by, filing.submitted_at = actor, now
        filing.save()
        audit.record(actor, AuditAction.UPDATE, object_type="report", object_id=filing.pk,
                     summary=f"{verb}报表：{filing.region.name}《{form.title}》（{filing.period}）",
                     detail={"state": end})
    return filing


def report_return(*, actor: User, form: policy.ReportForm, filing, reason: str):
    """The level above sends a submitted report back to be corrected, with its reason."""
    from .models import FilingState

    access.require(actor, Cap.REPORT_FILE, what=f"退回《{form.title}》")
    if filing.region.parent_id != actor.region_id:
        _report_denied(actor, f"退回{filing.region.name}《{form.title}》：不是直属下级", "只能退回直属下级上报的报表")
    if not reason.strip():
        raise InvalidInput({"退回原因": "必须填写"})
    if filing.state != FilingState.SUBMITTED:
        raise InvalidInput({"报表": f"报表当前为“{filing.get_state_display()}”，只有已上报的报表可以退回"})
    with transaction.atomic():
        filing.state, filing.returned_by, filing.return_reason = FilingState.RETURNED, actor, reason.strip()[:300]
        filing.save()
        audit.record(actor, AuditAction.UPDATE, object_type="report", object_id=filing.pk,
                     summary=f"退回报表：{filing.region.name}《{form.title}》（{filing.period}）",
                     detail={"state": "returned", "reason": filing.return_reason})
    return filing


# ---- overdue problems go up (逾期上提督办) ----------------------------------------------------------

def problems_escalate(*, today: dt.date | None = None) -> int:
    """Every open problem past its deadline is supervised by the level above its region, one level
    higher for every further `every_days` overdue (policies/problems.yaml), up to the province. Run
    nightly; running it twice changes nothing. Returns how many problems moved up."""
    from django.utils import timezone

    cfg = policy.problems()["escalation"]
    first, every = int(cfg["first_after_days"]), int(cfg["every_days"])
    today = today or timezone.localdate()
    parents = dict(Region.objects.values_list("code", "parent_id"))
    names = dict(Region.objects.values_list("code", "name"))
    moved = 0
    overdue = (Problem.objects.exclude(state=ProblemState.VERIFIED)
               .filter(deadline__lte=today - dt.timedelta(days=first)).order_by("id"))
    for p in overdue.iterator(chunk_size=2000):
        target = p.region_id
        for _ in range(1 + ((today - p.deadline).days - first) // every):
            target = parents.get(target) or target
        if target == p.region_id or target == p.escalated_to_id:
            continue
        with transaction.atomic():
            Problem.objects.filter(pk=p.pk).update(escalated_to_id=target, escalated_on=today)
            audit.record(None, AuditAction.UPDATE, object_type="problem", object_id=p.pk, household_id=p.household_id,
                         summary=f"逾期上提：整改期限 {p.deadline.isoformat()} 已过，上提至{names[target]}督办",
                         detail={"escalated_to": target, "days_overdue": (today - p.deadline).days})
        moved += 1
    return moved
