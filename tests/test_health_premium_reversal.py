"""Issue 17 gap: the premium run (资助参保) has its own capability, and a run can be reversed on a
screen: exactly the negative of its ledger transaction, with a reason, audited, only by that
capability; its persons count as uninsured again."""
from __future__ import annotations

import datetime as dt

import pytest

from .conftest import COUNTY
from .test_health_coverage import _fund, _premium_world

D = dt.date


def test_the_premium_capability_is_the_health_offices_own():
    from fupin.core.roles import CAPABILITIES, SECOND_FACTOR_CAPS, Cap, Role

    assert sorted(r for r, caps in CAPABILITIES.items() if Cap.PAY_PREMIUM in caps) == [Role.HEALTH_OFFICER]
    assert Cap.PAY_PREMIUM in SECOND_FACTOR_CAPS and Cap.PAY_PREMIUM.label == "资助参保代缴与冲销"


def test_a_reversal_is_exactly_the_negative_and_the_persons_are_uninsured_again(world):
    from fupin.core.errors import FupinError, InvalidInput
    from fupin.core.models import AuditEvent
    from fupin.funds import services as funds
    from fupin.funds.models import Account, Entry, TxnKind
    from fupin.health import insurance
    from fupin.health.models import Coverage, PremiumRun

    officer = _premium_world(world)
    budget = _fund(world, 200000)
    run = insurance.premium_run(actor=officer, region_code=COUNTY, year=2024, on=D(2024, 1, 5))
    fund = Account.objects.get(code="insurer:basic:513435000000")
    with pytest.raises(InvalidInput):
        insurance.premium_run_reverse(actor=officer, pk=run.pk, reason="  ", on=D(2024, 1, 9))
    assert PremiumRun.objects.get().reversal_id is None and Coverage.objects.count() == 4

    run = insurance.premium_run_reverse(actor=officer, pk=run.pk, reason="名单重复", on=D(2024, 1, 9))
    rev = run.reversal
    assert (rev.kind, rev.reverses_id, rev.date) == (TxnKind.REVERSAL, run.transaction_id, D(2024, 1, 9))
    original = sorted(Entry.objects.filter(transaction=run.transaction).values_list("account__code", "amount"))
    negative = sorted(Entry.objects.filter(transaction=rev).values_list("account__code", "amount"))
    assert original == [("insurer:basic:513435000000", 160000), ("premium:513435000000:2024", -160000)]
    assert negative == [("insurer:basic:513435000000", -160000), ("premium:513435000000:2024", 160000)]
    assert (funds.balance(budget), funds.balance(fund)) == (200000, 0)
    assert Coverage.objects.count() == 0
    assert sorted(s for _, s in run.reversed_roster) == [40000] * 4 and len(run.reversed_roster) == 4
    assert (run.reversal_reason, run.reversed_by_id) == ("名单重复", officer.pk)
    assert AuditEvent.objects.get(object_type="premium_run", action="update").summary == \
        "冲销资助参保：甘洛县 2024 年代缴 4 人，共 1600.00 元；原因：名单重复"
    s = insurance.coverage_status(officer, COUNTY, 2024)
    assert (s["insured"], len(s["due"]), s["due_total"]) == (0, 4, 160000)

    with pytest.raises(FupinError) as exc:
        insurance.premium_run_reverse(actor=officer, pk=run.pk, reason="再冲", on=D(2024, 1, 10))
    assert exc.value.message == "2024-01-05 的这次代缴已冲销过"
    # the persons can be paid for again by a new run
    again = insurance.premium_run(actor=officer, region_code=COUNTY, year=2024, on=D(2024, 1, 11))
    assert (again.persons, again.total, Coverage.objects.count(), funds.balance(budget)) == (4, 160000, 4, 40000)


def test_a_role_without_the_capability_is_refused_audited_and_nothing_changes(world):
    from fupin.core.errors import AccessDenied
    from fupin.core.models import AuditEvent
    from fupin.funds.models import Transaction
    from fupin.health import insurance
    from fupin.health.models import Coverage

    officer = _premium_world(world)
    _fund(world, 200000)
    run = insurance.premium_run(actor=officer, region_code=COUNTY, year=2024, on=D(2024, 1, 5))
    n_txn = Transaction.objects.count()
    # the county office may reverse ledger payments, but not a premium run
    for role in ("county_officer", "hospital_window"):
        with pytest.raises(AccessDenied):
            insurance.premium_run_reverse(actor=world.users[role], pk=run.pk, reason="试", on=D(2024, 1, 9))
    assert list(AuditEvent.objects.filter(result="denied").values_list("actor__role", "summary").order_by("pk")) == [
        ("county_officer", f"冲销资助参保代缴 {run.pk}"), ("hospital_window", f"冲销资助参保代缴 {run.pk}")]
    assert (Transaction.objects.count(), Coverage.objects.count()) == (n_txn, 4)
    with pytest.raises(AccessDenied):
        insurance.premium_run(actor=world.users["county_officer"], region_code=COUNTY, year=2024, on=D(2024, 1, 5))


def test_the_runs_screen_lists_and_reverses_and_hides_the_form_without_the_capability(world, login):
    from fupin.health import insurance
    from fupin.health.models import Coverage, PremiumRun

    officer = _premium_world(world)
    _fund(world, 200000)
    run = insurance.premium_run(actor=officer, region_code=COUNTY, year=2024, on=D(2024, 1, 5))
    page = login("county_officer").get(f"/health/insurance/runs/?region={COUNTY}&year=2024").content.decode()
    assert "2024-01-05" in page and 'name="reason"' not in page
    client = login("health_officer")
    page = client.get(f"/health/insurance/runs/?region={COUNTY}&year=2024").content.decode()
    assert "<td data-label=\"状态\">有效</td>" in page and 'name="reason"' in page
    r = client.post("/health/insurance/runs/", {"run": run.pk, "region": COUNTY, "year": "2024", "reason": "名单重复"},
                    follow=True)
    page = r.content.decode()
    assert "已冲销 2024-01-05 代缴的 4 人，共 1,600.00 元；这些人重新列为未参保" in page
    assert "已冲销：名单重复" in page and 'name="reason"' not in page
    assert PremiumRun.objects.get().reversal_id is not None and Coverage.objects.count() == 0
