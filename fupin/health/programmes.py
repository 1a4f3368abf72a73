"""Disease lists, service certificates, fixed subsidies and family-doctor follow-up (SPEC §6.2–6.4)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum

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
    """The contract and management rates, and the whole follow-up list sorted by team, village and
    name: [(person, contract or None, group, [(service, missing)])]. The page does not read the
    whole list: it counts and pages `followup.find` in the database."""
    from . import followup

    s = followup.figures(user, region_code, on)
    lo, hi = s["region"].code_range()
    villages = dict(Region.objects.filter(code__gte=lo, code__lte=hi, level=5).values_list("code", "name"))
    s["overdue"] = [(DuePerson(r["pid"], r["pname"], r["vid"], villages.get(r["vid"], r["vid"])),
                     None if r["team"] == followup.UNSIGNED else DueContract(r["team"]), r["grp"], followup.missing(r))
                    for r in followup.rows(user, region_code, on).order_by(*followup.DEFAULT_ORDER)]
    return s


def pregnancy_register(*, actor: User, person: Person, registered_on: dt.date, expected_on: dt.date):
    """Start following a pregnancy (建册)."""
    from .models import Pregnancy

    _access_patient(actor, person, Cap.RECORD_CONDITION, "孕产妇建册")
    if person.sex != "F":
        raise InvalidInput({"身份证号": "孕产妇建册只适用于女性"})
    if expected_on <= registered_on:
        raise InvalidInput({"预产期": "应晚于建册日期"})
    if Pregnancy.objects.filter(person=person, delivered_on__isnull=True).exists():
        raise FupinError(f"{person.name} 已建册且尚未登记分娩")
    with transaction.atomic():
        g = Pregnancy.objects.create(person=person, registered_on=registered_on, expected_on=expected_on)
        audit.record(actor, AuditAction.CREATE, object_type="pregnancy", object_id=g.pk, household_id=person.household_id,
                     summary=f"{person.name} 孕产妇建册（{registered_on}，预产期 {expected_on}）")
    return g


def pregnancy_delivered(*, actor: User, person: Person, on: dt.date):
    """Delivery recorded: prenatal checks end, postnatal visits begin."""
    from .models import Pregnancy

    _access_patient(actor, person, Cap.RECORD_CONDITION, "登记分娩")
    g = Pregnancy.objects.filter(person=person, delivered_on__isnull=True).first()
    if g is None:
        raise NotFound(f"{person.name} 没有未分娩的孕产妇建册记录")
    if on < g.registered_on:
        raise InvalidInput({"分娩日期": f"不能早于建册日期 {g.registered_on}"})
    with transaction.atomic():
        Pregnancy.objects.filter(pk=g.pk).update(delivered_on=on)
        audit.record(actor, AuditAction.UPDATE, object_type="pregnancy", object_id=g.pk, household_id=person.household_id,
                     summary=f"{person.name} 分娩（{on}）")
    g.refresh_from_db()
    return g


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


# ---- 三个一批: treatment batches ------------------------------------------------------------------

def access_treatment_case(user: User, case_id, cap: str = Cap.RECORD_CONDITION):
    from .models import TreatmentCase

    access.require(user, cap)
    case = TreatmentCase.objects.select_related("person__household", "hospital").filter(pk=case_id).first() \
        if str(case_id).isdigit() else None
    if case is None or case.person.household is None or not access.in_scope(user, case.person.household.village_id):
        raise NotFound("找不到该救治记录，或不在您的管辖范围内")
    return case


def treatment_case_open(*, actor: User, condition_id, batch: str, year: int, hospital_id, on: dt.date):
    """Put a patient in a treatment batch with the hospital that treats them, from the patient's
    recorded diagnosis (the candidate list). The disease must belong to the batch, within its age
    limit. A designated hospital may be outside the county (city and province hospitals)."""
    from .models import Batch, Hospital, TreatmentCase
    from .selectors import batch_diseases

    what = f"纳入{Batch(batch).label}" if batch in Batch.values else "纳入救治批次"   # the audit log is a screen
    access.require(actor, Cap.RECORD_CONDITION, what=what)
    condition = Condition.objects.select_related("person__household").filter(pk=condition_id).first() \
        if str(condition_id).isdigit() else None
    if condition is None:
        raise NotFound("找不到该病情记录，或不在您的管辖范围内")
    person = condition.person
    _access_patient(actor, person, Cap.RECORD_CONDITION, what)
    if batch not in Batch.values:
        raise InvalidInput({"批次": "请从列表中选择"})
    diseases = batch_diseases(batch)
    label = Batch(batch).label
    disease = condition.code
    name = disease_lists()["names"][disease]
    if disease not in diseases:
        raise InvalidInput({"病种": f"{name}不属于{label}"})
    if condition.diagnosed_on > on:
        raise InvalidInput({"日期": f"早于确诊日期 {condition.diagnosed_on}"})
    if diseases[disease] is not None and _age(person.birth_date, condition.diagnosed_on) > diseases[disease]:
        raise FupinError(f"{name}按{label}救治的年龄上限为 {diseases[disease]} 岁，{person.name} 确诊时已超过")
    hospital = Hospital.objects.filter(pk=hospital_id).first() if str(hospital_id).isdigit() else None
    if hospital is None:
        raise InvalidInput({"救治医院": "请从列表中选择"})
    with transaction.atomic():
        try:
            with transaction.atomic():
                case = TreatmentCase.objects.create(person=person, batch=batch, year=year, disease=disease,
                                                    hospital=hospital, assigned_on=on, opened_by=actor)
        except IntegrityError:
            raise FupinError(f"{person.name} 的{name}已在 {year} 年{label}中") from None
        audit.record(actor, AuditAction.CREATE, object_type="treatment_case", object_id=case.pk,
                     household_id=person.household_id,
                     summary=f"{person.name} 纳入 {year} 年{label}（{name}），救治医院 {hospital.name}")
    return case


def treatment_case_advance(*, actor: User, case_id, on: dt.date, outcome: str = ""):
    """The next stage: treatment started, then treatment ended with its outcome."""
    from .models import Outcome, Stage, TreatmentCase

    case = access_treatment_case(actor, case_id)
    if case.stage == Stage.TREATED:
        raise FupinError("该患者已完成救治")
    if case.stage == Stage.TREATING and outcome not in Outcome.values:
        raise InvalidInput({"救治结果": "请选择"})
    start = case.assigned_on if case.stage == Stage.ASSIGNED else case.started_on
    if on < start:
        raise InvalidInput({"日期": f"不能早于上一步的日期 {start}"})
    with transaction.atomic():
        locked = TreatmentCase.objects.select_for_update().get(pk=case.pk)
        if locked.stage != case.stage:
            raise FupinError("该记录刚被他人更新，请刷新后再办理")
        if locked.stage == Stage.ASSIGNED:
            locked.stage, locked.started_on = Stage.TREATING, on
            fields, what = ["stage", "started_on"], "开始救治"
        else:
            locked.stage, locked.ended_on, locked.outcome = Stage.TREATED, on, outcome
            fields, what = ["stage", "ended_on", "outcome"], f"完成救治，结果：{Outcome(outcome).label}"
        locked.save(update_fields=fields)
        audit.record(actor, AuditAction.UPDATE, object_type="treatment_case", object_id=locked.pk,
                     household_id=case.person.household_id,
                     summary=f"{case.person.name} {disease_lists()['names'][case.disease]}：{what}（{on}）")
    return locked


# ---- family-doctor contracts: sign (a person or the whole household), renew, end ---------------

def _add_months(on: dt.date, months: int) -> dt.date:
    """The same day `months` later (31 January + 1 month → 28/29 February)."""
    y, m = divmod(on.month - 1 + months, 12)
    year, month = on.year + y, m + 1
    for day in (on.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise ValueError(on)


def live_contracts(on: dt.date):
    """Contracts in force on `on`: signed, not expired, not ended."""
    return Contract.objects.filter(signed_on__lte=on, valid_to__gte=on).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=on))


def contract_terms(region_code: str, team: str, doctor: str, package: str, on: dt.date) -> tuple[int, dict]:
    """The one check of a contract's terms (the form and the import): the term in months, and
    what is wrong, by field."""
    chain = packs().for_region(region_code)
    try:
        packages = chain.lookup("health.fd.packages", on).value
        months = chain.lookup("health.fd.contract_months", on).value
    except PolicyError as exc:
        raise FupinError(exc.message) from None
    errors = {}
    if not team.strip():
        errors["签约团队"] = "必须填写"
    if not doctor.strip():
        errors["责任医生"] = "必须填写"
    if package not in packages:
        errors["服务包"] = f"请从列表中选择：{'、'.join(packages)}"
    return months, errors


def contract_sign(*, actor: User, person: Person, whole_household: bool, team: str, doctor: str, package: str,
                  signed_on: dt.date) -> list[Contract]:
    """Sign a family-doctor contract for a person, or for every living member of the person's
    household who has none in force. The term and the service packages are pack data."""
    _access_patient(actor, person, Cap.RECORD_CONDITION, f"家庭医生签约 {team}")
    months, errors = contract_terms(person.household.village_id, team, doctor, package, signed_on)
    if errors:
        raise InvalidInput(errors)
    members = list(person.household.persons.filter(alive=True).order_by("pk")) if whole_household else [person]
    holding = set(live_contracts(signed_on).filter(person__in=members).values_list("person_id", flat=True))
    to_sign = [m for m in members if m.pk not in holding]
    if not to_sign:
        names = "、".join(m.name for m in members)
        raise FupinError(f"{names} 在 {signed_on} 已有有效的签约，无需重复签约；到期后请续签")
    valid_to = _add_months(signed_on, months) - dt.timedelta(days=1)
    with transaction.atomic():
        made = [Contract.objects.create(person=m, team=team.strip(), doctor=doctor.strip(), package=package,
                                        signed_on=signed_on, valid_to=valid_to) for m in to_sign]
        for c in made:
            audit.record(actor, AuditAction.CREATE, object_type="fd_contract", object_id=c.pk,
                         household_id=person.household_id,
                         summary=f"{c.person.name} 与 {c.team}（{c.doctor}）签约{package}，{signed_on} 至 {valid_to}")
    return made


def _access_contract(actor: User, person: Person, on: dt.date, what: str) -> Contract:
    """The person's contract in force on `on` (or the last one signed before it, to renew)."""
    _access_patient(actor, person, Cap.RECORD_CONDITION, what)
    contract = Contract.objects.filter(person=person, signed_on__lte=on, ended_on__isnull=True) \
        .order_by("-valid_to").first()
    if contract is None:
        raise NotFound(f"{person.name} 没有签约记录，请先签约")
    return contract


def contract_renew(*, actor: User, person: Person, on: dt.date) -> Contract:
    """The next term with the same team, doctor and package, from the day after the last term ends
    (or from `on`, if the last term ended longer ago)."""
    _access_patient(actor, person, Cap.RECORD_CONDITION, "家庭医生续签")
    last = Contract.objects.filter(person=person, ended_on__isnull=True).order_by("-valid_to").first()
    if last is None:
        raise NotFound(f"{person.name} 没有签约记录，请先签约")
    if last.signed_on > on:   # the next term is already there
        raise FupinError(f"{person.name} 已续签（{last.signed_on} 至 {last.valid_to}）")
    months = packs().for_region(person.household.village_id).lookup("health.fd.contract_months", on).value
    start = max(last.valid_to + dt.timedelta(days=1), on)
    with transaction.atomic():
        c = Contract.objects.create(person=person, team=last.team, doctor=last.doctor, package=last.package,
                                    signed_on=start, valid_to=_add_months(start, months) - dt.timedelta(days=1))
        audit.record(actor, AuditAction.CREATE, object_type="fd_contract", object_id=c.pk,
                     household_id=person.household_id,
                     summary=f"{person.name} 续签 {c.team}（{c.doctor}）{c.package}，{c.signed_on} 至 {c.valid_to}")
    return c


def contract_end(*, actor: User, person: Person, on: dt.date, reason: str) -> Contract:
    """End the contract in force (moved away, declined, died); it stops counting from `on`."""
    c = _access_contract(actor, person, on, "家庭医生解约")
    if not reason.strip():
        raise InvalidInput({"解约原因": "必须填写"})
    if c.valid_to < on:
        raise FupinError(f"{person.name} 的签约已于 {c.valid_to} 到期，无需解约")
    with transaction.atomic():
        Contract.objects.filter(pk=c.pk).update(ended_on=on, end_reason=reason.strip()[:100])
        audit.record(actor, AuditAction.UPDATE, object_type="fd_contract", object_id=c.pk,
                     household_id=person.household_id, summary=f"{person.name} 与 {c.team} 解约（{on}）：{reason.strip()}")
    c.refresh_from_db()
    return c


def service_record(*, actor: User, person: Person, kind: str, on: dt.date, team: str = "", doctor: str = "",
                   finding: str = "") -> Service:
    """One follow-up or check recorded by hand (the same record an import makes). A check-up
    that finds a chronic disease records the diagnosis, which opens its follow-up schedule."""
    kinds = dict(Service.KINDS)
    _access_patient(actor, person, Cap.RECORD_CONDITION, f"登记{kinds.get(kind, '随访')}")   # no code on the audit log
    if kind not in kinds:
        raise InvalidInput({"服务类型": f"请从列表中选择：{'、'.join(kinds.values())}"})
    if finding and (kind != "check" or finding not in disease_lists()["chronic"]):
        raise InvalidInput({"体检发现": "只有健康体检可登记发现的慢病，请从列表中选择"})
    if Service.objects.filter(person=person, kind=kind, date=on).exists():
        raise FupinError(f"{person.name} {on} 的{kinds[kind]}已登记")
    with transaction.atomic():
        s = Service.objects.create(person=person, kind=kind, date=on, team=team.strip()[:60], doctor=doctor.strip()[:40])
        found = ""
        if finding and not Condition.objects.filter(person=person, code=finding, resolved_on__isnull=True).exists():
            Condition.objects.create(person=person, code=finding, diagnosed_on=on)
            found = f"，发现{disease_lists()['names'][finding]}，纳入慢病随访"
        audit.record(actor, AuditAction.CREATE, object_type="fd_service", object_id=s.pk,
                     household_id=person.household_id, summary=f"{person.name} {kinds[kind]}（{on}）{found}")
    return s


def import_contracts(user: User, data: bytes, filename: str = ""):
    """Contracts from the health system's Excel list (身份证号、签约团队、责任医生、服务包、签约日期):
    the same checks as signing by hand; all or nothing; the same contract imported again changes nothing."""
    from fupin.core import idcard
    from fupin.exchange import excel
    from fupin.exchange.excel import CellError, Column, FileRejected, Problem

    access.require(user, Cap.RECORD_CONDITION, what="导入家庭医生签约")

    def pid(v):
        r = idcard.check(v)
        if not r.valid:
            raise CellError(r.error)
        return r.id
    cols = [Column("id_number", "身份证号", pid, required=True, aliases=("证件号码",)),
            Column("team", "签约团队", excel.text(60), required=True), Column("doctor", "责任医生", excel.text(40), required=True),
            Column("package", "服务包", excel.text(40), required=True), Column("date", "签约日期", excel.date, required=True)]
    letter = {"签约团队": "B", "责任医生": "C", "服务包": "D"}
    try:
        table = excel.read_table(data, cols, filename=filename)
    except FileRejected as exc:
        return 0, 0, [Problem(None, None, None, None, exc.message)], None
    people = {p.id_number: p for p in access.persons_for(user).select_related("household").filter(
        id_number__in={v.get("id_number") for _, v in table.rows if v.get("id_number")})}
    problems, plan = list(table.problems), []
    for row, v in table.rows:
        person = people.get(v.get("id_number"))
        if v.get("id_number") and person is None:
            problems.append(Problem(row, "A", "身份证号", v["id_number"], "此人不在本辖区户籍库中"))
        if person is None or "date" not in v:
            continue
        months, errors = contract_terms(person.household.village_id, v.get("team", ""), v.get("doctor", ""),
                                        v.get("package", ""), v["date"])
        problems += [Problem(row, letter[k], k, v.get({"签约团队": "team", "责任医生": "doctor", "服务包": "package"}[k]), m)
                     for k, m in errors.items()]
        same = Contract.objects.filter(person=person, signed_on=v["date"], team=v.get("team", "")).exists()
        if not same and live_contracts(v["date"]).filter(person=person).exists():
            problems.append(Problem(row, "E", "签约日期", v["date"], f"{person.name} 在该日已有有效的签约"))
        plan.append((person, v, months, same))
    if problems:
        return 0, 0, problems, excel.error_workbook(table, problems)
    created = unchanged = 0
    with transaction.atomic():
        for person, v, months, same in plan:
            if same:
                unchanged += 1
                continue
            Contract.objects.create(person=person, team=v["team"], doctor=v["doctor"], package=v["package"],
                                    signed_on=v["date"], valid_to=_add_months(v["date"], months) - dt.timedelta(days=1))
            created += 1
        audit.record(user, AuditAction.IMPORT, object_type="fd_contracts", object_id=filename[:60],
                     summary=f"导入家庭医生签约：新增 {created}、已有 {unchanged}")
    return created, unchanged, [], None


def read_marked_ids(user: User, data: bytes, filename: str = "") -> tuple[set[str], list]:
    """The insurance office's list of marked persons (a column 身份证号): the IDs, or the problems."""
    from fupin.core import idcard
    from fupin.exchange import excel
    from fupin.exchange.excel import CellError, Column, FileRejected, Problem

    access.require(user, Cap.RECORD_CONDITION, what="比对医保标识名单")

    def pid(v):
        r = idcard.check(v)
        if not r.valid:
            raise CellError(r.error)
        return r.id
    try:
        table = excel.read_table(data, [Column("id_number", "身份证号", pid, required=True, aliases=("证件号码", "公民身份号码"))],
                                 filename=filename)
    except FileRejected as exc:
        return set(), [Problem(None, None, None, None, exc.message)]
    if table.problems:
        return set(), list(table.problems)
    ids = {v["id_number"] for _, v in table.rows}
    audit.record(user, AuditAction.IMPORT, object_type="insurance_marks", object_id=filename[:60],
                 summary=f"比对医保标识名单：{len(ids)} 人")
    return ids, []
