"""Writes to the ledger — the only module that does (a test in tests/test_architecture.py
keeps it so).

- `account_for` is the only creator of accounts (race-safe get-or-create); the named helpers
  below it give each account its code: funds and fixed-subsidy budget lines are per county and
  fund source, never national pools.
- `transaction_post` is the only writer of transactions and entries. Allocations, payments,
  settlements and reversals all go through it, so every posting is balanced, never overdraws a
  budget line and never pays a person recorded as dead.
- Actions a user starts here (budget lines, allocations, payment reversals) check access
  *before* their transaction opens, so a refusal's DENIED audit row survives (ADR 0001).
  Functions that other rooms call after checking their own capability (`payments_post*`,
  `ledger_reverse`) say so.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Sum

from fupin.core import access, audit, sql
from fupin.core.bulk import chunks
from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditAction, AuditResult, User
from fupin.core.money import fen_to_yuan_str
from fupin.core.roles import Cap

from .models import DECISION_LABELS, Account, AccountKind, Entry, FundingSource, PayeeType, Transaction, TxnKind


def balance(account: Account) -> int:
    """A budget line's stored balance (kept by transaction_post, checked nightly against its
    entries by `funds_check_balances`); any other account's is the sum of its entries."""
    if account.kind == AccountKind.BUDGET:
        return Account.objects.filter(pk=account.pk).values_list("balance", flat=True).first() or 0
    return ledger_sum(account)


def ledger_sum(account: Account) -> int:
    return Entry.objects.filter(account=account).aggregate(s=Sum("amount"))["s"] or 0


def balances_check() -> list[tuple[Account, int, int]]:
    """Budget lines whose stored balance differs from the sum of their entries: (account, stored,
    sum). One grouped read, no lock (the nightly job; a posting commits both or neither)."""
    from django.db.models import OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    total = Entry.objects.filter(account=OuterRef("pk")).values("account").annotate(s=Sum("amount")).values("s")
    rows = Account.objects.filter(kind=AccountKind.BUDGET).annotate(ledger=Coalesce(Subquery(total), Value(0)))
    return [(a, a.balance, a.ledger) for a in rows if a.balance != a.ledger]


# ---- accounts: one creator ------------------------------------------------------------------------

def account_for(*, code: str, **defaults) -> Account:
    """The account with this code, created if missing. Two windows may create it at once: the
    loser of that race reads the winner's row instead of failing."""
    account = Account.objects.filter(code=code).first()
    if account is not None:
        return account
    if defaults.get("kind") == AccountKind.BUDGET:
        defaults.setdefault("balance", 0)
    try:
        with transaction.atomic():
            return Account.objects.create(code=code, **defaults)
    except IntegrityError:
        return Account.objects.get(code=code)


# Reference accounts (funding sources, insurers, top-up funds, hospitals): a few per county, looked
# up on every settlement. Kept per process once committed (an account is never deleted, and an id
# kept from a transaction that rolled back would point nowhere).
_REFERENCE: dict[str, Account] = {}


def reference_account(*, code: str, **defaults) -> Account:
    account = _REFERENCE.get(code)
    if account is None:
        account = account_for(code=code, **defaults)
        transaction.on_commit(lambda: _REFERENCE.setdefault(code, account))
    return account


def reference_accounts_forget() -> None:
    """Tests rebuild the database between cases: they start with nothing kept."""
    _REFERENCE.clear()


def county_of(region_code: str) -> str:
    """The county (level 3) a 12-digit region code lies in: its first six digits."""
    return region_code[:6] + "000000"


def source_account(*, source: str, year: int) -> Account:
    return reference_account(code=f"source:{source}:{year}", name=f"{FundingSource(source).label}{year}年",
                       kind=AccountKind.SOURCE, source=source, year=year)


def topup_fund_account(*, region_code: str, fund: str, name: str) -> Account:
    """A top-up fund (兜底资金) of one county: the hospital's county pays from its own fund."""
    county = county_of(region_code)
    return reference_account(code=f"topup:{county}:{fund}", name=name, kind=AccountKind.BUDGET,
                       source=FundingSource.SOCIAL, programme=f"health_topup.{fund}", region_id=county)


def topup_fund_balance(*, region_code: str, fund: str) -> int:
    """A county's top-up fund balance without creating its account (a preview writes nothing)."""
    return Account.objects.filter(code=f"topup:{county_of(region_code)}:{fund}").values_list(
        "balance", flat=True).first() or 0


def budget_balances(accounts) -> dict[int, int]:
    """Stored balances of some budget lines, by id: one read, no lock."""
    ids = [a.pk for a in accounts]
    if not ids:
        return {}
    return dict(sql.fetch(f"SELECT id, balance FROM {sql.table(Account)} WHERE id IN ({', '.join(['%s'] * len(ids))})",
                          ids))


def fixed_subsidy_account(*, region_code: str, kind: str, name: str) -> Account:
    """The budget line of one fixed health subsidy in the person's county."""
    county = county_of(region_code)
    return reference_account(code=f"fixed:{county}:{kind}", name=name, kind=AccountKind.BUDGET,
                       source=FundingSource.CENTRAL, programme=f"health_fixed.{kind}", region_id=county)


def insurer_account(*, region_code: str, key: str, name: str) -> Account:
    """Where an insurer's or the assistance fund's payment comes from, per county."""
    county = county_of(region_code)
    return reference_account(code=f"{key}:{county}", name=name, kind=AccountKind.SOURCE, programme=key, region_id=county)


def institution_payee(*, code: str, name: str, region_code: str | None = None) -> Account:
    return reference_account(code=f"hospital:{code}", name=name, kind=AccountKind.PAYEE,
                       payee_type=PayeeType.INSTITUTION, payee_name=name, region_id=region_code)


def payee_for_person(person) -> Account:
    return account_for(code=f"person:{person.id_number}", name=person.name, kind=AccountKind.PAYEE,
                       payee_type=PayeeType.PERSON, person=person, payee_id_number=person.id_number,
                       payee_name=person.name)


def payee_for_staff(staff) -> Account:
    """A counterpart-support doctor (not in the poverty registry) paid an allowance."""
    return account_for(code=f"staff:{staff.pk}", name=staff.name, kind=AccountKind.PAYEE,
                       payee_type=PayeeType.PERSON, payee_name=staff.name)


def department_payee(department) -> Account:
    """A hospital department (counterpart support): paid its reward, pays its fines."""
    name = f"{department.hospital.name}{department.name}"
    return account_for(code=f"department:{department.pk}", name=name, kind=AccountKind.PAYEE,
                       payee_type=PayeeType.INSTITUTION, payee_name=name, region_id=department.hospital.region_id)


@transaction.atomic
def fine_post(*, actor: User, budget: Account, payer: Account, amount: int, date: dt.date, decision_type: str,
              decision_id: str, entitlement: str, period: str = "") -> Transaction:
    """A fine collected into a budget line from the one who pays it (a person or a department):
    the payer's account goes down by the amount, the budget line up. Callers check capability."""
    if budget.kind != AccountKind.BUDGET:
        raise FupinError(f"“{budget.name}”不是预算科目")
    if amount <= 0:
        raise InvalidInput({"金额": "金额须大于0"})
    txn = transaction_post(actor=actor, kind=TxnKind.ALLOCATION, date=date, decision_type=decision_type,
                           decision_id=decision_id, entitlement=entitlement, period=period,
                           lines=[Line(payer, -amount, entitlement, period), Line(budget, amount)])
    audit.record(actor, AuditAction.CREATE, object_type="transaction", object_id=txn.pk,
                 summary=f"收取 {payer.name} 罚款 {fen_to_yuan_str(amount)} 元，入“{budget.name}”（{decision_id}）")
    return txn


def payee_accounts_for_persons(people):
    """Bulk form of `payee_for_person` for a semester run: a Polars frame (person_id, id_number,
    name) → (person_id, payee_id, name), creating the missing accounts with one insert."""
    import polars as pl

    from fupin.core.bulk import frame_from_query, frame_where_in, insert_frame

    people = people.unique("person_id", maintain_order=True)
    found = frame_where_in(Account.objects.filter(kind=AccountKind.PAYEE, payee_type=PayeeType.PERSON),
                           "person", people["person_id"].to_list(), [("person_id", pl.Int64), ("id", pl.Int64)])
    missing = people.join(found, on="person_id", how="anti")
    if missing.height:
        last = Account.objects.order_by("-id").values_list("id", flat=True).first() or 0
        insert_frame(Account, missing.select(
            ("person:" + pl.col("id_number")).alias("code"), pl.col("name"), pl.lit(AccountKind.PAYEE).alias("kind"),
            pl.lit(PayeeType.PERSON).alias("payee_type"), pl.col("person_id"),
            pl.col("id_number").alias("payee_id_number"), pl.col("name").alias("payee_name"),
            pl.lit("").alias("source"), pl.lit("").alias("programme")))
        # the rows just copied in are the only payee accounts above `last` for these persons
        new = frame_from_query(Account.objects.filter(id__gt=last, kind=AccountKind.PAYEE, payee_type=PayeeType.PERSON)
                               .order_by(),
                               [("person_id", pl.Int64), ("id", pl.Int64)])
        found = pl.concat([found, new])
    found = found.unique("person_id", keep="last", maintain_order=True)   # one payee account per person
    return people.join(found.rename({"id": "payee_id"}), on="person_id", how="left", maintain_order="left") \
        .select("person_id", "payee_id", "name")


# ---- refusals -------------------------------------------------------------------------------------

def _deny(actor: User, cap: str, message: str) -> None:
    """A refusal that is not a missing capability (wrong region, own claim): audited like one."""
    audit.record(actor, AuditAction.DENIED, object_type="capability", object_id=cap, result=AuditResult.DENIED,
                 summary=message)
    raise AccessDenied(message)


def _require_region(actor: User, cap: str, region_id: str | None, what: str) -> None:
    if region_id is None or not access.in_scope(actor, region_id):
        _deny(actor, cap, f"{what}不属于您的管辖区划，不能办理；请由该区划的工作人员办理")


def _overdraw(budget: Account, amount: int) -> FupinError:
    have = balance(budget)
    return FupinError(f"预算科目“{budget.name}”余额 {fen_to_yuan_str(have)} 元，不足以支付 "
                      f"{fen_to_yuan_str(amount)} 元；请先拨入资金或调整支付")


class BalanceMoved(FupinError):
    """A budget line's balance is no longer the one a computation was bounded by (a settlement
    that a top-up fund capped): nothing was written; compute again with the new balance."""

    def __init__(self, budget: Account):
        super().__init__(f"“{budget.name}”的余额在计算后已变动，未记账；请重新结算")


def dead_message(name: str, death_date, what: str = "") -> str:
    return (f"{name} 已于 {death_date or '（日期未登记）'} 死亡（户籍库记录），不能向其支付{what}；"
            "如死亡登记有误，请先在户籍中更正后再办理")


def _refuse_dead_person(person, date: dt.date, what: str = "") -> None:
    """A person recorded as dead is not paid for anything after the date of death."""
    if person is not None and not person.alive and (person.death_date is None or date > person.death_date):
        raise FupinError(dead_message(person.name, person.death_date, what))


def _refuse_dead_payees(payee_ids: list[int], date: dt.date) -> None:
    """No payee recorded as dead before `date` (a semester run may name a million payees: the
    ids go in chunks or as one array, never as one huge IN list)."""
    from django.db.models import Q

    from fupin.core.bulk import rows_where_in

    if not payee_ids:
        return

    dead = sorted(rows_where_in(Account.objects.filter(person__alive=False).filter(
        Q(person__death_date__isnull=True) | Q(person__death_date__lt=date)), "id", payee_ids,
        "id", "person__name", "person__death_date"))
    if dead:
        _, name, death_date = dead[0]
        raise FupinError(dead_message(name, death_date)
                         + (f"（本批共 {len(dead)} 人已死亡，均未支付）" if len(dead) > 1 else ""))


# ---- the one writer -------------------------------------------------------------------------------

@dataclass
class Line:
    account: Account
    amount: int                 # fen, into the account
    entitlement: str = ""
    period: str = ""
    reverses: Entry | None = None
    # an amount computed from the budget line's balance (a settlement's top-up fund): if the balance
    # no longer allows it, BalanceMoved (compute again) rather than a refusal; `expect_balance`: the
    # balance bounded the amount (the claim drew it all), so it stands only on exactly that balance
    computed: bool = False
    expect_balance: int | None = None


@transaction.atomic(savepoint=False)
def transaction_post(*, actor: User | None, kind: str, date: dt.date, decision_type: str, decision_id: str,
                     lines: list[Line], frame=None, entitlement: str = "", period: str = "", memo: str = "",
                     reverses: Transaction | None = None, beneficiary=None) -> Transaction:
    """Write one balanced transaction: `lines`, plus (for a large run) `frame`, a Polars frame of
    payee lines (account_id, amount, entitlement, period) inserted in bulk.
    Refused, with nothing written: unbalanced lines, a budget line taken below zero, a payment
    to a person (or for a `beneficiary`) recorded as dead before `date`.

    No row is locked while anything is computed: each budget line's stored balance moves by one
    conditional UPDATE (`balance = balance + x WHERE balance + x >= 0`), issued last, in account
    order, so the row is held only until the caller commits. No savepoint: a refusal here rolls
    back the caller's whole transaction."""
    total = sum(x.amount for x in lines) + (int(frame["amount"].sum()) if frame is not None and frame.height else 0)
    if total != 0:
        raise FupinError(f"凭证借贷不平（相差 {fen_to_yuan_str(total)} 元），未记账")
    if kind != TxnKind.REVERSAL:
        _refuse_dead_person(beneficiary, date)
        _refuse_dead_payees([x.account.pk for x in lines if x.amount > 0 and x.account.kind == AccountKind.PAYEE
                             and x.account.person_id], date)
    moves: dict[int, list] = {}   # budget account id → [account, net amount, expected balance, computed]
    for x in lines:
        if x.account.kind == AccountKind.BUDGET:
            move = moves.setdefault(x.account.pk, [x.account, 0, None, False])
            move[1] += x.amount
            if x.expect_balance is not None:
                move[2] = x.expect_balance
            move[3] |= x.computed or x.expect_balance is not None
    # built from ids: setting related objects through their descriptors took 4% of a settlement's CPU
    txn = Transaction(kind=kind, date=date, actor=actor, decision_type=decision_type, decision_id=decision_id,
                      entitlement=entitlement, period=period, memo=memo, reverses=reverses)
    entries = [Entry(account_id=x.account.pk, amount=x.amount, entitlement=x.entitlement, period=x.period,
                     reverses_id=x.reverses.pk if x.reverses else None) for x in lines if x.amount or x.reverses]
    steps = []   # the budget lines' moves, in account order: two postings never wait on each other in a cycle
    for pk in sorted(moves):
        account, amount, expect, computed = moves[pk]
        if not amount and expect is None:
            continue
        # balance = balance + x, only where the balance is still the one expected (or stays >= 0)
        guard, params = "", [amount, pk]
        if expect is not None:
            guard, params = " AND balance = %s", [*params, expect]
        elif amount < 0:
            guard, params = " AND balance >= %s", [*params, -amount]
        steps.append(_Move(account, amount, computed,
                           f"UPDATE {sql.table(Account)} SET balance = balance + %s WHERE id = %s{guard}", params))
    if frame is None and len(steps) <= 1 and entries and len(entries) <= 500 and sql.can_write_with():
        # a settlement, a grant, a reversal (PostgreSQL): the transaction, its entries and the one budget
        # line's move are one statement, one round trip instead of three (each costs more than its work)
        return _post_in_one(txn, entries, steps[0] if steps else None)
    sql.insert([txn])   # precompiled INSERTs (core.sql)
    for entry in entries:
        entry.transaction_id = txn.pk
    for chunk in chunks(entries, 500):
        sql.insert(chunk)
    if frame is not None and frame.height:
        import polars as pl

        from fupin.core.bulk import insert_frame

        insert_frame(Entry, frame.select(pl.lit(txn.pk, dtype=pl.Int64).alias("transaction_id"), "account_id",
                                         "amount", "entitlement", "period"))
    for step in steps:
        if not sql.execute(step.update, step.params):
            raise step.refusal()
    return txn


class _Move(NamedTuple):
    """One budget line's conditional move within a posting."""
    account: Account
    amount: int
    computed: bool
    update: str      # UPDATE … WHERE the balance still allows it
    params: list

    def refusal(self) -> Exception:
        """Nothing moved: compute again (a computed amount), or the overdraw refused."""
        return BalanceMoved(self.account) if self.computed else _overdraw(self.account, -self.amount)


def _post_in_one(txn: Transaction, entries: list[Entry], step: _Move | None) -> Transaction:
    """`transaction_post`'s writes as one statement (a WITH whose parts run once each, in one snapshot):
    the transaction, its entries with its new key, and at most one budget line's conditional move,
    whose count of rows moved (0: the balance no longer allows it) comes back with the key."""
    head, params = sql.insert_parts([txn])
    rows, entry_params = sql.insert_parts(entries, given={"transaction_id": "(SELECT id FROM t)"})
    text = f"WITH t AS ({head} RETURNING id), e AS ({rows})"
    params += entry_params
    if step is not None:
        text += f", u AS ({step.update} RETURNING 1)"
        params += step.params
    row = sql.fetch_one(text + " SELECT id, " + ("(SELECT count(*) FROM u)" if step else "1") + " FROM t", params)
    if not row[1]:
        raise step.refusal()
    return sql.saved(txn, row[0])


# ---- budget lines: a user's actions (checked here) ------------------------------------------------

def budget_create(*, actor: User, code: str, name: str, source: str, programme: str, year: int, region) -> Account:
    access.require(actor, Cap.BUDGET_MANAGE, what=f"新建预算科目 {name}")
    region_id = getattr(region, "pk", region)
    _require_region(actor, Cap.BUDGET_MANAGE, region_id, f"预算科目“{name}”的区划 {region_id or '（未填写）'}")
    if source not in FundingSource.values:
        raise InvalidInput({"资金来源": f"“{source}”不是资金来源；可选：{'、'.join(FundingSource.labels)}"})
    if Account.objects.filter(code=code).exists():
        raise InvalidInput({"科目编码": f"{code} 已存在"})
    with transaction.atomic():
        account = account_for(code=code, name=name, kind=AccountKind.BUDGET, source=source, programme=programme,
                              year=year, region_id=region_id)
        audit.record(actor, AuditAction.CREATE, object_type="account", object_id=account.pk, summary=f"新建预算科目 {name}")
    return account


def access_budget(actor: User, pk, cap: str = Cap.BUDGET_MANAGE) -> Account:
    """A budget line the user may act on: the capability, then the region (out of scope: not found)."""
    access.require(actor, cap)
    budget = Account.objects.filter(pk=pk, kind=AccountKind.BUDGET).first() if str(pk).isdigit() else None
    if budget is None or budget.region_id is None or not access.in_scope(actor, budget.region_id):
        raise NotFound(f"找不到预算科目（编号 {pk}），或不在您的管辖范围内")
    return budget


def budget_allocate(*, actor: User, budget: Account, amount: int, date: dt.date, decision_id: str,
                    memo: str = "") -> Transaction:
    access.require(actor, Cap.BUDGET_MANAGE, what=f"向“{budget.name}”拨款")
    _require_region(actor, Cap.BUDGET_MANAGE, budget.region_id, f"预算科目“{budget.name}”")
    if budget.kind != AccountKind.BUDGET:
        raise FupinError(f"“{budget.name}”不是预算科目")
    if amount <= 0:
        raise InvalidInput({"金额": "拨入金额须大于0"})
    if not decision_id.strip():
        raise InvalidInput({"拨款文号": "必须填写"})
    with transaction.atomic():
        source = source_account(source=budget.source or FundingSource.CITY_COUNTY, year=budget.year or date.year)
        txn = transaction_post(actor=actor, kind=TxnKind.ALLOCATION, date=date, decision_type="allocation",
                               decision_id=decision_id, memo=memo,
                               lines=[Line(source, -amount), Line(budget, amount)])
        audit.record(actor, AuditAction.CREATE, object_type="transaction", object_id=txn.pk,
                     summary=f"向“{budget.name}”拨入 {fen_to_yuan_str(amount)} 元（{decision_id}）")
    return txn


# ---- payments: called by rooms that have checked their own capability -----------------------------

@dataclass
class Payment:
    payee: Account
    amount: int            # fen
    entitlement: str       # e.g. education.compulsory_living
    period: str            # e.g. 2024-autumn


LIVE_PAYMENT_LINES = dict(transaction__kind=TxnKind.PAYMENT, reversals__isnull=True, amount__gt=0,
                          account__kind=AccountKind.PAYEE)


def live_payment_lines():
    """Payment lines to payees that were not reversed. NOT EXISTS, not LIVE_PAYMENT_LINES' LEFT JOIN
    … IS NULL: PostgreSQL does not turn that join into an anti-join, estimates it at one row, and
    the duplicate check of a county's second monthly run became a nested loop over every earlier
    line (13 s for 5,000 payees, quadratic; see benchmarks/assistance.py)."""
    from django.db.models import Exists, OuterRef

    return Entry.objects.filter(transaction__kind=TxnKind.PAYMENT, amount__gt=0, account__kind=AccountKind.PAYEE) \
        .filter(~Exists(Entry.objects.filter(reverses=OuterRef("pk"))))


def payments_post(*, actor: User, budget: Account, payments: list[Payment], date: dt.date,
                  decision_type: str, decision_id: str) -> Transaction | None:
    """Post a few payments from one budget line: all or none. Returns the transaction (None if
    there was nothing to pay). The same path as a semester run's million payments."""
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
                        decision_id: str) -> Transaction | None:
    """Post payments given as a Polars frame (payee_id, payee_name, entitlement, period, amount in
    fen): all or none, no overdraw, no second payment of an entitlement for a period, nobody
    recorded as dead."""
    import polars as pl

    from fupin.core.bulk import frame_where_in

    n = payments.height
    if budget.kind != AccountKind.BUDGET:
        raise FupinError(f"“{budget.name}”不是预算科目")
    if n and payments["amount"].min() <= 0:
        raise InvalidInput({"金额": "支付金额须大于0"})
    if payments.select(pl.struct("payee_id", "entitlement", "period").is_duplicated().any()).item():
        raise FupinError("同一批支付中有重复的（收款人、待遇项目、期间）")
    budget = Account.objects.select_for_update().get(pk=budget.pk)
    payee_ids = payments["payee_id"].unique().to_list()
    # the payees' earlier live lines of the same items and periods (only those can be duplicates:
    # asked for in SQL), as a frame (a run may name a million payees)
    prior = frame_where_in(live_payment_lines().filter(entitlement__in=payments["entitlement"].unique().to_list(),
                                                       period__in=payments["period"].unique().to_list()),
                           "account", payee_ids,
                           [("account_id", pl.Int64), ("entitlement", pl.Utf8), ("period", pl.Utf8)]) \
        .rename({"account_id": "payee_id"})
    if prior.height:
        dup = payments.join(prior, on=["payee_id", "entitlement", "period"], how="semi")
        if dup.height:
            first = dup.row(0, named=True)
            from fupin.policy import labels

            raise FupinError(f"重复支付：{first['payee_name']} 的“{labels.entitlement(first['entitlement'])}”"
                             f"（{labels.period(first['period'])}）已支付过，"
                             f"共 {dup.height} 笔重复，本批未支付")
    if not n:
        return None
    _refuse_dead_payees(payee_ids, date)
    total = int(payments["amount"].sum())
    txn = transaction_post(actor=actor, kind=TxnKind.PAYMENT, date=date, decision_type=decision_type,
                           decision_id=decision_id, memo=f"{n} 笔支付", lines=[Line(budget, -total)],
                           frame=payments.select(pl.col("payee_id").alias("account_id"), "amount", "entitlement",
                                                 "period"))
    audit.record(actor, AuditAction.CREATE, object_type="payment_batch", object_id=decision_id,
                 summary=f"从“{budget.name}”支付 {n} 笔，共 {fen_to_yuan_str(total)} 元"
                         f"（{DECISION_LABELS.get(decision_type, '依据')} {decision_id}）")
    return txn


# ---- reversals ------------------------------------------------------------------------------------

def access_transaction(actor: User, pk) -> Transaction:
    """A payment the user may reverse: REVERSE_PAYMENT, and every budget line it touched lies in
    the user's region (otherwise: not found)."""
    access.require(actor, Cap.REVERSE_PAYMENT, what=f"冲销凭证 {pk}")
    txn = Transaction.objects.filter(pk=pk).first() if str(pk).isdigit() else None
    regions = set() if txn is None else set(
        txn.entries.filter(account__kind=AccountKind.BUDGET).values_list("account__region_id", flat=True))
    if txn is None or not regions or any(r is None or not access.in_scope(actor, r) for r in regions):
        raise NotFound(f"找不到凭证 {pk}，或不在您的管辖范围内")
    return txn


def transaction_reverse(*, actor: User, txn: Transaction, reason: str, date: dt.date,
                        entries: list[Entry] | None = None) -> Transaction:
    """A user reverses a ledger payment (whole, or some of its lines). Settlements are reversed
    at the hospital window instead, which also restores the patient's accumulators."""
    txn = access_transaction(actor, txn.pk)
    if txn.decision_type == "settlement":
        raise FupinError("医疗结算的凭证请在医院结算窗口冲销该结算（同时恢复患者的累计额），不能在账簿中直接冲销")
    return ledger_reverse(actor=actor, txn=txn, reason=reason, date=date, entries=entries)


@transaction.atomic
def ledger_reverse(*, actor: User, txn: Transaction, reason: str, date: dt.date,
                   entries: list[Entry] | None = None) -> Transaction:
    """Reverse a whole transaction, or only some of its payment lines (each back to the budget
    line it came from). Every line can be reversed once; the reversal is a new transaction.
    Callers check the user's capability first (`transaction_reverse`, health.reverse)."""
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
    new = [Line(e.account, -e.amount, e.entitlement, e.period, reverses=e) for e in chosen]
    if entries is not None:  # line by line: the money goes back to the budget line of the payment
        budget_line = next((e for e in lines if e.account.kind == AccountKind.BUDGET and e.amount < 0), None)
        if budget_line is None:
            raise FupinError(f"凭证 {txn.pk} 没有预算科目分录，只能整笔冲销")
        new.append(Line(budget_line.account, sum(e.amount for e in chosen)))
    rev = transaction_post(actor=actor, kind=TxnKind.REVERSAL, date=date, decision_type=txn.decision_type,
                           decision_id=txn.decision_id, entitlement=txn.entitlement, period=txn.period,
                           memo=f"冲销 {txn.pk}：{reason}"[:200], reverses=txn, lines=new)
    audit.record(actor, AuditAction.CREATE, object_type="transaction", object_id=rev.pk,
                 summary=f"冲销凭证 {txn.pk}{'' if entries is None else f' 的 {len(chosen)} 笔'}：{reason}")
    return rev


# ---- project and charity money (fupin/projects, fupin/charity) ------------------------------------
# The accounts these rooms pay from and into, and one allocation path for money coming in from a
# source (a planned allocation to a project, a donation to a charity fund). Callers check their
# own capability and region before calling, like `payments_post`.

def project_budget_account(*, project_number: str, source: str, year: int, region_code: str, name: str) -> Account:
    """One budget line per project and funding source (专账管理: each project's money apart)."""
    return account_for(code=f"project:{project_number}:{source}", name=name, kind=AccountKind.BUDGET, source=source,
                       programme="project", year=year, region_id=region_code)


def charity_fund_account(*, region_code: str, name: str) -> Account:
    """A charity fund: a village's collective account (region = the village) or the county fund."""
    return account_for(code=f"charity:{region_code}", name=name, kind=AccountKind.BUDGET,
                       source=FundingSource.DONATION, programme="charity", region_id=region_code)


def sponsored_fund_account(*, key: str, region_code: str, name: str) -> Account:
    """A named sponsor's earmarked fund (单一捐赠方冠名): its donations and the grants they pay, apart."""
    return account_for(code=f"charity:sponsor:{key}", name=name, kind=AccountKind.BUDGET,
                       source=FundingSource.DONATION, programme="charity", region_id=region_code)


def contractor_payee(*, name: str, region_code: str) -> Account:
    """A project's implementer (a contractor, a cooperative) as a payee of its county."""
    county = county_of(region_code)
    return account_for(code=f"contractor:{county}:{name}"[:80], name=name, kind=AccountKind.PAYEE,
                       payee_type=PayeeType.INSTITUTION, payee_name=name, region_id=county)


def payee_for_household(household) -> Account:
    head = household.persons.filter(relation="head").first()
    name = head.name if head is not None else household.number
    return account_for(code=f"household:{household.number}", name=name, kind=AccountKind.PAYEE,
                       payee_type=PayeeType.HOUSEHOLD, household=household, payee_name=name)


@transaction.atomic
def allocation_post(*, actor: User, budget: Account, amount: int, date: dt.date, decision_type: str,
                    decision_id: str, memo: str = "") -> Transaction:
    """Money into a budget line from its funding source (source account of the date's year)."""
    if budget.kind != AccountKind.BUDGET:
        raise FupinError(f"“{budget.name}”不是预算科目")
    if amount <= 0:
        raise InvalidInput({"金额": "金额须大于0"})
    if not decision_id.strip():
        raise InvalidInput({"文号": "必须填写"})
    source = source_account(source=budget.source or FundingSource.CITY_COUNTY, year=budget.year or date.year)
    txn = transaction_post(actor=actor, kind=TxnKind.ALLOCATION, date=date, decision_type=decision_type,
                           decision_id=decision_id, memo=memo[:200], lines=[Line(source, -amount), Line(budget, amount)])
    audit.record(actor, AuditAction.CREATE, object_type="transaction", object_id=txn.pk,
                 summary=f"向“{budget.name}”拨入 {fen_to_yuan_str(amount)} 元（{decision_id}）")
    return txn


def programme_budget_account(*, programme: str, region_code: str, year: int, source: str, name: str) -> Account:
    """A county's budget line of one programme and year (housing subsidies, a cooperative's dividends)."""
    return account_for(code=f"{programme}:{region_code}:{year}", name=name, kind=AccountKind.BUDGET, source=source,
                       programme=programme.split(":")[0], year=year, region_id=region_code)
