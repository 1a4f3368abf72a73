"""run_batch on the usual roster, one county's (issue 21 §1b): the one-pass path guesses the
chain from a few rows and checks every row while the rules run; a row it did not look at still
gets one case's refusal, or its own chain's amounts. Kept plans never outlive their packs'
values, and the negative-amount scan is skipped only where `bounds` proves amounts ≥ 0."""
import datetime as dt

import polars as pl
import pytest

from fupin.policy.engine import Model, run_batch, run_case
from fupin.policy.errors import PolicyError
from fupin.policy.expr import Const, If, Max, Min, P, Ratio, Rule, Tiered, TieredDelta, Var
from fupin.policy.expr.polars_compiler import bounds
from fupin.policy.packs import resolve, shipped_packs
from fupin.policy.rules.education import MODEL

PACKS = shipped_packs()
SCHEMA = {"region": pl.String, "date": pl.Date, "stage": pl.String, "semester": pl.String, "boarding": pl.Boolean,
          "registered_poor": pl.Boolean, "dibao": pl.Boolean, "tekun": pl.Boolean, "new_entrant": pl.Boolean,
          "fee": pl.Int64}


def student(**kw):
    base = dict(region="513435100200", date=dt.date(2024, 9, 1), stage="primary", semester="autumn",
                boarding=True, registered_poor=True, dibao=False, tekun=False, new_entrant=False, fee=0)
    return {**base, **kw}


def roster(**at):
    """40 students of one county (stages in turn); `at`: row number (1-based) → that row's changes."""
    rows = [student(stage=s) for s in ["primary", "junior", "senior", "preschool"] * 10]
    for i, changes in at.items():
        rows[int(i[1:]) - 1] = student(**changes)
    return pl.DataFrame(rows, schema=SCHEMA)


def refusal(df, packs, model=MODEL):
    with pytest.raises(PolicyError) as exc:
        run_batch(model, df, packs)
    return exc.value.message


def test_a_row_of_another_province_between_the_rows_looked_at_gets_its_own_packs_amounts():
    # row 18 is not among the rows the guess looks at (every second row of 40, and the last)
    df = roster(r18=dict(region="420100000000", stage="senior"))
    out = run_batch(MODEL, df, PACKS)
    assert out["education.senior_grant"].to_list()[15:19] == [0, 0, 125000, 100000]   # Hubei's grant on row 18
    assert out["education.nutrition_meals"].sum() == 19 * 50000   # row 18 was a junior pupil
    assert out.columns == [*SCHEMA, *(r.name for r in MODEL.rules)]


def test_a_row_outside_the_given_pack_between_the_rows_looked_at_is_refused_as_one_case():
    message = refusal(roster(r18=dict(region="420100000000")), PACKS.chain("sc-513435"))
    assert message == ("第18条：区划 420100000000 不在政策包 sc-513435（四川某县（据《扶贫工作计划》（乡镇）；区划代码为示例））"
                       "的适用范围内（该包适用于区划 513435）；请改用该区划适用的政策包，或不指定政策包、按区划自动选择")


def test_one_bad_input_or_missing_region_in_a_one_county_roster_is_refused_with_its_row():
    assert refusal(roster(r25=dict(fee=-1)), PACKS) == \
        "第25条：输入“本学期应缴保教费或学费（分）”（fee）应为不小于0的整数（分），实际为 -1"
    assert refusal(roster(r25=dict(fee=-1), r9=dict(region=None)), PACKS) == "第9条：缺少输入“区划代码”（region）"
    assert refusal(roster(r40=dict(stage="phd")), PACKS.chain("sc-513435")).startswith(
        "第40条：输入“学段”（stage）的值 'phd' 不在可选值")


def test_a_rate_that_changes_inside_the_roster_is_read_per_row():
    # the nutrition subsidy: 4 yuan a day until 2021-09-01, 5 yuan from then (100 days a semester)
    df = roster(r1=dict(date=dt.date(2021, 8, 31)), r5=dict(date=dt.date(2021, 9, 1)), r9=dict(date=dt.date(2019, 3, 1)))
    out = run_batch(MODEL, df, PACKS)
    assert out["education.nutrition_meals"].to_list()[:10:4] == [40000, 50000, 40000]
    chunked = pl.concat([df.slice(i, 7) for i in range(0, 40, 7)], rechunk=False)
    assert run_batch(MODEL, chunked, PACKS).equals(out)


def test_a_kept_plan_is_not_used_for_another_packs_values(tmp_path):
    def county(rate):
        p = tmp_path / f"county-{rate}.yaml"
        p.write_text(f"""
name: my-county
title: 测试县
region: "513435"
extends: sc-province
parameters:
  education.nutrition.daily_rate:
    unit: yuan
    values: [{{from: 2020-01-01, value: {rate}, source: 测试文件1号}}]
""", encoding="utf-8")
        return resolve(str(p))[1]
    df = roster()
    assert run_batch(MODEL, df, county("6.5"))["education.nutrition_meals"][0] == 65000
    assert run_batch(MODEL, df, county("7"))["education.nutrition_meals"][0] == 70000
    assert run_batch(MODEL, df, county("6.5"))["education.nutrition_meals"][0] == 65000


amount, ytd = Var("amount", "int", "金额（分）"), Var("ytd", "int", "本年已付（分）")
region, date = Var("region", "str", "区划代码"), Var("date", "date", "日期")
NET = Model("net", [Rule("t.net", "净额", amount - ytd, date), Rule("t.kept", "保留", Max(amount - ytd, 0), date)], region)


def test_a_rule_that_can_go_negative_is_still_scanned_and_refused_as_one_case():
    rows = [{"region": "513435100200", "date": dt.date(2024, 1, 1), "amount": 500, "ytd": y} for y in (0, 100, 700, 0)]
    df = pl.DataFrame(rows, schema={"region": pl.String, "date": pl.Date, "amount": pl.Int64, "ytd": pl.Int64})
    assert refusal(df, PACKS, NET) == "第3条：规则“净额”（t.net）得出无效金额 -200；请检查输入和政策包"
    with pytest.raises(PolicyError) as exc:
        run_case(NET, rows[2], PACKS, row=3)
    assert exc.value.message == "第3条：规则“净额”（t.net）得出无效金额 -200；请检查输入和政策包"
    assert run_batch(NET, df.head(2), PACKS)["t.net"].to_list() == [500, 400]


class _Chain:
    """A chain stand-in: parameters with fixed values over all time (`bounds` reads timelines)."""

    def __init__(self, **values):
        from fupin.policy.packs import Value
        self.values = {k: [Value(dt.date.min, None, v, "测试", "test")] for k, v in values.items()}

    def timeline(self, name):
        return [(dt.date.min, None, v) for v in self.values[name]]


def test_bounds_of_amounts():
    chain = {0: _Chain(cap=3000, rate=650_000, flag=True, tiers=((0, 1000, 500_000), (1000, None, 800_000)))}
    a, b = Var("a", "int", "a"), Var("b", "int", "b")
    ints = {"a": 10_000, "b": 200}
    assert bounds(Max(a - P("cap"), 0), chain, ints) == (0, 7000)
    assert bounds(a - b, chain, ints) == (-200, 10_000)
    assert bounds(Min(a, P("cap")) * 2 // Const(3), chain, ints) == (0, 2000)
    assert bounds(If(P("flag"), a, Const(7)), chain, ints) == (0, 10_000)
    assert bounds(Ratio(a - b, P("rate")), chain, ints) == (0, 6500)        # a negative amount gives null
    # tiers: 1000 × 0.5 + 9000 × 0.8 = 7700
    assert bounds(Tiered(a, P("tiers")), chain, ints) == (0, 7700)
    assert bounds(TieredDelta(a + b, a, P("tiers"), If(P("flag"), Const(100_000), 0)), chain, ints) == (0, 8880)
    # not known: a condition, a parameter that is not a number, an input not bounded (not Int64),
    # a division by a divisor that may be 0, a product that could leave Int64
    assert bounds(a >= b, chain, ints) is None
    assert bounds(If(P("flag"), P("flag"), 0), chain, ints) is None
    assert bounds(a + Var("c", "int", "c"), chain, ints) is None
    assert bounds(a // b, chain, ints) is None
    assert bounds(a * b * a, chain, {"a": 10 ** 11, "b": 10 ** 6}) is None


def test_a_pickled_model_leaves_its_kept_plans_behind_and_computes_the_same():
    import pickle

    df = roster()
    out = run_batch(MODEL, df, PACKS)
    assert MODEL.plans   # kept: this roster's plan and its dates' check
    again = pickle.loads(pickle.dumps(MODEL))
    assert "plans" not in again.__dict__
    assert run_batch(again, df, PACKS).equals(out)
