"""Running a model (a set of rules) on one case or on a roster, with the same results."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .errors import PolicyError
from .expr import Rule, Trace, Var, compile_polars, evaluate, parameters, variables
from .packs import Chain, PackSet


@dataclass
class Model:
    name: str
    rules: list[Rule]
    region: Var          # which pack applies to a case (by the longest region prefix)

    @property
    def inputs(self) -> dict[str, Var]:
        acc = {self.region.name: self.region}
        for r in self.rules:
            variables(r.formula, acc)
            acc[r.date.name] = r.date
        return acc

    @property
    def parameter_names(self) -> set[str]:
        names = set()
        for r in self.rules:
            parameters(r.formula, names)
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
    results = []
    for rule in model.rules:
        date = values[rule.date.name]
        _check_parameters(model, chain, date)
        trace = Trace()
        amount = evaluate(rule.formula, values, chain, date, trace)
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise PolicyError(f"规则 {rule.name} 得出无效金额 {amount!r}")
        results.append(ItemResult(rule.name, rule.label, amount, {
            "rule": rule.name, "label": rule.label, "description": rule.description,
            "amount": f"{amount // 100}.{amount % 100:02d}", "pack": chain.key,
            "date": date.isoformat(), "parameters": trace.params, "inputs": trace.inputs,
            "branches": trace.branches}))
    return results


def run_batch(model: Model, df, packs: PackSet | Chain):
    """Evaluate every rule over a Polars DataFrame; adds one Int64 column (fen) per rule."""
    import polars as pl

    n = df.height
    for name, var in model.inputs.items():
        if name not in df.columns:
            raise PolicyError(f"名册缺少列“{var.label}”（{name}）")
        nulls = df.select(pl.col(name).is_null().arg_max().alias("i"), pl.col(name).null_count().alias("n")).row(0)
        if nulls[1]:
            raise PolicyError(f"名册第{nulls[0] + 1}行缺少输入“{var.label}”（{name}）")
        if var.choices:
            bad = df.filter(~pl.col(name).is_in(list(var.choices))).head(1)
            if bad.height:
                idx = df.with_row_index("_i").filter(~pl.col(name).is_in(list(var.choices)))["_i"][0]
                raise PolicyError(f"名册第{idx + 1}行输入“{var.label}”（{name}）的值 {bad[name][0]!r} 不在可选值中")
        if var.kind == "int":
            neg = df.with_row_index("_i").filter(pl.col(name) < 0).head(1)
            if neg.height:
                raise PolicyError(f"名册第{neg['_i'][0] + 1}行输入“{var.label}”（{name}）不能为负")
    region = model.region.name
    if isinstance(packs, Chain):
        chains = {0: packs}
        frame = df.with_columns(pl.lit(0, dtype=pl.Int32).alias("_chain"))
    else:
        codes = df[region].unique().to_list()
        by_key: dict[str, int] = {}
        chains = {}
        mapping = {}
        for code in codes:
            chain = packs.for_region(code)
            k = by_key.setdefault(chain.key, len(by_key))
            chains[k] = chain
            mapping[code] = k
        frame = df.with_columns(pl.col(region).replace_strict(mapping, return_dtype=pl.Int32).alias("_chain"))
    for rule in model.rules:
        # every parameter must be in force on every row's date (strict, as in single mode)
        dates = frame.group_by("_chain").agg(pl.col(rule.date.name).min().alias("lo"), pl.col(rule.date.name).max().alias("hi"))
        for k, lo, hi in dates.iter_rows():
            _check_parameters(model, chains[k], lo)
            _check_parameters(model, chains[k], hi)
    out = frame.with_columns([compile_polars(r.formula, chains, r.date.name).cast(pl.Int64).alias(r.name)
                              for r in model.rules])
    if out.height != n:
        raise PolicyError(f"批量计算的行数 {out.height} 与输入 {n} 不一致")
    for r in model.rules:
        if out[r.name].null_count():
            idx = out.with_row_index("_i").filter(pl.col(r.name).is_null())["_i"][0]
            raise PolicyError(f"第{idx + 1}行的规则 {r.name} 没有得出金额（参数未生效）")
    return out.drop("_chain")
