"""The window at window speed (issue 21 §1): budget balances stored and moved by one conditional
UPDATE, checked nightly against the ledger; a claim capped by its fund stands only on the balance it
was computed with; many windows at once keep every accumulator and the ledger equal to the claims
(PostgreSQL)."""
import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.models import F

from fupin.core.errors import FupinError
from fupin.core.models import User
from fupin.funds import services as funds
from fupin.funds.models import Account, Entry, Transaction, TxnKind
from fupin.health import services
from fupin.health.models import Accumulator, Claim
from fupin.policy.rules import health as rules
from fupin.registry.models import Household, Person

from .conftest import pid
from .test_health import BILL_1, BILL_2, build_shili, second_window

BACK = dt.date(2024, 1, 2)


def stored(account) -> int:
    return Account.objects.get(pk=account.pk).balance


def take_back(fund, amount):
    """Money returned from the fund to its source: leaves the fund with less (through the one writer)."""
    source = funds.source_account(source="social", year=2024)
    with transaction.atomic():   # the writer takes no savepoint of its own: its caller's transaction is undone
        funds.transaction_post(actor=None, kind=TxnKind.ALLOCATION, date=BACK, decision_type="allocation",
                               decision_id="back", lines=[funds.Line(fund, -amount), funds.Line(source, amount)])


def test_the_stored_balance_follows_settlements_and_reversals_and_the_nightly_check_agrees(db):
    hospital, patient, window, fund = build_shili()
    c1 = services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    services.settle(user=window, hospital=hospital, person=patient, number="Z2", bill=BILL_2)
    assert (stored(fund), funds.ledger_sum(fund), funds.balance(fund)) == (100_000_000 - 135987,) * 3
    with pytest.raises(FupinError):   # latest first
        services.reverse(user=second_window(), claim_id=c1.pk, reason="录入错误")
    services.reverse(user=second_window(), claim_id=Claim.objects.get(number="Z2").pk, reason="录入错误")
    services.reverse(user=second_window(), claim_id=c1.pk, reason="录入错误")
    assert (stored(fund), funds.ledger_sum(fund)) == (100_000_000, 100_000_000)
    assert funds.balances_check() == []
    out = io.StringIO()
    call_command("funds_check_balances", stdout=out)
    assert out.getvalue() == "各预算科目余额与账簿分录合计一致\n"
    # accounts that are not budget lines store nothing: their balance is their entries' sum
    assert Account.objects.exclude(kind="budget").filter(balance__isnull=False).count() == 0


def test_the_nightly_check_names_a_budget_line_whose_balance_differs_from_its_entries(db):
    hospital, patient, window, fund = build_shili()
    Account.objects.filter(pk=fund.pk).update(balance=F("balance") - 1)
    out = io.StringIO()
    with pytest.raises(SystemExit) as stop:
        call_command("funds_check_balances", stdout=out)
    assert stop.value.code == 1
    assert out.getvalue() == (f"预算科目“{fund.name}”（topup:990101000000:wsfp）：余额 999999.99 元，"
                              "账簿分录合计 1000000.00 元，不一致\n共 1 个预算科目余额与账簿不一致，请报告系统管理员\n")


def test_an_overdraw_is_refused_by_the_conditional_update_and_writes_nothing(db):
    hospital, patient, window, fund = build_shili()
    before = (Transaction.objects.count(), Entry.objects.count())
    with pytest.raises(FupinError) as err:
        take_back(fund, 100_000_001)
    assert err.value.message == (f"预算科目“{fund.name}”余额 1000000.00 元，不足以支付 1000000.01 元；"
                                 "请先拨入资金或调整支付")
    assert (Transaction.objects.count(), Entry.objects.count(), stored(fund)) == (*before, 100_000_000)


def test_a_posting_bounded_by_a_balance_stands_only_on_that_same_balance(db):
    hospital, patient, window, fund = build_shili()
    source = funds.source_account(source="social", year=2024)
    before = Entry.objects.count()
    with pytest.raises(funds.BalanceMoved) as err, transaction.atomic():
        funds.transaction_post(actor=None, kind=TxnKind.ALLOCATION, date=BACK, decision_type="allocation",
                               decision_id="x", lines=[funds.Line(fund, -5, expect_balance=99_999_999),
                                                       funds.Line(source, 5)])
    assert err.value.message == f"“{fund.name}”的余额在计算后已变动，未记账；请重新结算"
    assert (Entry.objects.count(), stored(fund)) == (before, 100_000_000)
    funds.transaction_post(actor=None, kind=TxnKind.ALLOCATION, date=BACK, decision_type="allocation",
                           decision_id="x", lines=[funds.Line(fund, -5, expect_balance=100_000_000),
                                                   funds.Line(source, 5)])
    assert (Entry.objects.count(), stored(fund)) == (before + 2, 99_999_995)


def test_a_fund_smaller_than_the_need_pays_its_whole_balance_and_the_rest_is_a_shortfall(db):
    hospital, patient, window, fund = build_shili()
    take_back(fund, 100_000_000 - 50_000)
    c = services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    assert (c.breakdown["health.topup.wsfp"], c.shortfall, c.patient) == (50_000, 135987 - 50_000, 998000 + 135987 - 50_000)
    assert (stored(fund), funds.ledger_sum(fund)) == (0, 0)
    c2 = services.settle(user=window, hospital=hospital, person=patient, number="Z2", bill=BILL_1)
    assert (c2.breakdown["health.topup.wsfp"], stored(fund)) == (0, 0)


def test_a_duplicate_number_is_refused_after_compute_and_writes_nothing(db):
    hospital, patient, window, fund = build_shili()
    c1 = services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    before = (Entry.objects.count(), dict(Accumulator.objects.values_list("key", "amount")), stored(fund))
    with pytest.raises(FupinError) as err:
        services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_2)
    assert err.value.message == (f"流水号 Z1 已结算过（结算编号 {c1.pk}），不能重复结算；"
                                 "如需更正，请先冲销该结算，再用同一流水号重新结算")
    assert (Entry.objects.count(), dict(Accumulator.objects.values_list("key", "amount")), stored(fund)) == before


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_many_windows_at_once_keep_every_accumulator_and_the_ledger_equal_to_the_claims():
    hospital, first, window, fund = build_shili()
    patients = [first]
    for i in range(1, 6):
        h = Household.objects.create(number=f"SL{i + 1}", village_id="990101100200", attribute="dibao_poor",
                                     main_cause="illness", status="registered")
        p = Person(household=h, name=f"病人{i}", id_number=pid("1960-01-01", 11 + 10 * i), birth_date=dt.date(1960, 1, 1),
                   sex="M", relation="head", labour="lost", assistance="dibao")
        p.save()
        patients.append(p)
    # less than the claims need: the fund runs out part of the way, capped claims race each other
    take_back(fund, 100_000_000 - 1_000_000)
    threads_n, each = 12, 4
    barrier, errors = threading.Barrier(threads_n), []

    def window_(k):
        try:
            barrier.wait()
            for j in range(each):
                n = k * each + j
                bill = dict(BILL_1 if n % 2 else BILL_2, total=(BILL_1 if n % 2 else BILL_2)["total"] + 100 * n)
                services.settle(user=window, hospital=hospital, person=patients[n % len(patients)], number=f"W{n}", bill=bill)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=window_, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    claims = list(Claim.objects.order_by("pk"))
    assert len(claims) == threads_n * each
    topup = sum(c.breakdown["health.topup.wsfp"] for c in claims)
    # the fund paid exactly what it had, no more, and its stored balance is its ledger's sum
    assert (topup, stored(fund), funds.ledger_sum(fund)) == (1_000_000, 0, 0)
    assert any(c.shortfall for c in claims)
    assert funds.balances_check() == []
    chain = services.packs().for_region("990101000000")
    for p in patients:
        mine = [c for c in claims if c.person_id == p.pk]
        sums = {}
        for c in mine:
            for k, v in c.accumulator_changes.items():
                sums[k] = sums.get(k, 0) + v
        assert dict(Accumulator.objects.filter(person=p, year=2024).exclude(amount=0).values_list("key", "amount")) \
            == {k: v for k, v in sums.items() if v}
        # each claim equals settling the patient's claims one after the other in the order committed
        ytd = {"basic": "0", "ci_base": "0", "ci": "0", "assistance": "0", "topup": {"wsfp": "0", "yyax": "0"}}
        for c in mine:
            drawn = c.breakdown["health.topup.wsfp"]
            expected = rules.settle(chain, {
                "region": "990101000000", "discharge_date": "2024-06-01", "visit_type": "inpatient", "level": "county",
                "in_county": True, "referred": False, "categories": ["dibao", "registered_poor"],
                "total": rules.yuan(c.total), "in_policy": rules.yuan(c.in_policy), "waivable": rules.yuan(c.waivable),
                "ytd": ytd, "fund_balances": {"wsfp": rules.yuan(drawn if c.shortfall else 100_000_000), "yyax": "0.00"}})
            assert c.breakdown == expected["_fen"]
            ytd = expected["accumulators"]
    # every claim's transaction balances, and the hospital got what the payers paid
    assert all(sum(e.amount for e in c.transaction.entries.all()) == 0 for c in claims)
    assert funds.ledger_sum(services.hospital_account(hospital)) == sum(
        c.total - c.breakdown["health.waived"] - c.breakdown["health.absorbed"] for c in claims)
    assert User.objects.count() == 3
