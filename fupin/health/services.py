"""Settling a claim at the window: one transaction that computes with the policy rules,
posts the ledger entries and moves the patient's accumulators — or does nothing at all."""
from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F

from fupin.core import access, audit, idcard
from fupin.core.errors import FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, User
from fupin.core.roles import Cap
from fupin.funds import services as funds
from fupin.funds.models import Account, AccountKind, Entry, PayeeType, Transaction, TxnKind
from fupin.policy.errors import PolicyError
from fupin.policy.packs import shipped_packs
from fupin.policy.rules import health as rules
from fupin.registry.models import Person

from .models import Accumulator, Claim, ClaimStatus, Hospital

INSURERS = {"health.basic": ("insurer:basic", "基本医疗保险基金"),
            "health.critical_illness": ("insurer:ci", "大病保险"),
            "health.assistance": ("assistance:medical", "医疗救助资金"),
            "health.patient": ("patients", "患者个人支付")}


packs = shipped_packs


def find_patient(user: User, raw_id: str) -> Person:
    access.require(user, Cap.FIND_BY_FULL_ID)
    checked = idcard.check(raw_id)
    if not checked.valid:
        raise InvalidInput({"身份证号": checked.error})
    person = access.persons_for(user).select_related("household").filter(id_number=checked.id).first()
    if person is None:
        raise NotFound(f"身份证号 {idcard.mask(checked.id)} 不在本辖区的户籍库中")
    return person


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


def _account(code: str, **defaults) -> Account:
    """The account with this code, created if missing. Two windows may create it at once: the
    loser of that race reads the winner's row instead of failing."""
    account = Account.objects.filter(code=code).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(code=code, **defaults)
    except IntegrityError:
        return Account.objects.get(code=code)


def _fund_account(code: str, name: str) -> Account:
    return _account(f"topup:{code}", name=name, kind=AccountKind.BUDGET, source="social", programme="health_topup")


def _source(code: str, name: str) -> Account:
    return _account(code, name=name, kind=AccountKind.SOURCE)


def _hospital_account(h: Hospital) -> Account:
    return _account(f"hospital:{h.code}", name=h.name, kind=AccountKind.PAYEE, payee_type=PayeeType.INSTITUTION,
                    payee_name=h.name)


def _ytd(person: Person, year: int) -> dict:
    return dict(Accumulator.objects.filter(person=person, year=year).values_list("key", "amount"))


def build_claim(person: Person, hospital: Hospital, bill: dict, ytd: dict, balances: dict, funds_: tuple) -> dict:
    when = bill["discharge_date"]
    y = lambda k: rules.yuan(ytd.get(k, 0))  # noqa: E731
    return {"region": hospital.region_id, "discharge_date": when.isoformat(), "visit_type": bill["visit_type"],
            "level": hospital.level, "in_county": bill["in_county"], "referred": bill["referred"],
            "categories": categories(person, hospital.region_id, when), "total": bill["total"],
            "in_policy": bill["in_policy"], "waivable": bill["waivable"],
            "ytd": {"basic": y("basic"), "ci_base": y("ci_base"), "ci": y("ci"), "assistance": y("assistance"),
                    "topup": {c: y(f"topup.{c}") for c in funds_}},
            "fund_balances": {c: rules.yuan(balances[c]) for c in funds_}}


def _compute(person: Person, hospital: Hospital, bill: dict, *, lock_funds: bool) -> tuple[dict, dict, dict]:
    """The claim as the rules see it and their result, with the top-up funds' accounts.
    Settling locks the fund rows first, so the balances it reads cannot change under it."""
    from .programmes import require_certificate_for

    when = bill["discharge_date"]
    require_certificate_for(person, bill["visit_type"], when)
    chain = packs().for_region(hospital.region_id)
    funds_ = rules.funds_of(chain, when)
    accounts = {c: _fund_account(c, chain.lookup(f"health.topup.name.{c}", when).value) for c in funds_}
    if lock_funds:
        accounts = {c: Account.objects.select_for_update().get(pk=a.pk) for c, a in accounts.items()}
    balances = {c: funds.balance(a) for c, a in accounts.items()}
    claim = build_claim(person, hospital, bill, _ytd(person, when.year), balances, funds_)
    return claim, rules.settle(chain, claim), accounts


def preview(*, user: User, hospital: Hospital, person: Person, bill: dict) -> dict:
    """The breakdown as the officer types: nothing is written."""
    access.require(user, Cap.FIND_BY_FULL_ID)
    try:
        claim, result, _ = _compute(person, hospital, bill, lock_funds=False)
    except PolicyError as exc:
        raise FupinError(exc.message) from None
    return result | {"claim": claim}


def settle(*, user: User, hospital: Hospital, person: Person, number: str, bill: dict) -> Claim:
    """Settle one claim. Refused if this hospital already settled this number."""
    access.require(user, Cap.FIND_BY_FULL_ID)
    if not access.in_scope(user, hospital.region_id):
        raise NotFound("找不到该医疗机构，或不在您的管辖范围内")
    if not number.strip():
        raise InvalidInput({"流水号": "必须填写"})
    year = bill["discharge_date"].year
    for code, name in INSURERS.values():
        _source(code, name)
    _hospital_account(hospital)
    try:
        with transaction.atomic():
            # One patient at a time: a second window settling for the same patient waits here,
            # then reads the accumulators the first one wrote. No update is lost.
            Person.objects.select_for_update().filter(pk=person.pk).first()
            if Claim.objects.filter(hospital=hospital, number=number).exists():
                raise FupinError(f"流水号 {number} 已结算过，不能重复结算；如需更正请先冲销")
            claim_json, result, locked = _compute(person, hospital, bill, lock_funds=True)
            amounts = result["_fen"]
            txn = Transaction.objects.create(kind=TxnKind.PAYMENT, date=bill["discharge_date"], actor=user,
                                             decision_type="settlement", decision_id=f"{hospital.code}:{number}",
                                             entitlement="health.settlement", period=str(year),
                                             memo=f"{person.name} {hospital.name} 结算")
            entries, to_hospital = [], 0
            for rule, amount in amounts.items():
                if amount == 0 or rule in ("health.waived", "health.absorbed", "health.shortfall"):
                    continue
                if rule.startswith("health.topup."):
                    account = locked[rule.removeprefix("health.topup.")]
                else:
                    account = _source(*INSURERS[rule])
                entries.append(Entry(transaction=txn, account=account, amount=-amount))
                to_hospital += amount
            if to_hospital:
                entries.append(Entry(transaction=txn, account=_hospital_account(hospital), amount=to_hospital))
            Entry.objects.bulk_create(entries)
            for key, add in (("basic", amounts["health.basic"]), ("ci_base", result["_ci_base"]),
                             ("ci", amounts["health.critical_illness"]), ("assistance", amounts["health.assistance"]),
                             *((f"topup.{c}", amounts[f"health.topup.{c}"]) for c in locked)):
                _add(person, year, key, add)
            try:
                with transaction.atomic():  # only this insert's uniqueness means "settled already"
                    claim = Claim.objects.create(
                        hospital=hospital, number=number, person=person, visit_type=bill["visit_type"],
                        level=hospital.level, in_county=bill["in_county"], referred=bill["referred"],
                        discharge_date=bill["discharge_date"], categories=claim_json["categories"],
                        total=bill_fen(bill, "total"), in_policy=bill_fen(bill, "in_policy"),
                        waivable=bill_fen(bill, "waivable"), patient=amounts["health.patient"],
                        shortfall=amounts["health.shortfall"], breakdown=amounts,
                        explanation={p["rule"]: p["explanation"] for p in result["payers"]}
                        | {"_labels": {p["rule"]: p["label"] for p in result["payers"]}},
                        pack=result["pack"], settled_by=user, transaction=txn)
            except IntegrityError:
                raise FupinError(f"流水号 {number} 已结算过，不能重复结算；如需更正请先冲销") from None
            audit.record(user, AuditAction.CREATE, object_type="claim", object_id=claim.pk,
                         household_id=person.household_id,
                         summary=f"{hospital.name} 结算 {person.name}：总费用 {rules.yuan(claim.total)} 元，个人自付 "
                                 f"{rules.yuan(claim.patient)} 元" + (f"，兜底资金不足 {rules.yuan(claim.shortfall)} 元"
                                                                     if claim.shortfall else ""))
            return claim
    except PolicyError as exc:
        raise FupinError(exc.message) from None


def bill_fen(bill: dict, key: str) -> int:
    return rules._fen(bill[key], key)


def _add(person: Person, year: int, key: str, amount: int) -> None:
    if amount == 0:
        return
    updated = Accumulator.objects.filter(person=person, year=year, key=key).update(amount=F("amount") + amount)
    if not updated:
        Accumulator.objects.create(person=person, year=year, key=key, amount=amount)


def reverse(*, user: User, claim_id: int, reason: str) -> Claim:
    """冲销: the ledger transaction is reversed and the accumulators are restored."""
    access.require(user, Cap.FIND_BY_FULL_ID)
    if not reason.strip():
        raise InvalidInput({"冲销原因": "必须填写"})
    with transaction.atomic():
        claim = Claim.objects.select_for_update().select_related("hospital", "person").filter(pk=claim_id).first()
        if claim is None or not access.in_scope(user, claim.hospital.region_id):
            raise NotFound("找不到该结算，或不在您的管辖范围内")
        if claim.status == ClaimStatus.REVERSED:
            raise FupinError("该结算已冲销")
        Person.objects.select_for_update().filter(pk=claim.person_id).first()
        funds.transaction_reverse(actor=user, txn=claim.transaction, reason=reason, date=dt.date.today())
        a, year = claim.breakdown, claim.discharge_date.year
        ci_base = claim.in_policy - a["health.waived"] - a["health.basic"]
        for key, amount in (("basic", a["health.basic"]), ("ci_base", ci_base), ("ci", a["health.critical_illness"]),
                            ("assistance", a["health.assistance"]),
                            *((f"topup.{k.removeprefix('health.topup.')}", v) for k, v in a.items()
                              if k.startswith("health.topup."))):
            _add(claim.person, year, key, -amount)
        claim.status, claim.reversed_by, claim.reversal_reason = ClaimStatus.REVERSED, user, reason
        claim.save(update_fields=["status", "reversed_by", "reversal_reason"])
        audit.record(user, AuditAction.UPDATE, object_type="claim", object_id=claim.pk,
                     household_id=claim.person.household_id, summary=f"冲销结算 {claim.number}：{reason}")
        return claim
