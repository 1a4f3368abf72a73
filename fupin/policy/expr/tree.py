"""The expression tree rules are written in (the "parser" of the rule language: rules are Python
expressions over these nodes, e.g. `If(stage.eq("primary"), P("a.b") // 2, 0)`).

Rules are small expression trees over integer fen, written once and run two ways (see the
package docstring). This module only builds and walks trees; it computes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

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


class Trace:
    """What one evaluation used: parameters, inputs, branches taken. A plain class with slots: the
    interpreter makes one per node of a case (a dataclass's __init__ was a tenth of a settlement)."""

    __slots__ = ("params", "inputs", "branches")

    def __init__(self, params: dict | None = None, inputs: dict | None = None, branches: list | None = None):
        self.params = {} if params is None else params
        self.inputs = {} if inputs is None else inputs
        self.branches = [] if branches is None else branches

    def __eq__(self, other):
        return isinstance(other, Trace) and (self.params, self.inputs, self.branches) == (
            other.params, other.inputs, other.branches)

    def __repr__(self):
        return f"Trace(params={self.params!r}, inputs={self.inputs!r}, branches={self.branches!r})"



def children(expr: E):
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


