"""Running a model (a set of rules) on one case or on a roster, with the same results."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from .errors import PolicyError
from .money import yuan
from .expr import Rule, Trace, Var, compile_polars, evaluate, named_steps, parameters, specialize, variables
from .packs import Chain, PackSet


@dataclass
class Model:
    name: str
    rules: list[Rule]
    region: Var          # which pack applies to a case (by the longest region prefix)
    extra: tuple = ()    # inputs that are required even if no rule of this pack reads them

    @cached_property
    def inputs(self) -> dict[str, Var]:
        acc = {self.region.name: self.region}
        for v in self.extra:
            acc[v.name] = v
        seen: set = set()
        for r in self.rules:
            variables(r.formula, acc, seen)
            acc[r.date.name] = r.date
        return acc

    @cached_property
    def parameter_names(self) -> set[str]:
        names: set = set()
        seen: set = set()
        for r in self.rules:
            parameters(r.formula, names, seen)
        return names


@dataclass
class ItemResult:
    rule: str
    label: str
    amount: int          # fen
    explanation: dict


def _check_value(var: Var, value, where: str):
    if value is None:
        raise PolicyError(f"{where}缺少输入“{var.label}”（{var.name}）")
    if var.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PolicyError(f"{where}输入“{var.label}”（{var.name}）应为不小于0的整数（分），实际为 {value!r}")
    elif var.kind == "bool":
        if not isinstance(value, bool):
            raise PolicyError(f"{where}输入“{var.label}”（{var.name}）应为 true 或 false，实际为 {value!r}")
    elif var.kind == "date":
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise PolicyError(f"{where}输入“{var.label}”（{var.name}）应为日期 YYYY-MM-DD，实际为 {value!r}") from None
        if not isinstance(value, dt.date):
            raise PolicyError(f"{where}输入“{var.label}”（{var.name}）应为日期，实际为 {value!r}")
    elif var.kind == "str":
        if not isinstance(value, str):
            raise PolicyError(f"{where}输入“{var.label}”（{var.name}）应为文字，实际为 {value!r}")
        if var.choices and value not in var.choices:
            raise PolicyError(f"{where}输入“{var.label}”（{var.name}）的值 {value!r} 不在可选值 {', '.join(var.choices)} 中")
    return value


def validate_case(model: Model, case: dict, row: int | None = None) -> dict:
    where = f"第{row}条：" if row is not None else ""
    if not isinstance(case, dict):
        raise PolicyError(f"{where}应为一个对象（JSON 对象）")
    unknown = set(case) - set(model.inputs) - {"id", "name"}
    if unknown:
        raise PolicyError(f"{where}有未知的输入字段 {', '.join(sorted(unknown))}")
    return {name: _check_value(var, case.get(name), where) for name, var in model.inputs.items()}


def _check_parameters(model: Model, chain: Chain, date: dt.date) -> None:
    # Strict, the same in both modes: every parameter the model uses must be in force.
    for name in sorted(model.parameter_names):
        chain.lookup(name, date)


def run_case(model: Model, case: dict, packs: PackSet | Chain, *, row: int | None = None) -> list[ItemResult]:
    values = validate_case(model, case, row)
    chain = packs if isinstance(packs, Chain) else packs.for_region(values[model.region.name])
    checked = set()
    results = []
    memo: dict = {}  # rules of one case share sub-expressions (e.g. settlement steps)
    for rule in model.rules:
        date = values[rule.date.name]
        if date not in checked:
            _check_parameters(model, chain, date)
            checked.add(date)
        trace = Trace()
        amount = evaluate(rule.formula, values, chain, date, trace, memo if rule.date.name == model.rules[0].date.name else None)
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise PolicyError(f"规则 {rule.name} 得出无效金额 {amount!r}")
        results.append(ItemResult(rule.name, rule.label, amount, {
            "rule": rule.name, "label": rule.label, "description": rule.description,
            "amount": yuan(amount), "pack": chain.key,
            "date": date.isoformat(), "parameters": trace.params, "inputs": trace.inputs,
            "branches": trace.branches}))
    return results


def _first_bad_row(df, condition) -> int:
    return df.select(condition.arg_max().alias("i")).row(0)[0] + 1 if condition is not None else 0


def _frame_checks(model: Model, schema=None):
    import polars as pl

    checks = []
    for name, var in model.inputs.items():
        checks.append(pl.col(name).is_null().any().alias(f"null:{name}"))
        dtype = schema.get(name) if schema is not None else None
        if var.choices and isinstance(dtype, pl.Enum) and set(dtype.categories.to_list()) <= set(var.choices):
            continue  # an Enum column can only hold its categories: the check is the dtype itself
        if var.choices:
            checks.append((~pl.col(name).is_in(list(var.choices))).any().alias(f"choice:{name}"))
        if var.kind == "int":
            checks.append((pl.col(name) < 0).any().alias(f"neg:{name}"))
    return checks


def _validate_frame(model: Model, df, flags: dict | None = None) -> None:
    """No missing column, no null, no value outside its choices. `flags` may come from
    `_frame_checks` evaluated together with the rules (one parallel pass over the roster)."""
    import polars as pl

    inputs = model.inputs
    for name, var in inputs.items():
        if name not in df.columns:
            raise PolicyError(f"名册缺少列“{var.label}”（{name}）")
    if flags is None:
        flags = df.select(_frame_checks(model)).row(0, named=True)
    for key, bad in flags.items():
        if not bad:
            continue
        kind, name = key.split(":", 1)
        var = inputs[name]
        if kind == "null":
            raise PolicyError(f"名册第{_first_bad_row(df, pl.col(name).is_null())}行缺少输入“{var.label}”（{name}）")
        if kind == "choice":
            i = _first_bad_row(df, ~pl.col(name).is_in(list(var.choices)))
            raise PolicyError(f"名册第{i}行输入“{var.label}”（{name}）的值 {df[name][i - 1]!r} 不在可选值中")
        raise PolicyError(f"名册第{_first_bad_row(df, pl.col(name) < 0)}行输入“{var.label}”（{name}）不能为负")


def run_batch(model: Model, df, packs: PackSet | Chain):
    """Evaluate every rule over a Polars DataFrame; adds one Int64 column (fen) per rule."""
    import polars as pl

    n = df.height
    for name, var in model.inputs.items():
        if name not in df.columns:
            raise PolicyError(f"名册缺少列“{var.label}”（{name}）")
    region = model.region.name
    if isinstance(packs, Chain):
        chains = {0: packs}
        frame = df.with_columns(pl.lit(0, dtype=pl.Int32).alias("_chain"))
    else:
        by_key: dict[str, int] = {}
        chains, mapping = {}, {}
        for code in df[region].unique().to_list():
            chain = packs.for_region(code)
            k = by_key.setdefault(chain.key, len(by_key))
            chains[k] = chain
            mapping[code] = k
        frame = df.with_columns(pl.col(region).replace_strict(mapping, return_dtype=pl.Int32).alias("_chain"))
    nulls = df.select([pl.col(c).null_count().alias(c) for c in {region, *(r.date.name for r in model.rules)}]).row(0, named=True)
    if any(nulls.values()):
        _validate_frame(model, df)  # names the first bad row
    # every parameter must be in force on every row's date (strict, as in single mode)
    spans: dict[str, dict] = {}
    for date_col in sorted({r.date.name for r in model.rules}):
        rows = frame.group_by("_chain").agg(pl.col(date_col).min().alias("lo"), pl.col(date_col).max().alias("hi"))
        spans[date_col] = {k: (lo, hi) for k, lo, hi in rows.iter_rows()}
        for k, (lo, hi) in spans[date_col].items():
            _check_parameters(model, chains[k], lo)
            _check_parameters(model, chains[k], hi)
    formulas = [r.formula for r in model.rules]
    if len(chains) == 1:
        (k, chain), = chains.items()
        formulas = [specialize(f, chain, spans[r.date.name][k]) if k in spans[r.date.name] else f
                    for f, r in zip(formulas, model.rules)]
    # Named steps (intermediate results several rules use) become columns, each computed once
    lazy, columns = frame.lazy(), {}
    date_of = {id(f): r.date.name for f, r in zip(formulas, model.rules)}
    first_date = model.rules[0].date.name
    for step in named_steps(formulas):
        col = f"_step:{step.name}"
        lazy = lazy.with_columns(compile_polars(step.expr, chains, first_date, spans[first_date], columns,
                                                specialized=True).alias(col))
        columns[step.name] = col
    exprs = [compile_polars(f, chains, date_of[id(f)], spans[date_of[id(f)]], columns, specialized=True)
             .cast(pl.Int64).alias(r.name) for f, r in zip(formulas, model.rules)]
    # lazy, so that Polars evaluates parameter look-ups shared by several rules only once;
    # the input checks run in the same parallel collect, and are reported before any result is used
    out, flags = pl.collect_all([lazy.with_columns(exprs).drop(list(columns.values())),
                                 df.lazy().select(_frame_checks(model, df.schema))])
    _validate_frame(model, df, flags.row(0, named=True))
    if out.height != n:
        raise PolicyError(f"批量计算的行数 {out.height} 与输入 {n} 不一致")
    nulls = out.select([pl.col(r.name).null_count() for r in model.rules]).row(0)
    for r, count in zip(model.rules, nulls):
        if count:
            i = _first_bad_row(out, pl.col(r.name).is_null())
            raise PolicyError(f"第{i}行的规则 {r.name} 没有得出金额（参数未生效）")
    return out.drop("_chain")
