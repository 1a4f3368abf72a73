"""Policy what-if (issue 20): the same rules over the same rosters with a scenario's changed
parameters, both sides in batch (Polars), compared per person, household, region and fund.

No Django: the rooms hand in Polars frames of their cases (education rosters, social-assistance
months, the period's hospital claims) and get the comparison back. A scenario is an *overlay*:
a small pack, put in front of every chain of its region, holding the changed parameters with
one value each for all dates ("what if this were the rule"). Its values are checked exactly as
a pack's (units, limits), so what is simulated is what a pack may say.

`one_by_one` computes the same cases one at a time with `run_case` / the window's settlement,
accumulators carried claim by claim: the tests and `benchmarks/whatif.py` compare the two.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .engine import run_batch, run_case
from .errors import PolicyError
from .money import max_fen
from .packs import Chain, Pack, PackSet, Parameter, Value, _convert

OVERLAY = "whatif"   # the overlay pack's name; never shown: an overlaid chain keeps its base key
# The parameters a scenario may change: those the three rosters' rules read (education,
# social assistance, settlement), by prefix.
PREFIXES = ("education.", "welfare.", "health.")
PATIENT = "个人自付"


class ScenarioPacks(PackSet):
    """The shipped packs with the overlay in front of every chain inside `region`."""

    def __init__(self, base: PackSet, overlay: Pack):
        self.base = base
        self.packs = base.packs
        self.overlay = overlay
        self._chains: dict[str, Chain] = {}

    def _wrap(self, chain: Chain) -> Chain:
        if not chain.head.region.startswith(self.overlay.region) and not self.overlay.region.startswith(chain.head.region):
            return chain
        if chain.key not in self._chains:
            wrapped = Chain([self.overlay, *chain.packs])
            # the region's pack stays first in the key (explanations name it, never the overlay);
            # the suffix keeps the two sides apart where both are computed together
            wrapped.key = f"{chain.key}/{OVERLAY}"
            self._chains[chain.key] = wrapped
        return self._chains[chain.key]

    def key_width(self) -> int:
        return max(self.base.key_width(), len(self.overlay.region))

    def for_region(self, code: str, *, family: str | None = None) -> Chain:
        chain = self.base.for_region(code)
        return self._wrap(chain) if code.startswith(self.overlay.region) else chain

    def chain(self, name: str) -> Chain:
        return self._wrap(self.base.chain(name))


class TwoSides(PackSet):
    """Both sides in one batch: a region code marked with SCENARIO_MARK takes the scenario's
    chain, any other the current one. Halves the batches a comparison runs (a settlement is
    one batch per round of claims), and each code's chain is looked up once."""

    def __init__(self, base: PackSet, scenario: PackSet):
        self.base, self.scenario = base, scenario
        self.packs = base.packs
        self._memo: dict[str, Chain] = {}

    def key_width(self) -> int:   # the mark, then the longer of the two sides' prefixes
        return len(SCENARIO_MARK) + max(self.base.key_width(), self.scenario.key_width())

    def for_region(self, code: str, *, family: str | None = None) -> Chain:
        chain = self._memo.get(code)
        if chain is None:
            chain = self.scenario.for_region(code[1:]) if code.startswith(SCENARIO_MARK) else self.base.for_region(code)
            self._memo[code] = chain
        return chain

    def chain(self, name: str) -> Chain:
        return self.base.chain(name)


SCENARIO_MARK = "S"


def unit_of(packs: PackSet, name: str) -> Parameter | None:
    for p in packs.packs.values():
        if name in p.parameters:
            return p.parameters[name]
    return None


def overlay(base: PackSet, region: str, changes: dict, title: str) -> ScenarioPacks:
    """`changes`: parameter name → value as a pack writes it (yuan, ratio, count, bool …).
    Every value is checked as a pack's is; a parameter no pack has, or one the three rosters
    do not read, is refused in Chinese."""
    if not changes:
        raise PolicyError("情景没有改动任何参数：请至少改一个参数")
    pack = Pack(name=OVERLAY, title=title, region=region, extends=None, source=title, path="")
    for name, raw in changes.items():
        known = unit_of(base, name)
        if known is None or not name.startswith(PREFIXES):
            raise PolicyError(f"没有可测算的参数 {name}；可测算的是教育资助、社会救助和医疗结算的参数")
        where = f"情景“{title}”参数“{known.description or name}”"
        value = _convert(known.unit, raw, where)
        pack.parameters[name] = Parameter(name, known.unit, known.description, [
            Value(dt.date.min, None, value, f"测算情景“{title}”（尚未生效）", OVERLAY)])
    return ScenarioPacks(base, pack)


# ---- what each rule's money is: its fund ----------------------------------------------------------

def education_funds() -> dict[str, str]:
    from .rules.education import MODEL

    return {r.name: "教育资助资金" for r in MODEL.rules}


def welfare_funds() -> dict[str, str]:
    from .rules.welfare import MODEL

    return {r.name: f"社会救助：{r.label}" for r in MODEL.rules}


def health_funds(model) -> dict[str, str]:
    """Every settlement rule but the shortfall (a sum already inside the patient's share); a top-up fund by
    the name its model was built with."""
    out = {}
    for r in model.rules:
        if r.name == "health.shortfall":
            continue
        out[r.name] = PATIENT if r.name == "health.patient" else \
            ("医院减免与承担" if r.name in ("health.waived", "health.absorbed") else r.label)
    return out


# ---- the three rosters, each side in batch --------------------------------------------------------

KEYS = ("_person", "_household", "_village")


def _side(model, frame, packs, funds: dict[str, str]):
    """One roster on one side: the keys, one column per fund (fen), and `cost` (every fund but
    the patient's own share)."""
    import polars as pl

    out = run_batch(model, frame, packs)
    by_fund: dict[str, list] = {}
    for rule, fund in funds.items():
        by_fund.setdefault(fund, []).append(rule)
    cols = [pl.sum_horizontal(rules).alias(fund) for fund, rules in by_fund.items()]
    wide = out.select(*KEYS, "_side", *cols)
    return wide.with_columns(pl.sum_horizontal([f for f in by_fund if f != PATIENT]).alias("cost"))


def _health_side(frame, packs: PackSet):
    """The period's claims re-settled in claim order per patient, accumulators from zero at the
    start of the year; the top-up funds' balances are taken as sufficient (the question is
    what the rule costs, not whether this month's fund covers it)."""
    import polars as pl

    from .rules import health

    when = frame["discharge_date"].min()
    groups: dict[tuple, tuple[Chain, list[str]]] = {}
    models: dict[str, tuple] = {}   # by chain: what its settlement model is built from
    for code in frame["region"].unique().to_list():
        chain = packs.for_region(code)
        if chain.key not in models:
            models[chain.key] = (health.pairs_of(chain, when), health.funds_of(chain, when), health.chain_of(chain, when),
                                 health.fund_names_of(chain, when))
        groups.setdefault(models[chain.key], (chain, []))[1].append(code)
    parts, funds = [], {}
    for (pairs, fund_codes, order, fund_names), (chain, codes) in groups.items():
        model = health.build(pairs, fund_codes, order, fund_names)
        part = frame.filter(pl.col("region").is_in(codes)) if len(groups) > 1 else frame
        part = part.with_columns([pl.lit(max_fen(), dtype=pl.Int64).alias(f"balance.{c}") for c in fund_codes])
        settled = health.settle_batch(chain, part, packs=packs)
        f = health_funds(model)
        funds.update({k: v for k, v in f.items()})
        by_fund: dict[str, list] = {}
        for rule, fund in f.items():
            by_fund.setdefault(fund, []).append(rule)
        wide = settled.select(*KEYS, "_side", *(pl.sum_horizontal(rules).alias(fund) for fund, rules in by_fund.items()))
        parts.append(wide.with_columns(pl.sum_horizontal([x for x in by_fund if x != PATIENT]).alias("cost")))
    return pl.concat(parts, how="diagonal_relaxed").fill_null(0)


@dataclass
class Rosters:
    """The period's cases as Polars frames (each with `_person`, `_household`, `_village`)."""
    education: object = None
    welfare: object = None
    health: object = None   # claims: the settlement inputs plus `patient` (= _person) and `seq`


@dataclass
class Comparison:
    funds: list[dict] = field(default_factory=list)        # fund, current, scenario, change (fen)
    regions: list[dict] = field(default_factory=list)      # code, current, scenario, change
    households: object = None                              # _household, _village, current, scenario, change
    persons: object = None                                 # _person, _household, current, scenario
    gained: int = 0
    lost: int = 0
    total_current: int = 0
    total_scenario: int = 0
    histogram: list[dict] = field(default_factory=list)    # label, count
    cases: int = 0


def _stack(frame, claims: bool):
    """The roster twice: side 0 as it is, side 1 with its region codes marked for the scenario
    (and, for claims, each patient's accumulators kept apart per side)."""
    import polars as pl

    scenario = [pl.lit(1, dtype=pl.Int8).alias("_side"), (pl.lit(SCENARIO_MARK) + pl.col("region")).alias("region")]
    if claims:
        scenario.append(-pl.col("patient") - 1)   # ids ≥ 0 on side 0, < 0 on side 1
    return pl.concat([frame.with_columns(pl.lit(0, dtype=pl.Int8).alias("_side"), pl.col("region").cast(pl.String)),
                      frame.with_columns(*scenario)], how="vertical_relaxed")


def _sides(rosters: Rosters, packs: TwoSides, progress=None):
    """[(roster, current side, scenario side)], the two sides' rows in the same order."""
    import polars as pl

    from .rules.education import MODEL as EDU
    from .rules.welfare import MODEL as WEL

    out = []
    steps = [(n, f) for n, f in (("education", rosters.education), ("welfare", rosters.welfare),
                                 ("health", rosters.health)) if f is not None and f.height]
    for i, (name, frame) in enumerate(steps):
        if progress:
            progress(i, len(steps), name)
        stacked = _stack(frame, name == "health")
        if name == "education":
            wide = _side(EDU, stacked, packs, education_funds())
        elif name == "welfare":
            wide = _side(WEL, stacked, packs, welfare_funds())
        else:
            wide = _health_side(stacked, packs)
        side = pl.col("_side")
        out.append((name, wide.filter(side == 0).drop("_side"), wide.filter(side == 1).drop("_side")))
    return out


def compare(rosters: Rosters, base: PackSet, scenario: ScenarioPacks, *, region_digits: int,
            progress=None) -> Comparison:
    """Both sides over the same rosters, compared. `region_digits`: how many leading digits of
    the village code name the regions the cost is broken down by (the level below the user's)."""
    import polars as pl

    result = Comparison()
    fund_totals: dict[str, list[int]] = {}
    persons = []
    for name, cur, new in _sides(rosters, TwoSides(base, scenario), progress):
        result.cases += cur.height
        for fund in cur.columns[3:]:
            if fund == "cost":
                continue
            row = fund_totals.setdefault(fund, [0, 0])
            row[0] += int(cur[fund].sum() or 0)
            if fund in new.columns:
                row[1] += int(new[fund].sum() or 0)
        for fund in new.columns[3:]:
            if fund not in cur.columns and fund != "cost":
                fund_totals.setdefault(fund, [0, 0])[1] += int(new[fund].sum() or 0)
        persons.append(cur.select(*KEYS, pl.col("cost").alias("current"), new["cost"].alias("scenario")))
    order = sorted(fund_totals, key=lambda f: (f == PATIENT, f))
    result.funds = [{"fund": f, "current": fund_totals[f][0], "scenario": fund_totals[f][1],
                     "change": fund_totals[f][1] - fund_totals[f][0], "cost": f != PATIENT} for f in order]
    if not persons:
        result.persons = pl.DataFrame(schema={"_person": pl.Int64, "_household": pl.Int64, "_village": pl.String,
                                              "current": pl.Int64, "scenario": pl.Int64})
    else:
        result.persons = (pl.concat(persons, how="vertical_relaxed")
                          .group_by("_person", maintain_order=False)
                          .agg(pl.col("_household").first(), pl.col("_village").first(),
                               pl.col("current").sum(), pl.col("scenario").sum()))
    p = result.persons
    result.gained = p.filter((pl.col("current") == 0) & (pl.col("scenario") > 0)).height
    result.lost = p.filter((pl.col("current") > 0) & (pl.col("scenario") == 0)).height
    result.total_current = int(p["current"].sum() or 0)
    result.total_scenario = int(p["scenario"].sum() or 0)
    result.households = (p.group_by("_household").agg(pl.col("_village").first(), pl.col("current").sum(),
                                                      pl.col("scenario").sum())
                         .with_columns((pl.col("scenario") - pl.col("current")).alias("change")))
    regions = (p.group_by(pl.col("_village").str.slice(0, region_digits).alias("code"))
               .agg(pl.col("current").sum(), pl.col("scenario").sum()).sort("code"))
    result.regions = [{"code": c, "current": a, "scenario": b, "change": b - a} for c, a, b in regions.iter_rows()]
    result.histogram = histogram(result.households["change"])
    return result


BINS_YUAN = (-5000, -1000, -500, -100, 0, 100, 500, 1000, 5000)   # a chart's buckets, not policy


def histogram(change) -> list[dict]:
    """Households by their yearly change, in buckets of yuan (unchanged households in their own)."""
    import polars as pl

    edges = [b * 100 for b in BINS_YUAN]
    labels = [f"减少{-BINS_YUAN[0]}元以上"]
    labels += [(f"增加{lo}～{hi}元" if lo > 0 else f"增加{hi}元以内") if hi > 0 else
               (f"减少{-hi}～{-lo}元" if hi < 0 else f"减少{-lo}元以内") for lo, hi in zip(BINS_YUAN, BINS_YUAN[1:])]
    labels += [f"增加{BINS_YUAN[-1]}元以上"]
    import bisect

    s = change.to_frame("c")
    counts = [0] * len(labels)
    unchanged = s.filter(pl.col("c") == 0).height
    for v, n in s.filter(pl.col("c") != 0).group_by("c").len().iter_rows():
        counts[bisect.bisect_left(edges, v)] += n   # a change of exactly −100 yuan falls in (−500, −100]
    return [{"label": "不变", "count": unchanged}] + [{"label": lab, "count": n} for lab, n in zip(labels, counts) if n]


# ---- one case at a time (the check) ---------------------------------------------------------------

def one_by_one(rosters: Rosters, packs: PackSet) -> dict[int, int]:
    """Each person's cost over the period (fen), every case computed on its own with `run_case`
    and each patient's claims settled one after another with the accumulators carried on."""
    from .rules.education import MODEL as EDU
    from .rules.welfare import MODEL as WEL

    total: dict[int, int] = {}
    for model, frame, funds in ((EDU, rosters.education, education_funds()), (WEL, rosters.welfare, welfare_funds())):
        if frame is None:
            continue
        for row in frame.iter_rows(named=True):
            case = {k: row[k] for k in model.inputs}
            amount = sum(r.amount for r in run_case(model, case, packs) if r.rule in funds)
            total[row["_person"]] = total.get(row["_person"], 0) + amount
    if rosters.health is not None:
        for person, amount in settle_one_by_one(rosters.health, packs).items():
            total[person] = total.get(person, 0) + amount
    return total


def settle_one_by_one(claims, packs: PackSet) -> dict[int, int]:
    from .rules import health

    total: dict[int, int] = {}
    acc: dict[int, dict] = {}
    for row in claims.sort(["patient", "seq"]).iter_rows(named=True):
        chain = packs.for_region(row["region"])
        when = row["discharge_date"]
        funds = health.funds_of(chain, when)
        order = tuple(c for c, _ in health.chain_of(chain, when))
        model = health.model_for(chain, when)
        ytd = acc.setdefault(row["patient"], {})
        case = {k: row[k] for k in model.inputs if k in row and not k.endswith("_ytd") and "ytd." not in k
                and not k.startswith("balance.")}
        for k in ("basic_ytd", "ci_base_ytd", "ci_ytd", "assistance_ytd"):
            case[k] = ytd.get(k, 0)
        for c in funds:
            case[f"topup_ytd.{c}"] = ytd.get(f"topup_ytd.{c}", 0)
            case[f"balance.{c}"] = max_fen()
        for c in order:
            if c not in health.BUILT_IN:
                case[f"payer_ytd.{c}"] = ytd.get(f"payer_ytd.{c}", 0)
        amounts = {r.rule: r.amount for r in run_case(model, case, chain)}
        changes = health.accumulator_changes(amounts, case["in_policy"], funds, order)
        column = {**health.YTD_COLUMN, **{f"topup.{c}": f"topup_ytd.{c}" for c in funds},
                  **{f"payer.{c}": f"payer_ytd.{c}" for c in order if c not in health.BUILT_IN}}
        for key, v in changes.items():
            ytd[column[key]] = ytd.get(column[key], 0) + v
        cost = sum(v for k, v in amounts.items() if k not in ("health.patient", "health.shortfall"))
        total[row["_person"]] = total.get(row["_person"], 0) + cost
    return total


def explain_person(rosters: Rosters, person: int, packs: PackSet) -> list[dict]:
    """Every case of one person on one side: rule label, amount (fen), the engine's explanation.
    Claims are settled in order with the accumulators of the person's earlier claims."""
    import polars as pl

    from .rules import health
    from .rules.education import MODEL as EDU
    from .rules.welfare import MODEL as WEL

    out = []
    for kind, model, frame in (("教育资助", EDU, rosters.education), ("社会救助", WEL, rosters.welfare)):
        if frame is None or not frame.height:
            continue
        for row in frame.filter(pl.col("_person") == person).iter_rows(named=True):
            case = {k: row[k] for k in model.inputs}
            for r in run_case(model, case, packs):
                if r.amount:
                    out.append({"kind": kind, "case": _case_label(kind, row), "rule": r.rule, "label": r.label,
                                "amount": r.amount, "explanation": r.explanation})
    if rosters.health is not None and rosters.health.height:
        claims = rosters.health.filter(pl.col("_person") == person)
        acc: dict = {}
        for row in claims.sort("seq").iter_rows(named=True):
            chain = packs.for_region(row["region"])
            when = row["discharge_date"]
            funds = health.funds_of(chain, when)
            order = tuple(c for c, _ in health.chain_of(chain, when))
            model = health.model_for(chain, when)
            case = {k: row[k] for k in model.inputs if k in row}
            for k in ("basic_ytd", "ci_base_ytd", "ci_ytd", "assistance_ytd"):
                case[k] = acc.get(k, 0)
            for c in funds:
                case[f"topup_ytd.{c}"] = acc.get(f"topup_ytd.{c}", 0)
                case[f"balance.{c}"] = max_fen()
            for c in order:
                if c not in health.BUILT_IN:
                    case[f"payer_ytd.{c}"] = acc.get(f"payer_ytd.{c}", 0)
            results = run_case(model, case, chain)
            amounts = {r.rule: r.amount for r in results}
            changes = health.accumulator_changes(amounts, case["in_policy"], funds, order)
            column = {**health.YTD_COLUMN, **{f"topup.{c}": f"topup_ytd.{c}" for c in funds},
                      **{f"payer.{c}": f"payer_ytd.{c}" for c in order if c not in health.BUILT_IN}}
            for key, v in changes.items():
                acc[column[key]] = acc.get(column[key], 0) + v
            for r in results:
                if r.amount and r.rule != "health.shortfall":
                    out.append({"kind": "医疗结算", "case": f"{when.isoformat()} 出院", "rule": r.rule,
                                "label": r.label, "amount": r.amount, "explanation": r.explanation})
    return out


def _case_label(kind: str, row: dict) -> str:
    if kind == "教育资助":
        return f"{row['date'].year}年{'春季' if str(row['semester']) == 'spring' else '秋季'}学期"
    return f"{row['date'].year}年{row['date'].month}月"
