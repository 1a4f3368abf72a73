import datetime as dt

import pytest
from django.db.models import Sum

from fupin.core.errors import FupinError
from fupin.core.models import Region
from fupin.funds import selectors, services
from fupin.funds.models import Account, AccountKind, Entry, PayeeType, Transaction, TxnKind

from .conftest import COUNTY, OTHER_COUNTY

D = dt.date(2026, 3, 1)


@pytest.fixture
def ledger(world):
    officer = world.users["county_officer"]
    budget = services.budget_create(actor=officer, code="edu-2026-central", name="2026年中央教育资助", source="central",
                               programme="education", year=2026, region=Region.objects.get(code=COUNTY))
    services.budget_allocate(actor=officer, budget=budget, amount=100_000, date=D, decision_id="拨-1")
    head = world.h1.persons.get(relation="head")
    return officer, budget, services.payee_for_person(head), head


def pay(officer, budget, payee, amount, item="education.x", period="2026-spring", decision="run-1"):
    return services.payments_post(actor=officer, budget=budget, date=D, decision_type="subsidy_run", decision_id=decision,
                                  payments=[services.Payment(payee, amount, item, period)])


def test_payment_moves_money_and_every_transaction_balances(ledger):
    officer, budget, payee, _ = ledger
    pay(officer, budget, payee, 30_000)
    assert (services.balance(budget), services.balance(payee)) == (70_000, 30_000)
    for t in Transaction.objects.all():
        assert t.entries.aggregate(s=Sum("amount"))["s"] == 0
    t = Transaction.objects.get(kind=TxnKind.PAYMENT)
    line = t.entries.get(account=payee)
    assert (t.decision_type, t.decision_id, line.entitlement, line.period) == ("subsidy_run", "run-1", "education.x", "2026-spring")


def test_overdraw_is_refused_and_nothing_is_written(ledger):
    officer, budget, payee, _ = ledger
    before = (Transaction.objects.count(), Entry.objects.count())
    with pytest.raises(FupinError) as exc:
        pay(officer, budget, payee, 100_001)
    assert exc.value.message == "预算科目“2026年中央教育资助”余额 1000.00 元，不足以支付 1000.01 元；请先拨入资金或调整支付"
    assert (Transaction.objects.count(), Entry.objects.count()) == before
    assert services.balance(budget) == 100_000


def test_duplicate_payment_is_refused(ledger):
    officer, budget, payee, head = ledger
    pay(officer, budget, payee, 10_000)
    with pytest.raises(FupinError) as exc:
        pay(officer, budget, payee, 10_000, decision="run-2")
    assert exc.value.message == f"重复支付：{head.name} 的“education.x”（2026年春季）已支付过，共 1 笔重复，本批未支付"
    assert services.balance(budget) == 90_000


def test_reversal_restores_and_can_happen_once(ledger):
    officer, budget, payee, _ = ledger
    pay(officer, budget, payee, 10_000)
    t = Transaction.objects.get(kind=TxnKind.PAYMENT)
    rev = services.transaction_reverse(actor=officer, txn=t, reason="发错人", date=D)
    assert (services.balance(budget), services.balance(payee), rev.reverses_id) == (100_000, 0, t.pk)
    with pytest.raises(FupinError):
        services.transaction_reverse(actor=officer, txn=t, reason="再冲", date=D)
    pay(officer, budget, payee, 10_000, decision="run-2")  # after reversal the entitlement can be paid again
    assert services.balance(payee) == 10_000


def test_ledger_is_append_only(ledger):
    officer, budget, payee, _ = ledger
    pay(officer, budget, payee, 10_000)
    e = Entry.objects.first()
    e.amount = 1
    with pytest.raises(PermissionError):
        e.save()
    with pytest.raises(PermissionError):
        e.delete()
    with pytest.raises(PermissionError):
        Entry.objects.all().update(amount=0)
    with pytest.raises(PermissionError):
        Transaction.objects.all().delete()


def _raw_payment(budget, payee, amount, date, item="education.x", period="2026-spring"):
    # Data as it may arrive from a legacy ledger, bypassing the service's checks.
    t = Transaction.objects.create(kind=TxnKind.PAYMENT, date=date, decision_type="legacy", decision_id="L")
    Entry.objects.create(transaction=t, account=budget, amount=-amount)
    Entry.objects.create(transaction=t, account=payee, amount=amount, entitlement=item, period=period)
    return t


def test_auditor_reports(ledger, world):
    officer, budget, payee, head = ledger
    spouse = world.h1.persons.get(relation="spouse")
    from fupin.registry import services as reg
    reg.person_death(actor=officer, person=spouse, date=dt.date(2026, 1, 10))
    dead = services.payee_for_person(spouse)
    stranger = Account.objects.create(code="person:x", name="外人", kind=AccountKind.PAYEE, payee_type=PayeeType.PERSON,
                                      payee_id_number="110105194912310021", payee_name="外人")
    t1 = _raw_payment(budget, dead, 5_000, dt.date(2026, 2, 1))
    _raw_payment(budget, dead, 5_000, dt.date(2026, 1, 5), item="education.y")  # before death: fine
    t3 = _raw_payment(budget, stranger, 2_000, D)
    _raw_payment(budget, payee, 1_000, D)
    _raw_payment(budget, payee, 1_000, D)
    county = Region.objects.get(code=COUNTY).code_range()
    assert [r["transaction_id"] for r in selectors.payments_to_deceased(county)] == [t1.pk]
    assert selectors.payments_to_deceased(county)[0]["entitlement"] == "education.x"
    assert [(r["transaction_id"], r["account__payee_name"]) for r in selectors.payments_to_unknown_persons(county)] \
        == [(t3.pk, "外人")]
    assert [(r["account__payee_name"], r["n"], r["total"]) for r in selectors.duplicate_payments(county)] \
        == [(head.name, 2, 2_000)]
    # another county's auditor sees none of it
    other = Region.objects.get(code=OTHER_COUNTY).code_range()
    assert (selectors.payments_to_deceased(other), selectors.payments_to_unknown_persons(other),
            list(selectors.duplicate_payments(other)), selectors.disbursement_progress(other)) == ([], [], [], [])
    assert selectors.disbursement_progress(county) == [{
        "code": "edu-2026-central", "name": "2026年中央教育资助", "source": "中央财政", "allocated": 100_000,
        "paid": 14_000, "balance": 86_000, "share_permille": 140}]


def test_one_line_of_a_batch_can_be_reversed_back_to_its_budget(ledger, world):
    officer, budget, payee, head = ledger
    other = services.payee_for_person(world.h1.persons.get(relation="spouse"))
    services.payments_post(actor=officer, budget=budget, date=D, decision_type="subsidy_run", decision_id="run-9",
                           payments=[services.Payment(payee, 10_000, "education.x", "2026-spring"),
                                     services.Payment(other, 20_000, "education.x", "2026-spring")])
    t = Transaction.objects.get(decision_id="run-9")
    assert t.entries.count() == 3  # the budget line once, then one line per payee
    line = t.entries.get(account=other)
    rev = services.transaction_reverse(actor=officer, txn=t, reason="多发", date=D, entries=[line])
    assert (services.balance(other), services.balance(payee), services.balance(budget)) == (0, 10_000, 90_000)
    assert sum(e.amount for e in rev.entries.all()) == 0
    with pytest.raises(FupinError):
        services.transaction_reverse(actor=officer, txn=t, reason="再冲", date=D, entries=[line])
    # the reversed line's entitlement can be paid again; the other one cannot
    pay(officer, budget, other, 20_000, decision="run-10")
    with pytest.raises(FupinError):
        pay(officer, budget, payee, 10_000, decision="run-11")


def test_payment_to_a_person_recorded_as_dead_is_refused_with_the_date(ledger, world):
    officer, budget, payee, head = ledger
    from fupin.registry import services as reg
    spouse = world.h1.persons.get(relation="spouse")
    reg.person_death(actor=officer, person=spouse, date=dt.date(2026, 1, 10))
    before = (Entry.objects.count(), Transaction.objects.count())
    with pytest.raises(FupinError) as exc:
        services.payments_post(actor=officer, budget=budget, date=D, decision_type="subsidy_run", decision_id="run-d",
                               payments=[services.Payment(payee, 1_000, "education.x", "2026-spring"),
                                         services.Payment(services.payee_for_person(spouse), 1_000, "education.x",
                                                          "2026-spring")])
    assert exc.value.message == ("李四 已于 2026-01-10 死亡（户籍库记录），不能向其支付；"
                                 "如死亡登记有误，请先在户籍中更正后再办理")
    assert (Entry.objects.count(), Transaction.objects.count()) == before


def test_accounts_are_per_county_and_fund_and_created_once(world):
    a = services.topup_fund_account(region_code="513435100200", fund="wsfp", name="卫生扶贫救助基金")
    b = services.topup_fund_account(region_code=COUNTY, fund="wsfp", name="卫生扶贫救助基金")
    c = services.topup_fund_account(region_code="513436100200", fund="wsfp", name="卫生扶贫救助基金")
    d = services.topup_fund_account(region_code=COUNTY, fund="yyax", name="医药爱心扶贫基金")
    assert a.pk == b.pk and len({a.pk, c.pk, d.pk}) == 3
    assert [(x.code, x.region_id, x.kind) for x in (a, c, d)] == [
        ("topup:513435000000:wsfp", COUNTY, "budget"), ("topup:513436000000:wsfp", OTHER_COUNTY, "budget"),
        ("topup:513435000000:yyax", COUNTY, "budget")]


def test_budget_lines_only_by_their_office_and_in_its_region(world):
    from fupin.core.models import AuditEvent

    officer = world.users["county_officer"]
    denied = lambda: AuditEvent.objects.filter(result="denied").count()  # noqa: E731
    n = denied()
    with pytest.raises(FupinError) as exc:
        services.budget_create(actor=officer, code="x", name="外县预算", source="central", programme="education",
                               year=2026, region=OTHER_COUNTY)
    assert exc.value.message == f"预算科目“外县预算”的区划 {OTHER_COUNTY}不属于您的管辖区划，不能办理；请由该区划的工作人员办理"
    with pytest.raises(FupinError) as exc:
        services.budget_create(actor=world.users["school_aid"], code="x", name="预算", source="central",
                               programme="education", year=2026, region=COUNTY)
    assert exc.value.message == "您的角色没有“建立预算科目与拨款”权限，如需办理请联系县级管理员"
    assert (Account.objects.count(), denied()) == (0, n + 2)


def test_settlement_transactions_are_reversed_at_the_window_not_in_the_ledger(ledger):
    officer, budget, payee, _ = ledger
    t = pay(officer, budget, payee, 1_000)
    assert t.decision_type == "subsidy_run"
    settled = services.transaction_post(actor=officer, kind=TxnKind.PAYMENT, date=D, decision_type="settlement",
                                        decision_id="H:1", lines=[services.Line(budget, -500), services.Line(payee, 500)])
    with pytest.raises(FupinError) as exc:
        services.transaction_reverse(actor=officer, txn=settled, reason="x", date=D)
    assert exc.value.message == "医疗结算的凭证请在医院结算窗口冲销该结算（同时恢复患者的累计额），不能在账簿中直接冲销"


def test_an_unbalanced_transaction_is_refused(ledger):
    officer, budget, payee, _ = ledger
    with pytest.raises(FupinError) as exc:
        services.transaction_post(actor=officer, kind=TxnKind.PAYMENT, date=D, decision_type="x", decision_id="1",
                                  lines=[services.Line(budget, -500), services.Line(payee, 400)])
    assert exc.value.message == "凭证借贷不平（相差 -1.00 元），未记账"
