"""One case and batch never disagree (issue 12 §3), shown on random packs and rosters.

1. Expressions: random trees over nullable inputs, evaluated by the interpreter row by row and
   by the Polars compilation over the whole frame: the same value, null for null, on every row
   (a row the interpreter refuses is null in Polars).
2. Models: random two-level packs (parameters with gaps between periods, `until` ends, values
   that start or stop on boundary dates) and random rosters (nulls, wrong choices, negative and
   huge amounts, regions without a pack): `run_case` on each row in order and `run_batch` on the
   roster either give the same amounts row for row, or both refuse with the same message.

FUPIN_PROPERTY_EXAMPLES=2000 runs more examples (default: about 10 s).
"""
from __future__ import annotations

import datetime as dt
import os

import polars as pl
from hypothesis import HealthCheck, event, given, settings, strategies as st

from fupin.policy.engine import Model, run_batch, run_case
from fupin.policy.errors import PolicyError
from fupin.policy.expr import (Const, If, In, Max, Min, Named, Not, Op, P, Ratio, Rule, Tiered, TieredDelta, Var,
                               compile_polars, evaluate)
from fupin.policy.expr.polars_compiler import bounds
from fupin.policy.packs import RATIO_SCALE, PackSet, parse_pack, shipped_packs

# ---- 1. expressions with nulls ---------------------------------------------------------------

INTS = [Var("a", "int", "a"), Var("b", "int", "b"), Var("c", "int", "c")]
BOOLS = [Var("p", "bool", "p"), Var("q", "bool", "q")]
CHAIN = shipped_packs().chain("cn-national")
DAY = dt.date(2024, 6, 1)


def _int_tree(children_int, children_bool):
    return st.one_of(
        st.builds(lambda o, x, y: Op(o, x, y), st.sampled_from(["+", "-"]), children_int, children_int),
        st.builds(lambda x, k: Op("*", x, Const(k)), children_int, st.integers(0, 5)),
        st.builds(lambda x, k: Op("//", x, Const(k)), children_int, st.integers(0, 3)),
        st.builds(Min, children_int, children_int),
        st.builds(Max, children_int, children_int),
        st.builds(lambda c, x, y: If(c, x, y), children_bool, children_int, children_int),
        st.builds(lambda x, r: Ratio(x, Const(r)), children_int, st.integers(0, RATIO_SCALE)),
        st.builds(lambda x: Tiered(x, P("t")), children_int),
    )


int_leaf = st.one_of(st.sampled_from(INTS), st.builds(Const, st.integers(-50, 1000)))
bool_leaf = st.one_of(st.sampled_from(BOOLS), st.builds(Const, st.booleans()))


def _bool_tree(children_int, children_bool):
    return st.one_of(
        st.builds(lambda o, x, y: Op(o, x, y), st.sampled_from([">=", ">", "<=", "<", "=="]), children_int, children_int),
        st.builds(lambda o, x, y: Op(o, x, y), st.sampled_from(["and", "or"]), children_bool, children_bool),
        st.builds(Not, children_bool),
        st.builds(lambda x: In(x, Const((0, 1, 5, 100))), children_int))


def _exprs(depth):
    """(int, bool) expression strategies of at most `depth` levels (bounded: a plan's size
    grows with depth, and deep random trees say nothing more than five levels do)."""
    ints, bools = int_leaf, bool_leaf
    for _ in range(depth):
        ints, bools = (st.one_of(int_leaf, _int_tree(ints, bools)), st.one_of(bool_leaf, _bool_tree(ints, bools)))
    return ints, bools


int_expr, bool_expr = _exprs(5)

SCALE = ((0, 100, 500_000), (100, 500, 700_000), (500, None, 900_000))


class _OneScale:
    """A chain stand-in with one tiered scale `t` (the interpreter reads parameters from it)."""
    key = "test"

    def lookup(self, name, date):
        from fupin.policy.packs import Value
        return Value(dt.date.min, None, SCALE, "test", "test")

    def unit(self, name):
        return "scale"

    def timeline(self, name):
        return [(dt.date.min, None, self.lookup(name, None))]


row_values = st.fixed_dictionaries({
    "a": st.one_of(st.none(), st.integers(-100, 2000)), "b": st.one_of(st.none(), st.integers(-100, 2000)),
    "c": st.one_of(st.none(), st.integers(0, 10)),
    "p": st.one_of(st.none(), st.booleans()), "q": st.one_of(st.none(), st.booleans())})


@settings(max_examples=int(os.environ.get("FUPIN_PROPERTY_EXAMPLES", 100)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(int_expr, bool_expr), st.lists(row_values, min_size=1, max_size=8))
def test_expression_null_for_null_in_both_modes(expr, rows):
    chain = _OneScale()
    frame = pl.DataFrame(rows, schema={"a": pl.Int64, "b": pl.Int64, "c": pl.Int64, "p": pl.Boolean,
                                       "q": pl.Boolean}).with_columns(pl.lit(DAY).alias("d"))
    compiled = compile_polars(expr, {0: chain}, "d")
    if not isinstance(compiled, pl.Expr):
        return   # a bare constant tuple: nothing to compare
    got = frame.select(compiled.alias("x"))["x"].to_list()
    for row, value in zip(rows, got):
        try:
            want = evaluate(expr, row, chain, DAY)
        except PolicyError:
            want = None   # the interpreter refuses the row; the compilation gives null
        assert value == want, (expr, row)


checked_rows = st.fixed_dictionaries({
    "a": st.integers(0, 2000), "b": st.integers(0, 2000), "c": st.integers(0, 10), "p": st.booleans(), "q": st.booleans()})


@settings(max_examples=int(os.environ.get("FUPIN_PROPERTY_EXAMPLES", 100)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(int_expr, st.lists(checked_rows, min_size=1, max_size=8))
def test_bounds_hold_on_every_row_that_passed_the_input_checks(expr, rows):
    """`bounds` (why run_batch may skip the scan for negative amounts): every amount either
    mode computes on rows whose inputs are within the checked range lies inside them."""
    chain = _OneScale()
    span = bounds(expr, {0: chain}, {"a": 2000, "b": 2000, "c": 10})
    event("bounded" if span else "not bounded")
    if span is None:
        return
    frame = pl.DataFrame(rows, schema={"a": pl.Int64, "b": pl.Int64, "c": pl.Int64, "p": pl.Boolean,
                                       "q": pl.Boolean}).with_columns(pl.lit(DAY).alias("d"))
    compiled = compile_polars(expr, {0: chain}, "d", {0: (DAY, DAY)}, nulls=False)
    got = frame.select(compiled.alias("x"))["x"].to_list() if isinstance(compiled, pl.Expr) else [None] * len(rows)
    for row, value in zip(rows, got):
        try:
            want = evaluate(expr, row, chain, DAY)
        except PolicyError:
            want = None
        assert value == want, (expr, row)
        assert want is None or span[0] <= want <= span[1], (expr, row, span)


# ---- 2. models on random packs and rosters ---------------------------------------------------

BOUNDARIES = [dt.date(2019, 12, 31), dt.date(2020, 1, 1), dt.date(2020, 6, 30), dt.date(2021, 1, 1),
              dt.date(2021, 6, 30), dt.date(2021, 12, 31), dt.date(2022, 1, 1), dt.date(2022, 1, 2)]
amount, ytd = Var("amount", "int", "金额（分）"), Var("ytd", "int", "本年已付（分）")
kind = Var("kind", "str", "类别", ("x", "y", "z"))
flag = Var("flag", "bool", "标记")
region, date, date2 = Var("region", "str", "区划代码"), Var("date", "date", "日期"), Var("date2", "date", "第二日期")
base = Named("base", Max(amount - P("t.threshold"), 0))
MODEL = Model("prop", [
    Rule("r.capped", "封顶", Min(Max(P("t.cap") - ytd, 0), Ratio(amount, P("t.ratio"))), date),
    Rule("r.tiered", "分档", Tiered(base, P("t.tiers")), date),
    Rule("r.listed", "名单", If(In(kind, P("t.list")) & (flag | P("t.flag")), Ratio(base, P("t.ratio")), 0, "在名单内"), date),
    Rule("r.delta", "增量", TieredDelta(ytd + base, ytd, P("t.tiers"), If(flag, Const(50_000), 0)), date),
    Rule("r.net", "净额", Ratio(amount - ytd, P("t.ratio")), date),   # refused when ytd > amount
    Rule("r.other_date", "另一日期", Min(amount, P("t.cap")), date2),
], region)

UNITS = {"t.cap": "yuan", "t.threshold": "yuan", "t.ratio": "ratio", "t.tiers": "scale", "t.list": "list",
         "t.flag": "bool"}


def _value(unit):
    if unit == "yuan":
        return st.integers(0, 2_000_000).map(lambda f: f"{f // 100}.{f % 100:02d}")
    if unit == "ratio":
        return st.integers(0, RATIO_SCALE).map(lambda m: f"{m / RATIO_SCALE:.6f}")
    if unit == "list":
        return st.lists(st.sampled_from(["x", "y", "z"]), unique=True, max_size=3)
    if unit == "bool":
        return st.booleans()
    return st.lists(st.integers(1, 100_000), min_size=0, max_size=3, unique=True).flatmap(
        lambda cuts: st.lists(st.integers(0, RATIO_SCALE), min_size=len(cuts) + 1, max_size=len(cuts) + 1).map(
            lambda rates: [{"from": lo, "to": hi, "rate": f"{r / RATIO_SCALE:.6f}"} for lo, hi, r in
                           zip([0] + sorted(cuts), sorted(cuts) + [None], rates)]))


def _spec(unit, root=False):
    """A parameter in one pack: 1–2 values on boundary dates, sometimes ending (`until`). In
    the root pack the first value usually starts before every roster date."""
    first = st.integers(0, 19).map(lambda k: [dt.date(2019, 1, 1)] if root and k != 19 else [])
    return st.tuples(first, st.lists(st.sampled_from(BOUNDARIES), min_size=1, max_size=2, unique=True),
                     st.lists(_value(unit), min_size=3, max_size=3),
                     st.integers(0, 9).flatmap(lambda k: st.sampled_from(BOUNDARIES) if k == 9 else st.none())).map(
        lambda t: {"unit": unit, "values": [{"from": d, "value": v, "source": "测试"}
                                            for d, v in zip(sorted(set(t[0] + t[1])), t[2])],
                   **({"until": t[3]} if t[3] is not None and t[3] > max(t[0] + t[1]) else {})})


def _params():
    # each parameter present or absent in this pack: absent ones fall back to the parent
    return st.fixed_dictionaries({}, optional={name: _spec(unit) for name, unit in UNITS.items()})


def _root_params():
    # the root pack has every parameter (gaps then come from periods and `until`), usually
    return st.integers(0, 9).flatmap(lambda k: _params() if k == 9 else st.fixed_dictionaries(
        {name: _spec(unit, root=True) for name, unit in UNITS.items()}))


pack_docs = st.tuples(_root_params(), _params(), _params())


def _packs(docs):
    root, child, other = docs
    return PackSet([parse_pack({"name": "p-root", "title": "根", "region": "", "parameters": root}, "p-root.yaml"),
                    parse_pack({"name": "p-51", "title": "省", "region": "51", "extends": "p-root", "parameters": child},
                               "p-51.yaml"),
                    parse_pack({"name": "p-42", "title": "另一省", "region": "42", "extends": "p-root",
                                "parameters": other}, "p-42.yaml")])


def _rosters(clean: bool):
    def mostly(good, bad):
        """A good value; in a roster that is not clean, one time in eight a bad one."""
        return good if clean else st.integers(0, 7).flatmap(lambda k: bad if k == 7 else good)

    return st.lists(st.fixed_dictionaries({
        "region": mostly(st.sampled_from(["510100000001", "513435000001", "420100000001"]),
                         st.sampled_from([None, "110000000001"])),
        "date": mostly(st.one_of(st.sampled_from(BOUNDARIES), st.dates(dt.date(2019, 6, 1), dt.date(2022, 6, 1))),
                       st.none()),
        "date2": mostly(st.sampled_from(BOUNDARIES), st.none()),
        "amount": mostly(st.integers(100_000, 5_000_000), st.sampled_from([None, -1, 0, 10 ** 11, 10 ** 11 + 1])),
        "ytd": mostly(st.integers(0, 50_000), st.none()),
        "kind": mostly(st.sampled_from(["x", "y", "z"]), st.sampled_from([None, "w"])),
        "flag": mostly(st.booleans(), st.none()),
    }), min_size=1, max_size=10)


roster_rows = st.integers(0, 2).flatmap(lambda k: _rosters(clean=k < 2))

SCHEMA = {"region": pl.String, "date": pl.Date, "date2": pl.Date, "amount": pl.Int64, "ytd": pl.Int64,
          "kind": pl.String, "flag": pl.Boolean}


def _case_by_case(packs, rows):
    out = []
    for i, row in enumerate(rows, start=1):
        try:
            out.append({r.rule: r.amount for r in run_case(MODEL, row, packs, row=i)})
        except PolicyError as exc:
            return None, exc.message
    return out, None


@settings(max_examples=int(os.environ.get("FUPIN_PROPERTY_EXAMPLES", 80)), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pack_docs, roster_rows, st.sampled_from(["set", "chain"]))
def test_case_by_case_equals_batch_row_for_row(docs, rows, mode):
    packs = _packs(docs)
    if mode == "chain":
        packs = packs.chain("p-51")   # as `--pack p-51`: rows outside region 51 are refused
        rows = [dict(r, region="513435000002") if r["region"] == "420100000001" else r for r in rows]
    expected, error = _case_by_case(packs, rows)
    event("refused" if error else "computed")
    if error:
        event("refused: " + error.split("：", 1)[-1][:12])
    try:
        out = run_batch(MODEL, pl.DataFrame(rows, schema=SCHEMA), packs)
    except PolicyError as exc:
        assert exc.message == error, (exc.message, error)
        return
    assert error is None, f"batch computed what one case refuses: {error}"
    for r in MODEL.rules:
        assert out[r.name].to_list() == [e[r.name] for e in expected], r.name


def test_a_parameter_gap_inside_the_roster_is_refused_in_both_modes():
    """In force in 2020 and from 2022: a 2021 row is refused by one case, and so by the batch,
    even though the roster's first and last dates (2020, 2022) both have a value."""
    root = {name: {"unit": unit, "values": [{"from": dt.date(2019, 1, 1), "value": v, "source": "测试"}]}
            for (name, unit), v in zip(UNITS.items(), ["0", "0", "1", [{"from": 0, "to": None, "rate": "1"}], ["x"], True])}
    root["t.cap"] = {"unit": "yuan", "values": [{"from": dt.date(2020, 1, 1), "value": "100", "source": "测试"}],
                     "until": dt.date(2021, 1, 1)}
    child = {"t.cap": {"unit": "yuan", "values": [{"from": dt.date(2022, 1, 1), "value": "100", "source": "测试"}]}}
    packs = _packs((root, child, {}))
    row = {"region": "510100000001", "amount": 100_000_000, "ytd": 0, "kind": "x", "flag": False}
    rows = [dict(row, date=dt.date(2020, 5, 1), date2=dt.date(2020, 5, 1)),
            dict(row, date=dt.date(2021, 5, 1), date2=dt.date(2020, 5, 1)),
            dict(row, date=dt.date(2022, 5, 1), date2=dt.date(2022, 5, 1))]
    message = "第2条：按省的政策，所需的政策规定在 2021-05-01 未生效；请核对日期"
    assert _case_by_case(packs, rows) == (None, message)
    try:
        run_batch(MODEL, pl.DataFrame(rows, schema=SCHEMA), packs)
    except PolicyError as exc:
        assert exc.message == message
    else:
        raise AssertionError("the batch paid a 2021 row with no cap in force")
    out = run_batch(MODEL, pl.DataFrame([rows[0], rows[2]], schema=SCHEMA), packs)
    assert out["r.capped"].to_list() == [10_000, 10_000]   # capped at 100 yuan in both years
