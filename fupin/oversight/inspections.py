"""Inspections (自查、复查、抽查、第三方评估): seeded stratified sampling, findings, 两率一度 (SPEC §12).

The sampling method, so that anyone can draw the same sample again from the seed:
  1. population: the households of the campaign's region whose status is one of the campaign's
     statuses, at the moment of drawing;
  2. strata: (township, status) — the township is the first nine digits of the village code;
  3. in each stratum, taken in code order, the households are sorted by household number and
     `per_stratum` of them (all, if fewer) are drawn with Python's `random.Random(seed|township|status)
     .sample(...)` — a documented, version-stable generator seeded by text;
  4. the visit sheet lists the drawn households by stratum, then by household number.

Rates (all findings of the campaign, or of one township):
  错评率 = findings "wrongly identified" / findings on households of identified statuses
  漏评率 = findings "wrongly left out"  / findings on households of other statuses (待识别)
  错退率 = exits found wrong            / findings on exited households with an exit verdict
  群众认可度 = 满意 + 基本满意            / all findings
each with its Wilson score interval at the confidence level of policies/problems.yaml.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from fupin.core import access, audit
from fupin.core.errors import InvalidInput, NotFound
from fupin.core.models import AuditAction, User
from fupin.core.roles import Cap

from . import policy
from .models import Campaign, CampaignKind, Finding, Identification, Problem, ProblemSource, Sample, Satisfaction


def _rules() -> dict:
    return policy.problems()["inspections"]


def draw(households, *, seed: str, per_stratum: int) -> list[tuple[object, str, str]]:
    """The sample: [(household, township code, status)], reproducible from the seed (method above)."""
    strata: dict[tuple[str, str], list] = {}
    for h in households:
        township = h.village_id[:9] + "000"
        strata.setdefault((township, h.status), []).append(h)
    out = []
    for (township, status) in sorted(strata):
        members = sorted(strata[(township, status)], key=lambda h: h.number)
        picked = random.Random(f"{seed}|{township}|{status}").sample(members, min(per_stratum, len(members)))
        out += [(h, township, status) for h in sorted(picked, key=lambda h: h.number)]
    return out


def campaign_create(*, actor: User, name: str, kind: str, region_code: str, start: dt.date, end: dt.date,
                    team: str, seed: str, per_stratum: int, statuses: list[str]) -> Campaign:
    from fupin.registry.choices import Status

    access.require(actor, Cap.INSPECT, what="组织检查抽样")
    region = access.access_region(actor, region_code)
    errors = {}
    if not name.strip():
        errors["名称"] = "必须填写"
    if kind not in CampaignKind.values:
        errors["类型"] = "请从列表中选择检查类型"
    if end < start:
        errors["结束日期"] = "不能早于开始日期"
    if not team.strip():
        errors["检查组"] = "请填写检查组成员"
    if not seed.strip():
        errors["抽样种子"] = "请填写抽样种子（如检查通知的文号），同一种子可重现同一样本"
    if per_stratum < 1:
        errors["每层抽取户数"] = "至少 1 户"
    bad = [s for s in statuses if s not in Status.values]
    if not statuses or bad:
        errors["抽样对象状态"] = "请至少选择一种户状态"
    if errors:
        raise InvalidInput(errors)
    lo, hi = region.code_range()
    population = access.households_for(actor).filter(village_id__gte=lo, village_id__lte=hi, status__in=statuses)
    with transaction.atomic():
        c = Campaign.objects.create(name=name.strip()[:120], kind=kind, region=region, start=start, end=end,
                                    team=team.strip()[:300], seed=seed.strip()[:40], per_stratum=per_stratum,
                                    statuses=statuses, created_by=actor)
        picked = draw(population.only("pk", "number", "village_id", "status"), seed=c.seed, per_stratum=per_stratum)
        Sample.objects.bulk_create([Sample(campaign=c, household=h, township=t, status=s, order=i)
                                    for i, (h, t, s) in enumerate(picked, start=1)])
        audit.record(actor, AuditAction.CREATE, object_type="campaign", object_id=c.pk,
                     summary=f"{c.get_kind_display()}：{c.name}，抽取 {len(picked)} 户",
                     detail={"seed": c.seed, "per_stratum": per_stratum, "statuses": statuses, "drawn": len(picked)})
    return c


def campaigns_for(user: User):
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return Campaign.objects.filter(region_id__gte=lo, region_id__lte=hi).select_related("region")


def access_campaign(user: User, pk: int) -> Campaign:
    c = campaigns_for(user).filter(pk=pk).first()
    if c is None:
        raise NotFound(f"找不到检查（编号 {pk}），或不在您的管辖范围内")
    return c


def finding_record(*, actor: User, campaign: Campaign, sample_pk: int, identification: str,
                   exit_correct: bool | None, satisfaction: str, note: str = "", client_token: str = "",
                   today: dt.date | None = None) -> Finding:
    """Record (or replace) what was found at one sampled household. The same client token saved
    twice (a phone retrying) changes nothing the second time. Errors found become problems, once."""
    access.require(actor, Cap.INSPECT, what=f"记录核查结果：检查 {campaign.pk}")
    sample = Sample.objects.select_related("household").filter(pk=sample_pk, campaign=campaign).first()
    if sample is None or not access.in_scope(actor, sample.household.village_id):
        raise NotFound("找不到这户抽样户，或不在您的管辖范围内")
    existing = Finding.objects.filter(sample=sample).first()
    if existing is not None and client_token and existing.client_token == client_token:
        return existing
    errors = {}
    if identification not in Identification.values:
        errors["识别情况"] = "请选择识别情况"
    if satisfaction not in Satisfaction.values:
        errors["群众认可度"] = "请选择满意、基本满意或不满意"
    if sample.status == "exited" and exit_correct is None:
        errors["退出准确"] = "已脱贫户请选择退出是否准确"
    if sample.status != "exited":
        exit_correct = None
    if errors:
        raise InvalidInput(errors)
    today = today or timezone.localdate()
    with transaction.atomic():
        finding, created = Finding.objects.update_or_create(sample=sample, defaults={
            "identification": identification, "exit_correct": exit_correct, "satisfaction": satisfaction,
            "note": note.strip()[:500], "recorded_by": actor, "client_token": client_token[:64]})
        audit.record(actor, AuditAction.CREATE if created else AuditAction.UPDATE, object_type="finding",
                     object_id=finding.pk, household_id=sample.household_id,
                     summary=f"核查结果：{campaign.name} {sample.household.number}",
                     detail={"identification": identification, "exit_correct": exit_correct,
                             "satisfaction": satisfaction})
        _problems_from(actor, campaign, sample, finding, today)
    return finding


def _problems_from(actor: User, campaign: Campaign, sample: Sample, finding: Finding, today: dt.date) -> None:
    kinds = []
    if finding.identification != Identification.CORRECT:
        kinds.append(finding.identification)
    if finding.exit_correct is False:
        kinds.append("wrong_exit")
    if finding.satisfaction == Satisfaction.UNSATISFIED:
        kinds.append("unsatisfied")
    rules = _rules()["findings"]
    deadline = today + dt.timedelta(days=policy.problems()["rectify_days"])
    for kind in kinds:
        key = f"finding:{sample.pk}:{kind}"
        if Problem.objects.filter(source_key=key).exists():
            continue
        rule = rules[kind]
        title = rule["title"].format(campaign=campaign.name, household=sample.household.number,
                                     note=finding.note or "见核查记录")
        p = Problem.objects.create(type=rule["type"], title=title[:300], region_id=sample.household.village_id,
                                   household=sample.household, owner_unit=rule["owner_unit"], deadline=deadline,
                                   source=ProblemSource.INSPECTION, source_key=key, created_by=actor)
        audit.record(actor, AuditAction.CREATE, object_type="problem", object_id=p.pk,
                     household_id=sample.household_id, summary=f"检查发现问题：{policy.problem_types()[p.type]}",
                     detail={"state": p.state, "source_key": key})


# ---- 两率一度 ---------------------------------------------------------------------------------------

@dataclass
class Rate:
    name: str
    k: int                    # cases counted (errors, or the satisfied)
    n: int                    # findings it is a share of
    lo: int | None = None     # Wilson interval, per mille (floor / ceil)
    hi: int | None = None

    @property
    def permille(self) -> int | None:
        return None if not self.n else self.k * 1000 // self.n

    @property
    def text(self) -> str:
        from .selectors import percent

        if not self.n:
            return "—（无核查样本）"
        return f"{percent(self.permille)}（{self.k}/{self.n}，{_rules()['confidence']['level']}置信区间 " \
               f"{percent(self.lo)}–{percent(self.hi)}）"


def wilson(k: int, n: int) -> tuple[int, int]:
    """The Wilson score interval of k successes in n, per mille, widened outward to whole per mille."""
    z = float(Decimal(_rules()["confidence"]["z"]))
    p = k / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denom = 1 + z * z / n
    return max(0, math.floor((centre - margin) / denom * 1000)), min(1000, math.ceil((centre + margin) / denom * 1000))


def _rate(name: str, k: int, n: int) -> Rate:
    r = Rate(name, k, n)
    if n:
        r.lo, r.hi = wilson(k, n)
    return r


def rates(findings) -> list[Rate]:
    identified = set(_rules()["identified_statuses"])
    rows = list(findings.values("identification", "exit_correct", "satisfaction", "sample__status"))
    ident = [r for r in rows if r["sample__status"] in identified]
    other = [r for r in rows if r["sample__status"] not in identified]
    exits = [r for r in rows if r["sample__status"] == "exited" and r["exit_correct"] is not None]
    return [
        _rate("错评率", sum(r["identification"] == Identification.WRONGLY_IN for r in ident), len(ident)),
        _rate("漏评率", sum(r["identification"] == Identification.WRONGLY_OUT for r in other), len(other)),
        _rate("错退率", sum(r["exit_correct"] is False for r in exits), len(exits)),
        _rate("群众认可度", sum(r["satisfaction"] != Satisfaction.UNSATISFIED for r in rows), len(rows)),
    ]


def campaign_rates(campaign: Campaign) -> dict:
    """The rates of the whole campaign and of each township in it."""
    from fupin.core.models import Region

    findings = Finding.objects.filter(sample__campaign=campaign)
    townships = sorted(set(campaign.samples.values_list("township", flat=True)))
    names = dict(Region.objects.filter(code__in=townships).values_list("code", "name"))
    return {"all": rates(findings),
            "by_township": [(names.get(t, t), rates(findings.filter(sample__township=t))) for t in townships]}


def rates_for_region(user: User, region) -> list[tuple[Campaign, list[Rate]]]:
    """For the board: each campaign in the user's scope with findings in this region, its rates there."""
    lo, hi = region.code_range()
    out = []
    for c in campaigns_for(user).filter(samples__household__village_id__gte=lo,
                                        samples__household__village_id__lte=hi).distinct()[:5]:
        out.append((c, rates(Finding.objects.filter(sample__campaign=c, sample__household__village_id__gte=lo,
                                                    sample__household__village_id__lte=hi))))
    return out
