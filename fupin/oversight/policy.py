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
