"""The policy engine: packs, fallback, explanations, YAML cases, and single == batch."""
import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import given, settings, strategies as st

from fupin.policy import packs as packs_mod
from fupin.policy.engine import run_batch, run_case
from fupin.policy.errors import PolicyError
from fupin.policy.packs import PackSet, load_pack, resolve
from fupin.policy.rules.education import MODEL, STAGES

PACKS = PackSet.shipped()
CASES = yaml.safe_load((Path(packs_mod.__file__).parent / "rules" / "education.cases.yaml").read_text())


def student(**kw):
    base = dict(region="513435100200", date=dt.date(2024, 9, 1), stage="primary", semester="autumn",
                boarding=True, registered_poor=True, dibao=False, tekun=False, new_entrant=False, fee=0)
    return {**base, **kw}


def amounts(results):
    return {r.rule: r.amount for r in results if r.amount}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_plain_language_cases(case):
    chain = PACKS.chain(case["pack"])
    got = {r.rule: f"{r.amount // 100}.{r.amount % 100:02d}" for r in run_case(MODEL, case["input"], chain) if r.amount}
    assert got == case["expect"]


def test_regional_packs_disagree_as_in_the_spec_table():
    """The same poor boarding pupil, preschooler and senior student in five regions (SPEC §4)."""
    def row(region):
        pre = amounts(run_case(MODEL, student(region=region, stage="preschool", fee=100000), PACKS))
        pri = amounts(run_case(MODEL, student(region=region), PACKS))
        sen = amounts(run_case(MODEL, student(region=region, stage="senior"), PACKS))
        return pre, pri["education.nutrition_meals"], sen["education.senior_grant"]

    assert row("513435100200") == ({"education.preschool_fee_waiver": 100000}, 50000, 100000)
    assert row("420100000000") == ({"education.preschool_living": 50000}, 50000, 125000)
    # Gansu: the seed's 4 yuan a day held until the national 5 yuan of 2021 autumn (the case is 2024 autumn)
    assert row("620100000000") == ({"education.preschool_fee_waiver": 50000}, 50000, 100000)
    assert row("110000000000") == ({}, 50000, 100000)
    hunan_pre = amounts(run_case(MODEL, student(region="433127100200", stage="preschool"), PACKS))
    hunan_meals = amounts(run_case(MODEL, student(region="433127100200"), PACKS))["education.nutrition_meals"]
    assert (hunan_pre, hunan_meals) == ({"education.preschool_living": 25000}, 20000)


def test_county_over_province_over_national():
    chain = PACKS.for_region("513435100200")
    assert chain.key == "sc-513435/sc-province/cn-national"
    d = dt.date(2024, 9, 1)
    assert chain.lookup("education.college.entrant_aid", d).pack == "sc-513435"          # county
    assert chain.lookup("education.secvoc.poor_extra_per_semester", d).pack == "sc-province"  # province
    assert chain.lookup("education.nutrition.daily_rate", d).pack == "cn-national"       # national
    # before the county's value took effect, the national one applies
    assert chain.lookup("education.college.entrant_aid", dt.date(2017, 3, 1)).value == 0


@pytest.mark.parametrize("date, per_day", [("2012-03-01", 300), ("2014-10-31", 300), ("2014-11-01", 400),
                                           ("2021-08-31", 400), ("2021-09-01", 500)])
def test_national_nutrition_rate_by_date(date, per_day):
    r = amounts(run_case(MODEL, student(region="110000000000", date=dt.date.fromisoformat(date)), PACKS))
    assert r["education.nutrition_meals"] == per_day * 100


def test_explanation_names_rule_parameters_inputs_and_branch():
    r = next(x for x in run_case(MODEL, student(), PACKS) if x.rule == "education.compulsory_living")
    e = r.explanation
    assert (e["rule"], e["label"], e["amount"], e["pack"]) == (
        "education.compulsory_living", "义务教育生活补助", "500.00", "sc-513435/sc-province/cn-national")
    assert e["parameters"]["education.compulsory.boarding_living_per_year.primary"] == {
        "value": "1000.00", "from": "2017-01-01", "until": None, "pack": "sc-513435",
        "source": "《扶贫工作计划》（乡镇）：小学每生每学期500元"}
    assert e["branches"] == ["义务教育且家庭经济困难：是", "寄宿生：是", "小学：是"]
    assert e["inputs"]["boarding"] is True


@pytest.mark.parametrize("case, message", [
    (student(stage=None), "缺少输入“学段”（stage）"),
    (student(stage="phd"), "输入“学段”（stage）的值 'phd' 不在可选值 preschool, primary, junior, senior, sec_voc, college 中"),
    (student(fee=1.5), "输入“本学期应缴保教费或学费（分）”（fee）应为不小于0的整数（分），实际为 1.5"),
    (student(boarding="yes"), "输入“寄宿”（boarding）应为 true 或 false，实际为 'yes'"),
    (student(date="2024-13-01"), "输入“学期开始日期”（date）应为日期 YYYY-MM-DD，实际为 '2024-13-01'"),
    ({**student(), "colour": "red"}, "有未知的输入字段 colour"),
])
def test_bad_input_is_an_error_naming_the_field_and_row(case, message):
    with pytest.raises(PolicyError) as exc:
        run_case(MODEL, case, PACKS, row=7)
    assert exc.value.message == "第7条：" + message


def test_parameter_not_in_force_is_an_error():
    with pytest.raises(PolicyError) as exc:
        run_case(MODEL, student(region="110000000000", date=dt.date(2010, 1, 1)), PACKS)
    # in words: the parameter by its description, the pack by its title, from when it applies
    assert exc.value.message == ("按全国默认参数的政策，建档立卡家庭大学新生一次性入学资助自 2011-09-01 起施行，"
                                 "2010-01-01 尚未生效；请核对日期")


def frame(cases):
    return pl.DataFrame(cases, schema={"region": pl.Utf8, "date": pl.Date, "stage": pl.Utf8, "semester": pl.Utf8,
                                       "boarding": pl.Boolean, "registered_poor": pl.Boolean, "dibao": pl.Boolean,
                                       "tekun": pl.Boolean, "new_entrant": pl.Boolean, "fee": pl.Int64})


def test_batch_refuses_nulls_and_bad_values_naming_the_row():
    with pytest.raises(PolicyError) as exc:
        run_batch(MODEL, frame([student(), student(boarding=None)]), PACKS)
    assert exc.value.message == "第2条：缺少输入“寄宿”（boarding）"   # as one case says it
    with pytest.raises(PolicyError) as exc:
        run_batch(MODEL, frame([student(), student(), student(stage="phd")]), PACKS)
    assert exc.value.message == "第3条：输入“学段”（stage）的值 'phd' 不在可选值 preschool, primary, junior, senior, sec_voc, college 中"


def test_batch_keeps_row_order_and_count():
    cases = [student(region=r, stage=s) for r in ("513435100200", "420100000000", "110000000000") for s in STAGES]
    out = run_batch(MODEL, frame(cases), PACKS)
    assert out.height == len(cases)
    assert out["stage"].to_list() == [c["stage"] for c in cases]


def test_a_roster_arriving_in_chunks_gives_the_same_amounts_and_refusals():
    cases = [student(region=r, stage=s, boarding=b) for r in ("513435100200", "420100000000") for s in STAGES
             for b in (True, False)]
    whole = frame(cases)
    chunked = pl.concat([whole.slice(i, 5) for i in range(0, whole.height, 5)], rechunk=False)
    assert chunked.n_chunks() == 5
    assert run_batch(MODEL, chunked, PACKS).equals(run_batch(MODEL, whole, PACKS))
    bad = pl.concat([whole.head(3), frame([student(stage="phd")])], rechunk=False)
    with pytest.raises(PolicyError) as exc:
        run_batch(MODEL, bad, PACKS)
    assert exc.value.message.startswith("第4条：输入“学段”（stage）的值 'phd' 不在可选值")


REGIONS = ["513435100200", "513435101200", "510100000000", "420100000000", "433127100200", "620100000000",
           "110000000000"]
case_strategy = st.fixed_dictionaries({
    "region": st.sampled_from(REGIONS),
    "date": st.dates(min_value=dt.date(2012, 1, 1), max_value=dt.date(2030, 12, 31)),
    "stage": st.sampled_from(STAGES), "semester": st.sampled_from(["spring", "autumn"]),
    "boarding": st.booleans(), "registered_poor": st.booleans(), "dibao": st.booleans(), "tekun": st.booleans(),
    "new_entrant": st.booleans(), "fee": st.integers(min_value=0, max_value=5_000_000)})


@settings(max_examples=60, deadline=None)
@given(st.lists(case_strategy, min_size=1, max_size=40))
def test_single_and_batch_agree_to_the_fen(cases):
    out = run_batch(MODEL, frame(cases), PACKS)
    for i, case in enumerate(cases):
        single = {r.rule: r.amount for r in run_case(MODEL, case, PACKS)}
        batch = {r.name: out[r.name][i] for r in MODEL.rules}
        assert single == batch, case


def test_pack_from_a_path_overrides_shipped(tmp_path):
    p = tmp_path / "my.yaml"
    p.write_text("""
name: my-county
title: 测试县
region: "513435"
extends: sc-province
parameters:
  education.nutrition.daily_rate:
    unit: yuan
    values: [{from: 2020-01-01, value: 6.5, source: 测试文件1号}]
""", encoding="utf-8")
    _, chain = resolve(str(p))
    r = amounts(run_case(MODEL, student(), chain))
    assert r["education.nutrition_meals"] == 65000
    assert chain.key == "my-county/sc-province/cn-national"


@pytest.mark.parametrize("body, message", [
    ("name: x\ntitle: t\nregion: '5'\nparameters: {}", "政策包 bad.yaml：region “5” 应为区划代码前缀（2/4/6/9/12位）或空（全国）"),
    ("name: x\ntitle: t\nregion: ''\nparameters:\n  a.b: {unit: yuan, values: [{from: 2020-01-01, value: 1.234, source: s}]}",
     "政策包 x 参数 a.b 第1个值：金额 1.234 应为不小于0、最多两位小数的元"),
    ("name: x\ntitle: t\nregion: ''\nparameters:\n  a.b: {unit: yuan, values: [{from: 2020-01-01, value: 1}]}",
     "政策包 x 参数 a.b 第1个值：缺少 source（文件号或种子文件名）"),
    ("name: x\ntitle: t\nregion: ''\nparameters:\n  a.b: {unit: money, values: []}",
     "政策包 x 参数 a.b：unit 应为 yuan, ratio, count, bool, text, list, scale, date, map 之一"),
    ("[1, 2", None),
])
def test_malformed_pack_is_refused(tmp_path, body, message):
    p = tmp_path / "bad.yaml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_pack(p)
    if message:
        assert exc.value.message == message
    else:
        assert exc.value.message.startswith("政策包 bad.yaml 不是有效的 YAML")


# A tiered scale and a ratio whose values change by date, in two regions (two pack chains):
# single-case and batch must still agree to the fen.
from fupin.policy.engine import Model  # noqa: E402
from fupin.policy.expr import Max as _Max, P as _P, Ratio, Rule, Tiered, Var  # noqa: E402

_amount = Var("amount", "int", "金额（分）")
_region = Var("region", "str", "区划代码")
_date = Var("date", "date", "日期")
TIER_MODEL = Model("tiers", [
    Rule("t.tiered", "分档", Tiered(_Max(_amount - _P("test.threshold"), 0), _P("test.tiers")), _date),
    Rule("t.ratio", "比例", Ratio(_amount, _P("test.ratio")), _date)], _region)
TIER_PACKS = PackSet.shipped(extra=[Path(__file__).parent / "packs" / "tiers.yaml"])


def test_tiered_scale_by_hand():
    # 2024: threshold 12000 yuan; 100000 yuan → base 88000: 60000×0.65 + 28000×0.85 = 62800
    r = run_case(TIER_MODEL, {"region": "513435100200", "date": dt.date(2024, 5, 1), "amount": 10_000_000}, TIER_PACKS)
    assert [x.amount for x in r] == [6_280_000, 7_000_000]
    # 2020: threshold 10000; base 90000: 50000×0.6 + 40000×0.7 = 58000; 0.333333 × 100000 = 33333.30
    r = run_case(TIER_MODEL, {"region": "513435100200", "date": dt.date(2020, 5, 1), "amount": 10_000_000}, TIER_PACKS)
    assert [x.amount for x in r] == [5_800_000, 3_333_330]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "region": st.sampled_from(["513435100200"]),
    "date": st.dates(min_value=dt.date(2016, 1, 1), max_value=dt.date(2030, 1, 1)),
    "amount": st.integers(min_value=0, max_value=50_000_000)}), min_size=1, max_size=30))
def test_tiered_single_and_batch_agree(cases):
    df = pl.DataFrame(cases, schema={"region": pl.Utf8, "date": pl.Date, "amount": pl.Int64})
    out = run_batch(TIER_MODEL, df, TIER_PACKS)
    for i, case in enumerate(cases):
        assert [r.amount for r in run_case(TIER_MODEL, case, TIER_PACKS)] == [out["t.tiered"][i], out["t.ratio"][i]]


def test_policy_engine_imports_no_django():
    import subprocess
    import sys as _sys
    code = ("import sys; import fupin.policy.engine, fupin.policy.rules.education, fupin.policy.packs; "
            "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))")
    out = subprocess.run([_sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
