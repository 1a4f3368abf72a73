"""The payer chain as pack data (issue 17 §1): the full chain of seed 004, a reordered chain,
outpatient assistance (门诊救助) with its cap, per case and in batch alike, and reversals that
are exactly the negative of what was settled even when the pack changed in between."""
import copy
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings, strategies as st

from fupin.cli.main import main
from fupin.funds import services as funds
from fupin.funds.models import Entry
from fupin.health import services
from fupin.health.models import Accumulator, Claim
from fupin.policy.errors import PolicyError
from fupin.policy.money import max_fen
from fupin.policy.packs import PackSet, parse_pack
from fupin.policy.rules import health

from .test_browser import browser, phone  # noqa: F401  (browser fixtures)
from .test_health import build_shili, second_window

PACK_DIR = Path(__file__).parent / "packs"
SHIPPED = PackSet.shipped()
FULL_SET = PackSet.shipped(extra=[PACK_DIR / "chain-full.yaml"])
FULL = FULL_SET.chain("test-chain-full")
REORDERED_SET = PackSet.shipped(extra=[PACK_DIR / "chain-reordered.yaml"])
REORDERED = REORDERED_SET.chain("test-chain-reordered")

CLAIM = {"region": "990101000000", "discharge_date": "2024-06-01", "visit_type": "inpatient", "level": "county",
         "in_county": True, "referred": False, "categories": ["dibao", "registered_poor"],
         "total": "100000.00", "in_policy": "90000.00", "waivable": "200.00",
         "ytd": {"basic": "0", "ci_base": "0", "ci": "0", "assistance": "0", "topup": {"wsfp": "0", "yyax": "0"},
                 "payer": {"quanbao": "0", "menzhen": "0", "yingji": "0"}},
         "fund_balances": {"wsfp": "1000000.00", "yyax": "1000000.00"}}


def claim(**change):
    out = copy.deepcopy(CLAIM)
    out.update(change)
    return out


def payers(result):
    return {p["rule"]: p["amount"] for p in result["payers"]}


def to_fen(s: str) -> int:
    return int(s.replace(".", ""))


def test_the_default_chain_is_the_order_of_the_settlement_model():
    for name in ("cn-national", "shili-2024", "sc-513435"):
        assert health.chain_of(SHIPPED.chain(name), dt.date(2024, 6, 1)) == (
            ("basic", "基本医保"), ("critical_illness", "大病保险"), ("assistance", "医疗救助"))


def test_full_chain_in_county_the_full_reimbursement_pays_what_insurance_left():
    r = health.settle(FULL, claim())
    # basic (89800 − 300) × 0.75; ci (22675 − 5000) × 0.65; 全报销 pays the rest of I' (22675 − 11488.75)
    assert payers(r) == {"health.waived": "200.00", "health.basic": "67125.00", "health.critical_illness": "11488.75",
                         "health.payer.quanbao": "11186.25", "health.assistance": "0.00", "health.payer.menzhen": "0.00",
                         "health.payer.yingji": "0.00", "health.absorbed": "2016.00", "health.topup.wsfp": "0.00",
                         "health.topup.yyax": "0.00", "health.shortfall": "0.00", "health.patient": "7984.00"}
    assert [p["label"] for p in r["payers"]][:7] == ["减免", "基本医保", "大病保险", "区域内住院费用全报销", "医疗救助",
                                                    "门诊救助", "疾病应急救助"]
    assert r["accumulators"]["payer"] == {"quanbao": "11186.25", "menzhen": "0.00", "yingji": "0.00"}


def test_full_chain_out_of_county_assistance_then_emergency_assistance():
    r = health.settle(FULL, claim(in_county=False))
    # unreferred out of county: basic ratio 0.75 − 0.10; 全报销 is in-county only; assistance
    # (31625 − 17306.25) × 0.70 = 10023.125 → 10023.13; 应急 (14318.75 − 10023.13) × 0.5
    assert payers(r) == {"health.waived": "200.00", "health.basic": "58175.00", "health.critical_illness": "17306.25",
                         "health.payer.quanbao": "0.00", "health.assistance": "10023.13", "health.payer.menzhen": "0.00",
                         "health.payer.yingji": "2147.81", "health.absorbed": "0.00", "health.topup.wsfp": "0.00",
                         "health.topup.yyax": "0.00", "health.shortfall": "0.00", "health.patient": "12147.81"}
    assert sum(to_fen(v) for k, v in payers(r).items() if k != "health.shortfall") == 10_000_000


def test_outpatient_assistance_for_long_term_treatment_and_its_yearly_cap():
    out = claim(visit_type="chronic_outpatient", total="2000.00", in_policy="1800.00", waivable="0")
    r = health.settle(FULL, out)
    # basic 1800 × 0.65; assistance 630 × 0.70; 门诊救助 189 × 0.70; 应急 56.70 × 0.5
    assert payers(r) == {"health.waived": "0.00", "health.basic": "1170.00", "health.critical_illness": "0.00",
                         "health.payer.quanbao": "0.00", "health.assistance": "441.00", "health.payer.menzhen": "132.30",
                         "health.payer.yingji": "28.35", "health.absorbed": "40.00", "health.topup.wsfp": "0.00",
                         "health.topup.yyax": "0.00", "health.shortfall": "0.00", "health.patient": "188.35"}
    out["ytd"]["payer"]["menzhen"] = "2950.00"   # 50.00 left of the 3000 a year
    r = health.settle(FULL, out)
    assert payers(r) == {"health.waived": "0.00", "health.basic": "1170.00", "health.critical_illness": "0.00",
                         "health.payer.quanbao": "0.00", "health.assistance": "441.00", "health.payer.menzhen": "50.00",
                         "health.payer.yingji": "69.50", "health.absorbed": "40.00", "health.topup.wsfp": "29.50",
                         "health.topup.yyax": "0.00", "health.shortfall": "0.00", "health.patient": "200.00"}
    assert r["accumulators"]["payer"]["menzhen"] == "3000.00"
    explanation = next(p["explanation"] for p in r["payers"] if p["rule"] == "health.payer.menzhen")
    assert explanation["parameters"]["health.payer.menzhen.cap"]["value"] == "3000.00"
    assert "符合门诊救助的对象、就诊类型和地域条件：是" in explanation["branches"]


def reordered_claim(**change):
    out = claim(**change)
    out["ytd"]["payer"] = {"buchong": "0"}
    return out


def test_a_reordered_chain_worked_example_1_adds_up_to_the_fen():
    r = health.settle(REORDERED, reordered_claim())
    # 补充保险 before 大病: min(5000 cap, (22675 − 1000) × 0.5); ci base 17675 → (17675 − 5000) × 0.65;
    # assistance 9436.25 × 0.7 = 6605.375 → 6605.38; patient before 2830.87 + 7984 → top-up 834.87
    assert payers(r) == {"health.waived": "200.00", "health.basic": "67125.00", "health.payer.buchong": "5000.00",
                         "health.critical_illness": "8238.75", "health.assistance": "6605.38",
                         "health.absorbed": "2016.00", "health.topup.wsfp": "834.87", "health.topup.yyax": "0.00",
                         "health.shortfall": "0.00", "health.patient": "9980.00"}
    assert [p["rule"] for p in r["payers"]][:5] == ["health.waived", "health.basic", "health.payer.buchong",
                                                   "health.critical_illness", "health.assistance"]
    assert r["accumulators"] == {"basic": "67125.00", "ci_base": "17675.00", "ci": "8238.75", "assistance": "6605.38",
                                 "topup": {"wsfp": "834.87", "yyax": "0.00"}, "payer": {"buchong": "5000.00"}}


def test_a_reordered_pack_file_through_the_cli(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(reordered_claim())))
    assert main(["calc", "settlement", "--pack", str(PACK_DIR / "chain-reordered.yaml")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["patient"], out["accumulators"]["payer"]) == ("9980.00", {"buchong": "5000.00"})


def inline_pack(chain_value, extra=None):
    doc = {"name": "test-inline", "title": "测试", "region": "990101", "extends": "shili-2024", "source": "测试",
           "parameters": {"health.chain": {"unit": "list", "values": [{"from": "2024-01-01", "value": chain_value}]},
                          **(extra or {})}}
    pack = parse_pack(doc, "test-inline.yaml")
    return PackSet([*SHIPPED.packs.values(), pack]).chain("test-inline")


def test_a_province_can_drop_a_payer():
    c = claim()
    del c["ytd"]["payer"]
    r = health.settle(inline_pack(["basic", "assistance"]), c)
    # no critical-illness insurance: assistance takes 22675 × 0.70 = 15872.50 of what basic left;
    # the patient's 6802.50 + 7984 is above 10% of 99800, the top-up fund pays 4806.50
    assert payers(r) == {"health.waived": "200.00", "health.basic": "67125.00", "health.assistance": "15872.50",
                         "health.absorbed": "2016.00", "health.topup.wsfp": "4806.50", "health.topup.yyax": "0.00",
                         "health.shortfall": "0.00", "health.patient": "9980.00"}
    assert r["accumulators"] == {"basic": "67125.00", "ci_base": "0.00", "ci": "0.00", "assistance": "15872.50",
                                 "topup": {"wsfp": "4806.50", "yyax": "0.00"}}


@pytest.mark.parametrize("chain_value, message", [
    (["basic", "basic"], "政策包“测试”的支付顺序 health.chain 中有重复的支付方：basic、basic"),
    (["basic", "shangbao"], "政策包“测试”的支付顺序中有支付方 shangbao，但没有它的参数 health.payer.shangbao.name"
                            "（名称）等；请补上或从 health.chain 中删去"),
])
def test_a_wrong_chain_is_refused_with_a_chinese_message(chain_value, message):
    with pytest.raises(PolicyError) as exc:
        health.settle(inline_pack(chain_value), claim())
    assert exc.value.message == message


def test_a_claim_without_the_chain_payers_year_to_date_is_refused():
    c = claim()
    del c["ytd"]["payer"]["yingji"]
    with pytest.raises(PolicyError) as exc:
        health.settle(FULL, c)
    assert exc.value.message == "ytd.payer 缺少支付方 yingji 的本年已付（没有请填 \"0\"）"
    c = claim()
    c["ytd"]["payer"]["shangbao"] = "0"
    with pytest.raises(PolicyError) as exc:
        health.settle(FULL, c)
    assert exc.value.message.startswith("ytd.payer 有未知字段 shangbao；可用字段：quanbao, menzhen, yingji")


# ---- per case and in batch: the same amounts ----------------------------------------------------

bills = st.lists(st.tuples(st.integers(0, 40_000_000), st.integers(0, 100), st.integers(0, 5),
                           st.sampled_from(["inpatient", "chronic_outpatient"]), st.booleans()),
                 min_size=1, max_size=4)


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(bills, st.lists(st.sampled_from(health.CATEGORIES), unique=True, max_size=3)),
                min_size=1, max_size=3))
def test_batch_and_one_by_one_agree_on_the_full_chain(patients):
    import polars as pl

    rows = []
    for patient, (claims, cats) in enumerate(patients):
        for seq, (t, share, w, visit, in_county) in enumerate(claims):
            i = t * share // 100
            rows.append(dict(patient=patient, seq=seq, region="990101000000", discharge_date=dt.date(2024, 6, 1),
                             visit_type=visit, level="county", in_county=in_county, referred=False,
                             **{c: c in cats for c in health.CATEGORIES}, total=t, in_policy=i, waivable=i * w // 100,
                             **{"balance.wsfp": max_fen(), "balance.yyax": max_fen()}))
    out = health.settle_batch(FULL, pl.DataFrame(rows))
    for patient, (claims, cats) in enumerate(patients):
        ytd = copy.deepcopy(CLAIM["ytd"])
        for r in sorted((r for r in rows if r["patient"] == patient), key=lambda r: r["seq"]):
            one = health.settle(FULL, claim(categories=cats, visit_type=r["visit_type"], in_county=r["in_county"],
                                            total=health.yuan(r["total"]), in_policy=health.yuan(r["in_policy"]),
                                            waivable=health.yuan(r["waivable"]), ytd=ytd))
            row = out.filter((pl.col("patient") == patient) & (pl.col("seq") == r["seq"])).row(0, named=True)
            assert {k: row[k] for k in one["_fen"]} == one["_fen"]
            assert sum(v for k, v in one["_fen"].items() if k != "health.shortfall") == r["total"]
            ytd = one["accumulators"]
        assert to_fen(ytd["payer"]["menzhen"]) <= 300_000 and to_fen(ytd["payer"]["yingji"]) <= 2_000_000


# ---- reversal: exactly the negative of what was settled ------------------------------------------

BIG = {"discharge_date": dt.date(2024, 6, 1), "visit_type": "inpatient", "in_county": True, "referred": False,
       "total": 30_000_000, "in_policy": 29_000_000, "waivable": 0}
SMALL = dict(BIG, total=2_000_000, in_policy=1_800_000, waivable=10_000)

# the same pack with other rates from 2024-07-01: a reversal must not recompute with them
CHANGED = parse_pack({
    "name": "test-chain-reordered", "title": "测试用调整顺序的支付链（已改）", "region": "990101", "extends": "shili-2024",
    "source": "测试",
    "parameters": {
        "health.chain": {"unit": "list", "values": [{"from": "2024-01-01", "value": ["basic", "critical_illness",
                                                                                      "buchong", "assistance"]}]},
        **{f"health.payer.buchong.{k}": {"unit": u, "values": [{"from": "2024-01-01", "value": v}]} for k, u, v in (
            ("name", "text", "补充医疗保险"), ("categories", "list", ["dibao", "registered_poor"]),
            ("visit_types", "list", ["inpatient"]), ("in_county_only", "bool", False), ("deductible", "yuan", 0),
            ("ratio", "ratio", 0.9), ("cap", "yuan", 90000))},
        "health.assistance.ratio.dibao": {"unit": "ratio", "values": [{"from": "2024-01-01", "value": 0.2}]},
    }}, "changed.yaml")
CHANGED_SET = PackSet([p for p in SHIPPED.packs.values()] + [CHANGED])


def ledger(claim_):
    return sorted((e.account.code, e.amount) for e in Entry.objects.filter(transaction=claim_.transaction)
                  .select_related("account"))


def balances():
    return {e["account__code"]: e["total"] for e in _sums()}


def nonzero(d):
    return {k: v for k, v in d.items() if v}


def _sums():
    from django.db.models import Sum
    return Entry.objects.values("account__code").annotate(total=Sum("amount")).order_by("account__code")


def acc(person):
    return {k: v for k, v in Accumulator.objects.filter(person=person, year=2024).values_list("key", "amount") if v}


@pytest.fixture
def reordered(db, monkeypatch):
    monkeypatch.setattr(services, "packs", lambda: REORDERED_SET)
    return build_shili()


def test_a_claim_that_crossed_a_tier_and_hit_caps_is_reversed_exactly_after_the_pack_changed(reordered, monkeypatch):
    hospital, patient, window, fund = reordered
    small = services.settle(user=window, hospital=hospital, person=patient, number="S", bill=SMALL)
    after_small, ledger_after_small = acc(patient), balances()
    big = services.settle(user=window, hospital=hospital, person=patient, number="B", bill=BIG)
    # after S: basic 13200.00, 补充 1850.00, ci base 2850.00, assistance 1995.00 (see SMALL).
    # basic hits its cap: 150000 − 13200; 补充保险 hits its cap: 5000 − 1850; the critical-illness
    # base 150050 takes the cumulative base from 0 to 147900 above the threshold 5000, across the
    # 50000 and 100000 tiers: 50000 × 0.65 + 50000 × 0.75 + 47900 × 0.85 = 110715; assistance
    # (150050 − 110715) × 0.70; the patient 11800.50 + 10000 out of policy (under 10% of the bill)
    assert big.breakdown == {"health.waived": 0, "health.basic": 13680000, "health.payer.buchong": 315000,
                             "health.critical_illness": 11071500, "health.assistance": 2753450, "health.absorbed": 0,
                             "health.topup.wsfp": 0, "health.topup.yyax": 0, "health.shortfall": 0,
                             "health.patient": 2180050}
    assert big.accumulator_changes == {"basic": 13680000, "payer.buchong": 315000, "ci_base": 15005000,
                                       "ci": 11071500, "assistance": 2753450, "topup.wsfp": 0, "topup.yyax": 0}
    assert small.breakdown["health.topup.wsfp"] == 45700 and small.accumulator_changes == {
        "basic": 1320000, "payer.buchong": 185000, "ci_base": 285000, "ci": 0, "assistance": 199500,
        "topup.wsfp": 45700, "topup.yyax": 0}
    assert (acc(patient)["basic"], acc(patient)["payer.buchong"]) == (15_000_000, 500_000)
    assert (funds.insurer_account(region_code="990101000000", key="payer:buchong", name="补充医疗保险").code,
            balances()["payer:buchong:990101000000"]) == ("payer:buchong:990101000000", -500_000)
    settled_lines = ledger(big)

    monkeypatch.setattr(services, "packs", lambda: CHANGED_SET)   # the pack changed in between
    services.reverse(user=second_window(), claim_id=big.pk, reason="更正")
    reversal = Entry.objects.filter(reverses__transaction=big.transaction).select_related("account")
    assert sorted((e.account.code, e.amount) for e in reversal) == sorted((a, -x) for a, x in settled_lines)
    assert (acc(patient), nonzero(balances())) == (after_small, nonzero(ledger_after_small))
    services.reverse(user=second_window(), claim_id=small.pk, reason="更正")
    assert acc(patient) == {}
    assert funds.balance(fund) == 100_000_000
    assert Claim.objects.filter(status="reversed").count() == 2


amounts = st.tuples(st.integers(0, 40_000_000), st.integers(0, 100), st.integers(0, 5))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(amounts, min_size=1, max_size=3))
def test_reversal_equality_property(reordered, bills_):
    """Whatever the bills: reversing newest first leaves every accumulator and every account as it
    was before each claim, and each reversal is line for line the negative of its claim."""
    hospital, patient, window, fund = reordered

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            states, claims = [], []
            for n, (t, share, w) in enumerate(bills_):
                i = t * share // 100
                states.append((acc(patient), balances()))
                claims.append(services.settle(user=window, hospital=hospital, person=patient, number=f"P{n}",
                                              bill=dict(BIG, total=t, in_policy=i, waivable=i * w // 100)))
            for c, (acc_before, bal_before) in zip(reversed(claims), reversed(states)):
                lines = ledger(c)
                services.reverse(user=second_window(), claim_id=c.pk, reason="更正")
                reversal = Entry.objects.filter(reverses__transaction=c.transaction).select_related("account")
                assert sorted((e.account.code, e.amount) for e in reversal) == sorted((a, -x) for a, x in lines)
                assert acc(patient) == acc_before
                assert {a: v for a, v in balances().items() if v} == {a: v for a, v in bal_before.items() if v}
            raise Rollback
    except Rollback:
        pass


# ---- 三个一批: patients found from the registry and the diagnoses, tracked to the outcome -----------

def _treatment_world(world):
    from fupin.core.models import Region  # noqa: F401  (the world's regions)
    from fupin.health import programmes as prog
    from fupin.health.models import Condition, Hospital
    from fupin.registry.models import Household

    officer = world.users["health_officer"]
    people = {p.name: p for p in Person_all()}
    prog.condition_record(actor=officer, person=people["张小"], code="all", diagnosed_on=dt.date(2024, 3, 1))   # aged 11
    prog.condition_record(actor=officer, person=people["张三"], code="all", diagnosed_on=dt.date(2024, 3, 1))   # aged 53
    prog.condition_record(actor=officer, person=people["张三"], code="gastric_cancer", diagnosed_on=dt.date(2023, 5, 1))
    prog.condition_record(actor=officer, person=people["李四"], code="hypertension", diagnosed_on=dt.date(2022, 1, 1))
    lung = prog.condition_record(actor=officer, person=people["王五"], code="lung_cancer", diagnosed_on=dt.date(2022, 1, 1))
    Condition.objects.filter(pk=lung.pk).update(resolved_on=dt.date(2023, 12, 31))   # cured before the year
    Household.objects.filter(pk=world.h4.pk).update(status="eliminated")             # no longer poor nor monitored
    prog.condition_record(actor=officer, person=people["赵七"], code="esrd", diagnosed_on=dt.date(2024, 1, 1))
    hospital = Hospital.objects.create(code="H51", name="四川省人民医院", region_id="510000000000", level="province")
    return officer, people, hospital


def Person_all():
    from fupin.registry.models import Person
    return Person.objects.all()


def test_treatment_candidates_open_and_track_a_case_to_its_outcome(world):
    from fupin.core.errors import FupinError, InvalidInput
    from fupin.core.models import AuditEvent
    from fupin.health import programmes as prog, selectors
    from fupin.health.models import Condition, TreatmentCase

    officer, people, hospital = _treatment_world(world)
    found = selectors.treatment_candidates(officer, "513435000000", 2024, "concentrated")
    # 张三's leukaemia is past the 0–14 age limit, 王五 was cured in 2023, 赵七's household is no
    # longer poor, 李四's hypertension belongs to the chronic batch, 马六 is another county's
    assert {(p.name, c.code) for p, c in found} == {("张小", "all"), ("张三", "gastric_cancer")}
    assert {(p.name, c.code) for p, c in selectors.treatment_candidates(officer, "513435000000", 2024, "chronic")} \
        == {("李四", "hypertension")}

    leukaemia = Condition.objects.get(person=people["张小"], code="all")
    case = prog.treatment_case_open(actor=officer, condition_id=leukaemia.pk, batch="concentrated", year=2024,
                                    hospital_id=hospital.pk, on=dt.date(2024, 3, 5))
    assert (case.stage, case.hospital.name, case.assigned_on) == ("assigned", "四川省人民医院", dt.date(2024, 3, 5))
    assert {(p.name, c.code) for p, c in selectors.treatment_candidates(officer, "513435000000", 2024, "concentrated")} \
        == {("张三", "gastric_cancer")}
    with pytest.raises(FupinError) as exc:
        prog.treatment_case_open(actor=officer, condition_id=leukaemia.pk, batch="concentrated", year=2024,
                                 hospital_id=hospital.pk, on=dt.date(2024, 3, 6))
    assert exc.value.message == "张小 的急性淋巴细胞白血病已在 2024 年大病集中救治一批中"
    hypertension = Condition.objects.get(person=people["李四"])
    with pytest.raises(InvalidInput) as exc:
        prog.treatment_case_open(actor=officer, condition_id=hypertension.pk, batch="concentrated", year=2024,
                                 hospital_id=hospital.pk, on=dt.date(2024, 3, 6))
    assert exc.value.errors == {"病种": "高血压不属于大病集中救治一批"}
    too_old = Condition.objects.get(person=people["张三"], code="all")
    with pytest.raises(FupinError) as exc:
        prog.treatment_case_open(actor=officer, condition_id=too_old.pk, batch="concentrated", year=2024,
                                 hospital_id=hospital.pk, on=dt.date(2024, 3, 6))
    assert exc.value.message == "急性淋巴细胞白血病按大病集中救治一批救治的年龄上限为 14 岁，张三 确诊时已超过"

    prog.treatment_case_advance(actor=officer, case_id=case.pk, on=dt.date(2024, 3, 10))
    with pytest.raises(InvalidInput) as exc:
        prog.treatment_case_advance(actor=officer, case_id=case.pk, on=dt.date(2024, 6, 1))
    assert exc.value.errors == {"救治结果": "请选择"}
    with pytest.raises(InvalidInput) as exc:
        prog.treatment_case_advance(actor=officer, case_id=case.pk, on=dt.date(2024, 3, 9), outcome="improved")
    assert exc.value.errors == {"日期": "不能早于上一步的日期 2024-03-10"}
    prog.treatment_case_advance(actor=officer, case_id=case.pk, on=dt.date(2024, 6, 1), outcome="improved")
    case.refresh_from_db()
    assert (case.stage, case.started_on, case.ended_on, case.outcome) == (
        "treated", dt.date(2024, 3, 10), dt.date(2024, 6, 1), "improved")
    with pytest.raises(FupinError) as exc:
        prog.treatment_case_advance(actor=officer, case_id=case.pk, on=dt.date(2024, 6, 2), outcome="cured")
    assert exc.value.message == "该患者已完成救治"
    region, rows, stages = selectors.treatment_cases(officer, "513435000000", 2024, "concentrated")
    assert [(s, n) for s, _, n in stages] == [("assigned", 0), ("treating", 0), ("treated", 1)]
    assert [r.person.name for r in rows] == ["张小"]
    assert list(AuditEvent.objects.filter(object_type="treatment_case").order_by("pk").values_list("summary", flat=True)) == [
        "张小 纳入 2024 年大病集中救治一批（急性淋巴细胞白血病），救治医院 四川省人民医院",
        "张小 急性淋巴细胞白血病：开始救治（2024-03-10）",
        "张小 急性淋巴细胞白血病：完成救治，结果：好转（2024-06-01）"]
    assert TreatmentCase.objects.count() == 1


def test_only_the_health_bureau_of_the_patients_region_opens_a_case_and_a_refusal_changes_nothing(world):
    from fupin.core.errors import AccessDenied, NotFound
    from fupin.core.models import AuditEvent
    from fupin.health import programmes as prog
    from fupin.health.models import Condition, TreatmentCase

    officer, people, hospital = _treatment_world(world)
    leukaemia = Condition.objects.get(person=people["张小"], code="all")
    denied = AuditEvent.objects.filter(result="denied").count()
    with pytest.raises(AccessDenied) as exc:
        prog.treatment_case_open(actor=world.users["hospital_window"], condition_id=leukaemia.pk, batch="concentrated",
                                 year=2024, hospital_id=hospital.pk, on=dt.date(2024, 3, 5))
    assert exc.value.message == "您的角色没有“登记患者病情与证明”权限，如需办理请联系县级管理员"
    assert AuditEvent.objects.filter(result="denied").count() == denied + 1
    other = Condition.objects.create(person=world.h3.persons.get(), code="esrd", diagnosed_on=dt.date(2024, 1, 1))
    with pytest.raises(NotFound):
        prog.treatment_case_open(actor=officer, condition_id=other.pk, batch="concentrated", year=2024,
                                 hospital_id=hospital.pk, on=dt.date(2024, 3, 5))
    assert TreatmentCase.objects.count() == 0


def test_the_treatment_page_lists_opens_advances_and_exports(world, login):
    from openpyxl import load_workbook

    from fupin.health.models import Condition, TreatmentCase

    officer, people, hospital = _treatment_world(world)
    client = login("health_officer")
    page = client.get("/health/treatment/?year=2024&batch=concentrated").content.decode()
    assert "待纳入救治" in page and "胃癌" in page and "急性淋巴细胞白血病" in page and "没有记录" in page
    text = re.sub(r"<[^>]+>", "", page)   # what the screen shows: no internal code
    assert not {"concentrated", "assigned", "gastric_cancer", "all"} & set(re.findall(r"[a-z_]+", text))
    leukaemia = Condition.objects.get(person=people["张小"], code="all")
    r = client.post("/health/treatment/", {"action": "open", "condition": leukaemia.pk, "hospital": hospital.pk,
                                           "date": "2024-03-05", "year": "2024", "batch": "concentrated",
                                           "region": "513435000000"})
    assert (r.status_code, r["Location"]) == (302, "/health/treatment/?region=513435000000&year=2024&batch=concentrated")
    case = TreatmentCase.objects.get()
    client.post("/health/treatment/", {"action": "advance", "case": case.pk, "date": "2024-03-10", "year": "2024",
                                       "batch": "concentrated", "region": "513435000000"})
    page = client.get("/health/treatment/?year=2024&batch=concentrated&stage=treating").content.decode()
    assert "已确定救治医院 0 人；救治中 1 人；已完成救治 0 人" in page and "四川省人民医院" in page
    xlsx = client.get("/health/treatment/?year=2024&batch=concentrated&format=xlsx")
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("村", "姓名", "病种", "救治医院", "进度", "确定医院日期", "开始救治日期", "完成救治日期", "结果")
    assert rows[1][:5] == ("桃源村", "张小", "急性淋巴细胞白血病", "四川省人民医院", "救治中") and len(rows) == 2
    assert login("support_staff").get("/health/treatment/").status_code == 403


def test_the_demo_county_has_patients_in_every_batch_at_every_stage(db):
    from fupin.demo import generator
    from fupin.health import selectors
    from fupin.health.models import TreatmentCase
    from fupin.core.models import User

    county = generator.generate(1500, min_villages=4)
    generator.seed_database(county)
    generator.seed_demo_users(county)
    generator.seed_demo_extras(county)
    year = generator.TODAY.year
    counts = {(b, s): TreatmentCase.objects.filter(batch=b, stage=s, year=year).count()
              for b in ("concentrated", "chronic", "critical") for s in ("assigned", "treating", "treated")}
    assert counts == {("concentrated", "assigned"): 3, ("concentrated", "treating"): 2, ("concentrated", "treated"): 1,
                      ("chronic", "assigned"): 3, ("chronic", "treating"): 2, ("chronic", "treated"): 0,
                      ("critical", "assigned"): 2, ("critical", "treating"): 1, ("critical", "treated"): 0}
    officer = User.objects.get(role="health_officer")
    for batch in ("concentrated", "chronic", "critical"):   # one patient found and not yet placed in each
        assert len(selectors.treatment_candidates(officer, officer.region_id, year, batch)) == 1, batch
    # issue 17's second part: a township left uninsured, TB patients behind, a consultation waiting
    from fupin.health import consults, insurance, keygroups
    s = insurance.coverage_status(officer, officer.region_id, year)
    assert 0 < s["insured"] < s["persons"] and len(s["uninsured"]) == s["persons"] - s["insured"]
    tb = keygroups.tb_status(officer, officer.region_id, generator.TODAY)
    assert (tb["patients"], len(tb["overdue"])) == (3, 2)
    assert consults.consultation_counts(officer, officer.region_id, year)["pending"] == 1
    mobile = consults.mobile_clinic_status(officer, officer.region_id, year, generator.TODAY)
    assert (mobile["outings"], [h["meets"] for h in mobile["hospitals"] if h["level"] == "乡镇"]) == (3, [False])


# ---- family-doctor contracts: sign a person or a household, renew, end; rates by village and team --

def test_sign_a_household_renew_and_end_and_the_rate_by_village_and_team(world):
    from fupin.core.errors import FupinError, InvalidInput
    from fupin.core.models import AuditEvent
    from fupin.health import programmes as prog, selectors
    from fupin.health.models import Contract

    officer = world.users["health_officer"]
    head = world.h1.persons.get(relation="head")
    made = prog.contract_sign(actor=officer, person=head, whole_household=True, team="新市坝镇卫生院一组", doctor="刘医生",
                              package="基础性签约服务包", signed_on=dt.date(2024, 2, 29))
    assert sorted((c.person.name, c.valid_to) for c in made) == [
        ("张三", dt.date(2025, 2, 27)), ("张小", dt.date(2025, 2, 27)), ("李四", dt.date(2025, 2, 27))]
    with pytest.raises(FupinError) as exc:
        prog.contract_sign(actor=officer, person=head, whole_household=False, team="新市坝镇卫生院一组", doctor="刘医生",
                           package="基础性签约服务包", signed_on=dt.date(2024, 3, 1))
    assert exc.value.message == "张三 在 2024-03-01 已有有效的签约，无需重复签约；到期后请续签"
    with pytest.raises(InvalidInput) as exc:
        prog.contract_sign(actor=officer, person=world.h2.persons.get(), whole_household=False, team=" ", doctor="王医生",
                           package="豪华包", signed_on=dt.date(2024, 3, 1))
    assert exc.value.errors == {"签约团队": "必须填写", "服务包": "请从列表中选择：基础性签约服务包、个性化签约服务包"}
    prog.contract_sign(actor=officer, person=world.h2.persons.get(), whole_household=False, team="田坝镇卫生院", doctor="王医生",
                       package="个性化签约服务包", signed_on=dt.date(2024, 3, 1))

    rates = selectors.contract_rates(officer, "513435000000", dt.date(2024, 6, 1))
    # 桃源村: the three of H1; 红星村: 赵七 unsigned; 团结村: 王五
    assert [(r["village"], r["persons"], r["signed"], r["rate_permille"], r["meets"]) for r in rates["villages"]] == [
        ("桃源村", 3, 3, 1000, True), ("红星村", 1, 0, 0, False), ("团结村", 1, 1, 1000, True)]
    assert (rates["teams"], rates["target_permille"]) == ([("新市坝镇卫生院一组", 3), ("田坝镇卫生院", 1)], 1000)

    child = world.h1.persons.get(relation="child")
    ended = prog.contract_end(actor=officer, person=child, on=dt.date(2024, 9, 1), reason="随父母外出就学")
    assert (ended.ended_on, ended.end_reason) == (dt.date(2024, 9, 1), "随父母外出就学")
    rates = selectors.contract_rates(officer, "513435000000", dt.date(2024, 9, 1))
    assert rates["villages"][0]["signed"] == 2 and rates["teams"][0] == ("新市坝镇卫生院一组", 2)

    renewed = prog.contract_renew(actor=officer, person=head, on=dt.date(2025, 2, 20))
    assert (renewed.signed_on, renewed.valid_to, renewed.team, renewed.package) == (
        dt.date(2025, 2, 28), dt.date(2026, 2, 27), "新市坝镇卫生院一组", "基础性签约服务包")
    with pytest.raises(FupinError) as exc:
        prog.contract_renew(actor=officer, person=head, on=dt.date(2025, 2, 21))
    assert exc.value.message == "张三 已续签（2025-02-28 至 2026-02-27）"
    assert Contract.objects.filter(person=head).count() == 2
    assert AuditEvent.objects.filter(object_type="fd_contract").count() == 6


def test_a_window_officer_cannot_sign_and_a_refusal_changes_nothing(world):
    from fupin.core.errors import AccessDenied
    from fupin.health import programmes as prog
    from fupin.health.models import Contract

    with pytest.raises(AccessDenied):
        prog.contract_sign(actor=world.users["hospital_window"], person=world.h2.persons.get(), whole_household=True,
                           team="田坝镇卫生院", doctor="王医生", package="基础性签约服务包", signed_on=dt.date(2024, 3, 1))
    assert Contract.objects.count() == 0


def test_a_follow_up_recorded_by_hand_counts_like_an_imported_one(world):
    from fupin.core.errors import FupinError
    from fupin.health import programmes as prog
    from fupin.health.models import Condition

    officer = world.users["health_officer"]
    wang = world.h2.persons.get()
    Condition.objects.create(person=wang, code="hypertension", diagnosed_on=dt.date(2023, 1, 1))
    before = prog.followup_status(officer, "513435000000", dt.date(2024, 4, 1))
    assert [(p.name, missing) for p, _, why, missing in before["overdue"] if p.name == "王五"] == [
        ("王五", [("check", 1), ("followup", 4)])]
    # by 1 April, 4 follow-ups a year make 2 due (rounded up); the yearly check is due at once
    prog.service_record(actor=officer, person=wang, kind="followup", on=dt.date(2024, 1, 20), team="田坝镇卫生院")
    prog.service_record(actor=officer, person=wang, kind="followup", on=dt.date(2024, 3, 20), team="田坝镇卫生院")
    prog.service_record(actor=officer, person=wang, kind="check", on=dt.date(2024, 3, 21), team="田坝镇卫生院")
    with pytest.raises(FupinError) as exc:
        prog.service_record(actor=officer, person=wang, kind="check", on=dt.date(2024, 3, 21))
    assert exc.value.message == "王五 2024-03-21 的健康体检已登记"
    after = prog.followup_status(officer, "513435000000", dt.date(2024, 4, 1))
    assert [p.name for p, *_ in after["overdue"]].count("王五") == 0 and after["managed"] == 1


@pytest.mark.browser
def test_health_officer_on_a_phone_signs_a_household_and_records_a_follow_up(live_server, world, phone):
    from fupin.health.models import Contract, Service

    from .test_browser import sign_in

    head = world.h1.persons.get(relation="head")
    sign_in(phone, live_server.url, "health_officer")
    phone.goto(f"{live_server.url}/health/?region=513435000000&date=2024-06-01")
    form = phone.locator("form#sign")
    form.locator("input[name=id_number]").fill(head.id_number)
    form.locator("input[name=household]").check()
    form.locator("input[name=team]").fill("新市坝镇卫生院一组")
    form.locator("input[name=doctor]").fill("刘医生")
    form.locator("select[name=package]").select_option("个性化签约服务包")
    form.locator("input[name=date]").fill("2024-05-01")
    form.locator("button").click()
    phone.wait_for_load_state()
    assert "已签约 3 人" in phone.inner_text("body")
    form = phone.locator("form#service")
    form.locator("input[name=id_number]").fill(head.id_number)
    form.locator("select[name=kind]").select_option("followup")
    form.locator("input[name=date]").fill("2024-05-20")
    form.locator("input[name=team]").fill("新市坝镇卫生院一组")
    form.locator("button").click()
    phone.wait_for_load_state()
    assert "随访记录已登记" in phone.inner_text("body")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390   # fits the phone
    assert sorted(Contract.objects.values_list("person__name", "package")) == [
        ("张三", "个性化签约服务包"), ("张小", "个性化签约服务包"), ("李四", "个性化签约服务包")]
    assert list(Service.objects.values_list("person__name", "kind", "date")) == [("张三", "followup", dt.date(2024, 5, 20))]


def _workbook(rows):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["身份证号", "签约团队", "责任医生", "服务包", "签约日期"])
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_contracts_imported_with_the_same_checks_all_or_nothing_and_again_unchanged(world, login):
    from fupin.health import programmes as prog
    from fupin.health.models import Contract

    officer = world.users["health_officer"]
    zhang, wang = world.h1.persons.get(relation="head"), world.h2.persons.get()
    bad = _workbook([[zhang.id_number, "一组", "刘医生", "基础性签约服务包", dt.date(2024, 3, 1)],
                     [wang.id_number, "二组", "王医生", "豪华包", dt.date(2024, 3, 1)],
                     [world.h3.persons.get().id_number, "三组", "马医生", "基础性签约服务包", dt.date(2024, 3, 1)]])
    created, unchanged, problems, _ = prog.import_contracts(officer, bad, "签约.xlsx")
    assert (created, unchanged, [str(p) for p in problems]) == (0, 0, [
        "第3行D列（服务包）：请从列表中选择：基础性签约服务包、个性化签约服务包", "第4行A列（身份证号）：此人不在本辖区户籍库中"])
    assert Contract.objects.count() == 0
    good = _workbook([[zhang.id_number, "一组", "刘医生", "基础性签约服务包", dt.date(2024, 3, 1)],
                      [wang.id_number, "二组", "王医生", "个性化签约服务包", dt.date(2024, 3, 1)]])
    assert prog.import_contracts(officer, good, "签约.xlsx")[:3] == (2, 0, [])
    assert prog.import_contracts(officer, good, "签约.xlsx")[:3] == (0, 2, [])
    assert sorted(Contract.objects.values_list("person__name", "valid_to")) == [
        ("张三", dt.date(2025, 2, 28)), ("王五", dt.date(2025, 2, 28))]
    page = login("health_officer").post("/health/", {"action": "import_contracts", "region": "513435000000",
                                                      "file": io.BytesIO(bad)}, follow=True).content.decode()
    assert "第3行D列（服务包）：请从列表中选择" in page


# ---- indicators from the settlements: in-county rate, self-pay share and the claims that break it --

def test_settlement_indicators_and_the_claims_that_break_the_self_pay_target(db, client):
    from fupin.core.models import User
    from fupin.health import selectors
    from fupin.registry.models import Household, Person

    from .conftest import pid
    from .test_health import BILL_1, BILL_2

    hospital, patient, window, fund = build_shili()
    services.settle(user=window, hospital=hospital, person=patient, number="A", bill=BILL_1)        # 9980.00
    services.settle(user=window, hospital=hospital, person=patient, number="B", bill=BILL_2)        # 3543.50
    services.settle(user=window, hospital=hospital, person=patient, number="C", bill=dict(BILL_1, in_county=False))
    other = Household.objects.create(number="SL2", village_id="990101100200", attribute="general", main_cause="illness",
                                     status="applied")
    neighbour = Person(household=other, name="病人乙", id_number=pid("1970-01-01", 13), birth_date=dt.date(1970, 1, 1),
                       sex="M", relation="head", labour="ordinary")
    neighbour.save()
    # not poor: basic (9000 − 600) × 0.70, nothing else; 3120 + 1000 out of policy is 41.2% of the bill
    late = services.settle(user=window, hospital=hospital, person=neighbour, number="D",
                           bill=dict(BILL_1, total=1_000_000, in_policy=900_000, waivable=0))
    assert late.patient == 412_000
    reversed_ = services.settle(user=window, hospital=hospital, person=neighbour, number="E",
                               bill=dict(BILL_1, total=1_000_000, in_policy=900_000, waivable=0))
    services.reverse(user=second_window(), claim_id=reversed_.pk, reason="录错")   # reversed claims do not count
    officer = User.objects.get(username="officer99")
    i = selectors.settlement_indicators(officer, "990101000000", 2024)
    assert (i["inpatient"], i["in_county"], i["in_county_permille"], i["in_county_target_permille"], i["in_county_meets"]) \
        == (4, 3, 750, 900, False)
    # in county: (998000 + 354350 + 412000) / (10000000 + 6000000 + 1000000)
    assert (i["covered_total"], i["covered_patient"], i["self_pay_permille"], i["self_pay_target_permille"],
            i["self_pay_meets"]) == (17_000_000, 1_764_350, 103, 100, False)
    assert [(c.number, c.person.name) for c in i["breaking"]] == [("D", "病人乙")]
    # the indicator board counts the same claims (its own queries, the same numbers)
    from fupin.core.models import Region
    from fupin.oversight import policy as board, selectors as board_selectors
    county = Region.objects.get(code="990101000000")
    value = {k: board_selectors.indicator_value(officer, county, board.indicators()[k], year=2024,
                                                today=dt.date(2024, 12, 31), split=None)
             for k in ("claims_inpatient", "claims_inpatient_in_county", "claims_in_county_total", "claims_in_county_patient")}
    assert value == {"claims_inpatient": 4, "claims_inpatient_in_county": 3, "claims_in_county_total": 17_000_000,
                     "claims_in_county_patient": 1_764_350}
    client.force_login(officer)
    page = client.get("/health/indicators/?region=990101000000&year=2024").content.decode()
    assert "县域内就诊率：75%（住院 4 人次，县域内 3 人次；目标不低于 90%，未达标）" in page
    assert "个人支付 17,643.50 元 / 总费用 170,000.00 元" in page and "病人乙" in page


# ---- 降档提标: the insurance office's marks against the registry ------------------------------------

def test_insurance_marks_compared_with_the_registry(world, login):
    from openpyxl import Workbook

    from fupin.core import idcard
    from fupin.health import programmes as prog, selectors
    from fupin.registry.models import Household

    officer = world.users["health_officer"]
    Household.objects.filter(pk=world.h4.pk).update(status="applied")   # 赵七: not (or no longer) registered poor
    names = {p.name: p for p in Person_all()}
    wb = Workbook()
    wb.active.append(["身份证号"])
    for n in ("张三", "李四", "王五", "赵七", "马六"):
        wb.active.append([names[n].id_number])
    data = io.BytesIO()
    wb.save(data)
    ids, problems = prog.read_marked_ids(officer, data.getvalue(), "医保标识.xlsx")
    assert (len(ids), problems) == (5, [])
    m = selectors.marking_compare(officer, "513435000000", dt.date(2024, 6, 1), ids)
    assert (m["to_mark"], m["marked"], [p.name for p in m["missing"]], [p.name for p in m["not_poor"]], m["elsewhere"]) \
        == (4, 5, ["张小"], ["赵七"], 1)
    page = login("health_officer").post("/health/?region=513435000000",
                                        {"action": "marking", "file": io.BytesIO(data.getvalue())}).content.decode()
    assert "应标识建档立卡人口 4 人；医保名单 5 人；应标未标 1 人；非建档立卡却已标识 1 人；不在本辖区户籍库 1 人" in page
    assert idcard.mask(names["张小"].id_number) in page and names["张小"].id_number not in page


# ---- free check-ups for registered-poor persons aged 7–64; a finding opens a follow-up -----------

def test_checkups_due_checked_and_a_finding_opens_the_follow_up(world, login):
    from openpyxl import load_workbook

    from fupin.core.errors import InvalidInput
    from fupin.health import programmes as prog, selectors
    from fupin.health.models import Condition

    officer = world.users["health_officer"]
    names = {p.name: p for p in Person_all()}
    # in 2024: 张三 54, 李四 52, 张小 12, 王五 59, 赵七 34 — all 7–64; 马六 is another county's
    s = selectors.checkup_status(officer, "513435000000", 2024)
    assert (s["persons"], s["checked"], {p.name for p in s["due"]}) == (5, 0, {"张三", "李四", "张小", "赵七", "王五"})
    with pytest.raises(InvalidInput) as exc:
        prog.service_record(actor=officer, person=names["王五"], kind="followup", on=dt.date(2024, 5, 2), finding="hypertension")
    assert exc.value.errors == {"体检发现": "只有健康体检可登记发现的慢病，请从列表中选择"}
    prog.service_record(actor=officer, person=names["王五"], kind="check", on=dt.date(2024, 5, 2), finding="hypertension")
    s = selectors.checkup_status(officer, "513435000000", 2024)
    assert (s["checked"], [(v["village"], v["persons"], v["checked"]) for v in s["villages"]]) == (
        1, [("桃源村", 3, 0), ("红星村", 1, 0), ("团结村", 1, 1)])
    assert list(Condition.objects.values_list("person__name", "code", "diagnosed_on")) == [
        ("王五", "hypertension", dt.date(2024, 5, 2))]
    status = prog.followup_status(officer, "513435000000", dt.date(2024, 9, 1))
    assert [(p.name, why, missing) for p, _, why, missing in status["overdue"] if p.name == "王五"] == [
        ("王五", "慢病", [("followup", 4)])]
    client = login("health_officer")
    page = client.get("/health/?region=513435000000&date=2024-09-01").content.decode()
    assert "应检 5 人，已检 1 人，未检 4 人" in page
    xlsx = client.get("/health/?region=513435000000&date=2024-09-01&format=checkups")
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("村", "姓名", "性别") and sorted(r[1] for r in rows[1:]) == sorted(["张三", "李四", "张小", "赵七"])


def test_outpatient_certificates_to_apply_for_and_to_renew(world, login):
    from fupin.health import programmes as prog, selectors
    from fupin.health.models import Condition

    officer = world.users["health_officer"]
    names = {p.name: p for p in Person_all()}
    for name, code in (("张三", "hypertension"), ("李四", "diabetes"), ("王五", "sle"), ("赵七", "gastric_cancer")):
        prog.condition_record(actor=officer, person=names[name], code=code, diagnosed_on=dt.date(2023, 1, 1))
    prog.certificate_issue(actor=officer, person=names["张三"], kind="chronic", disease="hypertension", number="C1",
                           valid_from=dt.date(2023, 2, 1), valid_to=dt.date(2024, 1, 31))
    prog.certificate_issue(actor=officer, person=names["李四"], kind="chronic", disease="diabetes", number="C2",
                           valid_from=dt.date(2024, 1, 1), valid_to=dt.date(2024, 12, 31))
    Condition.objects.filter(person=names["王五"]).update(resolved_on=None)
    s = selectors.certificate_status(officer, "513435000000", dt.date(2024, 6, 1))
    # 赵七's gastric cancer is not an outpatient certificate disease; 李四's certificate is valid
    assert [(p.name, d, until) for p, d, until in s["apply"]] == [("王五", "系统性红斑狼疮", None)]
    assert [(p.name, d, until) for p, d, until in s["renew"]] == [("张三", "高血压", dt.date(2024, 1, 31))]
    page = login("health_officer").get("/health/?region=513435000000&date=2024-06-01").content.decode()
    assert "待办 1 人次，待换证 1 人次" in page and "证已于 2024-01-31 到期" in page


def test_hypertension_patients_are_a_key_group_from_35(world):
    from fupin.health import programmes as prog
    from fupin.health.models import Condition

    officer = world.users["health_officer"]
    zhao = world.h4.persons.get()            # born 1990: 34 in 2024, 35 in 2025
    Condition.objects.create(person=zhao, code="hypertension", diagnosed_on=dt.date(2023, 1, 1))
    young = prog.followup_status(officer, "513435000000", dt.date(2024, 6, 1))
    assert (young["chronic"], [p.name for p, *_ in young["overdue"]].count("赵七")) == (0, 0)
    older = prog.followup_status(officer, "513435000000", dt.date(2025, 6, 1))
    assert (older["chronic"], [(p.name, why) for p, _, why, _ in older["overdue"] if p.name == "赵七"]) == (1, [("赵七", "慢病")])


def test_pregnant_women_prenatal_checks_then_postnatal_visits(world):
    from fupin.core.errors import InvalidInput
    from fupin.health import programmes as prog

    officer = world.users["health_officer"]
    li, zhang = world.h1.persons.get(relation="spouse"), world.h1.persons.get(relation="head")
    with pytest.raises(InvalidInput) as exc:
        prog.pregnancy_register(actor=officer, person=zhang, registered_on=dt.date(2024, 1, 10),
                                expected_on=dt.date(2024, 9, 10))
    assert exc.value.errors == {"身份证号": "孕产妇建册只适用于女性"}
    prog.pregnancy_register(actor=officer, person=li, registered_on=dt.date(2024, 1, 10), expected_on=dt.date(2024, 9, 10))
    prog.service_record(actor=officer, person=li, kind="prenatal", on=dt.date(2024, 2, 1))

    def li_overdue(on):
        s = prog.followup_status(officer, "513435000000", on)
        return [(why, missing) for p, _, why, missing in s["overdue"] if p.name == "李四"]
    # 121 of 244 days: 5 checks × 121/244 → 3 due by now, 1 done
    assert li_overdue(dt.date(2024, 5, 10)) == [("孕产妇", [("prenatal", 4)])]
    prog.pregnancy_delivered(actor=officer, person=li, on=dt.date(2024, 9, 1))
    # 19 of 42 days after delivery: 2 visits × 19/42 → 1 due, none done
    assert li_overdue(dt.date(2024, 9, 20)) == [("孕产妇", [("postnatal", 2)])]
    prog.service_record(actor=officer, person=li, kind="postnatal", on=dt.date(2024, 9, 5))
    assert li_overdue(dt.date(2024, 9, 20)) == []
    assert li_overdue(dt.date(2024, 11, 1)) == []    # the postnatal period is over
