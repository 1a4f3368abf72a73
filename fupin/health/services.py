"""Settling a claim at the window: read, compute with the policy rules (no transaction open),
then one short transaction that posts the ledger entries (through funds, the ledger's only
writer), moves the patient's accumulators and stores the claim — or does nothing at all.

Each action checks access first (the hospital window of the hospital's and the patient's
region; a reversal by a second person), then opens its transaction: a refusal's DENIED audit
row is never rolled back.
"""
from __future__ import annotations

import datetime as dt
import random
import time

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from fupin.core import access, audit, sql
from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, AuditResult, User
from fupin.core.roles import Cap
from fupin.funds import services as funds
from fupin.funds.models import Account, TxnKind
from fupin.policy.errors import PolicyError
from fupin.policy.money import max_fen
from fupin.policy.money import parse_yuan
from fupin.policy.packs import shipped_packs
from fupin.policy.rules import health as rules
from fupin.registry.models import Person
from fupin.registry.selectors import find_person

from .models import Accumulator, Claim, ClaimStatus, Hospital

# who pays each rule's amount: (account key, name); the accounts are per county
INSURERS = {"health.basic": ("insurer:basic", "基本医疗保险基金"),
            "health.critical_illness": ("insurer:ci", "大病保险"),
            "health.assistance": ("assistance:medical", "医疗救助资金"),
            "health.patient": ("patients", "患者个人支付")}
AMOUNTS = (("total", "总费用"), ("in_policy", "目录内费用"), ("waivable", "可减免费用"))

packs = shipped_packs


def find_patient(user: User, raw_id: str) -> Person:
    access.require(user, Cap.FIND_BY_FULL_ID)
    return find_person(user, raw_id)


def categories(person: Person, region_code: str, when: dt.date) -> list[str]:
    """The patient's categories, straight from the registry (one source)."""
    chain = packs().for_region(region_code)
    out = []
    if person.assistance == "tekun":
        out.append("tekun")
    if person.assistance == "dibao":
        out.append("dibao")
    status = person.household.status if person.household else None
    if status in chain.lookup("health.registered_poor_statuses", when).value:
        out.append("registered_poor")
    if status in chain.lookup("health.monitored_statuses", when).value:
        out.append("monitored")
    return out


def parse_bill_amounts(values: dict) -> dict:
    """The bill's amounts as typed or sent (yuan) → fen, all errors at once (one parser:
    fupin.policy.money.parse_yuan)."""
    out, errors = {}, {}
    for key, label in AMOUNTS:
        try:
            out[key] = parse_yuan(values.get(key) if values.get(key) not in (None, "") else "0", label)
        except PolicyError as exc:
            errors[label] = getattr(exc, "problem", exc.message)
    if errors:
        raise InvalidInput(errors)
    return out


def fund_account(region_code: str, fund: str, when: dt.date) -> Account:
    """The top-up fund `fund` of the county of `region_code` (a hospital's region)."""
    name = packs().for_region(region_code).lookup(f"health.topup.name.{fund}", when).value
    return funds.topup_fund_account(region_code=region_code, fund=fund, name=name)


def hospital_account(h: Hospital) -> Account:
    return funds.institution_payee(code=h.code, name=h.name, region_code=h.region_id)


def hospital_by_code(code: str) -> Hospital | None:
    """The hospital with this code (one precompiled read: the window's every claim names it)."""
    row = sql.fetch_one(f"SELECT {sql.columns(Hospital, 'h')} FROM {sql.table(Hospital)} h WHERE h.code = %s", [code])
    return None if row is None else sql.instance(Hospital, row, 0, "h")


def _ytd(person: Person, year: int, adding: tuple[str, list] | None = None) -> dict:
    """The patient's year-to-date figures (one precompiled read). With `adding` (an upsert of
    `_upsert`, PostgreSQL only), the read and that add are one statement: the parts of a WITH share
    one snapshot, so the read gives the figures as they were before the add."""
    read = f"SELECT key, amount FROM {sql.table(Accumulator)} WHERE person_id = %s AND year = %s"
    if adding is None:
        return dict(sql.fetch(read, [person.pk, year]))
    return dict(sql.fetch(f"WITH added AS ({adding[0]}) {read}", [*adding[1], person.pk, year]))


def _lock_patient(person: Person) -> None:
    """Inside the write: the patient's own row lock (FOR NO KEY UPDATE; SQLite's write transaction
    holds the whole database already), so a second window settling for the same patient waits
    here. The figures are read again by the next statement: a read in this same statement would
    see them as they were before the wait (PostgreSQL re-checks only the locked row)."""
    if connection.features.has_select_for_update:
        sql.fetch(f"SELECT id FROM {sql.table(Person)} WHERE id = %s FOR NO KEY UPDATE", [person.pk])


def build_claim(person: Person, hospital: Hospital, bill: dict, ytd: dict, balances: dict, funds_: tuple,
                payers: tuple = ()) -> dict:
    """The claim as the rules read it (docs/settlement.md); the bill's amounts are fen.
    `payers`: the pack's chain payers that are not built in (each has its own year-to-date figure)."""
    when = bill["discharge_date"]
    y = lambda k: rules.yuan(ytd.get(k, 0))  # noqa: E731
    return {"region": hospital.region_id, "discharge_date": when.isoformat(), "visit_type": bill["visit_type"],
            "level": hospital.level, "in_county": bill["in_county"], "referred": bill["referred"],
            "categories": categories(person, hospital.region_id, when), "total": rules.yuan(bill["total"]),
            "in_policy": rules.yuan(bill["in_policy"]), "waivable": rules.yuan(bill["waivable"]),
            "ytd": {"basic": y("basic"), "ci_base": y("ci_base"), "ci": y("ci"), "assistance": y("assistance"),
                    "topup": {c: y(f"topup.{c}") for c in funds_},
                    **({"payer": {c: y(f"payer.{c}") for c in payers}} if payers else {})},
            # a fund richer than any single amount may be is, for one claim, as good as that amount
            "fund_balances": {c: rules.yuan(min(balances[c], max_fen())) for c in funds_}}


def _compute(person: Person, hospital: Hospital, bill: dict, *, settling: bool) -> tuple[dict, dict, dict, dict, dict]:
    """The claim as the rules see it and their result, from a plain read (no lock, no transaction):
    (claim, result, the top-up funds' accounts, their balances, the patient's year-to-date figures).
    A preview creates no account; settling finds (or creates) the funds' accounts, kept per process."""
    from .programmes import require_certificate_for

    when = bill["discharge_date"]
    require_certificate_for(person, bill["visit_type"], when)
    chain = packs().for_region(hospital.region_id)
    funds_ = rules.funds_of(chain, when)
    if settling:
        accounts = {c: fund_account(hospital.region_id, c, when) for c in funds_}
        stored = funds.budget_balances(accounts.values())
        balances = {c: stored[a.pk] for c, a in accounts.items()}
    else:
        accounts = {}
        balances = {c: funds.topup_fund_balance(region_code=hospital.region_id, fund=c) for c in funds_}
    ytd = _ytd(person, when.year)
    claim = build_claim(person, hospital, bill, ytd, balances, funds_, rules.payers_of(chain, when))
    return claim, rules.settle(chain, claim), accounts, balances, ytd


# ---- access: checked before any transaction opens -------------------------------------------------

def _deny(user: User, cap: str, message: str):
    """A refusal that is not a missing capability, audited like one (outside any transaction)."""
    audit.record(user, AuditAction.DENIED, object_type="capability", object_id=cap, result=AuditResult.DENIED,
                 summary=message)
    raise AccessDenied(message)


def _check_window(user: User, cap: str, hospital: Hospital, person: Person, what: str) -> None:
    """Only the hospital window, and only for a hospital and a patient of its own region."""
    access.require(user, cap, what=what)
    if not access.in_scope(user, hospital.region_id):
        raise NotFound("找不到该医疗机构，或不在您的管辖范围内")
    if person.household is None or not access.in_scope(user, person.household.village_id):
        raise NotFound("找不到该患者，或不在您的管辖范围内")


def _check_discharge(bill: dict) -> None:
    """A bill is settled on discharge: not for a stay that has not ended (the window's date today)."""
    today = timezone.localdate()
    if bill["discharge_date"] > today:
        raise InvalidInput({"出院日期": f"{bill['discharge_date']:%Y-%m-%d} 晚于今天（{today:%Y-%m-%d}），"
                                      "尚未出院的费用不能结算；请核对日期"})


def preview(*, user: User, hospital: Hospital, person: Person, bill: dict) -> dict:
    """The breakdown as the officer types: nothing is written."""
    _check_window(user, Cap.SETTLE, hospital, person, "试算医疗费用")
    _check_discharge(bill)
    try:
        claim, result, *_ = _compute(person, hospital, bill, settling=False)
    except PolicyError as exc:
        raise FupinError(exc.message) from None
    return result | {"claim": claim}


def _duplicate(number: str, live: Claim) -> FupinError:
    return FupinError(f"流水号 {number} 已结算过（结算编号 {live.pk}），不能重复结算；"
                      "如需更正，请先冲销该结算，再用同一流水号重新结算")


def settle(*, user: User, hospital: Hospital, person: Person, number: str, bill: dict) -> Claim:
    """Settle one claim. Refused if this hospital has a live (not reversed) claim with this number."""
    _check_window(user, Cap.SETTLE, hospital, person, f"结算 {hospital.name} 流水号 {number}")
    if not number.strip():
        raise InvalidInput({"流水号": "必须填写"})
    _check_discharge(bill)
    try:
        return _settle(user, hospital, person, number, bill)
    except PolicyError as exc:
        raise FupinError(exc.message) from None


# How often a settlement is computed again when, between its read and its write, another window
# settled for the same patient or the top-up fund that capped it moved (a handful of times at most
# in practice: one patient is at one window).
SETTLE_TRIES = 8


class _Moved(Exception):
    """The patient's year-to-date figures changed after they were read: compute again."""


def _settle(user: User, hospital: Hospital, person: Person, number: str, bill: dict) -> Claim:
    """Read (no transaction), compute (no transaction), then one short write transaction. The
    write checks that what the computation read still holds (the patient's figures, under the
    patient's own row lock; a capping fund's exact balance) and otherwise the claim is computed
    again. Nothing else is locked; the fund's balance moves by one conditional UPDATE."""
    for attempt in range(SETTLE_TRIES):
        claim_json, result, accounts, balances, ytd = _compute(person, hospital, bill, settling=True)
        try:
            return _write(user, hospital, person, number, bill, claim_json, result, accounts, balances, ytd)
        except (_Moved, funds.BalanceMoved):
            # windows that collided would collide again if all computed again at once: each waits a
            # random moment, longer after each try (a few milliseconds; never under a lock)
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
            continue
        except IntegrityError:   # only the claim's uniqueness: this number was settled already
            live = Claim.objects.filter(hospital=hospital, number=number, status=ClaimStatus.SETTLED).first()
            raise _duplicate(number, live) if live else FupinError(f"流水号 {number} 结算失败，请重试") from None
    raise FupinError(f"{person.name} 的结算正由其他窗口同时办理，本笔未记账；请稍后重试")


@transaction.atomic
def _write(user: User, hospital: Hospital, person: Person, number: str, bill: dict, claim_json: dict, result: dict,
           accounts: dict, balances: dict, ytd: dict) -> Claim:
    year = bill["discharge_date"].year
    # One patient at a time: a second window settling for the same patient waits here, then finds
    # the figures changed and computes again. No update is lost; other patients never wait.
    _lock_patient(person)
    amounts, changes = result["_fen"], result["_changes"]
    _recheck_and_add(person, year, ytd, changes)
    labels = {p["rule"]: p["label"] for p in result["payers"]}
    lines, to_hospital = [], 0
    for rule, amount in amounts.items():
        if amount == 0 or rule in ("health.waived", "health.absorbed", "health.shortfall"):
            continue
        if rule.startswith("health.topup."):
            fund = rule.removeprefix("health.topup.")
            # the fund's whole balance was drawn (it capped the claim): stands only on that same balance
            lines.append(funds.Line(accounts[fund], -amount, computed=True,
                                    expect_balance=balances[fund] if amount == balances[fund] else None))
        elif rule.startswith("health.payer."):   # a payer the pack's chain adds: its own source account
            lines.append(funds.Line(funds.insurer_account(
                region_code=hospital.region_id, key=f"payer:{rule.removeprefix('health.payer.')}", name=labels[rule]),
                -amount))
        else:
            key, name = INSURERS[rule]
            lines.append(funds.Line(funds.insurer_account(region_code=hospital.region_id, key=key, name=name), -amount))
        to_hospital += amount
    lines.append(funds.Line(hospital_account(hospital), to_hospital))
    txn = funds.transaction_post(actor=user, kind=TxnKind.PAYMENT, date=bill["discharge_date"],
                                 decision_type="settlement", decision_id=f"{hospital.code}:{number}",
                                 entitlement="health.settlement", period=str(year),
                                 memo=f"{person.name} {hospital.name} 结算", lines=lines, beneficiary=person)
    claim = Claim(
        hospital=hospital, number=number, person=person, visit_type=bill["visit_type"],
        level=hospital.level, in_county=bill["in_county"], referred=bill["referred"],
        discharge_date=bill["discharge_date"], categories=claim_json["categories"],
        total=bill["total"], in_policy=bill["in_policy"], waivable=bill["waivable"],
        patient=amounts["health.patient"], shortfall=amounts["health.shortfall"], breakdown=amounts,
        accumulator_changes=changes,
        explanation=stored_explanation(result["payers"]), pack=result["pack"], settled_by=user, transaction=txn)
    total, patient, shortfall = (rules.yuan(bill["total"]), rules.yuan(amounts["health.patient"]),
                                 rules.yuan(amounts["health.shortfall"]))
    # the claim and its audit row: one statement (PostgreSQL)
    sql.insert_with(claim, audit.event(
        user, AuditAction.CREATE, object_type="claim", household_id=person.household_id,
        summary=f"{hospital.name} 结算 {person.name}：总费用 {total} 元，个人自付 {patient} 元"
                + (f"，兜底资金不足 {shortfall} 元" if amounts["health.shortfall"] else "")), "object_id")
    return claim


def stored_explanation(payers: list[dict]) -> dict:
    """What a claim keeps of its computation (`Claim.explanation`): per payer its amount, description,
    and its inputs, parameters and branches, each by its number in one list per claim ("_names"); once
    per claim the payers' names ("_labels"), the inputs' values ("_inputs"), each parameter's value,
    dates and the number of its source ("_parameters"), each source text once ("_sources"), the pack
    and the date. A later payer reads every earlier one's inputs and parameters and takes most of
    their branches: a whole copy per payer took 28 KB a claim, names and branches per payer still
    13 KB, and PostgreSQL's parsing of that text was a tenth of its work on a claim.
    `explanation_of` gives a payer's explanation whole again."""
    inputs, parameters, sources, out = {}, {}, {}, {}
    numbers: dict = {kind: {} for kind in _LISTED}   # a name (or branch) → its number in the claim's list
    for p in payers:
        e = p["explanation"]
        inputs.update(e.get("inputs", {}))
        for name, v in e.get("parameters", {}).items():
            if name not in parameters:   # a parameter is described alike in every payer that read it
                parameters[name] = v | {"source": sources.setdefault(v.get("source"), len(sources))}
        out[p["rule"]] = {k: v for k, v in e.items() if k not in _SHARED} | {
            kind: [numbers[kind].setdefault(n, len(numbers[kind])) for n in e.get(kind, ())] for kind in _LISTED}
    first = payers[0]["explanation"] if payers else {}
    return out | {"_labels": {p["rule"]: p["label"] for p in payers}, "_inputs": inputs, "_parameters": parameters,
                  "_sources": list(sources), "_names": {kind: list(n) for kind, n in numbers.items()},
                  "_pack": first.get("pack"), "_date": first.get("date")}


_SHARED = ("rule", "pack", "date", "inputs", "parameters", "branches")
_LISTED = ("inputs", "parameters", "branches")


def explanation_of(claim: Claim, rule: str) -> dict:
    """One payer's explanation as the rule gave it. Each earlier form reads the same: claims stored
    before "_inputs" kept it whole, before "_sources" each parameter's source text, before "_names"
    the names and branches themselves."""
    x = claim.explanation
    if rule not in x:
        return {}
    e = dict(x[rule])
    if "_inputs" not in x:
        return e
    names = x.get("_names")
    if names is not None:
        e |= {kind: [names[kind][i] for i in e.get(kind, ())] for kind in _LISTED}
    sources = x.get("_sources")
    parameters = {k: x["_parameters"][k] for k in e["parameters"]}
    if sources is not None:
        parameters = {k: v | {"source": sources[v["source"]]} for k, v in parameters.items()}
    return {"rule": rule, **{k: v for k, v in e.items() if k not in _SHARED}, "branches": e.get("branches", []),
            "pack": x["_pack"], "date": x["_date"], "parameters": parameters,
            "inputs": {k: x["_inputs"][k] for k in e["inputs"]}}


def _upsert(person: Person, year: int, changes: dict) -> tuple[str, list] | None:
    """The statement adding each change to the patient's figure of the year, creating the missing
    ones (None: nothing to add). Precompiled: prepared once per connection and number of figures."""
    rows = [(person.pk, year, key, amount) for key, amount in changes.items() if amount]
    if not rows:
        return None
    table = sql.table(Accumulator)
    return (f"INSERT INTO {table} (person_id, year, key, amount) VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(rows))
            + f" ON CONFLICT (person_id, year, key) DO UPDATE SET amount = {table}.amount + excluded.amount",
            [v for row in rows for v in row])


def _add(person: Person, year: int, changes: dict) -> None:
    """Add each change to the patient's figure of the year: one statement."""
    upsert = _upsert(person, year, changes)
    if upsert:
        sql.execute(*upsert)


def _recheck_and_add(person: Person, year: int, ytd: dict, changes: dict) -> None:
    """Inside the write, after the patient's lock: stop (compute again) unless the patient's figures
    are still those the computation read, and add the claim's changes to them. On PostgreSQL one
    statement does both (`_ytd` with `adding`), its snapshot taken after the lock was granted. A stop
    rolls the add back with the rest of the write."""
    upsert = _upsert(person, year, changes)
    if upsert and sql.can_write_with():
        now = _ytd(person, year, adding=upsert)
    else:
        now = _ytd(person, year)
        if now == ytd and upsert:
            sql.execute(*upsert)
    if now != ytd:
        raise _Moved


def access_claim(user: User, claim_id, cap: str = Cap.SETTLE) -> Claim:
    access.require(user, cap)
    claim = Claim.objects.select_related("hospital", "person__household").filter(pk=claim_id).first() \
        if str(claim_id).isdigit() else None
    if claim is None or not access.in_scope(user, claim.hospital.region_id):
        raise NotFound("找不到该结算，或不在您的管辖范围内")
    return claim


def later_live_claims(claim: Claim):
    """The patient's claims of the same year settled after this one and not reversed: they were
    computed on accumulators that include this claim."""
    return Claim.objects.filter(person_id=claim.person_id, status=ClaimStatus.SETTLED, pk__gt=claim.pk,
                                discharge_date__year=claim.discharge_date.year).select_related("hospital").order_by("pk")


def reverse(*, user: User, claim_id: int, reason: str) -> Claim:
    """冲销 by a second window officer: the ledger transaction is reversed and the patient's
    accumulators lose exactly what this claim added. Only the patient's latest live claim of
    the year can be reversed (后结先退)."""
    access.require(user, Cap.REVERSE_SETTLEMENT, what=f"冲销结算 {claim_id}")
    claim = access_claim(user, claim_id, Cap.REVERSE_SETTLEMENT)
    if claim.settled_by_id == user.pk:
        _deny(user, Cap.REVERSE_SETTLEMENT, f"结算 {claim.number} 由您本人办理，不能由您冲销；"
                                             "请由另一位窗口工作人员复核后冲销")
    if not reason.strip():
        raise InvalidInput({"冲销原因": "必须填写"})
    return _reverse(user, claim.pk, reason)


@transaction.atomic
def _reverse(user: User, claim_id: int, reason: str) -> Claim:
    claim = Claim.objects.select_for_update().get(pk=claim_id)
    if claim.status == ClaimStatus.REVERSED:
        raise FupinError("该结算已冲销")
    person = Person.objects.select_for_update().filter(pk=claim.person_id).first()
    later = list(later_live_claims(claim))
    if later:
        names = "、".join(f"{c.hospital.name} 流水号 {c.number}（{c.discharge_date}）" for c in later[:5])
        more = f" 等 {len(later)} 笔" if len(later) > 5 else ""
        raise FupinError(f"该患者在本笔之后还有未冲销的结算：{names}{more}。按“后结先退”，请先冲销这些结算，"
                         "再冲销本笔；之后按顺序重新结算")
    funds.ledger_reverse(actor=user, txn=claim.transaction, reason=reason, date=timezone.localdate())
    _add(person, claim.discharge_date.year, {key: -amount for key, amount in claim.accumulator_changes.items()})
    claim.status, claim.reversed_by, claim.reversal_reason = ClaimStatus.REVERSED, user, reason
    claim.save(update_fields=["status", "reversed_by", "reversal_reason"])
    audit.record(user, AuditAction.UPDATE, object_type="claim", object_id=claim.pk,
                 household_id=person.household_id, summary=f"冲销结算 {claim.number}：{reason}")
    return claim
