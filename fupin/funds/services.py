"""Writes to the ledger. Each function is one transaction; balances are checked under a row lock."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum

from fupin.core import audit
from fupin.core.errors import FupinError, InvalidInput
from fupin.core.models import AuditAction, User
from fupin.core.money import fen_to_yuan_str

from .models import Account, AccountKind, Entry, PayeeType, Transaction, TxnKind


def balance(account: Account) -> int:
    return Entry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or 0


def _locked_budget(account: Account) -> Account:
    if account.kind != AccountKind.BUDGET:
        raise FupinError(f"“{account.name}”不是预算科目")
    return Account.objects.select_for_update().get(pk=account.pk)


def _refuse_overdraw(budget: Account, amount: int) -> None:
    have = balance(budget)
    if amount > have:
        raise FupinError(f"预算科目“{budget.name}”余额 {fen_to_yuan_str(have)} 元，不足以支付 "
                         f"{fen_to_yuan_str(amount)} 元；请先拨入资金或调整支付")


def source_account(*, source: str, year: int) -> Account:
    from .models import FundingSource

    account, _ = Account.objects.get_or_create(
        code=f"source:{source}:{year}", defaults=dict(name=f"{FundingSource(source).label}{year}年",
                                                       kind=AccountKind.SOURCE, source=source, year=year))
    return account


def budget_create(*, actor: User, code: str, name: str, source: str, programme: str, year: int, region) -> Account:
    if Account.objects.filter(code=code).exists():
        raise InvalidInput({"科目编码": f"{code} 已存在"})
    with transaction.atomic():
        account = Account.objects.create(code=code, name=name, kind=AccountKind.BUDGET, source=source,
                                         programme=programme, year=year, region=region)
        audit.record(actor, AuditAction.CREATE, object_type="account", object_id=account.pk, summary=f"新建预算科目 {name}")
    return account


def payee_for_person(person) -> Account:
    account, _ = Account.objects.get_or_create(
        code=f"person:{person.id_number}", defaults=dict(name=person.name, kind=AccountKind.PAYEE,
                                                         payee_type=PayeeType.PERSON, person=person,
                                                         payee_id_number=person.id_number, payee_name=person.name))
    return account


@transaction.atomic
def budget_allocate(*, actor: User, budget: Account, amount: int, date: dt.date, decision_id: str, memo: str = "") -> Transaction:
    if amount <= 0:
        raise InvalidInput({"金额": "拨入金额须大于0"})
    budget = _locked_budget(budget)
    source = source_account(source=budget.source, year=budget.year or date.year)
    txn = Transaction.objects.create(kind=TxnKind.ALLOCATION, date=date, actor=actor, decision_type="allocation",
                                     decision_id=decision_id, memo=memo)
    Entry.objects.bulk_create([Entry(transaction=txn, account=source, amount=-amount),
                               Entry(transaction=txn, account=budget, amount=amount)])
    audit.record(actor, AuditAction.CREATE, object_type="transaction", object_id=txn.pk,
                 summary=f"向“{budget.name}”拨入 {fen_to_yuan_str(amount)} 元（{decision_id}）")
    return txn


@dataclass
class Payment:
    payee: Account
    amount: int            # fen
    entitlement: str       # e.g. education.compulsory_living
    period: str            # e.g. 2024-autumn


def _duplicates(payments: list[Payment]) -> list[Payment]:
    """Payments already made (and not reversed) for the same payee, entitlement and period."""
    keys = {(p.payee.pk, p.entitlement, p.period) for p in payments}
    if len(keys) != len(payments):
        raise FupinError("同一批支付中有重复的（收款人、待遇项目、期间）")
    existing = set()
    payee_ids = sorted({k[0] for k in keys})
    for i in range(0, len(payee_ids), 5000):
        rows = Entry.objects.filter(account_id__in=payee_ids[i:i + 5000], transaction__kind=TxnKind.PAYMENT,
                                    transaction__reversed_by__isnull=True) \
            .values_list("account_id", "transaction__entitlement", "transaction__period")
        existing.update(rows)
    return [p for p in payments if (p.payee.pk, p.entitlement, p.period) in existing]


@transaction.atomic
def payments_post(*, actor: User, budget: Account, payments: list[Payment], date: dt.date,
                  decision_type: str, decision_id: str) -> int:
    """Post many payments from one budget line: all or none. Returns the number posted."""
    from fupin.core.bulk import insert_rows

    if any(p.amount <= 0 for p in payments):
        raise InvalidInput({"金额": "支付金额须大于0"})
    budget = _locked_budget(budget)
    dup = _duplicates(payments)
    if dup:
        p = dup[0]
        raise FupinError(f"重复支付：{p.payee.payee_name or p.payee.name} 的“{p.entitlement}”（{p.period}）已支付过，"
                         f"共 {len(dup)} 笔重复，本批未支付")
    total = sum(p.amount for p in payments)
    _refuse_overdraw(budget, total)
    if not payments:
        return 0
    first = Transaction.objects.order_by("-id").values_list("id", flat=True).first() or 0
    insert_rows(Transaction, [dict(kind=TxnKind.PAYMENT, date=date, actor_id=actor.pk, decision_type=decision_type,
                                   decision_id=decision_id, entitlement=p.entitlement, period=p.period,
                                   memo=f"{p.entitlement} {p.period}", reverses_id=None) for p in payments])
    txn_ids = list(Transaction.objects.filter(id__gt=first, decision_type=decision_type, decision_id=decision_id)
                   .order_by("id").values_list("id", flat=True))
    if len(txn_ids) != len(payments):
        raise FupinError("写入支付凭证时数量不符，已全部回滚")
    entries = []
    for tid, p in zip(txn_ids, payments):
        entries.append(dict(transaction_id=tid, account_id=budget.pk, amount=-p.amount))
        entries.append(dict(transaction_id=tid, account_id=p.payee.pk, amount=p.amount))
    insert_rows(Entry, entries)
    audit.record(actor, AuditAction.CREATE, object_type="payment_batch", object_id=decision_id,
                 summary=f"从“{budget.name}”支付 {len(payments)} 笔，共 {fen_to_yuan_str(total)} 元（{decision_type} {decision_id}）")
    return len(payments)


@transaction.atomic
def transaction_reverse(*, actor: User, txn: Transaction, reason: str, date: dt.date) -> Transaction:
    if not reason.strip():
        raise InvalidInput({"冲销原因": "必须填写"})
    txn = Transaction.objects.select_for_update().get(pk=txn.pk)
    if txn.kind == TxnKind.REVERSAL:
        raise FupinError("冲销凭证不能再冲销；请另记一笔")
    if Transaction.objects.filter(reverses=txn).exists():
        raise FupinError(f"凭证 {txn.pk} 已冲销过")
    entries = list(txn.entries.all())
    for e in entries:
        if e.amount > 0 and e.account.kind == AccountKind.BUDGET:
            _refuse_overdraw(_locked_budget(e.account), e.amount)
    rev = Transaction.objects.create(kind=TxnKind.REVERSAL, date=date, actor=actor, decision_type=txn.decision_type,
                                     decision_id=txn.decision_id, entitlement=txn.entitlement, period=txn.period,
                                     memo=f"冲销 {txn.pk}：{reason}", reverses=txn)
    Entry.objects.bulk_create([Entry(transaction=rev, account=e.account, amount=-e.amount) for e in entries])
    audit.record(actor, AuditAction.CREATE, object_type="transaction", object_id=rev.pk,
                 summary=f"冲销凭证 {txn.pk}：{reason}")
    return rev
