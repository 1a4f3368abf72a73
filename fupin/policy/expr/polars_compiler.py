"""The Polars compiler: a rule as one Polars expression over a whole roster.

Same semantics as the interpreter (`interpret`), row for row: integer arithmetic, ratios in
millionths rounded half up, and strict nulls (an operation with a null operand is null; a
condition that is null makes the whole `If` null). Where the interpreter raises (a ratio of a
negative amount, a tiered increase whose top is below its bottom, division by zero) the
compiled expression gives null, and the engine asks the interpreter for that row's message.
"""
from __future__ import annotations

from ..errors import PolicyError
from ..packs import RATIO_SCALE, Chain
from .interpret import apply_op, ratio_round
from .tree import E, Const, If, In, Max, Min, Named, Not, Op, P, Ratio, Tiered, TieredDelta, Var, children

def specialize(expr: E, chain: Chain, span: tuple) -> E:
    """Fold what is constant over a roster that uses one pack chain and dates within `span`:
    a parameter with one value over the span becomes a constant, operations on constants are
    computed, and branches with a constant condition are chosen. Same results, simpler plan."""
    lo, hi = span
    cache: dict[str, E] = {}
    done: dict[int, E] = {}  # shared sub-expressions are specialised once and stay shared
    failing: dict[int, bool] = {}

    def can_fail(e) -> bool:
        """Whether evaluating `e` may raise in the interpreter (and give null here): such a
        sub-expression is never dropped by folding, so that both modes fail on the same rows."""
        key = id(e)
        if key not in failing:
            failing[key] = (isinstance(e, (Ratio, TieredDelta)) or (isinstance(e, Op) and e.op == "//")
                            or any(can_fail(c) for c in children(e)))
        return failing[key]

    def const_param(name):
        if name not in cache:
            periods = [(a, b, v) for a, b, v in chain.timeline(name) if v is not None and a <= hi and (b is None or b > lo)]
            one = len(periods) == 1 and periods[0][0] <= lo and (periods[0][1] is None or periods[0][1] > hi)
            cache[name] = Const(periods[0][2].value) if one and chain.unit(name) != "scale" else P(name)
        return cache[name]

    def f(e):
        key = id(e)
        if key not in done:
            done[key] = f_(e)
        return done[key]

    def f_(e):
        if isinstance(e, Named):
            inner = f(e.expr)
            return inner if isinstance(inner, Const) else Named(e.name, inner)
        if isinstance(e, P):
            return const_param(e.name)
        if isinstance(e, Op):
            a, b = f(e.a), f(e.b)
            if isinstance(a, Const) and isinstance(b, Const) and not (e.op == "//" and b.value == 0):
                return Const(apply_op(e.op, a.value, b.value))
            if e.op in ("and", "or") and (isinstance(a, Const) or isinstance(b, Const)):
                k, other = (a, b) if isinstance(a, Const) else (b, a)
                if k.value is None:
                    return Const(None)
                if bool(k.value) == (e.op == "or"):   # False and x, True or x: x does not matter …
                    if not can_fail(other):           # … unless x would fail (then both modes fail)
                        return Const(e.op == "or")
                else:
                    return other                      # True and x, False or x: x
            return Op(e.op, a, b)
        if isinstance(e, Not):
            a = f(e.a)
            if isinstance(a, Const):
                return Const(None if a.value is None else not a.value)
            return Not(a)
        if isinstance(e, In):
            a, v = f(e.a), f(e.values)
            if isinstance(a, Const) and isinstance(v, Const):
                return Const(None if a.value is None or v.value is None else a.value in v.value)
            return In(a, v)
        if isinstance(e, If):
            cond = f(e.cond)
            if isinstance(cond, Const):
                if cond.value is None:
                    return Const(None)
                return f(e.then) if cond.value else f(e.other)
            then, other = f(e.then), f(e.other)
            if isinstance(then, Const) and isinstance(other, Const) and then.value == other.value \
                    and then.value is not None and not can_fail(cond):
                return then   # both branches give the same amount: the condition does not matter
            return If(cond, then, other, e.label)
        if isinstance(e, (Min, Max)):
            a, b = f(e.a), f(e.b)
            if isinstance(a, Const) and isinstance(b, Const):
                if a.value is None or b.value is None:
                    return Const(None)
                return Const((min if isinstance(e, Min) else max)(a.value, b.value))
            return type(e)(a, b)
        if isinstance(e, Ratio):
            a, r = f(e.amount), f(e.ratio)
            if isinstance(a, Const) and isinstance(r, Const) and (a.value is None or a.value >= 0):
                return Const(ratio_round(a.value, r.value))
            return Ratio(a, r)
        if isinstance(e, Tiered):
            return Tiered(f(e.base), e.scale)
        if isinstance(e, TieredDelta):
            return TieredDelta(f(e.hi), f(e.lo), e.scale, f(e.bonus))
        return e
    return f(expr)



def compile_polars(expr: E, chains: dict[int, Chain], date_col: str, spans: dict | None = None,
                   columns: dict | None = None, specialized: bool = False, nulls: bool = True):
    """A Polars expression for `expr`. Rows carry `_chain` (an index into `chains`) and the date.

    `spans` gives, per chain, the (earliest, latest) date present in the data: periods of a
    parameter outside it are left out, and a parameter with one period becomes a literal.
    """
    import polars as pl

    if len(chains) == 1 and spans and not specialized:
        (k, chain), = chains.items()
        if k in spans:
            expr = specialize(expr, chain, spans[k])
    cache: dict[str, object] = {}
    compiled: dict[int, object] = {}
    columns = columns or {}   # Named steps already computed as columns: name → column
    # `nulls=False`: the caller has checked that no input and no parameter is null on any row
    # (run_batch does), so only nodes that can fail (a ratio of a negative amount, a tiered
    # increase, a division) can give null, and null guards are added only above those. Each
    # guard repeats an operand in the plan, so guarding everything would make deep rules slow.
    null_memo: dict[int, bool] = {}

    def nullable(e) -> bool:
        key = id(e)
        if key not in null_memo:
            if isinstance(e, Const):
                out = e.value is None
            elif isinstance(e, (Var, P)):
                out = nulls
            elif isinstance(e, (Ratio, TieredDelta)):
                out = True
            elif isinstance(e, Op) and e.op == "//":
                out = True
            else:
                out = any(nullable(ch) for ch in children(e))
            null_memo[key] = out
        return null_memo[key]

    def simple(e) -> bool:
        return isinstance(e, (Const, Var, P)) or (isinstance(e, Named) and e.name in columns)

    def param(name: str):
        if name in cache:
            return cache[name]
        unit = None
        for k, chain in chains.items():
            unit = chain.unit(name)
        segments = _segments(name, chains, date_col, spans)
        if not segments:
            raise PolicyError(f"参数 {name} 在所有政策包中都没有值")
        if len(segments) == 1 and segments[0][0] is None:   # one value on every row's date
            cache[name] = (_pl_lit(unit, segments[0][1]), unit)
            return cache[name]
        cache[name] = (_when([(cond, _pl_lit(unit, value)) for cond, value in segments]), unit)
        return cache[name]

    def c(e):
        key = id(e)
        if key not in compiled:
            compiled[key] = c_(e)
        return compiled[key]

    def c_(e):
        if isinstance(e, Named):
            return pl.col(columns[e.name]) if e.name in columns else c(e.expr)
        if isinstance(e, Const):
            if isinstance(e.value, tuple):
                return e.value
            if isinstance(e.value, bool):
                return pl.lit(e.value, dtype=pl.Boolean)
            if isinstance(e.value, int):
                return pl.lit(e.value, dtype=pl.Int64)
            return pl.lit(e.value)
        if isinstance(e, Var):
            return pl.col(e.name)
        if isinstance(e, P):
            expr_, unit = param(e.name)
            if unit in ("list", "scale"):
                return ("param", e.name)
            return expr_
        if isinstance(e, Op):
            a, b = c(e.a), c(e.b)
            return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "//": lambda: a // b,
                    ">=": lambda: a >= b, ">": lambda: a > b, "<=": lambda: a <= b, "<": lambda: a < b,
                    "==": lambda: a == b,
                    "and": lambda: _strict(a & b, a, b) if nullable(e.a) or nullable(e.b) else a & b,
                    "or": lambda: _strict(a | b, a, b) if nullable(e.a) or nullable(e.b) else a | b}[e.op]()
        if isinstance(e, Not):
            return ~c(e.a)
        if isinstance(e, In):
            values = c(e.values)
            if isinstance(values, tuple) and values and values[0] == "param":
                return _param_list_membership(c(e.a), values[1], chains, date_col, spans)
            return c(e.a).is_in(list(values))
        if isinstance(e, If):
            cond = c(e.cond)
            if not nullable(e.cond):
                return pl.when(cond).then(c(e.then)).otherwise(c(e.other))
            # Polars takes a null condition as false; the interpreter's result is then null
            return pl.when(cond.is_null()).then(None).when(cond).then(c(e.then)).otherwise(c(e.other))
        if isinstance(e, (Min, Max)):
            if not (nullable(e.a) or nullable(e.b)):
                return (pl.min_horizontal if isinstance(e, Min) else pl.max_horizontal)(c(e.a), c(e.b))
            # min/max_horizontal skip nulls; here a null operand makes the result null (as one
            # case): min(x, y) = x − clip(x − y, ≥0), max(x, y) = x + clip(y − x, ≥0); clip keeps
            # nulls, and only x (the simpler operand) appears twice in the plan
            x_, y_ = (e.a, e.b) if simple(e.a) or not simple(e.b) else (e.b, e.a)
            x, y = c(x_), c(y_)
            if isinstance(e, Min):
                return x - (x - y).clip(lower_bound=0)
            return x + (y - x).clip(lower_bound=0)
        if isinstance(e, Ratio):
            amount = c(e.amount)   # a negative amount: the interpreter refuses it, here null
            return pl.when(amount >= 0).then((amount * c(e.ratio) + RATIO_SCALE // 2) // RATIO_SCALE)
        if isinstance(e, Tiered):
            base = c(e.base)
            value = _tiered_polars(base, e.scale.name, chains, date_col, spans)
            return _strict(value, base) if nullable(e.base) else value
        if isinstance(e, TieredDelta):
            hi_, lo_, bonus = c(e.hi), c(e.lo), c(e.bonus)
            hi = _tiered_polars(hi_, e.scale.name, chains, date_col, spans, bonus=bonus, raw=True)
            lo = _tiered_polars(lo_, e.scale.name, chains, date_col, spans, bonus=bonus, raw=True)
            # top below bottom: the interpreter refuses it, here null (as is any null operand)
            return pl.when(hi_ >= lo_).then(_strict((hi - lo + RATIO_SCALE // 2) // RATIO_SCALE, bonus))
        raise TypeError(e)
    return c(expr)


def _strict(value, *operands):
    """`value`, or null where any operand is null (Polars' min/max_horizontal and Kleene
    and/or would otherwise give a value: the interpreter gives null)."""
    import polars as pl

    if all(isinstance(o, pl.Expr) and o.meta.is_literal() for o in operands):
        return value
    null = None
    for o in operands:
        null = o.is_null() if null is None else null | o.is_null()
    return pl.when(null).then(None).otherwise(value)


def _pl_lit(unit, value):
    import polars as pl

    if unit in ("yuan", "ratio", "count"):
        return pl.lit(value, dtype=pl.Int64)
    if unit == "bool":
        return pl.lit(value, dtype=pl.Boolean)
    return pl.lit(value)


def _segments(name, chains, date_col, spans=None) -> list:
    """(condition, value) for every pack chain and period in which the parameter has a value, in
    the order a when-chain tests them (`_when`). A condition None: every row no earlier condition
    took. `spans` (per chain, the earliest and latest date of the rows) leaves out the periods
    outside it; with one chain whose periods follow one another over the whole span, a period's
    condition is only "before its end" and the last period takes every row left (the rows'
    dates are inside the span, so the omitted bounds hold on every row)."""
    import polars as pl

    single = len(chains) == 1
    out = []
    for k, chain in chains.items():
        periods = [(start, end, v) for start, end, v in chain.timeline(name) if v is not None]
        if spans and k in spans:
            lo, hi = spans[k]
            periods = [(s_, e_, v) for s_, e_, v in periods if s_ <= hi and (e_ is None or e_ > lo)]
            if single and periods and periods[0][0] <= lo and (periods[-1][1] is None or periods[-1][1] > hi) \
                    and all(a[1] == b[0] for a, b in zip(periods, periods[1:])):
                return [(pl.col(date_col) < end, v.value) for _, end, v in periods[:-1]] + [(None, periods[-1][2].value)]
        for start, end, v in periods:
            cond = pl.col(date_col) >= start
            if not single:
                cond = (pl.col("_chain") == k) & cond
            if end is not None:
                cond = cond & (pl.col(date_col) < end)
            out.append((cond, v.value))
    return out


def _when(pairs):
    """A when-chain over (condition, value) pairs (`_segments`' order); null where no condition
    holds, unless the last condition is None (every row left)."""
    import polars as pl

    out = None
    for cond, value in pairs:
        if cond is None:
            return value if out is None else out.otherwise(value)
        out = pl.when(cond).then(value) if out is None else out.when(cond).then(value)
    return out.otherwise(None)


def _param_list_membership(a, name, chains, date_col, spans=None):
    return _when([(cond, a.is_in(list(values))) for cond, values in _segments(name, chains, date_col, spans)])


def _tiered_polars(base, name, chains, date_col, spans=None, bonus=None, raw=False):
    """Tiers computed once: each tier's bounds and rate are per-row values chosen by period."""
    import polars as pl

    segments = _segments(name, chains, date_col, spans)
    if not segments:
        return pl.lit(None, dtype=pl.Int64)
    n = max(len(scale) for _, scale in segments)

    def per_row(pick):
        values = [pick(scale) for _, scale in segments]
        if all(v == values[0] for v in values):
            return None if values[0] is None else pl.lit(values[0], dtype=pl.Int64)
        return _when([(cond, pl.lit(v, dtype=pl.Int64)) for (cond, _), v in zip(segments, values)])

    def zero(pick):   # the same 0 on every row (a first tier's bottom, a padded tier's rate)
        return all(pick(scale) == 0 for _, scale in segments)

    total = None
    for i in range(n):
        # a scale with fewer tiers gets empty tiers at the top: zero width (from = to), so that
        # nothing falls in them even with a bonus rate (an open top tier here would count the
        # base once more at the bonus rate)
        pick_lo = lambda sc: sc[i][0] if i < len(sc) else sc[-1][0]  # noqa: E731
        pick_rate = lambda sc: sc[i][2] if i < len(sc) else 0  # noqa: E731
        if bonus is None and zero(pick_rate):
            continue   # a rate of 0 on every row adds nothing
        lo = per_row(pick_lo)
        hi = per_row(lambda sc: sc[i][1] if i < len(sc) else sc[-1][0])
        rate = per_row(pick_rate)
        top = base if hi is None else pl.min_horizontal(base, hi)
        part = pl.max_horizontal(top if zero(pick_lo) else top - lo, pl.lit(0)) * (rate if bonus is None else rate + bonus)
        total = part if total is None else total + part
    if total is None:
        total = pl.lit(0, dtype=pl.Int64)
    value = total if raw else (total + RATIO_SCALE // 2) // RATIO_SCALE
    if segments[-1][0] is None:
        return value   # every row's date has a scale
    covered = None
    for cond, _ in segments:
        covered = cond if covered is None else covered | cond
    return pl.when(covered).then(value).otherwise(None)


INT64 = (-(2 ** 63), 2 ** 63 - 1)   # the range of the Int64 columns amounts are computed in


def bounds(expr: E, chains: dict[int, Chain], int_inputs: dict[str, int]) -> tuple[int, int] | None:
    """The lowest and highest value the compiled `expr` can give on any row, with every
    intermediate result inside Int64 (so no step can wrap around) — or None where that is not
    known: not an amount, a parameter that is not an integer, an integer input not in
    `int_inputs` (input name → the largest value a row may hold, checked on the roster).

    Taken over every value each parameter has in any period of the chains, so it holds for any
    dates. `run_batch` skips the check for negative amounts of a rule whose lowest value is ≥ 0."""
    lo64, hi64 = INT64
    memo: dict[int, tuple | None] = {}

    def fit(lo, hi):
        return (lo, hi) if lo64 <= lo and hi <= hi64 else None

    def values(name):
        return [v.value for chain in chains.values() for _, _, v in chain.timeline(name) if v is not None]

    def b(e):
        key = id(e)
        if key not in memo:
            memo[key] = b_(e)
        return memo[key]

    def corners(x, y, op):
        out = [op(p, q) for p in x for q in y]
        return fit(min(out), max(out))

    def tiers(scale: P, base, bonus) -> int | None:
        """The highest raw (millionths) tiered sum of a base within `base`, rates plus `bonus`;
        None where a rate (plus the lowest bonus) may be negative or a step leaves Int64."""
        top = 0
        for sc in values(scale.name):
            total = 0
            for t_lo, t_hi, rate in sc:
                # the part of the base in the tier: min(base, to) − from, then at least 0
                part = fit(*((base[i] if t_hi is None else min(base[i], t_hi)) - t_lo for i in (0, 1)))
                if rate + bonus[0] < 0 or part is None or fit(0, rate + bonus[1]) is None:
                    return None
                total += max(part[1], 0) * (rate + bonus[1])
                if fit(0, total) is None:
                    return None
            top = max(top, total)
        return top

    def b_(e):
        if isinstance(e, Named):
            return b(e.expr)
        if isinstance(e, Const):
            v = e.value
            return fit(v, v) if isinstance(v, int) and not isinstance(v, bool) else None
        if isinstance(e, Var):
            return (0, int_inputs[e.name]) if e.name in int_inputs else None
        if isinstance(e, P):
            vs = values(e.name)
            if not vs or any(isinstance(v, bool) or not isinstance(v, int) for v in vs):
                return None
            return fit(min(vs), max(vs))
        if isinstance(e, If):
            x, y = b(e.then), b(e.other)
            return None if x is None or y is None else (min(x[0], y[0]), max(x[1], y[1]))
        if isinstance(e, (Op, Min, Max)):
            if isinstance(e, Op) and e.op not in ("+", "-", "*", "//"):
                return None   # a comparison or a condition: not an amount
            x, y = b(e.a), b(e.b)
            if x is None or y is None:
                return None
            if isinstance(e, (Min, Max)):
                # compiled as x ∓ clip(x − y) where an operand may be null: x − y must fit too
                if fit(x[0] - y[1], x[1] - y[0]) is None or fit(y[0] - x[1], y[1] - x[0]) is None:
                    return None
                pick = min if isinstance(e, Min) else max
                return pick(x[0], y[0]), pick(x[1], y[1])
            if e.op == "+":
                return fit(x[0] + y[0], x[1] + y[1])
            if e.op == "-":
                return fit(x[0] - y[1], x[1] - y[0])
            if e.op == "*":
                return corners(x, y, lambda p, q: p * q)
            if y[0] <= 0:
                return None   # a division by zero (null) or by a negative number
            return corners(x, y, lambda p, q: p // q)
        if isinstance(e, Ratio):
            x, r = b(e.amount), b(e.ratio)
            if x is None or r is None or x[1] < 0:
                return None
            # a negative amount gives null (refused as one case): only amounts ≥ 0 are multiplied
            raw = corners((max(x[0], 0), x[1]), r, lambda p, q: p * q + RATIO_SCALE // 2)
            return None if raw is None else (raw[0] // RATIO_SCALE, raw[1] // RATIO_SCALE)
        if isinstance(e, Tiered):
            x = b(e.base)
            top = None if x is None else tiers(e.scale, x, (0, 0))
            return None if top is None or fit(0, top + RATIO_SCALE // 2) is None else (0, (top + RATIO_SCALE // 2) // RATIO_SCALE)
        if isinstance(e, TieredDelta):
            hi, lo, bonus = b(e.hi), b(e.lo), b(e.bonus)
            if hi is None or lo is None or bonus is None:
                return None
            # rates plus bonus ≥ 0: the sum grows with the base, so hi ≥ lo (else null) gives ≥ 0
            top, bottom = tiers(e.scale, hi, bonus), tiers(e.scale, lo, bonus)
            if top is None or bottom is None or fit(-bottom, top + RATIO_SCALE // 2) is None:
                return None
            return 0, (top + RATIO_SCALE // 2) // RATIO_SCALE
        return None
    return b(expr)
