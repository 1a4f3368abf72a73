"""Checking a tree and what it needs: its inputs, its parameters, its named steps, and whether
every parameter has a value in force on every date of a range (the same strict rule in both
modes: a case on a date where a parameter has no value is refused, and so is a roster row)."""
from __future__ import annotations

import datetime as dt

from ..packs import Chain
from .tree import E, Named, P, Var, children

def _walk(expr: E, seen: set):
    """Every node once (rules share sub-expressions, so the tree is a DAG)."""
    if id(expr) in seen:
        return
    seen.add(id(expr))
    yield expr
    for child in children(expr):
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



def named_steps(exprs: list[E]) -> list[Named]:
    """Every Named node, each after the Named nodes it uses (post-order over the DAG)."""
    order, seen = [], set()

    def visit(e):
        if id(e) in seen:
            return
        seen.add(id(e))
        for child in children(e):
            visit(child)
        if isinstance(e, Named):
            order.append(e)
    for e in exprs:
        visit(e)
    return order




def gaps(chain: Chain, name: str, lo: dt.date, hi: dt.date) -> list[tuple[dt.date, dt.date | None]]:
    """The periods [start, end) within [lo, hi] (both inclusive) in which the parameter has no
    value in force for this chain — every period, not only the first and last date. A
    parameter no pack of the chain defines has one gap: the whole range."""
    out = []
    for start, end, value in chain.timeline(name) or [(dt.date.min, None, None)]:
        if value is None and start <= hi and (end is None or end > lo):
            out.append((start, end))
    return out


def check_parameters(names, chain: Chain, date: dt.date) -> None:
    """Every parameter in force on `date` (raises the interpreter's message, in name order)."""
    for name in sorted(names):
        chain.lookup(name, date)
