"""Rules as small expression trees over integer fen, written once and run two ways:

- `evaluate(rule, case, chain)`: one case in plain Python, with a trace (explanation);
- `compile_polars(rule, ...)`: a Polars expression over a whole roster.

Only integer arithmetic is used: money in fen, ratios in millionths, rounding half up to
the fen where a ratio is applied. So both modes agree exactly, by construction and by test.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .errors import PolicyError
from .packs import RATIO_SCALE, Chain


class E:
    def __post_init__(self):
        # Let rules write plain numbers and lists: If(cond, fee, 0)
        for name in getattr(self, "__dataclass_fields__", {}):
            value = getattr(self, name)
            if name in ("a", "b", "then", "other", "amount", "ratio", "base", "values", "cond", "hi", "lo", "bonus") \
                    and not isinstance(value, E):
                object.__setattr__(self, name, lift(value))

    def __add__(self, o): return Op("+", self, lift(o))
    def __radd__(self, o): return Op("+", lift(o), self)
    def __sub__(self, o): return Op("-", self, lift(o))
    def __mul__(self, o): return Op("*", self, lift(o))
    def __rmul__(self, o): return Op("*", lift(o), self)
    def __floordiv__(self, o): return Op("//", self, lift(o))
    def __ge__(self, o): return Op(">=", self, lift(o))
    def __gt__(self, o): return Op(">", self, lift(o))
    def __le__(self, o): return Op("<=", self, lift(o))
    def __lt__(self, o): return Op("<", self, lift(o))
    def __and__(self, o): return Op("and", self, lift(o))
    def __or__(self, o): return Op("or", self, lift(o))
    def __invert__(self): return Not(self)
    def eq(self, o): return Op("==", self, lift(o))
    def isin(self, values): return In(self, lift(values))


@dataclass(frozen=True, eq=False)
class Var(E):
    """An input of the case, e.g. the student's stage. `kind`: int, bool, str or date."""
    name: str
    kind: str
    label: str
    choices: tuple = ()


@dataclass(frozen=True, eq=False)
class Const(E):
    value: object


@dataclass(frozen=True, eq=False)
class P(E):
    """A parameter, resolved for the case's pack chain on the rule's reference date."""
    name: str


@dataclass(frozen=True, eq=False)
class Op(E):
    op: str
    a: E
    b: E


@dataclass(frozen=True, eq=False)
class Not(E):
    a: E


@dataclass(frozen=True, eq=False)
class In(E):
    a: E
    values: E


@dataclass(frozen=True, eq=False)
class If(E):
    cond: E
    then: E
    other: E
    label: str = ""   # the branch's plain-language name, shown in explanations


@dataclass(frozen=True, eq=False)
class Min(E):
    a: E
    b: E


@dataclass(frozen=True, eq=False)
class Max(E):
    a: E
    b: E


@dataclass(frozen=True, eq=False)
class Ratio(E):
    """amount × ratio, rounded half up to the fen (amount ≥ 0)."""
    amount: E
    ratio: E


@dataclass(frozen=True, eq=False)
class Tiered(E):
    """Tiered scale: Σ over tiers of (part of base inside the tier) × rate, rounded half up."""
    base: E
    scale: P


@dataclass(frozen=True, eq=False)
class TieredDelta(E):
    """The increase of a tiered amount from `lo` to `hi` (each tier's rate plus `bonus`),
    rounded half up once: how a yearly cumulative scale pays for one more claim."""
    hi: E
    lo: E
    scale: P
    bonus: E


@dataclass(frozen=True, eq=False)
class Named(E):
    """An intermediate step with a name (e.g. the basic-insurance payment that later steps use).
    One case: computed once per case (memo). A roster: computed once as a column."""
    name: str
    expr: E


def lift(x) -> E:
    if isinstance(x, E):
        return x
    if isinstance(x, (list, tuple)):
        return Const(tuple(x))
    return Const(x)


@dataclass
class Rule:
    name: str          # machine name, e.g. education.boarding_living
    label: str         # Chinese name shown on screens and lists
    formula: E         # amount in fen
    date: Var          # the date on which parameters are read (per row in batch)
    description: str = ""


@dataclass
class Trace:
    params: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)
    branches: list = field(default_factory=list)


def _walk(expr: E, seen: set):
    """Every node once (rules share sub-expressions, so the tree is a DAG)."""
    if id(expr) in seen:
        return
    seen.add(id(expr))
    yield expr
    for child in _children(expr):
        yield from _walk(child, seen)


def variables(expr: E, acc: dict | None = None, seen: set | None = None) -> dict[str, Var]:
    acc = {} if acc is None else acc
    for node in _walk(expr, set() if seen is None else seen):
        if isinstance(node, Var):
            acc[node.name] = node
    return acc


def parameters(expr: E, acc: set | None = None, seen: set | None = None) -> set[str]:
    acc = set() if acc is None else acc
    for node in _walk(expr, set() if seen is None else seen):
        if isinstance(node, P):
            acc.add(node.name)
    return acc


def _children(expr: E):
    if isinstance(expr, Op):
        return (expr.a, expr.b)
    if isinstance(expr, (Not,)):
        return (expr.a,)
    if isinstance(expr, In):
        return (expr.a, expr.values)
    if isinstance(expr, If):
        return (expr.cond, expr.then, expr.other)
    if isinstance(expr, (Min, Max)):
        return (expr.a, expr.b)
    if isinstance(expr, Ratio):
        return (expr.amount, expr.ratio)
    if isinstance(expr, Tiered):
        return (expr.base, expr.scale)
    if isinstance(expr, TieredDelta):
        return (expr.hi, expr.lo, expr.scale, expr.bonus)
    if isinstance(expr, Named):
        return (expr.expr,)
    return ()


# ---- one case ---------------------------------------------------------------------------------

def ratio_round(amount: int, ratio: int) -> int:
    if amount < 0:
        raise PolicyError(f"按比例计算的金额不能为负（{amount} 分）")
    return (amount * ratio + RATIO_SCALE // 2) // RATIO_SCALE


def tiered_raw(base: int, scale, bonus: int = 0) -> int:
    """Σ part × (rate + bonus), in fen × millionths (not rounded)."""
    total = 0
    for lo, hi, rate in scale:
        part = max(0, (base if hi is None else min(base, hi)) - lo)
        total += part * (rate + bonus)
    return total


def tiered(base: int, scale) -> int:
    return (tiered_raw(base, scale) + RATIO_SCALE // 2) // RATIO_SCALE


def evaluate(expr: E, case: dict, chain: Chain, date: dt.date, trace: Trace | None = None,
             memo: dict | None = None):
    """Evaluate for one case. `memo` (by node identity) lets rules share sub-expressions: pass
    the same dict to evaluate several rules of one case and each node is computed once. A memo
    hit also brings the parameters, inputs and branches its sub-expression used, so each rule's
    explanation is complete."""
    memo = {} if memo is None else memo
    stack = [trace] if trace is not None else None

    def note(kind, key, value):
        if stack is not None:
            top = stack[-1]
            if kind == "branch":
                top.branches.append(value)
            else:
                getattr(top, kind)[key] = value

    def merge(frag):
        if stack is not None and frag is not None:
            top = stack[-1]
            top.params.update(frag.params)
            top.inputs.update(frag.inputs)
            top.branches.extend(frag.branches)

    def ev(e):
        key = id(e)
        if key in memo:
            value, frag = memo[key]
            merge(frag)
            return value
        if isinstance(e, (Const, Var, P)):
            return ev_(e)
        if stack is not None:
            stack.append(Trace())
        value = ev_(e)
        frag = stack.pop() if stack is not None else None
        memo[key] = (value, frag)
        merge(frag)
        return value

    def ev_(e):
        if isinstance(e, Const):
            return e.value
        if isinstance(e, Var):
            value = case[e.name]
            note("inputs", e.name, value.isoformat() if isinstance(value, dt.date) else value)
            return value
        if isinstance(e, P):
            v = chain.lookup(e.name, date)
            if stack is not None:
                note("params", e.name, {"value": _show(chain.unit(e.name), v.value), "from": v.start.isoformat(),
                                        "until": v.end.isoformat() if v.end else None,
                                        "source": v.source, "pack": v.pack})
            return v.value
        if isinstance(e, Op):
            a, b = ev(e.a), ev(e.b)
            return _apply(e.op, a, b)
        if isinstance(e, Not):
            return not ev(e.a)
        if isinstance(e, In):
            return ev(e.a) in ev(e.values)
        if isinstance(e, If):
            taken = bool(ev(e.cond))
            if e.label:
                note("branch", None, f"{e.label}：{'是' if taken else '否'}")
            return ev(e.then) if taken else ev(e.other)
        if isinstance(e, Min):
            return min(ev(e.a), ev(e.b))
        if isinstance(e, Max):
            return max(ev(e.a), ev(e.b))
        if isinstance(e, Ratio):
            return ratio_round(ev(e.amount), ev(e.ratio))
        if isinstance(e, Tiered):
            return tiered(ev(e.base), ev(e.scale))
        if isinstance(e, TieredDelta):
            hi, lo, scale, bonus = ev(e.hi), ev(e.lo), ev(e.scale), ev(e.bonus)
            if hi < lo:
                raise PolicyError("分档增量的上限小于下限")
            return (tiered_raw(hi, scale, bonus) - tiered_raw(lo, scale, bonus) + RATIO_SCALE // 2) // RATIO_SCALE
        if isinstance(e, Named):
            return ev(e.expr)
        raise TypeError(e)

    value = ev(expr)
    if trace is not None:  # a fragment merged twice lists its branches twice: keep the first
        seen, branches = set(), []
        for b in trace.branches:
            if b not in seen:
                seen.add(b)
                branches.append(b)
        trace.branches[:] = branches
    return value


def _apply(op, a, b):
    if op == "+": return a + b
    if op == "-": return a - b
    if op == "*": return a * b
    if op == "//": return a // b
    if op == ">=": return a >= b
    if op == ">": return a > b
    if op == "<=": return a <= b
    if op == "<": return a < b
    if op == "==": return a == b
    if op == "and": return bool(a) and bool(b)
    if op == "or": return bool(a) or bool(b)
    raise ValueError(op)


def _show(unit, value):
    if unit == "yuan":
        from .money import yuan
        return yuan(value)
    if unit == "ratio":
        from decimal import Decimal
        return str((Decimal(value) / RATIO_SCALE).normalize())
    if unit == "scale":
        return [{"from": _show("yuan", lo), "to": None if hi is None else _show("yuan", hi),
                 "rate": _show("ratio", r)} for lo, hi, r in value]
    if isinstance(value, tuple):
        return list(value)
    return value  # text, bool, count, map


# ---- a roster (Polars) --------------------------------------------------------------------------

def specialize(expr: E, chain: Chain, span: tuple) -> E:
    """Fold what is constant over a roster that uses one pack chain and dates within `span`:
    a parameter with one value over the span becomes a constant, operations on constants are
    computed, and branches with a constant condition are chosen. Same results, simpler plan."""
    lo, hi = span
    cache: dict[str, E] = {}
    done: dict[int, E] = {}  # shared sub-expressions are specialised once and stay shared

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
            if isinstance(a, Const) and isinstance(b, Const):
                return Const(_apply(e.op, a.value, b.value))
            if e.op == "and" and (isinstance(a, Const) or isinstance(b, Const)):
                k, other = (a, b) if isinstance(a, Const) else (b, a)
                return other if k.value else Const(False)
            if e.op == "or" and (isinstance(a, Const) or isinstance(b, Const)):
                k, other = (a, b) if isinstance(a, Const) else (b, a)
                return Const(True) if k.value else other
            return Op(e.op, a, b)
        if isinstance(e, Not):
            a = f(e.a)
            return Const(not a.value) if isinstance(a, Const) else Not(a)
        if isinstance(e, In):
            a, v = f(e.a), f(e.values)
            return Const(a.value in v.value) if isinstance(a, Const) and isinstance(v, Const) else In(a, v)
        if isinstance(e, If):
            cond = f(e.cond)
            if isinstance(cond, Const):
                return f(e.then) if cond.value else f(e.other)
            then, other = f(e.then), f(e.other)
            if isinstance(then, Const) and isinstance(other, Const) and then.value == other.value:
                return then   # both branches give the same amount: the condition does not matter
            return If(cond, then, other, e.label)
        if isinstance(e, (Min, Max)):
            a, b = f(e.a), f(e.b)
            if isinstance(a, Const) and isinstance(b, Const):
                return Const((min if isinstance(e, Min) else max)(a.value, b.value))
            return type(e)(a, b)
        if isinstance(e, Ratio):
            a, r = f(e.amount), f(e.ratio)
            if isinstance(a, Const) and isinstance(r, Const):
                return Const(ratio_round(a.value, r.value))
            return Ratio(a, r)
        if isinstance(e, Tiered):
            return Tiered(f(e.base), e.scale)
        if isinstance(e, TieredDelta):
            return TieredDelta(f(e.hi), f(e.lo), e.scale, f(e.bonus))
        return e
    return f(expr)


def named_steps(exprs: list[E]) -> list[Named]:
    """Every Named node, each after the Named nodes it uses (post-order over the DAG)."""
    order, seen = [], set()

    def visit(e):
        if id(e) in seen:
            return
        seen.add(id(e))
        for child in _children(e):
            visit(child)
        if isinstance(e, Named):
            order.append(e)
    for e in exprs:
        visit(e)
    return order


def compile_polars(expr: E, chains: dict[int, Chain], date_col: str, spans: dict | None = None,
                   columns: dict | None = None, specialized: bool = False):
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

    def param(name: str):
        if name in cache:
            return cache[name]
        unit = None
        out = None
        for k, chain in chains.items():
            unit = chain.unit(name)
        segments = list(_segments(name, chains, date_col, spans))
        if len(segments) == 1 and isinstance(segments[0][0], pl.Expr) and segments[0][0].meta.is_literal():
            cache[name] = (_pl_lit(unit, segments[0][1]), unit)
            return cache[name]
        for cond, value in segments:
            lit = _pl_lit(unit, value)
            out = pl.when(cond).then(lit) if out is None else out.when(cond).then(lit)
        if out is None:
            raise PolicyError(f"参数 {name} 在所有政策包中都没有值")
        cache[name] = (out.otherwise(None), unit)
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
                    "==": lambda: a == b, "and": lambda: a & b, "or": lambda: a | b}[e.op]()
        if isinstance(e, Not):
            return ~c(e.a)
        if isinstance(e, In):
            values = c(e.values)
            if isinstance(values, tuple) and values and values[0] == "param":
                return _param_list_membership(c(e.a), values[1], chains, date_col, spans)
            return c(e.a).is_in(list(values))
        if isinstance(e, If):
            return pl.when(c(e.cond)).then(c(e.then)).otherwise(c(e.other))
        if isinstance(e, Min):
            return pl.min_horizontal(c(e.a), c(e.b))
        if isinstance(e, Max):
            return pl.max_horizontal(c(e.a), c(e.b))
        if isinstance(e, Ratio):
            return (c(e.amount) * c(e.ratio) + RATIO_SCALE // 2) // RATIO_SCALE
        if isinstance(e, Tiered):
            return _tiered_polars(c(e.base), e.scale.name, chains, date_col, spans)
        if isinstance(e, TieredDelta):
            hi = _tiered_polars(c(e.hi), e.scale.name, chains, date_col, spans, bonus=c(e.bonus), raw=True)
            lo = _tiered_polars(c(e.lo), e.scale.name, chains, date_col, spans, bonus=c(e.bonus), raw=True)
            return (hi - lo + RATIO_SCALE // 2) // RATIO_SCALE
        raise TypeError(e)
    return c(expr)


def _pl_lit(unit, value):
    import polars as pl

    if unit in ("yuan", "ratio", "count"):
        return pl.lit(value, dtype=pl.Int64)
    if unit == "bool":
        return pl.lit(value, dtype=pl.Boolean)
    return pl.lit(value)


def _segments(name, chains, date_col, spans=None):
    """(condition, value) for every pack chain and period in which the parameter has a value."""
    import polars as pl

    single = len(chains) == 1
    for k, chain in chains.items():
        periods = [(start, end, v) for start, end, v in chain.timeline(name) if v is not None]
        if spans and k in spans:
            lo, hi = spans[k]
            periods = [(s_, e_, v) for s_, e_, v in periods if s_ <= hi and (e_ is None or e_ > lo)]
            if single and len(periods) == 1 and periods[0][0] <= lo and (periods[0][1] is None or periods[0][1] > hi):
                yield pl.lit(True), periods[0][2].value   # one value covers every row's date
                return
        for start, end, v in periods:
            cond = pl.col(date_col) >= start
            if not single:
                cond = (pl.col("_chain") == k) & cond
            if end is not None:
                cond = cond & (pl.col(date_col) < end)
            yield cond, v.value


def _param_list_membership(a, name, chains, date_col, spans=None):
    import polars as pl

    out = None
    for cond, values in _segments(name, chains, date_col, spans):
        hit = a.is_in(list(values))
        out = pl.when(cond).then(hit) if out is None else out.when(cond).then(hit)
    return out.otherwise(None)


def _tiered_polars(base, name, chains, date_col, spans=None, bonus=None, raw=False):
    """Tiers computed once: each tier's bounds and rate are per-row values chosen by period."""
    import polars as pl

    segments = list(_segments(name, chains, date_col, spans))
    if not segments:
        return pl.lit(None, dtype=pl.Int64)
    n = max(len(scale) for _, scale in segments)

    def per_row(pick):
        values = [pick(scale) for _, scale in segments]
        if all(v == values[0] for v in values):
            return None if values[0] is None else pl.lit(values[0], dtype=pl.Int64)
        out = None
        for (cond, _), v in zip(segments, values):
            lit = pl.lit(v, dtype=pl.Int64)
            out = pl.when(cond).then(lit) if out is None else out.when(cond).then(lit)
        return out.otherwise(None)

    total = pl.lit(0, dtype=pl.Int64)
    for i in range(n):
        # a scale with fewer tiers gets empty tiers (rate 0) at the top
        lo = per_row(lambda sc: sc[i][0] if i < len(sc) else sc[-1][0])
        hi = per_row(lambda sc: sc[i][1] if i < len(sc) else None)
        rate = per_row(lambda sc: sc[i][2] if i < len(sc) else 0)
        top = base if hi is None else pl.min_horizontal(base, hi)
        total = total + pl.max_horizontal(top - lo, pl.lit(0)) * (rate if bonus is None else rate + bonus)
    covered = None
    for cond, _ in segments:
        covered = cond if covered is None else covered | cond
    value = total if raw else (total + RATIO_SCALE // 2) // RATIO_SCALE
    return pl.when(covered).then(value).otherwise(None)
