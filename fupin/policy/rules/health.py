"""One-stop settlement model v1 (SPEC §6.1), as rules. Amounts in fen; no amount here.

Order: fee waivers → the payer chain → hospital absorption → top-up funds → patient. The
payer chain is pack data (`health.chain`, ADR 0014): an ordered list of payers, each paying
from what the payers before it left of the in-policy costs. `basic`, `critical_illness` and
`assistance` are the three payers with rules of their own; any other code is a payer whose
rule is read from `health.payer.<code>.*` (who, which visits, in county only, deductible,
ratio, yearly cap): full in-region reimbursement, disease emergency assistance, outpatient
assistance (门诊救助), supplementary insurance. Each payer's amount is rounded half up when
computed; the patient's amount is the residual, so the parts add up to the bill exactly.
The model is built for the (visit type, level) pairs, the chain and the top-up funds a pack defines.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

from fupin.policy.engine import Model
from fupin.policy.errors import PolicyError
from fupin.policy.expr import Const, If, In, Max, Min, Named, P, Ratio, Rule, TieredDelta, Var
from fupin.policy.money import parse_yuan, yuan  # noqa: F401  (callers use health.yuan)
from fupin.policy.packs import Chain, derived

VISITS = ("inpatient", "chronic_outpatient", "ordinary_outpatient")
LEVELS = ("township", "county", "city", "province")
CATEGORIES = ("tekun", "dibao", "registered_poor", "monitored")
VISIT_LABELS = {"inpatient": "住院", "chronic_outpatient": "慢病门诊", "ordinary_outpatient": "普通门诊"}
LEVEL_LABELS = {"township": "乡镇", "county": "县级", "city": "市级", "province": "省级"}
# a patient's categories as the window and the slip name them
CATEGORY_LABELS = {"tekun": "特困", "dibao": "低保", "registered_poor": "建档立卡", "monitored": "监测对象"}
# what the ledger's entitlement codes of this room read as (fupin.policy.labels)
ENTITLEMENT_LABELS = {"health.settlement": "医疗费用一站式结算"}

region = Var("region", "str", "区划代码")
date = Var("discharge_date", "date", "出院（结算）日期")
visit = Var("visit_type", "str", "就诊类型", VISITS)
level = Var("level", "str", "医疗机构级别", LEVELS)
in_county = Var("in_county", "bool", "县域内")
referred = Var("referred", "bool", "已办转诊")
cat = {c: Var(c, "bool", {"tekun": "特困", "dibao": "低保", "registered_poor": "建档立卡", "monitored": "监测对象"}[c])
       for c in CATEGORIES}
T = Var("total", "int", "医疗总费用（分）")
I = Var("in_policy", "int", "目录内费用（分）")  # noqa: E741
W = Var("waivable", "int", "可减免费用（分，含于目录内）")
basic_ytd = Var("basic_ytd", "int", "本年基本医保已付（分）")
ci_base_ytd = Var("ci_base_ytd", "int", "本年大病保险累计起付基数（分）")
ci_ytd = Var("ci_ytd", "int", "本年大病保险已付（分）")
assist_ytd = Var("assistance_ytd", "int", "本年医疗救助已付（分）")


def any_category_in(list_param: str):
    """The patient has at least one category that the parameter's list names."""
    out = None
    for c in CATEGORIES:
        term = cat[c] & _in(c, list_param)
        out = term if out is None else out | term
    return out


def _in(value: str, list_param: str):
    return In(Const(value), P(list_param))


def by_visit_level(name: str, pairs):
    """The parameter `name.<visit>.<level>` for the claim's visit type and level."""
    expr = None
    for v, lv in reversed(pairs):
        p = P(f"{name}.{v}.{lv}")
        expr = p if expr is None else If(visit.eq(v) & level.eq(lv), p, expr)
    return expr


# A settlement asks for the model, the funds and the payer chain several times a claim: each is made
# once per chain and date (`packs.derived`)
def pairs_of(chain: Chain, when: dt.date) -> tuple:
    return derived(chain, "health.pairs", when, _pairs)


def _pairs(chain: Chain, when: dt.date) -> tuple:
    pairs = []
    for v in VISITS:
        for lv in LEVELS:
            try:
                chain.lookup(f"health.basic.deductible.{v}.{lv}", when)
            except PolicyError:
                continue
            pairs.append((v, lv))
    if not pairs:
        raise PolicyError(f"政策包 {chain.key} 没有任何就诊类型与机构级别的基本医保参数")
    return tuple(pairs)


def funds_of(chain: Chain, when: dt.date) -> tuple:
    return derived(chain, "health.funds", when, lambda c, d: tuple(c.lookup("health.topup.funds", d).value))


BUILT_IN = {"basic": "基本医保", "critical_illness": "大病保险", "assistance": "医疗救助"}
DEFAULT_CHAIN = ("basic", "critical_illness", "assistance")


def chain_of(chain: Chain, when: dt.date) -> tuple:
    """The pack's payer chain in order: ((code, name), …); a payer that is not built in is
    named by `health.payer.<code>.name`."""
    return derived(chain, "health.chain", when, _chain)


def _chain(chain: Chain, when: dt.date) -> tuple:
    codes = tuple(chain.lookup("health.chain", when).value)
    if len(set(codes)) != len(codes):
        raise PolicyError(f"政策包“{chain.head.title}”的支付顺序 health.chain 中有重复的支付方：{'、'.join(codes)}")
    out = []
    for code in codes:
        if not isinstance(code, str) or not code.replace("_", "").isalnum() or not code.isascii():
            raise PolicyError(f"政策包“{chain.head.title}”的支付顺序 health.chain 中的代码 {code!r} 只能由小写字母、数字和下划线组成")
        if code in BUILT_IN:
            out.append((code, BUILT_IN[code]))
            continue
        try:
            out.append((code, chain.lookup(f"health.payer.{code}.name", when).value))
        except PolicyError:
            raise PolicyError(f"政策包“{chain.head.title}”的支付顺序中有支付方 {code}，但没有它的参数 "
                              f"health.payer.{code}.name（名称）等；请补上或从 health.chain 中删去") from None
    return tuple(out)


def payers_of(chain: Chain, when: dt.date) -> tuple:
    """The codes of the chain's payers that are not built in (their accumulators are `payer.<code>`)."""
    return tuple(code for code, _ in chain_of(chain, when) if code not in BUILT_IN)


@lru_cache(maxsize=64)
def build(pairs: tuple, funds: tuple, chain: tuple = tuple((c, BUILT_IN[c]) for c in DEFAULT_CHAIN),
          names: tuple = ()) -> Model:
    """The settlement model: `funds` the top-up funds' codes in paying order, `names` their names as the
    pack gives them (`health.topup.name.<code>`; without them "兜底资金1", "兜底资金2": never the code)."""
    poor = Named("poor", any_category_in("health.poor_categories"))
    waived = Named("waived", If(any_category_in("health.waiver.categories"), W, 0, "属于减免对象"))
    I2 = Named("I2", I - waived)
    T2 = Named("T2", T - waived)
    rules = [Rule("health.waived", "减免", waived, date)]
    remaining = I2   # what the payers before this one left of the in-policy costs
    for code, name in chain:
        pay, rule = _payer(code, name, remaining, poor, pairs)
        rules.append(Rule(rule, name, pay, date))
        remaining = Named(f"after.{code}", remaining - pay)
    eligible = Named("eligible", any_category_in("health.topup.categories") & _in_visit("health.topup.visit_types")
                     & (in_county | ~P("health.topup.in_county_only")))
    O = T - I  # noqa: E741
    absorbed = Named("absorbed", If(eligible & in_county, Max(O - Ratio(T2, P("health.absorption.share")), 0), 0,
                                    "县域内符合条件：目录外费用超出比例部分由医院承担"))
    patient_before = Named("patient_before", remaining + (O - absorbed))
    excess = Named("excess", If(eligible, Max(patient_before - Ratio(T2, P("health.topup.cap_share")), 0), 0,
                                "符合兜底保障条件：个人自付超过比例部分由兜底资金支付"))
    rules.append(Rule("health.absorbed", "医院承担", absorbed, date))
    remaining = excess
    paid = None
    for i, code in enumerate(funds):
        name = names[i] if i < len(names) else f"兜底资金{i + 1}"
        ytd = Var(f"topup_ytd.{code}", "int", f"本年{name}已付（分）")
        balance = Var(f"balance.{code}", "int", f"{name}当前余额（分）")
        pay = Named(f"topup.{code}", Min(remaining, Min(Max(P(f"health.topup.cap.{code}") - ytd, 0), balance)))
        rules.append(Rule(f"health.topup.{code}", name, pay, date))
        remaining = Named(f"remaining.{code}", remaining - pay)
        paid = pay if paid is None else paid + pay
    rules.append(Rule("health.shortfall", "兜底资金不足（未支付部分，已计入个人）", remaining, date))
    rules.append(Rule("health.patient", "个人自付", patient_before - (paid if paid is not None else 0), date))
    # every accumulator is an input even when a pack's chain drops the payer that reads it,
    # so one claim format serves every pack
    ytd_vars = (basic_ytd, ci_base_ytd, ci_ytd, assist_ytd,
                *(Var(f"payer_ytd.{code}", "int", f"本年{name}已付（分）") for code, name in chain if code not in BUILT_IN))
    return Model("settlement", rules, region, extra=(visit, level, in_county, referred, T, I, W, *cat.values(), *ytd_vars))


def _payer(code: str, name: str, R, poor, pairs):
    """One payer of the chain: its amount out of `R`, what is left of the in-policy costs."""
    if code == "basic":
        d = by_visit_level("health.basic.deductible", pairs)
        d_eff = If(poor, Ratio(d, by_visit_level("health.basic.poor_deductible_multiplier", pairs)), d,
                   "贫困人口起付线减半")
        r_eff = by_visit_level("health.basic.ratio", pairs) \
            + If(poor, by_visit_level("health.basic.poor_bonus", pairs), 0, "贫困人口报销比例提高") \
            - If(~in_county & ~referred, by_visit_level("health.basic.unreferred_cut", pairs), 0, "县外未转诊降低比例")
        return Named("basic", Min(Max(by_visit_level("health.basic.cap", pairs) - basic_ytd, 0),
                                  Min(R, Ratio(Max(R - d_eff, 0), r_eff)))), "health.basic"
    if code == "critical_illness":
        ci_base = Named("ci_base", R)
        t_eff = If(poor, Ratio(P("health.ci.threshold"), P("health.ci.poor_threshold_multiplier")),
                   P("health.ci.threshold"), "贫困人口大病起付线降低")
        ci_raw = Min(ci_base, TieredDelta(Max(ci_base_ytd + ci_base - t_eff, 0), Max(ci_base_ytd - t_eff, 0),
                                          P("health.ci.tiers"), If(poor, P("health.ci.poor_bonus"), 0)))
        return Named("ci", If(poor & ~P("health.ci.cap_applies_to_poor"), ci_raw,
                              Min(Max(P("health.ci.cap") - ci_ytd, 0), ci_raw), "贫困人口不设大病封顶线")), \
            "health.critical_illness"
    if code == "assistance":
        ratio = Max(Max(If(cat["tekun"], P("health.assistance.ratio.tekun"), 0),
                        If(cat["dibao"], P("health.assistance.ratio.dibao"), 0)),
                    Max(If(cat["registered_poor"], P("health.assistance.ratio.registered_poor"), 0),
                        If(cat["monitored"], P("health.assistance.ratio.monitored"), 0)))
        return Named("assistance", Min(Max(P("health.assistance.cap") - assist_ytd, 0), Ratio(R, ratio))), \
            "health.assistance"
    p = f"health.payer.{code}"
    ytd = Var(f"payer_ytd.{code}", "int", f"本年{name}已付（分）")
    eligible = any_category_in(f"{p}.categories") & _in_visit(f"{p}.visit_types") \
        & (in_county | ~P(f"{p}.in_county_only"))
    amount = Min(Max(P(f"{p}.cap") - ytd, 0), Min(R, Ratio(Max(R - P(f"{p}.deductible"), 0), P(f"{p}.ratio"))))
    return Named(f"payer.{code}", If(eligible, amount, 0, f"符合{name}的对象、就诊类型和地域条件")), p


def _in_visit(list_param: str):
    return In(visit, P(list_param))


def model_for(chain: Chain, when: dt.date) -> Model:
    return derived(chain, "health.model", when,
                   lambda c, d: build(pairs_of(c, d), funds_of(c, d), chain_of(c, d), fund_names_of(c, d)))


def fund_names_of(chain: Chain, when: dt.date) -> tuple[str, ...]:
    """The top-up funds' names, in `funds_of`'s order, as the pack gives them."""
    return tuple(chain.lookup(f"health.topup.name.{code}", when).value for code in funds_of(chain, when))


def check_claim(chain: Chain, claim: dict) -> None:
    """What the rules cannot say by themselves: the pack covers this visit type and level,
    and the amounts are consistent (in-policy ≤ total, waivable ≤ in-policy)."""
    when = claim.get("discharge_date")
    when = dt.date.fromisoformat(when) if isinstance(when, str) else when
    pairs = pairs_of(chain, when)
    v, lv = claim.get("visit_type"), claim.get("level")
    if v in VISITS and lv in LEVELS and (v, lv) not in pairs:
        from fupin.policy.explain import pack_title

        raise PolicyError(f"{pack_title(chain.key)}的政策没有{LEVEL_LABELS[lv]}医疗机构{VISIT_LABELS[v]}的报销参数；已有："
                          + "、".join(f"{LEVEL_LABELS[b]}{VISIT_LABELS[a]}" for a, b in pairs))
    t, i, w = claim.get("total"), claim.get("in_policy"), claim.get("waivable")
    if all(isinstance(x, int) and not isinstance(x, bool) for x in (t, i, w)):
        if i > t:
            raise PolicyError(f"目录内费用 {i / 100:.2f} 元大于总费用 {t / 100:.2f} 元")
        if w > i:
            raise PolicyError(f"可减免费用 {w / 100:.2f} 元大于目录内费用 {i / 100:.2f} 元")


# ---- a claim as people write it (yuan, category names) ↔ the engine's case (fen) ---------------

CLAIM_FIELDS = ("region", "discharge_date", "visit_type", "level", "in_county", "referred", "categories",
                "total", "in_policy", "waivable", "ytd", "fund_balances")
OPTIONAL_FIELDS = ("id", "name", "number")   # the caller's own labels, passed through untouched
AMOUNT_LABELS = {"total": "总费用 total", "in_policy": "目录内费用 in_policy", "waivable": "可减免费用 waivable"}


def _fen(value, where: str) -> int:
    """Yuan as written in a claim → fen: the one money parser (fupin.policy.money.parse_yuan)."""
    return parse_yuan(value, where.strip())


def _kind(value) -> str:
    if value is None:
        return "null"
    return {list: "列表", dict: "对象", str: "文字", bool: "true/false", int: "数字", float: "数字"}.get(type(value), type(value).__name__)


def _no_unknown(keys, allowed, where: str) -> None:
    unknown = sorted(str(k) for k in keys if k not in allowed)
    if unknown:
        raise PolicyError(f"{where}有未知字段 {', '.join(unknown)}；可用字段：{', '.join(allowed)}。请检查拼写")


def discharge_date(claim) -> dt.date:
    """The claim's discharge date, or a Chinese message saying what is wrong with it."""
    if not isinstance(claim, dict):
        raise PolicyError(f"结算单应为一个 JSON 对象（{{\"region\": …, \"total\": …}}），实际为{_kind(claim)}")
    if claim.get("discharge_date") is None:
        raise PolicyError("结算单缺少出院日期 discharge_date（YYYY-MM-DD）")
    when = claim["discharge_date"]
    if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
        return when
    if not isinstance(when, str):
        raise PolicyError(f"出院日期 discharge_date 应写成 \"YYYY-MM-DD\" 形式的文字，实际为{_kind(when)} {str(when)[:40]}")
    try:
        if len(when) != 10:
            raise ValueError
        return dt.date.fromisoformat(when)
    except ValueError:
        raise PolicyError(f"出院日期 discharge_date “{when[:40]}” 应为 YYYY-MM-DD") from None


def claim_to_case(claim: dict, funds: tuple, payers: tuple = ()) -> dict:
    """A claim (see docs/settlement.md) as the model's input case. Every field is checked: an
    unknown field is refused (a misspelt one would otherwise be silently ignored)."""
    if not isinstance(claim, dict):
        raise PolicyError(f"结算单应为一个 JSON 对象，实际为{_kind(claim)}")
    _no_unknown(claim, CLAIM_FIELDS + OPTIONAL_FIELDS, "结算单")
    for key in CLAIM_FIELDS:
        if key not in claim:
            raise PolicyError(f"结算单缺少字段 {key}")
    cats = claim["categories"]
    if not isinstance(cats, list) or any(not isinstance(c, str) or c not in CATEGORIES for c in cats):
        raise PolicyError(f"categories 应为列表，取值 {', '.join(CATEGORIES)}；实际为 {str(cats)[:80]}")
    ytd, balances = claim["ytd"], claim["fund_balances"]
    if not isinstance(ytd, dict) or not isinstance(balances, dict):
        raise PolicyError("ytd 和 fund_balances 应为对象")
    _no_unknown(ytd, (*YTD_COLUMN, "topup", "payer") if payers else (*YTD_COLUMN, "topup"), "ytd ")
    _no_unknown(balances, funds, "fund_balances ")
    topup = ytd.get("topup", {})
    if not isinstance(topup, dict):
        raise PolicyError(f"ytd.topup 应为对象（每个兜底资金一项），实际为{_kind(topup)}")
    _no_unknown(topup, funds, "ytd.topup ")
    for key in ("region", "visit_type", "level"):
        if not isinstance(claim[key], str):
            raise PolicyError(f"结算单字段 {key} 应为文字，实际为{_kind(claim[key])}")
    case = {
        "region": claim["region"], "discharge_date": claim["discharge_date"], "visit_type": claim["visit_type"],
        "level": claim["level"], "in_county": claim["in_county"], "referred": claim["referred"],
        **{c: c in cats for c in CATEGORIES},
        **{key: parse_yuan(claim[key], label) for key, label in AMOUNT_LABELS.items()},
    }
    for key, name in YTD_COLUMN.items():
        if key not in ytd:
            raise PolicyError(f"ytd 缺少 {key}（本年累计，没有请填 \"0\"）")
        case[name] = parse_yuan(ytd[key], f"ytd.{key}")
    for code in funds:
        if code not in topup:
            raise PolicyError(f"ytd.topup 缺少兜底资金 {code}（没有请填 \"0\"）")
        if code not in balances:
            raise PolicyError(f"fund_balances 缺少兜底资金 {code} 的余额")
        case[f"topup_ytd.{code}"] = parse_yuan(topup[code], f"ytd.topup.{code}")
        case[f"balance.{code}"] = parse_yuan(balances[code], f"fund_balances.{code}")
    if payers:   # the chain's own payers: one year-to-date figure each
        paid = ytd.get("payer", {})
        if not isinstance(paid, dict):
            raise PolicyError(f"ytd.payer 应为对象（支付顺序中每个其他支付方一项），实际为{_kind(paid)}")
        _no_unknown(paid, payers, "ytd.payer ")
        for code in payers:
            if code not in paid:
                raise PolicyError(f"ytd.payer 缺少支付方 {code} 的本年已付（没有请填 \"0\"）")
            case[f"payer_ytd.{code}"] = parse_yuan(paid[code], f"ytd.payer.{code}")
    return case


def settle(chain: Chain, claim: dict) -> dict:
    """Compute one claim: every payer's amount, the explanation, and the updated accumulators."""
    from fupin.policy.engine import run_case

    when = discharge_date(claim)
    funds = funds_of(chain, when)
    order = chain_of(chain, when)
    payers = tuple(code for code, _ in order if code not in BUILT_IN)
    case = claim_to_case(claim, funds, payers)
    check_claim(chain, case)
    results = run_case(model_for(chain, when), case, chain)
    amounts = {r.rule: r.amount for r in results}
    parts = sum(v for k, v in amounts.items() if k != "health.shortfall")
    if parts != case["total"]:   # by construction; guards the model
        raise PolicyError(f"各方金额之和 {yuan(parts)} 元不等于总费用 {yuan(case['total'])} 元；请把结算单报告给系统管理员")
    changes = accumulator_changes(amounts, case["in_policy"], funds, tuple(code for code, _ in order))
    ci_base = changes.get("ci_base", 0)
    more = {"payer": {code: yuan(case[f"payer_ytd.{code}"] + changes[f"payer.{code}"]) for code in payers}} \
        if payers else {}
    return {
        "pack": chain.key,
        "payers": [{"rule": r.rule, "label": r.label,   # a top-up fund's: its pack name (model_for)
                    "amount": yuan(r.amount), "explanation": r.explanation} for r in results],
        "total": yuan(case["total"]),
        "patient": yuan(amounts["health.patient"]),
        "shortfall": yuan(amounts["health.shortfall"]),
        "accumulators": {
            "basic": yuan(case["basic_ytd"] + changes.get("basic", 0)),
            "ci_base": yuan(case["ci_base_ytd"] + changes.get("ci_base", 0)),
            "ci": yuan(case["ci_ytd"] + changes.get("ci", 0)),
            "assistance": yuan(case["assistance_ytd"] + changes.get("assistance", 0)),
            "topup": {code: yuan(case[f"topup_ytd.{code}"] + changes[f"topup.{code}"]) for code in funds},
            **more,
        },
        "_fen": amounts, "_ci_base": ci_base, "_changes": changes,
    }


YTD_COLUMN = {"basic": "basic_ytd", "ci_base": "ci_base_ytd", "ci": "ci_ytd", "assistance": "assistance_ytd"}


def accumulator_changes(amounts: dict, in_policy, funds: tuple, chain: tuple = DEFAULT_CHAIN) -> dict:
    """What one settled claim adds to the patient's year-to-date accumulators (fen). The window
    stores these on the claim, and a reversal subtracts exactly them. The one formula: it works
    on numbers (one claim) and on Polars columns (`settle_batch`) alike. `chain`: the payer
    codes in order; the critical-illness base is what the payers before it left of I'. A payer
    the chain does not have adds nothing (its key is left out)."""
    out = {}
    left = in_policy - amounts["health.waived"]
    for code in chain:
        if code == "critical_illness":
            out["ci_base"] = left
        rule = RULE_OF.get(code, f"health.payer.{code}")
        out[ACC_KEY.get(code, f"payer.{code}")] = amounts[rule]
        left = left - amounts[rule]
    return {**out, **{f"topup.{code}": amounts[f"health.topup.{code}"] for code in funds}}


RULE_OF = {"basic": "health.basic", "critical_illness": "health.critical_illness", "assistance": "health.assistance"}
ACC_KEY = {"basic": "basic", "critical_illness": "ci", "assistance": "assistance"}


def settle_batch(chain: Chain, claims, opening=None, packs=None):
    """Settle many claims at once (Polars), carrying each patient's accumulators in claim order.

    `claims`: one row per claim with `patient`, `seq` (order within the patient) and the model's
    inputs except the accumulators and fund balances (fund balances are taken as unlimited per
    round's budget check outside; here each fund's `balance.<code>` column must be given).
    `opening`: optional frame of `patient` plus opening accumulators (default zero).
    Round k settles every patient's k-th claim together, then adds its results to the
    accumulators: a cumulative yearly scale depends on the claims before it, so a patient's
    claims cannot all be computed at once, but all patients' k-th claims can.
    Returns the claims in their input order with one column per payer (fen).
    `packs`: a PackSet to choose each claim's chain by its region (every chain must build the
    same model as `chain`: the same visit types and levels, top-up funds and payer chain).
    """
    import polars as pl

    from fupin.policy.engine import run_batch

    when = claims["discharge_date"].min()
    model = model_for(chain, when)
    funds = funds_of(chain, when)
    order = tuple(code for code, _ in chain_of(chain, when))
    payers = tuple(code for code in order if code not in BUILT_IN)
    acc_cols = ["basic_ytd", "ci_base_ytd", "ci_ytd", "assistance_ytd", *(f"topup_ytd.{c}" for c in funds),
                *(f"payer_ytd.{c}" for c in payers)]
    n = claims.height
    frame = claims.with_row_index("_row").with_columns(
        pl.col("seq").rank("ordinal").over("patient").cast(pl.Int64).alias("_round"))
    acc = (opening if opening is not None else frame.select("patient").unique()
           .with_columns([pl.lit(0, dtype=pl.Int64).alias(c) for c in acc_cols]))
    out = []
    plan: dict = {}   # the model compiled once, for the dates of every round
    span = (when, claims["discharge_date"].max())
    for k in range(1, int(frame["_round"].max() or 0) + 1):
        batch = frame.filter(pl.col("_round") == k)
        joined = batch.join(acc, on="patient", how="left", maintain_order="left")
        if joined.height != batch.height:
            raise PolicyError(f"第{k}轮结算连接累计额时行数不符")
        joined = joined.with_columns([pl.col(c).fill_null(0) for c in acc_cols])
        result = run_batch(model, joined, chain if packs is None else packs, plan=plan, span=span)
        # the same accumulator_changes as one claim, on columns instead of numbers
        changes = accumulator_changes({r.name: pl.col(r.name) for r in model.rules}, pl.col("in_policy"), funds, order)
        column = {**YTD_COLUMN, **{f"topup.{c}": f"topup_ytd.{c}" for c in funds},
                  **{f"payer.{c}": f"payer_ytd.{c}" for c in payers}}
        given = {column[key]: expr for key, expr in changes.items()}
        # after this round: each of its patients' accumulators plus what its claim added. Only
        # they can have a next claim (round k+1 holds the patients with more than k), so the
        # carried frame shrinks round by round instead of being summed over every patient again
        acc = result.select("patient", *((pl.col(c) + given[c]).cast(pl.Int64).alias(c) if c in given
                                         else pl.col(c) for c in acc_cols))
        out.append(result.select("_row", *(r.name for r in model.rules)))
    settled = pl.concat(out).sort("_row")
    if settled.height != n:
        raise PolicyError(f"批量结算得出 {settled.height} 行，输入 {n} 行")
    return claims.with_columns(settled.drop("_row"))
