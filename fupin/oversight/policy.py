"""The oversight room's policy data: indicator definitions and problem types (policies/)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

POLICIES = Path(__file__).resolve().parents[2] / "policies"


@dataclass(frozen=True)
class Indicator:
    key: str
    group: str
    name: str
    unit: str
    query: str
    params: dict = field(default_factory=dict)
    base: str | None = None
    better: str = "higher"
    target: dict = field(default_factory=dict)
    split: str | None = None
    per_base: bool = False     # show the ratio to the base as "户均 x.x" instead of a percent
    source: str = ""

    @property
    def is_rate(self) -> bool:
        return self.base is not None

    @property
    def is_money(self) -> bool:
        return self.unit == "元"


@functools.cache
def indicators() -> dict[str, Indicator]:
    """Every indicator of every file under policies/indicators/, in file order."""
    from .selectors import QUERIES

    out: dict[str, Indicator] = {}
    for path in sorted((POLICIES / "indicators").glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8"))["indicators"]:
            ind = Indicator(**raw)
            if ind.query not in QUERIES:
                raise ValueError(f"{path.name}：指标“{ind.name}”的查询 {ind.query} 不存在")
            if ind.key in out:
                raise ValueError(f"{path.name}：指标编号 {ind.key} 重复")
            if ind.better not in ("higher", "lower"):
                raise ValueError(f"{path.name}：指标“{ind.name}”的 better 应为 higher 或 lower")
            out[ind.key] = ind
    for ind in out.values():
        if ind.base and ind.base not in out:
            raise ValueError(f"指标“{ind.name}”的分母 {ind.base} 不存在")
    return out


def by_name(name: str) -> Indicator | None:
    name = name.strip()
    return next((i for i in indicators().values() if i.name == name), None)


@functools.cache
def problems() -> dict:
    return yaml.safe_load((POLICIES / "problems.yaml").read_text(encoding="utf-8"))


def problem_types() -> dict[str, str]:
    return {t["key"]: t["name"] for t in problems()["types"]}


# ---- reports upward (报表): forms as data (policies/reports/) -----------------------------------------

LEVELS = {"province": 1, "city": 2, "county": 3, "township": 4, "village": 5}
PERIODS = ("month", "quarter", "year")


@dataclass(frozen=True)
class ReportColumn:
    label: str
    group: str
    indicator: str | None = None       # a value column: one board indicator
    rate: tuple[str, str] | None = None  # a rate column: (numerator, denominator), both value columns' indicators


@dataclass(frozen=True)
class ReportForm:
    key: str
    title: str
    period: str
    due_days: int
    files: tuple[int, ...]             # region levels that file this report to the level above
    groups: tuple[tuple[str, int], ...]  # (group name, number of columns under it): the merged header
    columns: tuple[ReportColumn, ...]
    signatures: tuple[str, ...]
    note: str = ""
    source: str = ""


@functools.cache
def report_forms() -> dict[str, ReportForm]:
    inds = indicators()
    out: dict[str, ReportForm] = {}
    for path in sorted((POLICIES / "reports").glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8"))["forms"]:
            where = f"{path.name}：报表“{raw.get('title', raw.get('key'))}”"
            if raw["period"] not in PERIODS:
                raise ValueError(f"{where}的 period 应为 month、quarter 或 year")
            columns, groups = [], []
            for g in raw["groups"]:
                for c in g["columns"]:
                    keys = [c["indicator"]] if "indicator" in c else list(c["rate"])
                    for k in keys:
                        if k not in inds:
                            raise ValueError(f"{where}的栏目“{c['label']}”引用的指标 {k} 不存在")
                        if inds[k].split:
                            raise ValueError(f"{where}的栏目“{c['label']}”不能用按资金来源拆分的指标 {k}")
                    columns.append(ReportColumn(c["label"], g["name"], c.get("indicator"),
                                                tuple(c["rate"]) if "rate" in c else None))
                groups.append((g["name"], len(g["columns"])))
            form = ReportForm(raw["key"], raw["title"], raw["period"], int(raw["due_days"]),
                              tuple(LEVELS[f] for f in raw["files"]), tuple(groups), tuple(columns),
                              tuple(raw.get("signatures", ())), raw.get("note", ""), raw.get("source", ""))
            if form.key in out:
                raise ValueError(f"{where}的编号 {form.key} 重复")
            out[form.key] = form
    return out
