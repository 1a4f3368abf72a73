"""Running a model (a set of rules) on one case or on a roster, with the same results."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from .errors import PolicyError
from .expr import Rule, Trace, Var, compile_polars, evaluate, gaps, named_steps, parameters, specialize, variables
from .expr.check import check_parameters
from .expr.polars_compiler import bounds
from .expr.interpret import shared_nodes
from .money import max_fen, yuan
from .packs import Chain, PackSet, derived


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
    def memo_date(self) -> str | None:
        """The date input of the rules that share one memo per case: those dated like the first rule."""
        return self.rules[0].date.name if self.rules else None

    @cached_property
    def shared_nodes(self) -> frozenset:
        """Nodes shared among the rules evaluated with one memo (`memo_date`)."""
        return shared_nodes([r.formula for r in self.rules if r.date.name == self.memo_date])

    @cached_property
    def plans(self) -> dict:
        """The last few compiled plans of this model, by chains and dates, and whether its
        parameters are in force over a chain's dates (`run_batch`)."""
        return {}

    def __getstate__(self):
        # a pickled or copied model starts without kept plans (Polars expressions and packs)
        state = dict(self.__dict__)
        state.pop("plans", None)
        return state

    @cached_property
    def parameter_names(self) -> frozenset[str]:
        names: set = set()
        seen: set = set()
        for r in self.rules:
            parameters(r.formula, names, seen)
        return frozenset(names)


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
            raise PolicyError(f"{where}输入“{var.label}”（{var.name}）应为不小于0的整数（分），实际为 {_short(value)}")
        if value > max_fen():
            raise PolicyError(f"{where}输入“{var.label}”（{var.name}）超过金额上限 {yuan(max_fen(), grouping=True)} 元，"
                              f"实际为 {_short(value)} 分；请核对")
    elif var.kind == "bool":
        if not isinstance(value, bool):
            raise PolicyError(f"{where}输入“{var.label}”（{var.name}）应为 true 或 false，实际为 {_short(value)}")
    elif var.kind == "date":
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise PolicyError(f"{where}输入“{var.label}”（{var.name}）应为日期 YYYY-MM-DD，实际为 {_short(value)}") from None
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise PolicyError(f"{where}输入“{var.label}”（{var.name}）应为日期 YYYY-MM-DD，实际为 {_short(value)}")
    elif var.kind == "str":
        if not isinstance(value, str):
            raise PolicyError(f"{where}输入“{var.label}”（{var.name}）应为文字，实际为 {_short(value)}")
        if var.choices and value not in var.choices:
            raise PolicyError(f"{where}输入“{var.label}”（{var.name}）的值 {_short(value)} 不在可选值 {', '.join(var.choices)} 中")
    return value


def _short(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return "（超过39位数字）"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def validate_case(model: Model, case: dict, row: int | None = None) -> dict:
    where = f"第{row}条：" if row is not None else ""
    if not isinstance(case, dict):
        raise PolicyError(f"{where}应为一个对象（JSON 对象）")
    unknown = set(case) - set(model.inputs) - {"id", "name"}
    if unknown:
        raise PolicyError(f"{where}有未知的输入字段 {', '.join(sorted(map(str, unknown)))}")
    return {name: _check_value(var, case.get(name), where) for name, var in model.inputs.items()}


def covers(chain: Chain, code: str) -> bool:
    """Whether the chain's pack applies to the region `code` (its region is a prefix of it)."""
    return code.startswith(chain.head.region)


def _check_covers(chain: Chain, code: str, where: str = "") -> None:
    if not covers(chain, code):
        head = chain.head
        raise PolicyError(f"{where}区划 {code} 不在政策包 {head.name}（{head.title}）的适用范围内（该包适用于区划 "
                          f"{head.region or '全国'}）；请改用该区划适用的政策包，或不指定政策包、按区划自动选择")


def _check_parameters(model: Model, chain: Chain, date: dt.date) -> None:
    # Strict, the same in both modes: every parameter the model uses must be in force. A chain keeps
    # the dates on which a set of names passed (each claim at the window asked again); a refusal is
    # raised each time
    names = model.parameter_names
    derived(chain, ("parameters in force", names), date, lambda c, d: check_parameters(names, c, d))


def run_case(model: Model, case: dict, packs: PackSet | Chain, *, row: int | None = None) -> list[ItemResult]:
    values = validate_case(model, case, row)
    code = values[model.region.name]
    where = f"第{row}条：" if row is not None else ""
    if isinstance(packs, Chain):
        chain = packs
        _check_covers(chain, code, where)
    else:
        try:
            chain = packs.for_region(code)
        except PolicyError as exc:
            raise PolicyError(f"{where}{exc.message}") from None
    checked = set()
    results = []
    memo: dict = {}  # rules of one case share sub-expressions (e.g. settlement steps)
    for rule in model.rules:
        date = values[rule.date.name]
        if date not in checked:
            try:
                _check_parameters(model, chain, date)
            except PolicyError as exc:
                raise PolicyError(f"{where}{exc.message}") from None
            checked.add(date)
        trace = Trace()
        try:
            if rule.date.name == model.memo_date:
                amount = evaluate(rule.formula, values, chain, date, trace, memo, model.shared_nodes)
            else:
                amount = evaluate(rule.formula, values, chain, date, trace)
        except PolicyError as exc:
            raise PolicyError(f"{where}{exc.message}（规则“{rule.label}”）") from None
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise PolicyError(f"{where}规则“{rule.label}”（{rule.name}）得出无效金额 {amount!r}；请检查输入和政策包")
        results.append(ItemResult(rule.name, rule.label, amount, {
            "rule": rule.name, "label": rule.label, "description": rule.description,
            "amount": yuan(amount), "pack": chain.key,
            "date": date.isoformat(), "parameters": trace.params, "inputs": trace.inputs,
            "branches": trace.branches}))
    return results


def _dtype_fits(var: Var, dtype) -> bool:
    import polars as pl

    if dtype == pl.Null:
        return True   # every value missing: each row is refused for that, as one case
    if var.kind == "int":
        return dtype.is_integer()
    if var.kind == "bool":
        return dtype == pl.Boolean
    if var.kind == "date":
        return dtype == pl.Date
    return dtype == pl.String or isinstance(dtype, (pl.Enum, pl.Categorical))


def _input_problems(model: Model, schema):
    """One boolean per row: true where one case with this row's inputs would be refused
    (missing value, value outside its choices, amount negative or above the maximum)."""
    import polars as pl

    terms = []
    for name, var in model.inputs.items():
        col = pl.col(name)
        terms.append(col.is_null())
        dtype = schema.get(name)
        if dtype == pl.Null:
            continue
        if var.choices and not (isinstance(dtype, pl.Enum) and set(dtype.categories.to_list()) <= set(var.choices)):
            terms.append((~col.is_in(list(var.choices))).fill_null(False))
        if var.kind == "int":
            terms.append(((col < 0) | (col > max_fen())).fill_null(False))
    return pl.any_horizontal(terms)


def _input_flags(model: Model, schema):
    """Column-wise: whether any row has a missing input, a value outside its choices, or an
    amount negative or above the maximum (the same tests as `_input_problems`, aggregated)."""
    import polars as pl

    flags = []
    for i, (name, var) in enumerate(model.inputs.items()):
        col = pl.col(name)
        flags.append((col.null_count() > 0).alias(f"null{i}"))
        dtype = schema.get(name)
        if dtype == pl.Null:
            continue
        if var.choices and not (isinstance(dtype, pl.Enum) and set(dtype.categories.to_list()) <= set(var.choices)):
            flags.append((~col.is_in(list(var.choices))).any().fill_null(False).alias(f"choice{i}"))
        if var.kind == "int":
            flags.append(((col.min() < 0) | (col.max() > max_fen())).fill_null(False).alias(f"range{i}"))
    return flags


def _raise_for_row(model: Model, df, i: int, packs) -> None:
    """Raise the error one case raises for row i (0-based) of the roster: the same Chinese
    message in both modes, because it comes from the same code."""
    row = df.row(i, named=True)
    run_case(model, {name: row[name] for name in model.inputs}, packs, row=i + 1)
    raise PolicyError(f"名册第{i + 1}行无法批量计算，但逐条计算没有发现问题；请把名册和政策包报告给系统管理员")


def _first(frame, condition) -> int | None:
    i, hit = frame.select(condition.arg_max().alias("i"), condition.any().alias("hit")).row(0)
    return i if hit else None


def run_batch(model: Model, df, packs: PackSet | Chain, *, plan: dict | None = None, span: tuple | None = None):
    """Evaluate every rule over a Polars DataFrame; adds one Int64 column (fen) per rule.

    Row for row the same as `run_case` on each row: where one case would be refused (an input
    missing or wrong, a region with no pack or outside the given pack, a parameter with no
    value in force on the row's date — in any period inside the roster's dates, not only at
    its ends — or a rule that cannot be computed), the whole roster is refused with the
    message `run_case` gives for the first such row.

    `plan` and `span`: for a caller that runs the same model over many frames (the rounds of
    `settle_batch`): the compiled expressions are kept in `plan` and reused for a frame with the
    same chains, compiled for the dates `span` (lo, hi) that covers every frame's dates. The
    checks still run on each frame's own dates. Without `plan`, the model keeps its last few
    compiled plans itself (`Model.plans`)."""
    import polars as pl

    n = df.height
    for name, var in model.inputs.items():
        if name not in df.columns:
            raise PolicyError(f"名册缺少列“{var.label}”（{name}）")
    if n == 0:
        return df.with_columns([pl.lit(None, dtype=pl.Int64).alias(r.name) for r in model.rules])
    schema = df.schema   # built anew on each access
    for name, var in model.inputs.items():
        if not _dtype_fits(var, schema[name]):
            # a column of the wrong type: one case refuses the first row that has a value
            i = _first(df, pl.col(name).is_not_null())
            _raise_for_row(model, df, 0 if i is None else i, packs)
    out = _run_one_chain(model, df, packs, plan, span)
    return out if out is not None else _run_chains(model, df, packs, plan, span)


def _one_chain(model: Model, df, packs) -> tuple[str, Chain] | None:
    """The prefix and chain of the roster's first region code, if a look at a few rows spread
    over the roster finds no other chain (the usual roster: one county's). Only a guess: the
    caller checks every row's prefix while the rules run, and falls back if one differs."""
    import polars as pl

    region = model.region.name
    if df.schema[region] != pl.String or "_chain" in df.columns or not model.rules:
        return None
    codes = df[region].gather_every(max(1, df.height // 16)).to_list() + [df[region][-1]]
    first = codes[0]
    if first is None:
        return None
    if isinstance(packs, Chain):
        prefix, chain = packs.head.region, packs
    else:
        # a code's pack depends only on its first `width` characters (PackSet.key_width)
        width = packs.key_width()
        if len(first) < width:
            return None
        prefix = first[:width]
        try:
            chain = packs.for_region(prefix)
        except PolicyError:
            return None   # refused below, with one case's message
    if not all(code is not None and code.startswith(prefix) for code in codes):
        return None
    return prefix, chain


def _run_one_chain(model: Model, df, packs, plan, span):
    """`run_batch` for a roster whose rows all take one chain, in one pass over the rows: the
    rules, the check that every region has that chain and the input checks are collected
    together; the dates' range (for the parameters' periods) is read before, from the columns'
    minimum and maximum. None where the roster is not such a roster, or has a row refused for its
    region or date: then the general path (`_run_chains`) runs, and finds the first refused row."""
    import polars as pl

    one = _one_chain(model, df, packs)
    if one is None:
        return None
    prefix, chain = one
    region = model.region.name
    schema = df.schema
    date_cols = sorted({r.date.name for r in model.rules})
    stats = df.select(pl.col(region).null_count().alias("region"),
                      *(pl.col(c).null_count().alias(f"n:{c}") for c in date_cols),
                      *(pl.col(c).min().alias(f"lo:{c}") for c in date_cols),
                      *(pl.col(c).max().alias(f"hi:{c}") for c in date_cols)).row(0, named=True)
    if stats["region"] or any(stats[f"n:{c}"] for c in date_cols):
        return None
    spans = {c: {0: (stats[f"lo:{c}"], stats[f"hi:{c}"])} for c in date_cols}
    if not all(_in_force(model, chain, *spans[c][0]) for c in date_cols):
        return None
    if span is not None:   # compile for the caller's wider dates (checked above on this frame's own)
        spans = {c: {0: span} for c in spans}
    steps, exprs, signed = _plan(model, {0: chain}, spans, plan, schema)
    lazy = df.lazy()
    for col, expr in steps:
        lazy = lazy.with_columns(expr.alias(col))
    covered = pl.col(region).str.starts_with(prefix).all() if prefix else pl.lit(True)
    out, checks = pl.collect_all([lazy.with_columns(exprs).drop([col for col, _ in steps]),
                                  df.lazy().select(covered.alias("_covered"), *_input_flags(model, schema))])
    flags = checks.row(0)
    if not flags[0]:
        return None   # a row of another chain, or of none: the general path
    _check_results(model, df, out, flags[1:], signed, packs)
    return out


def _in_force(model: Model, chain: Chain, lo: dt.date, hi: dt.date) -> bool:
    """Whether every parameter of the model has a value in force on every date from lo to hi
    for this chain (kept with the model's plans: a roster's dates repeat from run to run)."""
    key = ("in force", tuple(id(p) for p in chain.packs), lo, hi)
    hit = model.plans.get(key)
    if hit is None:
        hit = _keep(model.plans, key, (not any(gaps(chain, name, lo, hi) for name in model.parameter_names), chain))
    return hit[0]


def _keep(store: dict, key, value):
    """Keep `value` in a model's store of plans, emptied when full (a model sees few chains and
    date ranges; clear() is safe across threads)."""
    if len(store) >= 32:
        store.clear()
    store[key] = value
    return value


def _plan(model: Model, chains: dict, spans: dict, plan: dict | None, schema):
    """The compiled model for these chains and dates: from `plan` (the caller's) or the model's
    own few kept plans, else compiled and kept. The kept entry holds the chains, so that the ids
    of their packs in the key cannot be taken by other packs while it is kept."""
    import polars as pl

    # integer inputs held as Int64 (the checks bound them by the maximum amount): what `bounds`
    # may assume of them; a narrower column could wrap around within a rule
    int_inputs = {name: max_fen() for name, var in model.inputs.items()
                  if var.kind == "int" and schema.get(name) == pl.Int64}
    key = (id(model), tuple(sorted((k, tuple(id(p) for p in ch.packs)) for k, ch in chains.items())),
           tuple(sorted((c, tuple(sorted(v.items()))) for c, v in spans.items())), tuple(sorted(int_inputs)))
    store = model.plans if plan is None else plan
    hit = store.get(key)
    if hit is None:
        hit = (*_compile(model, chains, spans, int_inputs), chains)
        if plan is None:
            _keep(store, key, hit)
        else:
            store[key] = hit
    return hit[:3]


def rules_plan(model: Model, chain: Chain, spans: dict, schema) -> tuple[list, list]:
    """What `run_batch` evaluates for a roster of one chain whose dates lie in `spans` (date
    column → (earliest, latest)) and whose columns have `schema`: the named steps ((column,
    expression), in order) and one expression per rule — without the checks around them (a
    benchmark measures rule evaluation alone with it)."""
    steps, exprs, _ = _plan(model, {0: chain}, {c: {0: span} for c, span in spans.items()}, None, schema)
    return steps, exprs


def _check_results(model: Model, df, out, flags, signed, packs) -> None:
    """Refuse the roster, with one case's message for the first refused row, where an input
    check failed (`flags`) or a rule has no amount (null: the interpreter would have refused
    the row) or a negative one (looked for only in the columns of `signed`, the rules whose
    amounts may be negative)."""
    import polars as pl

    k = len(model.rules)
    results = out.select([pl.col(r.name).null_count().alias(f"n{i}") for i, r in enumerate(model.rules)]
                         + [pl.col(name).min().alias(f"m{i}") for i, name in enumerate(signed)]).row(0)
    if any(flags) or any(results[:k]) or any(m is not None and m < 0 for m in results[k:]):
        failed = pl.any_horizontal([pl.col(r.name).is_null() | (pl.col(r.name) < 0).fill_null(False) for r in model.rules])
        _raise_for_row(model, df, _first(out, failed | _input_problems(model, out.schema)), packs)


def _run_chains(model: Model, df, packs: PackSet | Chain, plan: dict | None, span: tuple | None):
    """`run_batch` for any roster: each row's chain mapped from its region's prefix, the
    dates' range taken per chain, and every refused row found."""
    import polars as pl

    if any(c > 1 for c in df.n_chunks("all")):
        # input in many chunks (a reader's batches): one contiguous copy costs less than the
        # several passes below over scattered chunks (2.5× slower on 100 chunks)
        df = df.rechunk()
    n = df.height
    region = model.region.name
    unmapped = False   # a region code without a pack: its rows are refused below
    if isinstance(packs, Chain):
        codes = df[region].drop_nulls().unique().to_list()
        chains = {0: packs}
        unmapped = not all(covers(packs, code) for code in codes)
        chain_col = (pl.when(pl.col(region).cast(pl.String).str.starts_with(packs.head.region))
                     .then(pl.lit(0, dtype=pl.Int32)) if unmapped else pl.lit(0, dtype=pl.Int32))
    else:
        by_key: dict[str, int] = {}
        chains, mapping = {}, {}
        # a code's pack depends only on its first `width` characters: one look-up per county
        # prefix, not per village (a national roster has ~700,000 villages)
        width = packs.key_width()
        # sorted: the same chains get the same numbers, so a kept plan (`plan`) is found again
        codes = (df.select(pl.col(region).cast(pl.String).str.slice(0, width).unique().drop_nulls().sort())
                 .to_series().to_list())
        for code in codes:
            try:
                chain = packs.for_region(code)
            except PolicyError:
                unmapped = True
                continue   # those rows are refused below, with one case's message
            k = by_key.setdefault(chain.key, len(by_key))
            chains[k] = chain
            mapping[code] = k
        chain_col = pl.col(region).cast(pl.String).str.slice(0, width).replace_strict(mapping, default=None,
                                                                                      return_dtype=pl.Int32)
    frame = df.with_columns(chain_col.alias("_chain"))
    inputs_bad = _input_problems(model, df.schema)
    # every parameter must be in force on every row's date (strict, as in single mode): the
    # periods without a value inside each chain's range of dates, all of them
    spans: dict[str, dict] = {}
    date_cols = sorted({r.date.name for r in model.rules})
    # rows with no pack (no region, a region no pack covers) or no date: refused before compiling
    refused = [pl.col("_chain").is_null(), *(pl.col(c).is_null() for c in date_cols)]
    counts = df.select([pl.col(c).null_count() for c in {region, *date_cols}]).row(0)
    check = unmapped or any(counts)   # else no row can be refused for its pack or date: skip the pass
    for date_col in date_cols:
        rows = (frame.filter(pl.col("_chain").is_not_null()).group_by("_chain")
                .agg(pl.col(date_col).min().alias("lo"), pl.col(date_col).max().alias("hi")))
        spans[date_col] = {k: (lo, hi) for k, lo, hi in rows.iter_rows() if lo is not None}
        for k, (lo, hi) in spans[date_col].items():
            for name in sorted(model.parameter_names):
                for start, end in gaps(chains[k], name, lo, hi):
                    cond = (pl.col("_chain") == k) & (pl.col(date_col) >= start)
                    refused.append((cond if end is None else cond & (pl.col(date_col) < end)).fill_null(False))
                    check = True
    refused_row = pl.any_horizontal(refused)
    i = _first(frame, refused_row) if check else None
    if i is not None:
        # an earlier row may be refused for its inputs, or fail in a rule: one case by case
        # stops at the first refused row of any kind, and so does the roster
        j = _first(frame, inputs_bad | refused_row)
        if j > 0:
            run_batch(model, df.head(j), packs)   # raises for an earlier row, if one fails
        _raise_for_row(model, df, j, packs)
    if span is not None:   # compile for the caller's wider dates (checked above on this frame's own)
        spans = {c: {k: span for k in chains} for c in spans}
    steps, exprs, signed = _plan(model, chains, spans, plan, df.schema)
    # Named steps (intermediate results several rules use) become columns, each computed once
    lazy = frame.lazy()
    for col, expr in steps:
        lazy = lazy.with_columns(expr.alias(col))
    # lazy, so that Polars evaluates parameter look-ups shared by several rules only once;
    # the input checks run in the same parallel collect, and are reported before any result is used
    # (column-wise aggregates: much cheaper than a row-wise flag, which is built only on failure)
    out, flags = pl.collect_all([lazy.with_columns(exprs).drop([col for col, _ in steps]),
                                 df.lazy().select(_input_flags(model, df.schema))])
    if out.height != n:
        raise PolicyError(f"批量计算的行数 {out.height} 与输入 {n} 不一致")
    _check_results(model, df, out, flags.row(0), signed, packs)
    return out.drop("_chain")


def _compile(model: Model, chains: dict, spans: dict, int_inputs: dict):
    """The model as Polars expressions: the named steps ((column, expression), in order), one
    expression per rule, and the rules whose amounts may be negative (`bounds`): only their
    columns are checked for a negative amount."""
    import polars as pl

    formulas = [r.formula for r in model.rules]
    if len(chains) == 1:
        (k, chain), = chains.items()
        formulas = [specialize(f, chain, spans[r.date.name][k]) if k in spans[r.date.name] else f
                    for f, r in zip(formulas, model.rules)]
    steps, columns = [], {}
    date_of = {id(f): r.date.name for f, r in zip(formulas, model.rules)}
    first_date = model.rules[0].date.name
    for step in named_steps(formulas):
        col = f"_step:{step.name}"
        steps.append((col, compile_polars(step.expr, chains, first_date, spans[first_date], columns,
                                          specialized=True, nulls=False)))
        columns[step.name] = col
    # nulls=False: every input and parameter was checked (a row with a null is refused)
    exprs = [compile_polars(f, chains, date_of[id(f)], spans[date_of[id(f)]], columns, specialized=True, nulls=False)
             .cast(pl.Int64).alias(r.name) for f, r in zip(formulas, model.rules)]
    signed = []
    for f, r in zip(formulas, model.rules):
        lo_hi = bounds(f, chains, int_inputs)
        if lo_hi is None or lo_hi[0] < 0:
            signed.append(r.name)
    return steps, exprs, tuple(signed)
