"""Disease lists, service certificates, fixed subsidies and family-doctor follow-up (SPEC §6.2–6.4)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum

from fupin.core import access, audit
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, Region, User
from fupin.core.roles import Cap
from fupin.policy.errors import PolicyError
from fupin.policy.money import yuan
from fupin.registry.models import Person

from .models import Certificate, Condition, Contract, FixedSubsidy, Service
from .services import categories, packs

LISTS = Path(__file__).resolve().parents[2] / "policies" / "lists" / "diseases.yaml"


@lru_cache(maxsize=1)
def disease_lists() -> dict:
    doc = yaml.safe_load(LISTS.read_text(encoding="utf-8"))
    names = {}
    for cat in doc["concentrated_treatment"]["categories"]:
        for d in cat["diseases"]:
            names[d["code"]] = d["name"]
    for key in ("special_outpatient", "chronic_outpatient", "fixed_subsidy_conditions"):
        for d in doc[key]["diseases"]:
            names[d["code"]] = d["name"]
    return {"doc": doc, "names": names,
            "special": {d["code"] for d in doc["special_outpatient"]["diseases"]},
            "chronic": {d["code"] for d in doc["chronic_outpatient"]["diseases"]}}


def valid_certificate(person: Person, kind: str | None, on: dt.date) -> Certificate | None:
    qs = Certificate.objects.filter(person=person, valid_from__lte=on, valid_to__gte=on)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.first()


def require_certificate_for(person: Person, visit_type: str, on: dt.date) -> None:
    """A chronic or special outpatient visit is paid by insurance only with a valid certificate."""
    if visit_type == "chronic_outpatient" and valid_certificate(person, None, on) is None:
        raise FupinError(f"{person.name} 没有在 {on} 有效的门诊服务证，慢病/特殊病门诊不能按门诊统筹结算；"
                         "请先办理门诊服务证，或按普通门诊结算")


def _access_patient(actor: User, person: Person, cap: str, what: str) -> None:
    """The capability, then the person's region (outside it: not found). Checked before any
    transaction opens, so a refusal's audit row stays."""
    access.require(actor, cap, what=what)
    if person.household is None or not access.in_scope(actor, person.household.village_id):
        raise NotFound("找不到该人员，或此人不在您的管辖范围内")


def condition_record(*, actor: User, person: Person, code: str, diagnosed_on: dt.date) -> Condition:
    _access_patient(actor, person, Cap.RECORD_CONDITION, f"登记病情 {code}")
    if code not in disease_lists()["names"]:
        raise InvalidInput({"疾病": f"“{code}”不在病种目录中"})
    with transaction.atomic():
        c = Condition.objects.create(person=person, code=code, diagnosed_on=diagnosed_on)
        audit.record(actor, AuditAction.CREATE, object_type="condition", object_id=c.pk,
                     household_id=person.household_id,
                     summary=f"登记 {person.name} 患 {disease_lists()['names'][code]}（{diagnosed_on}）")
    return c


def certificate_issue(*, actor: User, person: Person, kind: str, disease: str, number: str,
                      valid_from: dt.date, valid_to: dt.date) -> Certificate:
    _access_patient(actor, person, Cap.RECORD_CONDITION, f"办理门诊服务证 {number}")
    lists = disease_lists()
    if disease not in lists[kind if kind in ("special", "chronic") else "special"]:
        raise InvalidInput({"病种": f"“{disease}”不是{'特殊病' if kind == 'special' else '慢性病'}门诊病种"})
    if not Condition.objects.filter(person=person, code=disease, resolved_on__isnull=True).exists():
        raise FupinError(f"{person.name} 没有登记 {lists['names'][disease]} 的确诊记录，不能办理门诊服务证")
    if valid_to < valid_from:
        raise InvalidInput({"有效期": "结束早于开始"})
    if not number.strip():
        raise InvalidInput({"证号": "必须填写"})
    with transaction.atomic():
        try:
            with transaction.atomic():
                cert = Certificate.objects.create(person=person, kind=kind, disease=disease, number=number,
                                                  valid_from=valid_from, valid_to=valid_to)
        except IntegrityError:
            raise FupinError(f"证号 {number} 已存在") from None
        audit.record(actor, AuditAction.CREATE, object_type="certificate", object_id=cert.pk,
                     household_id=person.household_id, summary=f"办理门诊服务证 {number}（{lists['names'][disease]}）")
    return cert


def _years_before(on: dt.date, years: int) -> dt.date:
    """The same day `years` earlier (29 February → 28 February)."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def fixed_subsidy_claim(*, actor: User, person: Person, kind: str, date: dt.date, region_code: str) -> FixedSubsidy:
    """Check access (the health bureau of the person's region), then eligibility and the
    per-person limit, then pay from the county's budget line of this kind."""
    _access_patient(actor, person, Cap.PAY_SUBSIDY, f"发放定额补助 {kind}")
    if not access.in_scope(actor, region_code):
        raise NotFound(f"区划 {region_code} 不在您的管辖范围内")
    chain = packs().for_region(region_code)
    try:
        if kind not in chain.lookup("health.fixed.kinds", date).value:
            raise FupinError(f"“{kind}”不是本地的定额补助种类")
        amount = chain.lookup(f"health.fixed.{kind}.amount", date).value
        period_rule = chain.lookup(f"health.fixed.{kind}.period", date).value
        poor = set(chain.lookup("health.poor_categories", date).value)
    except PolicyError as exc:
        raise FupinError(exc.message) from None
    return _fixed_subsidy_pay(actor, person, kind, date, region_code, chain, amount, period_rule, poor)


@transaction.atomic
def _fixed_subsidy_pay(actor, person, kind, date, region_code, chain, amount, period_rule, poor) -> FixedSubsidy:
    from fupin.funds import services as funds

    person = Person.objects.select_for_update(of=("self",)).select_related("household").get(pk=person.pk)
    if not poor & set(categories(person, region_code, date)):
        raise FupinError(f"{person.name} 不是建档立卡、监测、低保或特困对象，不享受定额补助")
    has = lambda code: Condition.objects.filter(person=person, code=code, diagnosed_on__lte=date).exists()  # noqa: E731
    checks = {
        "echinococcosis_surgery": (has("echinococcosis"), "没有包虫病确诊记录"),
        "schistosomiasis_late": (has("schistosomiasis_late"), "没有晚期血吸虫病确诊记录"),
        "kashin_beck": (has("kashin_beck"), "没有大骨节病确诊记录"),
        "poor_mother_delivery": (person.sex == "F", "孕产妇补助只适用于女性"),
        "disabled_child_0_6": (person.health == "disabled" and _age(person.birth_date, date) <=
                               chain.lookup("health.fixed.disabled_child_0_6.max_age", date).value,
                               "只适用于0–6岁残疾儿童"),
    }
    ok, why = checks[kind]
    if not ok:
        raise FupinError(f"{person.name} 不符合条件：{why}")
    period = {"lifetime": "终身", "year": str(date.year), "event": date.isoformat()}[period_rule]
    # what was paid and not reversed in the ledger since
    already = FixedSubsidy.objects.filter(person=person, kind=kind, period=period, transaction__reversals__isnull=True) \
        .aggregate(s=Sum("amount"))["s"] or 0
    if already + amount > amount:
        raise FupinError(f"{person.name} 的该项补助在{period}已领取 {yuan(already)} 元，达到每人上限 {yuan(amount)} 元")
    budget = funds.fixed_subsidy_account(region_code=region_code, kind=kind, name=f"健康定额补助 {kind}")
    txn = funds.payments_post(actor=actor, budget=budget, date=date, decision_type="fixed_subsidy",
                              decision_id=f"{person.pk}:{kind}:{period}",
                              payments=[funds.Payment(funds.payee_for_person(person), amount, f"health.fixed.{kind}",
                                                      period)])
    return FixedSubsidy.objects.create(person=person, kind=kind, date=date, period=period, amount=amount,
                                       recorded_by=actor, transaction=txn)


# ---- family doctors -------------------------------------------------------------------------

@dataclass(frozen=True)
class DuePerson:
    """Who the follow-up list names: read as plain values, not as model instances, because a
    county lists thousands (5,178 in the demo) and building Person, Household and Region objects
    for each was most of the page's time."""
    pk: int
    name: str
    village_id: str
    village_name: str


@dataclass(frozen=True)
class DueContract:
    team: str


def followup_status(user: User, region_code: str, on: dt.date) -> dict:
    """Who is overdue (by team and village), and the contract and management rates."""
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    chain = packs().for_region(region.code)
    p = lambda name: chain.lookup(name, on).value  # noqa: E731
    persons = access.persons_for(user).filter(alive=True, household__village_id__gte=lo, household__village_id__lte=hi)
    year_start = dt.date(on.year, 1, 1)
    elapsed = ((on - year_start).days + 1) / 366
    due = lambda n: -(-int(n * elapsed * 1000) // 1000)  # noqa: E731  (whole services due by now, rounded up)
    # Age groups by year of birth, as the year's service plan counts them (who turns 65 this year
    # is elderly all year). By exact birth date, moving `on` a day at a time would show on which
    # day each person enters a group: their birth date, next to a masked ID.
    elderly_born = dt.date(on.year - p("health.fd.elderly_age"), 12, 31)   # born in or before that year
    child_max = p("health.fd.child_max_age")
    child_born = dt.date(on.year - child_max - 1, 12, 31)                  # born after that year
    # The page took 2.7–7 s (issue 13) when each of the services, contracts and conditions was
    # asked "of these persons?" as a subquery over the whole county, and each listed person was
    # built as three model objects. Now only the persons the list can name are fetched, as plain
    # values; the small tables are read for the id range those persons span (an indexed range;
    # only the persons fetched are looked up in them); the contract rate is one count in SQL.
    valid = Contract.objects.filter(signed_on__lte=on, valid_to__gte=on)
    conditions = Condition.objects.filter(code__in=disease_lists()["chronic"], resolved_on__isnull=True)
    villages = dict(Region.objects.filter(code__gte=lo, code__lte=hi, level=5).values_list("code", "name"))
    people, born = {}, {}
    for pk, name, birth, village in persons.filter(
            Q(pk__in=conditions.values("person_id")) | Q(birth_date__lte=elderly_born) | Q(birth_date__gt=child_born)
    ).order_by().values_list("pk", "name", "birth_date", "household__village_id"):
        people[pk] = DuePerson(pk, name, village, villages.get(village, village))
        born[pk] = birth
    span = {"person_id__gte": min(people, default=0), "person_id__lte": max(people, default=-1)}
    done = {}
    for pid, kind, n in Service.objects.filter(**span, date__gte=year_start, date__lte=on) \
            .values_list("person_id", "kind").annotate(n=Count("id")):
        done[(pid, kind)] = n
    chronic = {pid for pid in conditions.filter(**span).values_list("person_id", flat=True) if pid in people}
    contracts = {pid: DueContract(team) for pid, team in valid.filter(**span).values_list("person_id", "team")
                 if pid in people}
    poor = persons.filter(household__status__in=chain.lookup("health.registered_poor_statuses", on).value)
    rate = poor.order_by().aggregate(total=Count("pk"), contracted=Count("pk", filter=Q(pk__in=valid.values("person_id"))))
    poor_total, poor_contracted = rate["total"], rate["contracted"]
    overdue = []
    needs = {"followup": p("health.fd.followups.chronic"), "check": p("health.fd.checks.chronic")}
    managed = 0
    for pid in chronic:
        person = people[pid]
        missing = [(k, needs[k] - done.get((pid, k), 0)) for k in ("check", "followup")
                   if done.get((pid, k), 0) < (needs[k] if k == "check" else due(needs[k]))]
        if done.get((pid, "followup"), 0) >= due(needs["followup"]):
            managed += 1
        if missing:
            overdue.append((person, contracts.get(pid), "慢病", missing))
    child_need, assess_from = p("health.fd.child_checks_per_year"), p("health.fd.assessment_overdue_from_month")
    child_group, elderly_group = f"0–{child_max}岁儿童", f"{p('health.fd.elderly_age')}岁以上"
    for pid, person in people.items():
        if pid in chronic:
            continue
        if born[pid] > child_born:  # young children: their yearly checks
            if done.get((pid, "child_check"), 0) < due(child_need):
                overdue.append((person, contracts.get(pid), child_group,
                                [("child_check", child_need - done.get((pid, "child_check"), 0))]))
            continue
        # due within the year; listed as overdue from the pack's month on
        if done.get((pid, "assessment"), 0) < 1 and on.month >= assess_from:
            overdue.append((person, contracts.get(pid), elderly_group, [("assessment", 1)]))
    ppm = 1_000_000
    overdue.sort(key=lambda r: ((r[1].team if r[1] else "（未签约）"), r[0].village_id, r[0].name))
    return {"region": region, "on": on, "overdue": overdue,
            "contract_rate_permille": poor_contracted * 1000 // poor_total if poor_total else 0,
            "contract_target_permille": p("health.fd.contract_target") * 1000 // ppm,
            "contract_meets": poor_contracted * ppm >= p("health.fd.contract_target") * poor_total,
            "chronic": len(chronic), "managed": managed,
            "management_rate_permille": managed * 1000 // len(chronic) if chronic else 0,
            "management_target_permille": p("health.fd.management_target") * 1000 // ppm,
            "management_meets": managed * ppm >= p("health.fd.management_target") * len(chronic)}


def import_services(user: User, data: bytes, filename: str = ""):
    """Services from the health system's Excel export; all or nothing; re-import changes nothing."""
    from fupin.core import idcard
    from fupin.exchange import excel
    from fupin.exchange.excel import CellError, Column, FileRejected, Problem

    access.require(user, Cap.IMPORT)
    kinds = {label: value for value, label in Service.KINDS} | {value: value for value, _ in Service.KINDS}

    def kind(v):
        if excel.is_blank(v) or str(v).strip() not in kinds:
            raise CellError(f"“{v}”不是服务类型；可选：{'、'.join(l for _, l in Service.KINDS)}")
        return kinds[str(v).strip()]

    def pid(v):
        r = idcard.check(v)
        if not r.valid:
            raise CellError(r.error)
        return r.id
    cols = [Column("id_number", "身份证号", pid, required=True, aliases=("证件号码",)),
            Column("kind", "服务类型", kind, required=True), Column("date", "服务日期", excel.date, required=True),
            Column("team", "签约团队", excel.text(60)), Column("doctor", "医生", excel.text(40))]
    try:
        table = excel.read_table(data, cols, filename=filename)
    except FileRejected as exc:
        return 0, 0, [Problem(None, None, None, None, exc.message)], None
    people = {p.id_number: p for p in access.persons_for(user).filter(
        id_number__in={v.get("id_number") for _, v in table.rows if v.get("id_number")})}
    problems = list(table.problems)
    for row, v in table.rows:
        if v.get("id_number") and v["id_number"] not in people:
            problems.append(Problem(row, "A", "身份证号", v["id_number"], "此人不在本辖区户籍库中"))
    if problems:
        return 0, 0, problems, excel.error_workbook(table, problems)
    created = unchanged = 0
    with transaction.atomic():
        for _, v in table.rows:
            _, made = Service.objects.get_or_create(person=people[v["id_number"]], kind=v["kind"], date=v["date"],
                                                    defaults={"team": v.get("team", ""), "doctor": v.get("doctor", "")})
            created += made
            unchanged += not made
        audit.record(user, AuditAction.IMPORT, object_type="fd_services", object_id=filename[:60],
                     summary=f"导入家庭医生服务记录：新增 {created}、已有 {unchanged}")
    return created, unchanged, [], None
