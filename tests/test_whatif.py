"""Policy what-if (issue 20): the demo county's three scenarios against one-by-one computation,
nothing written to the ledger or the registry, the form and the YAML overlay, access, the
pack-change approval, the Excel export, the one-page brief rendered."""
from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import polars as pl
import pytest
import yaml

from fupin.core.models import AuditEvent, User
from fupin.policy.packs import PackSet, parse_pack, shipped_packs
from fupin.policy.whatif import Rosters, compare, histogram, one_by_one, overlay

YEAR = 2026


@pytest.fixture
def county(db):
    """A small demo county: the generator's households, a roster, assistance recipients, two
    stays in hospital for some poor patients, and the three demo scenarios, each run once."""
    import random

    from fupin.demo import generator
    from fupin.demo import welfare as demo_welfare
    from fupin.demo import whatif as demo_whatif
    from fupin.education.models import Enrolment, School
    from fupin.funds import services as funds
    from fupin.health.models import Hospital
    from fupin.registry.models import Person

    c = generator.generate(260, min_villages=3, seed=11)
    generator.seed_database(c)
    generator.seed_demo_users(c)
    officer = User.objects.get(username="county")
    township = next(code for code, _, lv, _ in c.regions if lv == 4)
    village = next(code for code, _, lv, p in c.regions if lv == 5 and p == township)
    primary = School.objects.create(code="10001", name="中心小学", region_id=village)
    middle = School.objects.create(code="10002", name="中学", region_id=village)
    rng = random.Random(5)
    rows = []
    for p in Person.objects.filter(alive=True, schooling__in=["primary", "junior", "senior"]).order_by("pk"):
        for sem in (f"{YEAR}-spring", f"{YEAR}-autumn"):
            rows.append(Enrolment(person=p, school=primary if p.schooling == "primary" else middle, semester=sem,
                                  stage=p.schooling, grade=2, boarding=rng.random() < 0.5,
                                  fee=120000 if p.schooling == "senior" else 0))
    Enrolment.objects.bulk_create(rows)
    Hospital.objects.create(code="H513435", name="甘洛县人民医院", region_id=generator.COUNTY[0], level="county")
    for code, name in (("jzfp", "健康扶贫救助基金"), ("axjj", "慈善爱心救助基金")):
        account = funds.topup_fund_account(region_code=generator.COUNTY[0], fund=code, name=name)
        funds.budget_allocate(actor=officer, budget=account, amount=500_000_000, date=dt.date(YEAR, 1, 10),
                              decision_id=f"演示拨款-{code}")
    demo_welfare.seed(c, actor=officer, today=dt.date(YEAR, 11, 1))
    demo_whatif.seed(c, year=YEAR)
    return c


def scenario(name_start: str):
    from fupin.whatif.models import Scenario

    return Scenario.objects.get(name__startswith=name_start)


def test_the_three_demo_scenarios_equal_one_by_one_computation(county):
    from fupin.education.models import Enrolment
    from fupin.whatif import selectors
    from fupin.whatif.services import scenario_packs

    boarding, dibao, cap = scenario("寄宿生"), scenario("低保"), scenario("个人自付")
    region = boarding.region
    rosters = selectors.rosters(region, YEAR)
    assert rosters.education.height == Enrolment.objects.count() == 2 * (rosters.education.height // 2)
    assert rosters.health.height == 60   # 30 patients, two stays each
    base = shipped_packs()
    current = one_by_one(rosters, base)
    for s in (boarding, dibao, cap):
        result = s.results.get()
        changed = one_by_one(rosters, scenario_packs(s))
        assert result.summary["total_current"] == sum(current.values())
        assert result.summary["total_scenario"] == sum(changed.values())
        # household by household, the batch equals the cases computed one at a time
        table = selectors.result_households(result)
        by_household: dict[int, list[int]] = {}
        hh = household_of(rosters)
        for person, amount in current.items():
            by_household.setdefault(hh[person], [0, 0])[0] += amount
        for person, amount in changed.items():
            by_household.setdefault(hh[person], [0, 0])[1] += amount
        assert {h: [a, b] for h, a, b in table.select("_household", "current", "scenario").iter_rows()} == by_household
    # the boarding subsidy +200 a year is +100 a semester for each eligible boarding pupil, nothing else
    funds = {f["fund"]: f["change"] for f in boarding.results.get().summary["funds"]}
    eligible = rosters.education.filter(pl.col("boarding") & pl.col("stage").cast(pl.String).is_in(["primary", "junior"])
                                        & (pl.col("registered_poor") | pl.col("dibao") | pl.col("tekun"))).height
    assert eligible > 0
    assert funds["教育资助资金"] == eligible * 10000
    assert {k for k, v in funds.items() if v} == {"教育资助资金"}
    # 低保 at 450 instead of 480 a month: each 低保 month pays (standard − income) × members, plus
    # the category's add-on per member (A 60, B 30 yuan in the Sichuan pack) while below the standard
    w = rosters.welfare.filter(pl.col("programme") == "dibao")
    extra = {"class_a": 6000, "class_b": 3000, "ordinary": 0}

    def paid(standard, income, members, category):
        return (standard - income + extra[category]) * members if standard > income else 0
    expected = sum(paid(45000, i, m, c) - paid(48000, i, m, c)
                   for i, m, c in w.select("income", "members", "category").iter_rows())
    assert expected < 0
    dib = {f["fund"]: f["change"] for f in dibao.results.get().summary["funds"]}
    assert dib["社会救助：最低生活保障金"] == expected
    assert {k for k, v in dib.items() if v} == {"社会救助：最低生活保障金"}
    # a lower self-pay cap: the top-up funds pay exactly what the patients no longer pay
    c = {f["fund"]: f["change"] for f in cap.results.get().summary["funds"]}
    assert c["个人自付"] < 0
    assert c["健康扶贫救助基金"] + c["慈善爱心救助基金"] == -c["个人自付"]
    assert cap.results.get().summary["total_scenario"] - cap.results.get().summary["total_current"] == -c["个人自付"]


def household_of(r: Rosters) -> dict[int, int]:
    rows = pl.concat([f.select("_person", "_household") for f in (r.education, r.welfare, r.health) if f is not None])
    return dict(rows.unique().iter_rows())
