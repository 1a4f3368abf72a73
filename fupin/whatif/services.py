"""Writes of the what-if room: save a scenario (form or YAML overlay), run it (a background job
for big regions), propose it as a dated pack version and approve that proposal step by step
(`workflow.pack_change`, pack data). A run reads the registry and writes only its own Result:
nothing in the ledger, the registry or any room's runs (tests/test_whatif.py counts them)."""
from __future__ import annotations

import datetime as dt
import io
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from django.db import transaction

from fupin.core import access, audit, progress
from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, Region, User
from fupin.core.roles import Cap
from fupin.policy.errors import PolicyError
from fupin.policy.money import parse_yuan, yuan
from fupin.policy.packs import parse_pack, shipped_packs
from fupin.policy.whatif import compare, explain_person, overlay

from . import selectors
from .models import Proposal, ProposalState, Result, Scenario

MAX_YAML = 64 * 1024   # an overlay is a few lines; a bigger upload is not one


# ---- access ---------------------------------------------------------------------------------------

def access_scenario(user: User, pk, cap: str = Cap.WHATIF) -> Scenario:
    """A scenario of the user's region or a region inside it; others are not found."""
    access.require(user, cap, what=f"打开政策测算情景 {pk}")
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("找不到该测算情景") from None
    scenario = selectors.scenarios_for(user).filter(pk=pk).first()
    if scenario is None:
        raise NotFound(f"找不到测算情景（编号 {pk}），或它不属于您的管辖区划")
    return scenario


def access_proposal(user: User, pk) -> Proposal:
    access.require(user, Cap.WHATIF, what=f"打开政策包修订 {pk}")
    lo, hi = access.scope_range(user)
    proposal = Proposal.objects.select_related("scenario__region", "proposed_by").filter(
        pk=pk, scenario__region_id__gte=lo, scenario__region_id__lte=hi).first()
    if proposal is None:
        raise NotFound(f"找不到政策包修订（编号 {pk}），或它不属于您的管辖区划")
    return proposal


# ---- values as typed → as a pack writes them ------------------------------------------------------

def clean_value(unit: str, raw, label: str):
    """A typed value → the value a pack writes (yuan as '1450.00', a ratio as '0.08', a count, a
    bool); '8%' is read as 0.08. Chinese message naming the parameter when it cannot be read."""
    text = str(raw).strip() if raw is not None else ""
    if text == "":
        raise InvalidInput({label: "请填写新的值"})
    try:
        if unit == "yuan":
            return yuan(parse_yuan(text, label))
        if unit == "ratio":
            d = Decimal(text[:-1]) / 100 if text.endswith(("%", "％")) else Decimal(text)
            if not d.is_finite() or d < 0 or d > 1:
                raise InvalidInput({label: f"比例“{text}”应在 0 到 1 之间（或写作 0%～100%）"})
            return format(d.normalize(), "f")
        if unit == "count":
            if not text.isdigit():
                raise InvalidInput({label: f"“{text}”应为不小于0的整数"})
            return int(text)
        if unit == "bool":
            if text.lower() in ("true", "是", "1", "yes"):
                return True
            if text.lower() in ("false", "否", "0", "no"):
                return False
            raise InvalidInput({label: f"“{text}”应为“是”或“否”"})
    except PolicyError as exc:
        raise InvalidInput({label: getattr(exc, "problem", exc.message)}) from None
    except InvalidOperation:
        raise InvalidInput({label: f"“{text}”不是数字"}) from None
    raise InvalidInput({label: "这个参数不能在测算中修改"})


def clean_changes(region: Region, year: int, raw: dict, title: str) -> dict:
    """Typed values by parameter name → values as a pack writes them, each checked as a pack's
    value is (units, limits); unchanged values are dropped. Every error at once."""
    known = {p["name"]: p for p in selectors.parameters(region.code, dt.date(year, 1, 1))}
    out, errors = {}, {}
    for name, value in raw.items():
        p = known.get(name)
        if p is None:
            errors[name[:60]] = "没有这个可测算的参数"
            continue
        if value is None or str(value).strip() == "":
            continue
        try:
            v = clean_value(p["unit"], value, p["description"])
        except InvalidInput as exc:
            errors.update(exc.errors)
            continue
        if str(v).lower() != str(p["current"]).lower():
            out[name] = v
    if errors:
        raise InvalidInput(errors)
    if not out:
        raise InvalidInput({"参数": "没有改动任何参数：请至少把一个参数改成与现行标准不同的值"})
    try:
        overlay(shipped_packs(), region.prefix, out, title)   # checked exactly as a pack's values
    except PolicyError as exc:
        raise InvalidInput({"参数": exc.message}) from None
    return out


def _year(raw) -> int:
    try:
        year = int(str(raw).strip())
    except (TypeError, ValueError):
        raise InvalidInput({"测算年度": f"“{str(raw)[:20]}”不是年份"}) from None
    if not 2000 <= year <= 2100:
        raise InvalidInput({"测算年度": f"{year} 不是可测算的年度"})
    return year


# ---- scenarios ------------------------------------------------------------------------------------

def scenario_save(*, actor: User, name: str, region_code: str, year, changes: dict, note: str = "",
                  scenario_id: int | None = None) -> Scenario:
    """Create a scenario, or change an existing one (then its earlier results stay as they were)."""
    access.require(actor, Cap.WHATIF, what="编制政策测算情景")
    existing = access_scenario(actor, scenario_id) if scenario_id else None
    region = access.access_region(actor, region_code)
    name = (name or "").strip()
    if not name:
        raise InvalidInput({"情景名称": "请填写名称，如“寄宿生补助提高200元”"})
    if len(name) > 80:
        raise InvalidInput({"情景名称": "最多80个字"})
    year = _year(year)
    cleaned = clean_changes(region, year, changes, name)
    clash = Scenario.objects.filter(region=region, name=name).exclude(pk=existing.pk if existing else None).first()
    if clash:
        raise InvalidInput({"情景名称": f"本区划已有同名情景（编号 {clash.pk}），请换一个名称"})
    with transaction.atomic():
        if existing:
            before = {"name": existing.name, "year": existing.year, "changes": existing.changes}
            Scenario.objects.filter(pk=existing.pk).update(name=name, region=region, year=year, changes=cleaned,
                                                           note=note[:300])
            existing.refresh_from_db()
            audit.record(actor, AuditAction.UPDATE, object_type="whatif_scenario", object_id=existing.pk,
                         summary=f"修改测算情景“{name}”",
                         detail=audit.changes(before, {"name": name, "year": year, "changes": cleaned}))
            return existing
        scenario = Scenario.objects.create(name=name, region=region, year=year, changes=cleaned, note=note[:300],
                                           created_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="whatif_scenario", object_id=scenario.pk,
                     summary=f"新建测算情景“{name}”（{region.name} {year}年）：改动 {len(cleaned)} 个参数")
    return scenario


def scenario_from_yaml(*, actor: User, data: bytes, region_code: str) -> Scenario:
    """A YAML overlay: `name`, `year`, optional `note`, and `parameters` (name: new value).
    E.g.  name: 低保标准提高到450元 / year: 2026 / parameters: {welfare.dibao.standard_per_month: 450}"""
    access.require(actor, Cap.WHATIF, what="上传政策测算情景")
    if len(data) > MAX_YAML:
        raise InvalidInput({"文件": f"情景文件超过 {MAX_YAML // 1024} KB，不像是参数改动清单"})
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput({"文件": "不是 UTF-8 编码的文字文件"}) from None
    except (yaml.YAMLError, ValueError) as exc:
        raise InvalidInput({"文件": f"不是有效的 YAML：{str(exc)[:120]}"}) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("parameters"), dict):
        raise InvalidInput({"文件": "应包含 name（情景名称）、year（年度）和 parameters（参数名: 新值）"})
    unknown = set(doc) - {"name", "year", "note", "parameters"}
    if unknown:
        raise InvalidInput({"文件": f"有未知的项 {', '.join(sorted(map(str, unknown)))[:80]}；可用：name、year、note、parameters"})
    return scenario_save(actor=actor, name=str(doc.get("name") or ""), region_code=region_code,
                         year=doc.get("year"), note=str(doc.get("note") or ""),
                         changes={str(k): v for k, v in doc["parameters"].items()})


def scenario_packs(scenario: Scenario, changes: dict | None = None):
    return overlay(shipped_packs(), scenario.region.prefix, changes or scenario.changes, scenario.name)


def scenario_run(*, actor: User, scenario_id: int) -> Result:
    """Compute current and scenario over the region's rosters of the year and keep the result.
    Reads the registry; writes only the Result row and its audit event."""
    import polars as pl

    scenario = access_scenario(actor, scenario_id)
    started = time.monotonic()
    progress.report(0, 7, "读取名册")
    rosters = selectors.rosters(scenario.region, scenario.year)
    packs = scenario_packs(scenario)
    digits = {1: 4, 2: 6, 3: 9, 4: 12, 5: 12}[scenario.region.level]
    try:
        result = compare(rosters, shipped_packs(), packs, region_digits=digits,
                         progress=lambda done, total, name: progress.report(done + 1, total + 1, STAGES[name]))
    except PolicyError as exc:
        raise FupinError(f"测算未能完成：{exc.message}") from None
    progress.report(7, 7, "汇总")
    households = result.households
    names = dict(Region.objects.filter(code__in=[r["code"].ljust(12, "0") for r in result.regions])
                 .values_list("code", "name"))
    summary = {
        "year": scenario.year, "region": scenario.region.name, "cases": result.cases,
        "persons": result.persons.height, "households": households.height,
        "changed_households": households.filter(pl.col("change") != 0).height,
        "gained": result.gained, "lost": result.lost,
        "total_current": result.total_current, "total_scenario": result.total_scenario,
        "funds": result.funds,
        "regions": [{**r, "name": names.get(r["code"].ljust(12, "0"), r["code"])} for r in result.regions],
        "histogram": result.histogram,
    }
    buf = io.BytesIO()
    households.sort("_household").write_parquet(buf, compression="zstd")
    with transaction.atomic():
        row = Result.objects.create(scenario=scenario, computed_by=actor, changes=scenario.changes, summary=summary,
                                    households=buf.getvalue(), seconds=round(time.monotonic() - started, 3))
        audit.record(actor, AuditAction.CREATE, object_type="whatif_result", object_id=row.pk,
                     summary=f"测算情景“{scenario.name}”：{result.cases} 项，年度费用 {yuan(result.total_current, grouping=True)} → "
                             f"{yuan(result.total_scenario, grouping=True)} 元")
    return row


STAGES = {"education": "计算教育资助", "welfare": "计算社会救助", "health": "重新结算医疗费用"}


def household_explanations(*, actor: User, scenario: Scenario, household_id: int) -> dict:
    """Each member's cases of the year with both explanations side by side (current | scenario)."""
    from fupin.policy.explain import sentence

    household = access.access_household(actor, household_id)
    members = list(household.persons.order_by("pk"))
    rosters = selectors.rosters(scenario.region, scenario.year, person_ids=[p.pk for p in members])
    base, changed_packs = shipped_packs(), scenario_packs(scenario)
    people = []
    for person in members:
        current = explain_person(rosters, person.pk, base)
        changed = explain_person(rosters, person.pk, changed_packs)
        for item in current:
            item["sentence"] = sentence(item["explanation"], base)
        for item in changed:
            item["sentence"] = sentence(item["explanation"], changed_packs)
        if current or changed:
            people.append({"person": person, "rows": _pair(current, changed),
                           "current": sum(i["amount"] for i in current if i["rule"] != "health.patient"),
                           "scenario": sum(i["amount"] for i in changed if i["rule"] != "health.patient")})
    return {"household": household, "people": people}


def _pair(current: list[dict], changed: list[dict]) -> list[dict]:
    """Items matched by case and rule; an item on one side only is paired with nothing."""
    key = lambda i: (i["kind"], i["case"], i["rule"])  # noqa: E731
    right = {key(i): i for i in changed}
    rows, seen = [], set()
    for i in current:
        rows.append({"left": i, "right": right.get(key(i))})
        seen.add(key(i))
    rows += [{"left": None, "right": i} for i in changed if key(i) not in seen]
    return rows


# ---- a scenario as law: the pack-change procedure ---------------------------------------------------

def procedure(region_code: str, when: dt.date) -> dict:
    return shipped_packs().for_region(region_code).lookup("workflow.pack_change", when).value


def proposal_start(*, actor: User, scenario_id: int, effective, source: str) -> Proposal:
    """Propose the scenario's values as a new dated version of its region's pack: each changed
    value from `effective`, citing `source`. The steps are the pack's `workflow.pack_change`."""
    scenario = access_scenario(actor, scenario_id)
    if not isinstance(effective, dt.date):
        try:
            effective = dt.date.fromisoformat(str(effective).strip())
        except ValueError:
            raise InvalidInput({"生效日期": "应写作 YYYY-MM-DD，如 2027-01-01"}) from None
    source = (source or "").strip()
    if not source:
        raise InvalidInput({"依据文件": "请填写文件名称或文号，如“甘府发〔2027〕1号”"})
    flow = procedure(scenario.region.code, effective)
    roles = flow.get("propose_roles", [])
    if actor.role not in roles:
        audit.record(actor, AuditAction.DENIED, object_type="whatif_scenario", object_id=scenario.pk,
                     result="denied", summary="提出政策包修订：角色不在 workflow.pack_change 的提出人之列")
        raise AccessDenied("您的角色不能提出政策包修订；可以提出的是：" + "、".join(_role_label(r) for r in roles))
    chain = shipped_packs().for_region(scenario.region.code)
    head = chain.head
    text = pack_version_text(head.name, scenario.changes, effective, source)   # refuses what a pack would
    with transaction.atomic():
        proposal = Proposal.objects.create(scenario=scenario, changes=scenario.changes, pack=head.name,
                                           effective=effective, source=source[:200], steps=flow["steps"],
                                           proposed_by=actor, pack_text=text)
        audit.record(actor, AuditAction.CREATE, object_type="whatif_proposal", object_id=proposal.pk,
                     summary=f"提出政策包修订：情景“{scenario.name}”自 {effective} 起生效（{source[:60]}）")
    return proposal


def pack_title(name: str) -> str:
    pack = shipped_packs().packs.get(name)
    return pack.title if pack else name


def _role_label(code: str) -> str:
    from fupin.core.roles import Role

    return Role(code).label if code in Role.values else code


def may_act(user: User, proposal: Proposal) -> bool:
    """Whose turn it is: a role the step names, never the proposer, never one who decided a
    step before (a second person at every step)."""
    if proposal.state != ProposalState.IN_PROGRESS:
        return False
    step = proposal.steps[proposal.step]
    deciders = {d["actor_id"] for d in proposal.decisions}
    return user.role in step.get("roles", []) and user.pk != proposal.proposed_by_id and user.pk not in deciders


def proposal_act(*, actor: User, proposal_id: int, approve: bool, comment: str = "") -> Proposal:
    proposal = access_proposal(actor, proposal_id)
    if not may_act(actor, proposal):
        audit.record(actor, AuditAction.DENIED, object_type="whatif_proposal", object_id=proposal.pk,
                     result="denied", summary="审批政策包修订：不是该步骤的办理人")
        raise FupinError("这一步不由您办理：须是该步骤规定的角色，且不是提出人或前面步骤的审批人")
    if not approve and not comment.strip():
        raise InvalidInput({"意见": "不同意时请写明理由"})
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.step != proposal.step or locked.state != ProposalState.IN_PROGRESS:
            raise FupinError("这一步已由他人办理，请刷新页面")
        step = locked.steps[locked.step]
        locked.decisions = [*locked.decisions, {"step": step["key"], "label": step["label"], "approved": approve,
                                                "actor_id": actor.pk, "actor": actor.username,
                                                "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                                                "comment": comment[:300]}]
        if not approve:
            locked.state = ProposalState.REJECTED
        elif locked.step + 1 >= len(locked.steps):
            locked.state = ProposalState.APPROVED
        else:
            locked.step += 1
        locked.save(update_fields=["decisions", "state", "step"])
        audit.record(actor, AuditAction.UPDATE, object_type="whatif_proposal", object_id=locked.pk,
                     summary=f"政策包修订“{locked.scenario.name}”：{step['label']}{'同意' if approve else '不同意'}"
                             + ("，已批准，可发布新版本政策包" if locked.state == ProposalState.APPROVED else ""))
    return locked


def pack_version_text(pack_name: str, changes: dict, effective: dt.date, source: str) -> str:
    """The pack's YAML with each changed value added as a new dated line (never an old line
    edited), checked by the pack loader. Refused when a value would not take effect for the
    simulated cases: an earlier line dated on or after `effective`, or a more specific pack
    inside the region that sets the parameter itself."""
    packs = shipped_packs()
    pack = packs.packs[pack_name]
    for other in packs.packs.values():
        inside = other.region.startswith(pack.region) and len(other.region) > len(pack.region)
        clash = sorted(n for n in changes if n in other.parameters)
        if inside and clash:
            raise FupinError(f"下级政策包“{other.title}”自己规定了{'、'.join(_described(n) for n in clash)}，"
                             f"修订“{pack.title}”对其辖区不起作用；请分别修订下级政策包")
    doc = yaml.safe_load(Path(pack.path).read_text(encoding="utf-8"))
    params = doc.setdefault("parameters", {}) or {}
    doc["parameters"] = params
    for name, value in changes.items():
        line = {"from": effective, "value": _yaml_value(value), "source": source}
        if name in params:
            last = max(v.start for v in pack.parameters[name].values)
            if effective <= last:
                raise InvalidInput({"生效日期": f"“{_described(name)}”已有 {last} 起的规定，新版本应晚于该日期生效"})
            params[name]["values"] = [*params[name]["values"], line]
        else:
            base = _param(packs, name)
            params[name] = {"unit": base.unit, "description": base.description, "values": [line]}
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
    try:
        parse_pack(yaml.safe_load(text), pack.path)
    except PolicyError as exc:
        raise InvalidInput({"参数": exc.message}) from None
    return text


def _param(packs, name):
    from fupin.policy.whatif import unit_of

    return unit_of(packs, name)


def _described(name: str) -> str:
    from fupin.policy.whatif import unit_of

    p = unit_of(shipped_packs(), name)
    return (p.description if p and p.description else name).split("（")[0]


def _yaml_value(value):
    if isinstance(value, bool) or isinstance(value, int):
        return value
    d = Decimal(str(value))
    return int(d) if d == d.to_integral_value() else float(d)   # yaml writes 0.08, 1450 as a reader expects

