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


LIVE_PAYMENT_LINES = dict(transaction__kind=TxnKind.PAYMENT, reversals__isnull=True, amount__gt=0,
                          account__kind=AccountKind.PAYEE)


def payments_post(*, actor: User, budget: Account, payments: list[Payment], date: dt.date,
                  decision_type: str, decision_id: str) -> int:
    """Post a few payments from one budget line: all or none. Returns the number posted.
    The same path as a semester run's million payments (`payments_post_frame`)."""
    import polars as pl

    frame = pl.DataFrame(
        {"payee_id": [p.payee.pk for p in payments],
         "payee_name": [p.payee.payee_name or p.payee.name for p in payments],
         "entitlement": [p.entitlement for p in payments], "period": [p.period for p in payments],
         "amount": [p.amount for p in payments]},
        schema={"payee_id": pl.Int64, "payee_name": pl.Utf8, "entitlement": pl.Utf8, "period": pl.Utf8,
                "amount": pl.Int64})
    return payments_post_frame(actor=actor, budget=budget, payments=frame, date=date, decision_type=decision_type,
                               decision_id=decision_id)


@transaction.atomic
def payments_post_frame(*, actor: User, budget: Account, payments, date: dt.date, decision_type: str,
                        decision_id: str) -> int:
    """Post payments given as a Polars frame (payee_id, payee_name, entitlement, period, amount in
    fen): all or none, no overdraw, no second payment of an entitlement for a period."""
    import polars as pl

    from fupin.core.bulk import insert_frame, rows_where_in

    n = payments.height
    if n and payments["amount"].min() <= 0:
        raise InvalidInput({"金额": "支付金额须大于0"})
    if payments.select(pl.struct("payee_id", "entitlement", "period").is_duplicated().any()).item():
        raise FupinError("同一批支付中有重复的（收款人、待遇项目、期间）")
    budget = _locked_budget(budget)
    existing = rows_where_in(Entry.objects.filter(**LIVE_PAYMENT_LINES), "account",
                             payments["payee_id"].unique().to_list(), "account_id", "entitlement", "period")
    if existing:
        prior = pl.DataFrame(existing, orient="row", schema=[("payee_id", pl.Int64), ("entitlement", pl.Utf8),
                                                              ("period", pl.Utf8)])
        dup = payments.join(prior, on=["payee_id", "entitlement", "period"], how="semi")
        if dup.height:
            first = dup.row(0, named=True)
            raise FupinError(f"重复支付：{first['payee_name']} 的“{first['entitlement']}”（{first['period']}）已支付过，"
                             f"共 {dup.height} 笔重复，本批未支付")
    total = int(payments["amount"].sum()) if n else 0
    _refuse_overdraw(budget, total)
    if not n:
        return 0
    txn = Transaction.objects.create(kind=TxnKind.PAYMENT, date=date, actor=actor, decision_type=decision_type,
                                     decision_id=decision_id, memo=f"{n} 笔支付")
    Entry.objects.create(transaction=txn, account=budget, amount=-total)
    insert_frame(Entry, payments.select(pl.lit(txn.pk, dtype=pl.Int64).alias("transaction_id"),
                                        pl.col("payee_id").alias("account_id"), "amount", "entitlement", "period"))
    audit.record(actor, AuditAction.CREATE, object_type="payment_batch", object_id=decision_id,
                 summary=f"从“{budget.name}”支付 {n} 笔，共 {fen_to_yuan_str(total)} 元（{decision_type} {decision_id}）")
    return n


@transaction.atomic
def transaction_reverse(*, actor: User, txn: Transaction, reason: str, date: dt.date,
                        entries: list[Entry] | None = None) -> Transaction:
    """Reverse a whole transaction, or only some of its payment lines (each back to the budget
    line it came from). Every line can be reversed once; the reversal is a new transaction."""
    if not reason.strip():
        raise InvalidInput({"冲销原因": "必须填写"})
    txn = Transaction.objects.select_for_update().get(pk=txn.pk)
    if txn.kind == TxnKind.REVERSAL:
        raise FupinError("冲销凭证不能再冲销；请另记一笔")
    lines = list(txn.entries.select_related("account"))
    chosen = lines if entries is None else [e for e in lines if e.pk in {x.pk for x in entries}]
    if entries is not None and len(chosen) != len(entries):
        raise FupinError(f"所选分录不属于凭证 {txn.pk}")
    if Entry.objects.filter(reverses__in=chosen).exists():
        raise FupinError(f"凭证 {txn.pk} 的{'全部' if entries is None else '所选'}分录已冲销过")
    new_entries = [Entry(account=e.account, amount=-e.amount, entitlement=e.entitlement, period=e.period, reverses=e)
                   for e in chosen]
    if entries is not None:  # line by line: the money goes back to the budget line of the payment
        budget_line = next((e for e in lines if e.account.kind == AccountKind.BUDGET and e.amount < 0), None)
        if budget_line is None:
            raise FupinError(f"凭证 {txn.pk} 没有预算科目分录，只能整笔冲销")
        new_entries.append(Entry(account=budget_line.account, amount=sum(e.amount for e in chosen)))
    for e in new_entries:
        if e.amount < 0 and e.account.kind == AccountKind.BUDGET:
            _refuse_overdraw(_locked_budget(e.account), -e.amount)
    rev = Transaction.objects.create(kind=TxnKind.REVERSAL, date=date, actor=actor, decision_type=txn.decision_type,
                                     decision_id=txn.decision_id, entitlement=txn.entitlement, period=txn.period,
                                     memo=f"冲销 {txn.pk}：{reason}", reverses=txn)
    for e in new_entries:
        e.transaction = rev
    Entry.objects.bulk_create(new_entries)
    audit.record(actor, AuditAction.CREATE, object_type="transaction", object_id=rev.pk,
                 summary=f"冲销凭证 {txn.pk}{'' if entries is None else f' 的 {len(chosen)} 笔'}：{reason}")
    return rev
