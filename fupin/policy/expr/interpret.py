"""The interpreter: one case in plain Python, with a trace (the explanation).

Integer arithmetic only: money in fen, ratios in millionths, rounding half up to the fen where
a ratio is applied. Nulls (None) propagate: any operation with a null operand is null, as in
the Polars compilation (`polars_compiler`), so both modes agree on every row.
"""
from __future__ import annotations

import datetime as dt

from ..errors import PolicyError
from ..packs import RATIO_SCALE, Chain
from .tree import E, Const, children, If, In, Max, Min, Named, Not, Op, P, Ratio, Tiered, TieredDelta, Trace, Var

def ratio_round(amount: int | None, ratio: int | None) -> int | None:
    if amount is None or ratio is None:
        return None
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


def tiered(base: int | None, scale) -> int | None:
    if base is None or scale is None:
        return None
    return (tiered_raw(base, scale) + RATIO_SCALE // 2) // RATIO_SCALE


def evaluate(expr: E, case: dict, chain: Chain, date: dt.date, trace: Trace | None = None,
             memo: dict | None = None, shared: frozenset | None = None):
    """Evaluate for one case. `memo` (by node identity) lets rules share sub-expressions: pass
    the same dict to evaluate several rules of one case and each node is computed once. A memo
    hit also brings the parameters, inputs and branches its sub-expression used, so each rule's
    explanation is complete. `shared` (`shared_nodes` of the rules evaluated with this memo) names
    the only nodes worth remembering: a node reached from one place is computed once anyway, so it
    writes straight into its parent's trace, with no trace or memo entry of its own."""
    memo = {} if memo is None else memo
    stack = [trace] if trace is not None else None
    noted = getattr(chain, "noted", None)   # a Chain keeps its looked-up parameters; a stand-in may not
    noted = {} if noted is None else noted

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
            if frag.params:
                top.params.update(frag.params)
            if frag.inputs:
                top.inputs.update(frag.inputs)
            if frag.branches:
                top.branches.extend(frag.branches)

    def ev(e):
        key = id(e)
        if shared is not None and key not in shared:
            return ev_(e)
        hit = memo.get(key)
        if hit is not None:
            value, frag = hit
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
        # by exact type (no node type is subclassed), the most frequent first: a claim's rules
        # evaluate about 220 nodes, a quarter of them operators
        t = type(e)
        if t is Op:
            return apply_op(e.op, ev(e.a), ev(e.b))
        if t is Var:
            value = case[e.name]
            note("inputs", e.name, value.isoformat() if isinstance(value, dt.date) else value)
            return value
        if t is P:
            hit = noted.get((e.name, date))
            if hit is None:   # each parameter of a chain is looked up and described once per date
                v = chain.lookup(e.name, date)
                hit = noted[e.name, date] = (v.value, {
                    "value": show(chain.unit(e.name), v.value), "from": v.start.isoformat(),
                    "until": v.end.isoformat() if v.end else None, "source": v.source, "pack": v.pack})
            if stack is not None:
                note("params", e.name, dict(hit[1]))
            return hit[0]
        if t is Const:
            return e.value
        if t is Named:
            return ev(e.expr)
        if t is If:
            cond = ev(e.cond)
            if cond is None:
                return None   # a null condition chooses no branch: the result is null
            taken = bool(cond)
            if e.label:
                note("branch", None, f"{e.label}：{'是' if taken else '否'}")
            return ev(e.then) if taken else ev(e.other)
        if t is In:
            a, values = ev(e.a), ev(e.values)
            return None if a is None or values is None else a in values
        if t is Max or t is Min:
            a, b = ev(e.a), ev(e.b)
            if a is None or b is None:
                return None
            return min(a, b) if t is Min else max(a, b)
        if t is Ratio:
            return ratio_round(ev(e.amount), ev(e.ratio))
        if t is Not:
            a = ev(e.a)
            return None if a is None else not a
        if t is Tiered:
            return tiered(ev(e.base), ev(e.scale))
        if t is TieredDelta:
            hi, lo, scale, bonus = ev(e.hi), ev(e.lo), ev(e.scale), ev(e.bonus)
            if hi is None or lo is None or scale is None or bonus is None:
                return None
            if hi < lo:
                raise PolicyError("分档增量的上限小于下限")
            return (tiered_raw(hi, scale, bonus) - tiered_raw(lo, scale, bonus) + RATIO_SCALE // 2) // RATIO_SCALE
        raise TypeError(e)

    try:
        value = ev(expr)
    finally:
        # ev and ev_ call each other through their closures: a reference cycle that kept each call's
        # memo, traces and case alive until the cyclic garbage collector found them (most of the
        # collector's work on a claim at the window). Emptied here, all of it is freed on return.
        ev = ev_ = None  # noqa: F841
    if trace is not None:  # a fragment merged twice lists its branches twice: keep the first
        seen, branches = set(), []
        for b in trace.branches:
            if b not in seen:
                seen.add(b)
                branches.append(b)
        trace.branches[:] = branches
    return value


def shared_nodes(roots) -> frozenset:
    """Identities of the nodes reached from more than one place in `roots` (a rule's formula counts
    as one place): the sub-expressions several rules or branches share, for `evaluate`'s memo."""
    seen, shared = set(), set()
    stack = list(roots)
    while stack:
        e = stack.pop()
        if id(e) in seen:
            shared.add(id(e))
            continue
        seen.add(id(e))
        stack.extend(children(e))
    return frozenset(shared)


def apply_op(op, a, b):
    """One binary operation; null if either operand is null (also for and/or: no Kleene logic)."""
    if a is None or b is None:
        return None
    if op == "+": return a + b
    if op == "-": return a - b
    if op == "*": return a * b
    if op == "//":
        if b == 0:
            raise PolicyError("规则中出现除以零（请检查政策包参数是否为0）")
        return a // b
    if op == ">=": return a >= b
    if op == ">": return a > b
    if op == "<=": return a <= b
    if op == "<": return a < b
    if op == "==": return a == b
    if op == "and": return bool(a) and bool(b)
    if op == "or": return bool(a) or bool(b)
    raise ValueError(op)


def show(unit, value):
    """A parameter's value as people read it (yuan, a ratio as a decimal, tiers)."""
    if unit == "yuan":
        from ..money import yuan
        return yuan(value)
    if unit == "ratio":
        from decimal import Decimal
        return str((Decimal(value) / RATIO_SCALE).normalize())
    if unit == "scale":
        return [{"from": show("yuan", lo), "to": None if hi is None else show("yuan", hi),
                 "rate": show("ratio", r)} for lo, hi, r in value]
    if isinstance(value, tuple):
        return list(value)
    return value  # text, bool, count, map


