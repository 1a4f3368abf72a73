"""Rules as small expression trees over integer fen, written once and run two ways:

- `evaluate(rule, case, chain)`: one case in plain Python, with a trace (explanation) — `interpret`;
- `compile_polars(rule, ...)`: a Polars expression over a whole roster — `polars_compiler`.

`tree` holds the nodes rules are written with; `check` what a tree needs (inputs, parameters,
named steps) and whether parameters are in force over a range of dates.

Only integer arithmetic is used: money in fen, ratios in millionths, rounding half up to the
fen where a ratio is applied; nulls propagate the same way in both modes. So both modes agree
exactly, by construction and by test (tests/test_policy_properties.py).
"""
from .check import gaps, named_steps, parameters, variables
from .interpret import apply_op, evaluate, ratio_round, show, tiered, tiered_raw
from .polars_compiler import compile_polars, specialize
from .tree import (E, Const, If, In, Max, Min, Named, Not, Op, P, Ratio, Rule, Tiered, TieredDelta, Trace, Var,
                   children, lift)

_show = show          # older name, still imported by the CLI and the support rules
_apply = apply_op
_children = children

__all__ = ["E", "Const", "If", "In", "Max", "Min", "Named", "Not", "Op", "P", "Ratio", "Rule", "Tiered",
           "TieredDelta", "Trace", "Var", "apply_op", "children", "compile_polars", "evaluate", "gaps", "lift",
           "named_steps", "parameters", "ratio_round", "show", "specialize", "tiered", "tiered_raw", "variables"]
