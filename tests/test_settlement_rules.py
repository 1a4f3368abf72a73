"""Settlement model v1 (SPEC §6.1): the two worked examples exactly, and the invariants."""
import copy
import datetime as dt
import io
import json

import pytest
from hypothesis import given, settings, strategies as st

from fupin.cli.main import main
from fupin.policy.errors import PolicyError
from fupin.policy.money import max_fen
from fupin.policy.packs import PackSet
from fupin.policy.rules import health

PACKS = PackSet.shipped()
SHILI = PACKS.chain("shili-2024")

EXAMPLE_1 = {"region": "990101000000", "discharge_date": "2024-06-01", "visit_type": "inpatient", "level": "county",
             "in_county": True, "referred": False, "categories": ["dibao", "registered_poor"],
             "total": "100000.00", "in_policy": "90000.00", "waivable": "200.00",
             "ytd": {"basic": "0", "ci_base": "0", "ci": "0", "assistance": "0", "topup": {"wsfp": "0", "yyax": "0"}},
             "fund_balances": {"wsfp": "1000000.00", "yyax": "1000000.00"}}


def payers(result):
    return {p["rule"]: p["amount"] for p in result["payers"]}


def test_worked_example_1():
    r = health.settle(SHILI, EXAMPLE_1)
    assert payers(r) == {"health.waived": "200.00", "health.basic": "67125.00", "health.critical_illness": "11488.75",
                         "health.assistance": "7830.38", "health.absorbed": "2016.00", "health.topup.wsfp": "1359.87",
                         "health.topup.yyax": "0.00", "health.shortfall": "0.00", "health.patient": "9980.00"}
    assert r["accumulators"] == {"basic": "67125.00", "ci_base": "22675.00", "ci": "11488.75", "assistance": "7830.38",
                                 "topup": {"wsfp": "1359.87", "yyax": "0.00"}}


def example_2():
    claim = copy.deepcopy(EXAMPLE_1)
    first = health.settle(SHILI, claim)
    claim.update(total="60000.00", in_policy="58000.00", waivable="100.00", ytd=first["accumulators"])
    return claim


def test_the_top_up_funds_go_by_their_pack_names_in_the_model():
    """The model's rules and inputs name each fund as the pack does (the what-if pages show these), never its code."""
    model = health.model_for(SHILI, dt.date(2024, 6, 1))
    assert [r.label for r in model.rules if r.name.startswith("health.topup.")] == ["卫生扶贫救助基金", "医药爱心扶贫基金"]
    assert (model.inputs["topup_ytd.wsfp"].label, model.inputs["balance.yyax"].label) == (
        "本年卫生扶贫救助基金已付（分）", "医药爱心扶贫基金当前余额（分）")
    # without the pack's names, numbered
    bare = health.build(health.pairs_of(SHILI, dt.date(2024, 6, 1)), ("wsfp", "yyax"))
    assert [r.label for r in bare.rules if r.name.startswith("health.topup.")] == ["兜底资金1", "兜底资金2"]


def test_worked_example_2_same_patient_second_admission():
    r = health.settle(SHILI, example_2())
    assert payers(r) == {"health.waived": "100.00", "health.basic": "43200.00", "health.critical_illness": "9555.00",
                         "health.assistance": "3601.50", "health.absorbed": "0.00", "health.topup.wsfp": "0.00",
                         "health.topup.yyax": "0.00", "health.shortfall": "0.00", "health.patient": "3543.50"}


def test_worked_examples_through_the_cli(monkeypatch, capsys):
    for claim, patient in ((EXAMPLE_1, "9980.00"), (example_2(), "3543.50")):
        monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(claim)))
        assert main(["calc", "settlement", "--pack", "shili-2024"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert (out["patient"], out["total"]) == (patient, claim["total"])
        assert all("explanation" in p for p in out["payers"])


def test_explanation_of_the_critical_illness_line():
    r = health.settle(SHILI, EXAMPLE_1)
    ci = next(p for p in r["payers"] if p["rule"] == "health.critical_illness")["explanation"]
    assert ci["parameters"]["health.ci.threshold"]["value"] == "10000.00"
    assert ci["parameters"]["health.ci.poor_bonus"]["value"] == "0.05"
    assert "贫困人口大病起付线降低：是" in ci["branches"]
    assert ci["inputs"]["ci_base_ytd"] == 0


def test_empty_fund_is_skipped_and_the_shortfall_shown():
    claim = dict(EXAMPLE_1, fund_balances={"wsfp": "0.00", "yyax": "500.00"})
    r = payers(health.settle(SHILI, claim))
    assert (r["health.topup.wsfp"], r["health.topup.yyax"], r["health.shortfall"], r["health.patient"]) == (
        "0.00", "500.00", "859.87", "10839.87")


@pytest.mark.parametrize("change, message", [
    ({"level": "township"}, "示例省 2024的政策没有乡镇医疗机构住院的报销参数；已有：县级住院"),
    ({"in_policy": "100000.01"}, "目录内费用 100000.01 元大于总费用 100000.00 元"),
    ({"waivable": "90000.01"}, "可减免费用 90000.01 元大于目录内费用 90000.00 元"),
    ({"total": 100000.5}, "总费用 total：应写成字符串或整数形式的元，如 \"1234.56\"，不能用浮点数"),
    ({"total": "Infinity"}, "总费用 total：“Infinity”应为不小于0、最多两位小数的金额（元），如 \"1234.56\""),
    ({"total": "sNaN"}, "总费用 total：“sNaN”应为不小于0、最多两位小数的金额（元），如 \"1234.56\""),
    ({"total": 10 ** 40}, "总费用 total：金额 （超过39位数字） 元超过上限 1,000,000,000.00 元，请核对"),
    ({"total": "1e40"}, "总费用 total：“1e40”应为不小于0、最多两位小数的金额（元），如 \"1234.56\""),
    ({"totl": "1.00"}, "结算单有未知字段 totl；可用字段：region, discharge_date, visit_type, level, in_county, referred, "
                       "categories, total, in_policy, waivable, ytd, fund_balances, id, name, number。请检查拼写"),
    ({"ytd": {**EXAMPLE_1["ytd"], "cii": "0"}}, "ytd 有未知字段 cii；可用字段：basic, ci_base, ci, assistance, topup。请检查拼写"),
    ({"discharge_date": 20240601}, "出院日期 discharge_date 应写成 \"YYYY-MM-DD\" 形式的文字，实际为数字 20240601"),
    ({"discharge_date": None}, "结算单缺少出院日期 discharge_date（YYYY-MM-DD）"),
    ({"region": "420100000000"}, "区划 420100000000 不在政策包 shili-2024（示例省 2024（一站式结算示例包））的适用范围内（该包适用于区划 99）；"
                                 "请改用该区划适用的政策包，或不指定政策包、按区划自动选择"),
    ({"categories": ["poor"]}, "categories 应为列表，取值 tekun, dibao, registered_poor, monitored；实际为 ['poor']"),
    ({"fund_balances": {"wsfp": "1"}}, "fund_balances 缺少兜底资金 yyax 的余额"),
    ({"discharge_date": "2024-02-30"}, "出院日期 discharge_date “2024-02-30” 应为 YYYY-MM-DD"),
])
def test_bad_claims_are_refused_with_a_chinese_message(change, message):
    with pytest.raises(PolicyError) as exc:
        health.settle(SHILI, {**EXAMPLE_1, **change})
    assert exc.value.message == message


@pytest.mark.parametrize("claim, message", [
    ([], "结算单应为一个 JSON 对象（{\"region\": …, \"total\": …}），实际为列表"),
    (None, "结算单应为一个 JSON 对象（{\"region\": …, \"total\": …}），实际为null"),
    ("x", "结算单应为一个 JSON 对象（{\"region\": …, \"total\": …}），实际为文字"),
])
def test_a_claim_that_is_not_an_object_is_refused(claim, message):
    with pytest.raises(PolicyError) as exc:
        health.settle(SHILI, claim)
    assert exc.value.message == message


def fen(v):
    return f"{v // 100}.{v % 100:02d}"


claims = st.fixed_dictionaries({
    "total": st.integers(0, 100_000_000), "in_share": st.integers(0, 100), "w_share": st.integers(0, 10),
    "cats": st.lists(st.sampled_from(health.CATEGORIES), unique=True, max_size=3),
    "in_county": st.booleans(), "referred": st.booleans(),
    "basic": st.integers(0, 16_000_000), "ci_base": st.integers(0, 30_000_000), "ci": st.integers(0, 31_000_000),
    "assistance": st.integers(0, 6_000_000), "wsfp": st.integers(0, 11_000_000), "yyax": st.integers(0, 6_000_000),
    "bal_wsfp": st.integers(0, 5_000_000), "bal_yyax": st.integers(0, 5_000_000)})


def build(c, total=None):
    t = c["total"] if total is None else total
    i = t * c["in_share"] // 100
    w = i * c["w_share"] // 100
    return {**EXAMPLE_1, "categories": c["cats"], "in_county": c["in_county"], "referred": c["referred"],
            "total": fen(t), "in_policy": fen(i), "waivable": fen(w),
            "ytd": {"basic": fen(c["basic"]), "ci_base": fen(c["ci_base"]), "ci": fen(c["ci"]),
                    "assistance": fen(c["assistance"]), "topup": {"wsfp": fen(c["wsfp"]), "yyax": fen(c["yyax"])}},
            "fund_balances": {"wsfp": fen(c["bal_wsfp"]), "yyax": fen(c["bal_yyax"])}}


@settings(max_examples=300, deadline=None)
@given(claims)
def test_invariants_parts_add_up_none_negative_caps_hold(c):
    r = health.settle(SHILI, build(c))
    a = r["_fen"]
    assert all(v >= 0 for v in a.values())
    assert sum(v for k, v in a.items() if k != "health.shortfall") == c["total"]
    acc = r["accumulators"]
    to_fen = lambda s: int(s.replace(".", ""))  # noqa: E731
    assert a["health.basic"] == 0 or to_fen(acc["basic"]) <= 15_000_000
    assert a["health.assistance"] == 0 or to_fen(acc["assistance"]) <= 5_000_000
    assert a["health.topup.wsfp"] == 0 or to_fen(acc["topup"]["wsfp"]) <= 10_000_000
    assert a["health.topup.yyax"] == 0 or to_fen(acc["topup"]["yyax"]) <= 5_000_000
    assert a["health.topup.wsfp"] <= c["bal_wsfp"] and a["health.topup.yyax"] <= c["bal_yyax"]
    poor = bool(set(c["cats"]))
    if not poor:
        assert a["health.critical_illness"] == 0 or to_fen(acc["ci"]) <= 30_000_000


@settings(max_examples=300, deadline=None)
@given(claims, st.integers(1, 5_000_000))
def test_patient_share_never_falls_when_the_bill_grows(c, extra):
    small = health.settle(SHILI, build(c))["_fen"]["health.patient"]
    # the same claim with a larger bill: every part of it (in-policy, waivable, out-of-policy) grows or stays
    bigger = dict(c, total=c["total"] + extra)
    big = health.settle(SHILI, build(bigger))["_fen"]["health.patient"]
    assert big >= small


@settings(max_examples=300, deadline=None)
@given(claims, st.integers(1, 5_000_000), st.booleans())
def test_patient_share_never_falls_when_one_part_of_the_bill_grows(c, extra, in_policy_part):
    claim = build(c)
    small = health.settle(SHILI, claim)["_fen"]["health.patient"]
    t, i = int(claim["total"].replace(".", "")), int(claim["in_policy"].replace(".", ""))
    grown = dict(claim, total=fen(t + extra), in_policy=fen(i + extra) if in_policy_part else claim["in_policy"])
    assert health.settle(SHILI, grown)["_fen"]["health.patient"] >= small


def test_batch_settlement_carries_accumulators_in_claim_order():
    import polars as pl

    rows = []
    for patient, bills in ((1, [(10_000_000, 9_000_000, 20_000), (6_000_000, 5_800_000, 10_000)]),
                           (2, [(300_000, 250_000, 0)]),
                           (3, [(5_000_000, 4_000_000, 0), (20_000_000, 19_000_000, 0), (100_000, 100_000, 0)])):
        for seq, (t, i, w) in enumerate(bills):
            rows.append(dict(patient=patient, seq=seq, region="990101000000", discharge_date=dt.date(2024, 6, 1),
                             visit_type="inpatient", level="county", in_county=True, referred=False,
                             tekun=False, dibao=patient != 2, registered_poor=patient != 3, monitored=False,
                             total=t, in_policy=i, waivable=w, **{"balance.wsfp": max_fen(), "balance.yyax": max_fen()}))
    rows.reverse()  # input order is not claim order
    out = health.settle_batch(SHILI, pl.DataFrame(rows))
    assert out.height == len(rows)
    # one by one, in claim order per patient
    expected = {}
    for patient in (1, 2, 3):
        ytd = {"basic": "0", "ci_base": "0", "ci": "0", "assistance": "0", "topup": {"wsfp": "0", "yyax": "0"}}
        for r in sorted((r for r in rows if r["patient"] == patient), key=lambda r: r["seq"]):
            cats = [c for c in health.CATEGORIES if r[c]]
            res = health.settle(SHILI, {**EXAMPLE_1, "categories": cats, "total": fen(r["total"]),
                                        "in_policy": fen(r["in_policy"]), "waivable": fen(r["waivable"]), "ytd": ytd})
            expected[(patient, r["seq"])] = res["_fen"]
            ytd = res["accumulators"]
    for i, r in enumerate(out.iter_rows(named=True)):
        assert {k: r[k] for k in expected[(r["patient"], r["seq"])]} == expected[(r["patient"], r["seq"])], i
    assert expected[(1, 1)]["health.patient"] == 354350  # worked example 2, in the batch too


def test_what_a_chain_derives_for_a_date_is_made_once_and_a_refusal_is_not_kept():
    chain = PackSet.shipped().chain("shili-2024")
    when, made = dt.date(2024, 6, 1), []

    def funds(c, d):
        made.append(d)
        return health.funds_of(c, d)

    assert chain.derived("test.funds", when, funds) == chain.derived("test.funds", when, funds) == ("wsfp", "yyax")
    assert made == [when]
    assert health.model_for(chain, when) is chain.derived("health.model", when, None)   # kept: not computed again

    def refuse(c, d):
        made.append(d)
        raise PolicyError("不可用")

    for _ in range(2):
        with pytest.raises(PolicyError):
            chain.derived("test.refused", when, refuse)
    assert made == [when, when, when]


def test_settling_a_claim_leaves_nothing_for_the_cycle_collector():
    """The interpreter's nested functions call each other; unless the cycle is broken when a case
    is done, each claim's memo and traces waited for the cyclic garbage collector."""
    import gc

    health.settle(SHILI, EXAMPLE_1)   # warm: the chain's kept values are made once
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            health.settle(SHILI, EXAMPLE_1)
        assert gc.collect() == 0
    finally:
        gc.enable()
