"""Who may move money: every role of tests/conftest.py × every money action, done the way a
user does it (the web pages; the API for hospital systems), asserting allowed or refused.

A refused action changes nothing — no transaction, entry, account, claim, accumulator,
condition, subsidy, run state or file — and leaves exactly ONE new DENIED audit row. These
tests run with real transactions (`transaction=True`), so a refusal that happened inside a
rolled-back transaction would lose its audit row and fail here (ADR 0001).

The second part is a property test of reversals: claims settled and reversed in random
allowed orders leave the accumulators and the ledger exactly where the live claims put them.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from fupin.core import services as core_services
from fupin.core.errors import FupinError
from fupin.core.models import AuditEvent, User
from fupin.core.roles import Role
from fupin.education import services as edu
from fupin.education.models import Enrolment, RunStatus, School, SubsidyRun
from fupin.funds import services as funds
from fupin.funds.models import Account, Entry, Transaction
from fupin.health import services as health
from fupin.health.models import Accumulator, Claim, Condition, FixedSubsidy, Hospital
from fupin.policy.rules import health as rules
from fupin.registry.models import Person
from fupin.support.models import Assessment, Department, Dispatch, Member, Staff

from .conftest import COUNTY, T1, V2, pid
from .test_health import build_shili
from .test_health import second_window as shili_second_window

SEM = "2024-autumn"
ROLES = [r.value for r in Role]

# which role owns each money action (SPEC §1; fupin/core/roles.py)
OWNER = {
    "settle": "hospital_window", "preview": "hospital_window", "reverse_settlement": "hospital_window",
    "pay_fixed_subsidy": "health_officer", "record_condition": "health_officer",
    "compute_run": "school_aid", "approve_run": "county_officer", "post_run": "county_officer",
    "create_budget": "county_officer", "allocate_budget": "county_officer",
    "approve_allowance": "medical_affairs", "reverse_payment": "county_officer",
}


def snapshot(media: Path) -> dict:
    return {
        "transactions": Transaction.objects.count(), "entries": Entry.objects.count(),
        "accounts": Account.objects.count(), "claims": list(Claim.objects.values_list("pk", "status")),
        "accumulators": list(Accumulator.objects.values_list("person_id", "key", "amount").order_by("pk")),
        "conditions": Condition.objects.count(), "fixed": FixedSubsidy.objects.count(),
        "runs": list(SubsidyRun.objects.values_list("pk", "status").order_by("pk")),
        "approved": Assessment.objects.filter(approved_by__isnull=False).count(),
        "files": sorted(str(p) for p in media.rglob("*")) if media.exists() else [],
    }


def denied() -> int:
    return AuditEvent.objects.filter(result="denied").count()


# ---- the things each action needs ---------------------------------------------------------------

def county_budget(world, code="edu", programme="education", amount=10_000_000):
    officer = world.users["county_officer"]
    budget = funds.budget_create(actor=officer, code=code, name=f"{code} 预算", source="central", programme=programme,
                                 year=2024, region=COUNTY)
    funds.budget_allocate(actor=officer, budget=budget, amount=amount, date=dt.date(2024, 1, 5), decision_id=f"{code}-1")
    return budget


def window_form(world, number="Z1"):
    hospital = Hospital.objects.get_or_create(code="H513435", defaults=dict(name="甘洛县人民医院", region_id=COUNTY,
                                                                           level="county"))[0]
    head = world.h1.persons.get(relation="head")
    return {"id_number": head.id_number, "hospital": hospital.pk, "number": number, "visit_type": "inpatient",
            "discharge_date": "2024-06-01", "in_county": "1", "total": "20000.00", "in_policy": "18000.00",
            "waivable": "0"}


def second_window(world):
    return User.objects.get_or_create(username="window2", defaults=dict(
        role="hospital_window", region_id=COUNTY, password_changed_at=timezone.now()))[0]


def settled_claim(world):
    form = window_form(world, "Z0")
    hospital = Hospital.objects.get(pk=form["hospital"])
    bill = {"discharge_date": dt.date(2024, 6, 1), "visit_type": "inpatient", "in_county": True, "referred": False,
            "total": 2_000_000, "in_policy": 1_800_000, "waivable": 0}
    return health.settle(user=second_window(world), hospital=hospital, person=world.h1.persons.get(relation="head"),
                         number="Z0", bill=bill)


def computed_run(world, approve=False):
    junior = School.objects.create(code="S2", name="红星中学", region_id=V2)
    Enrolment.objects.create(person=world.h1.persons.get(relation="child"), school=junior, semester=SEM,
                             stage="junior", grade=1, boarding=True)
    run = edu.run_compute(actor=world.users["school_aid"], semester=SEM, region_code=T1, budget=county_budget(world))
    if approve:
        edu.run_approve(actor=world.users["county_officer"], run_id=run.pk)
    return run


def assessment(world):
    hospital = Hospital.objects.create(code="HC", name="州医院", region_id=COUNTY, level="city")
    township = Hospital.objects.create(code="HT", name="镇卫生院", region_id=T1, level="township")
    dept = Department.objects.create(hospital=hospital, name="内科", order=1)
    staff = Staff.objects.create(department=dept, name="医生甲")
    d = Dispatch.objects.create(department=dept, supported=township, year=2024, quarter=1, handover=dt.date(2024, 1, 2),
                                handover_note="", end=dt.date(2024, 3, 31), cycle=0)
    member = Member.objects.create(dispatch=d, staff=staff)
    # an assessment that passed every item: the allowance only, no fine, no deduction, no reward
    Assessment.objects.create(member=member, report_received=True, result={
        "allowance_payable": "1320.00", "deduction": "0.00", "department_reward": "0.00",
        "fines": {"unauthorised_days": 0, "department_assessment_fine": "0.00"}})
    return member, county_budget(world, code="support", programme="support")


def payment(world):
    budget = county_budget(world, code="pay")
    payee = funds.payee_for_person(world.h1.persons.get(relation="head"))
    return funds.payments_post(actor=world.users["county_officer"], budget=budget, date=dt.date(2024, 3, 1),
                               decision_type="grant", decision_id="G1",
                               payments=[funds.Payment(payee, 50_000, "grant.x", "2024")])


def fixed_subsidy_budget(world):
    account = funds.fixed_subsidy_account(region_code=COUNTY, kind="poor_mother_delivery", name="孕产妇补助")
    funds.budget_allocate(actor=world.users["county_officer"], budget=account, amount=10_000_000,
                          date=dt.date(2024, 1, 1), decision_id="F1")


# ---- each action: prepare (as the owners would), then do it as `client` --------------------------

def act(action: str, world, client):
    """Prepare what the action needs, then return a function doing it through the web."""
    if action in ("settle", "preview"):
        form = window_form(world)
        url = "/health/window/settle/" if action == "settle" else "/health/window/preview/"
        return lambda: client.post(url, form)
    if action == "reverse_settlement":
        claim = settled_claim(world)
        return lambda: client.post(f"/health/claims/{claim.pk}/reverse/", {"reason": "录入错误", "confirm": "1"})
    if action == "pay_fixed_subsidy":
        fixed_subsidy_budget(world)
        mother = world.h1.persons.get(relation="spouse")
        return lambda: client.post("/health/", {"action": "fixed", "id_number": mother.id_number,
                                                "kind": "poor_mother_delivery", "date": "2024-03-01"})
    if action == "record_condition":
        head = world.h1.persons.get(relation="head")
        return lambda: client.post("/health/", {"action": "condition", "id_number": head.id_number,
                                                "code": "hypertension", "date": "2020-01-01"})
    if action == "compute_run":   # a roster to compute from (an empty semester is refused to everyone)
        junior = School.objects.create(code="S2", name="红星中学", region_id=V2)
        Enrolment.objects.create(person=world.h1.persons.get(relation="child"), school=junior, semester=SEM,
                                 stage="junior", grade=1, boarding=True)
        budget = county_budget(world)
        return lambda: client.post("/education/", {"semester": SEM, "region": T1, "budget": budget.pk})
    if action in ("approve_run", "post_run"):
        run = computed_run(world, approve=action == "post_run")
        verb = "approve" if action == "approve_run" else "post"
        return lambda: client.post(f"/education/runs/{run.pk}/{verb}/")
    if action == "create_budget":
        return lambda: client.post("/funds/budget/", {"code": "new-1", "name": "新预算", "source": "central",
                                                      "programme": "education", "year": "2024"})
    if action == "allocate_budget":
        budget = county_budget(world, code="alloc")
        return lambda: client.post("/funds/allocate/", {"budget": budget.pk, "amount": "1000.00",
                                                        "decision_id": "拨-9", "date": "2024-02-01"})
    if action == "approve_allowance":
        member, budget = assessment(world)
        return lambda: client.post(f"/support/members/{member.pk}/", {"action": "approve", "budget": budget.pk})
    if action == "reverse_payment":
        txn = payment(world)
        return lambda: client.post("/funds/reverse/", {"transaction": txn.pk, "reason": "发错人"})
    raise AssertionError(action)


def happened(action: str, before: dict, after: dict) -> bool:
    """What the action changes when it is allowed."""
    grew = lambda k: after[k] > before[k]  # noqa: E731
    run = lambda: after["runs"][-1][1]  # noqa: E731
    return {
        "settle": lambda: len(after["claims"]) > len(before["claims"]),
        "preview": lambda: after == before,  # a preview writes nothing; its answer is checked below
        "reverse_settlement": lambda: "reversed" in {s for _, s in after["claims"]},
        "pay_fixed_subsidy": lambda: grew("fixed") and grew("transactions"),
        "record_condition": lambda: grew("conditions"),
        "compute_run": lambda: len(after["runs"]) > len(before["runs"]),
        "approve_run": lambda: run() == RunStatus.APPROVED,
        "post_run": lambda: run() == RunStatus.POSTED and grew("transactions"),
        "create_budget": lambda: grew("accounts"),
        "allocate_budget": lambda: grew("entries"),
        "approve_allowance": lambda: grew("approved") and grew("transactions"),
        "reverse_payment": lambda: grew("transactions"),
    }[action]()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", list(OWNER))
def test_money_action_by_role(action, world, client, settings, tmp_path):
    """Every other role first, each refused with nothing changed and one DENIED row (so each finds the
    same state), then the owner, whose action happens. One prepared world per action, not per role:
    each test starts from an emptied database, and on PostgreSQL emptying it costs most of the test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    do = act(action, world, client)
    wrong = []
    for role in [r for r in ROLES if r != OWNER[action]] + [OWNER[action]]:
        client.force_login(world.users[role])
        before, n = snapshot(settings.MEDIA_ROOT), denied()
        response = do()
        after = snapshot(settings.MEDIA_ROOT)
        if role == OWNER[action]:
            assert happened(action, before, after), response.content.decode()[:500]
            assert denied() == n
            if action == "preview":
                assert response.status_code == 200 and response.json()["patient"]
            continue
        if after != before:
            wrong.append(f"{role}: changed {[k for k in after if after[k] != before[k]]}")
        if denied() != n + 1:
            wrong.append(f"{role}: {denied() - n} DENIED rows")
        if action == "preview" and response.status_code not in (400, 403):
            wrong.append(f"{role}: HTTP {response.status_code}")
    assert wrong == []
    assert denied() == len(ROLES) - 1


# ---- a few refusals the matrix does not reach by role alone -------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_officer_who_settled_cannot_reverse_and_the_refusal_is_audited(world, client, settings, tmp_path):
    claim = settled_claim(world)
    client.force_login(second_window(world))
    before, n = snapshot(tmp_path), denied()
    client.post(f"/health/claims/{claim.pk}/reverse/", {"reason": "录入错误", "confirm": "1"})
    assert (snapshot(tmp_path), denied()) == (before, n + 1)
    assert AuditEvent.objects.filter(result="denied").latest("id").summary == \
        "结算 Z0 由您本人办理，不能由您冲销；请由另一位窗口工作人员复核后冲销"


@pytest.mark.django_db(transaction=True)
def test_a_window_of_another_county_cannot_settle_here(world, client, tmp_path):
    form = window_form(world)
    other = User.objects.create(username="w-other", role="hospital_window", region_id="513436000000",
                                password_changed_at=timezone.now())
    client.force_login(other)
    before = snapshot(tmp_path)
    client.post("/health/window/settle/", form)
    assert snapshot(tmp_path) == before


@pytest.mark.django_db(transaction=True)
def test_settlement_api_for_the_window_only(world, client, tmp_path):
    form = window_form(world)
    body = {"hospital": "H513435", "id_number": form["id_number"], "number": "API-1", "visit_type": "inpatient",
            "discharge_date": "2024-06-01", "in_county": True, "total": "20000.00", "in_policy": "18000.00"}
    for role, status in (("health_officer", 403), ("civil_affairs", 403), ("county_admin", 403),
                         ("school_aid", 403), ("hospital_window", 201)):
        user = world.users[role]
        token = core_services.token_create(actor=user, user=user, name="his")
        before, n = snapshot(tmp_path), denied()
        r = client.post("/api/v1/settlements", body, content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {token}")
        assert r.status_code == status, (role, r.content.decode())
        if status == 403:
            assert (snapshot(tmp_path), denied()) == (before, n + 1)
            assert r.json()["detail"] == "您的角色没有“医疗费用一站式结算”权限，如需办理请联系县级管理员"
    claim = Claim.objects.get(number="API-1")
    for role in ("county_admin", "health_officer"):
        token = core_services.token_create(actor=world.users[role], user=world.users[role], name="x")
        n = denied()
        r = client.post(f"/api/v1/settlements/{claim.pk}/reverse", {"reason": "x"}, content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {token}")
        assert (r.status_code, denied()) == (403, n + 1)
    assert Claim.objects.get(pk=claim.pk).status == "settled"


# ---- reversals in random orders (hypothesis) ---------------------------------------------------

bills = st.builds(
    lambda total, policy_pct, waive_pct, day: {
        "discharge_date": dt.date(2024, 1, 1) + dt.timedelta(days=day), "visit_type": "inpatient", "in_county": True,
        "referred": False, "total": total, "in_policy": total * policy_pct // 100,
        "waivable": total * policy_pct // 100 * waive_pct // 100},
    total=st.integers(1, 40_000_000), policy_pct=st.integers(0, 100), waive_pct=st.integers(0, 5),
    day=st.integers(0, 364))
operations = st.lists(st.one_of(st.tuples(st.just("settle"), bills), st.tuples(st.just("reverse_latest")),
                                st.tuples(st.just("reverse_earlier"), st.integers(0, 20)),
                                st.tuples(st.just("resettle"))), min_size=1, max_size=10)


def _balances() -> dict:
    from django.db.models import Sum
    return {a: s for a, s in Entry.objects.values_list("account_id").annotate(s=Sum("amount")) if s}


def _ledger_of(claims) -> dict:
    out = {}
    for c in claims:
        for account, amount in Entry.objects.filter(transaction=c.transaction).values_list("account_id", "amount"):
            out[account] = out.get(account, 0) + amount
    return out


def _plus(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return {k: v for k, v in out.items() if v}


@pytest.fixture
def shili_world(db):
    return build_shili()


_seq = iter(range(100, 10**6))


@hsettings(max_examples=40, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=operations)
def test_reversals_in_any_allowed_order_return_accumulators_and_ledger_exactly(shili_world, ops):
    """Settle, reverse (latest first; an earlier claim is refused and nothing changes) and settle
    again in random orders. After every step the accumulators are the sum of the live claims'
    stored changes, the ledger is where the live claims put it, and every live claim equals a
    fresh sequential computation; at the end, reversing the rest returns everything exactly."""
    hospital, _, window, _ = shili_world
    second = shili_second_window()
    n = next(_seq)
    person = Person(household=Person.objects.get(name="病人甲").household, name=f"病人{n}",
                    id_number=pid("1961-01-01", n), birth_date=dt.date(1961, 1, 1), sex="M", relation="other",
                    labour="lost", assistance="dibao")
    person.save()
    start = _balances()
    live, undone, number = [], [], iter(range(1000))
    chain = health.packs().for_region(hospital.region_id)
    fund_codes = rules.funds_of(chain, dt.date(2024, 1, 1))
    funds_start = {c: funds.topup_fund_balance(region_code=hospital.region_id, fund=c) for c in fund_codes}

    def acc():
        return {k: v for k, v in Accumulator.objects.filter(person=person, year=2024).values_list("key", "amount") if v}

    def check():
        expected_acc = {}
        for c in live:
            expected_acc = _plus(expected_acc, c.accumulator_changes)
        assert acc() == expected_acc
        assert _balances() == _plus(start, _ledger_of(live))
        ytd, spent = {}, {c: 0 for c in fund_codes}
        for c in live:  # each live claim is what settling the live claims in order gives
            bill = {"discharge_date": c.discharge_date, "visit_type": c.visit_type, "in_county": c.in_county,
                    "referred": c.referred, "total": c.total, "in_policy": c.in_policy, "waivable": c.waivable}
            claim = health.build_claim(person, hospital, bill, ytd, {k: funds_start[k] - spent[k] for k in fund_codes},
                                       fund_codes)
            result = rules.settle(chain, claim)
            assert result["_fen"] == c.breakdown
            ytd = _plus(ytd, result["_changes"])
            for k in fund_codes:
                spent[k] += result["_fen"][f"health.topup.{k}"]

    for op in ops:
        if op[0] == "settle":
            claim = health.settle(user=window, hospital=hospital, person=person, number=f"P{n}-{next(number)}",
                                  bill=op[1])
            live.append(claim)
        elif op[0] == "reverse_latest" and live:
            claim = live.pop()
            health.reverse(user=second, claim_id=claim.pk, reason="更正")
            undone.append((claim, [c.pk for c in live]))
        elif op[0] == "reverse_earlier" and len(live) >= 2:
            target = live[op[1] % (len(live) - 1)]
            before = (acc(), _balances(), Claim.objects.get(pk=target.pk).status)
            with pytest.raises(FupinError) as exc:
                health.reverse(user=second, claim_id=target.pk, reason="更正")
            next_one = live[live.index(target) + 1]
            assert "后结先退" in exc.value.message and f"流水号 {next_one.number}（" in exc.value.message
            assert (acc(), _balances(), Claim.objects.get(pk=target.pk).status) == before
        elif op[0] == "resettle" and undone:
            old, stack = undone.pop()
            bill = {"discharge_date": old.discharge_date, "visit_type": old.visit_type, "in_county": old.in_county,
                    "referred": old.referred, "total": old.total, "in_policy": old.in_policy, "waivable": old.waivable}
            again = health.settle(user=window, hospital=hospital, person=person, number=old.number, bill=bill)
            if stack == [c.pk for c in live]:  # the same claims below it: the same answer
                assert (again.breakdown, again.accumulator_changes) == (old.breakdown, old.accumulator_changes)
            live.append(again)
        check()
    while live:
        health.reverse(user=second, claim_id=live.pop().pk, reason="全部冲销")
    assert acc() == {}
    assert _balances() == start
