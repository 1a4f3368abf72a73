"""Policy packs: YAML files of dated parameter values, each with its source (docs/policy-packs.md).

A pack names the region it covers (a code prefix: "" national, "51" a province, "513435" a
county) and the pack it extends. A parameter missing in a pack, or with no value in force on
the date asked, falls back to the extended pack: county over province over national.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from .errors import PolicyError

PACK_DIR = Path(__file__).resolve().parents[2] / "policies" / "packs"
UNITS = ("yuan", "ratio", "count", "bool", "text", "list", "scale", "date", "map")
RATIO_SCALE = 1_000_000  # ratios are held as integer millionths so that batch and single agree exactly


@dataclass(frozen=True)
class Value:
    start: dt.date
    end: dt.date | None      # exclusive; None = until the next value or forever
    value: object            # fen (int) for yuan, millionths (int) for ratio, tuple for list/scale
    source: str
    pack: str


@dataclass
class Parameter:
    name: str
    unit: str
    description: str
    values: list[Value]

    def at(self, date: dt.date) -> Value | None:
        found = None
        for v in self.values:
            if v.start <= date and (v.end is None or date < v.end):
                found = v
        return found


@dataclass
class Pack:
    name: str
    title: str
    region: str
    extends: str | None
    source: str
    path: str
    parameters: dict[str, Parameter] = field(default_factory=dict)

    @property
    def date_range(self) -> tuple[dt.date | None, dt.date | None]:
        starts = [v.start for p in self.parameters.values() for v in p.values]
        ends = [v.end for p in self.parameters.values() for v in p.values]
        return (min(starts) if starts else None, None if (not ends or None in ends) else max(ends))


def _convert(unit: str, raw, where: str):
    try:
        if raw is None:
            raise PolicyError(f"{where}：缺少 value")
        if unit == "yuan":
            d = Decimal(str(raw))
            fen = d * 100
            if fen != fen.to_integral_value() or d < 0:
                raise PolicyError(f"{where}：金额 {raw} 应为不小于0、最多两位小数的元")
            return int(fen)
        if unit == "ratio":
            d = Decimal(str(raw))
            m = d * RATIO_SCALE
            if m != m.to_integral_value() or not (0 <= d <= 10):
                raise PolicyError(f"{where}：比例 {raw} 应为0到10之间、最多六位小数")
            return int(m)
        if unit == "count":
            if isinstance(raw, bool) or int(raw) != raw or raw < 0:
                raise PolicyError(f"{where}：应为不小于0的整数，实际为 {raw}")
            return int(raw)
        if unit == "bool":
            if not isinstance(raw, bool):
                raise PolicyError(f"{where}：应为 true 或 false，实际为 {raw}")
            return raw
        if unit == "text":
            return str(raw)
        if unit == "date":
            return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
        if unit == "list":
            if not isinstance(raw, list):
                raise PolicyError(f"{where}：应为列表")
            return tuple(str(x) for x in raw)
        if unit == "map":
            if not isinstance(raw, dict):
                raise PolicyError(f"{where}：应为映射（键: 值）")
            return raw
        if unit == "scale":
            tiers = []
            for i, t in enumerate(raw):
                lo = _convert("yuan", t.get("from"), f"{where} 第{i + 1}档 from")
                hi = None if t.get("to") is None else _convert("yuan", t["to"], f"{where} 第{i + 1}档 to")
                rate = _convert("ratio", t.get("rate"), f"{where} 第{i + 1}档 rate")
                if tiers and tiers[-1][1] != lo:
                    raise PolicyError(f"{where}：第{i + 1}档的起点应等于上一档的终点")
                tiers.append((lo, hi, rate))
            return tuple(tiers)
    except (InvalidOperation, ValueError, TypeError, AttributeError):
        raise PolicyError(f"{where}：值 {raw!r} 不符合单位 {unit}") from None
    raise PolicyError(f"{where}：未知单位 {unit}；可选 {', '.join(UNITS)}")


def load_pack(path: Path | str) -> Pack:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"找不到政策包文件 {path}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"政策包 {path.name} 不是有效的 YAML：{exc}") from None
    if not isinstance(doc, dict):
        raise PolicyError(f"政策包 {path.name} 应是一个映射（name、region、parameters …）")
    for key in ("name", "title", "region", "parameters"):
        if key not in doc:
            raise PolicyError(f"政策包 {path.name} 缺少 {key}")
    region = str(doc["region"] or "")
    if region and (not region.isdigit() or len(region) not in (2, 4, 6, 9, 12)):
        raise PolicyError(f"政策包 {path.name}：region “{region}” 应为区划代码前缀（2/4/6/9/12位）或空（全国）")
    pack = Pack(name=doc["name"], title=doc["title"], region=region, extends=doc.get("extends"),
                source=str(doc.get("source", "")), path=str(path))
    for name, spec in (doc["parameters"] or {}).items():
        where = f"政策包 {pack.name} 参数 {name}"
        unit = spec.get("unit")
        if unit not in UNITS:
            raise PolicyError(f"{where}：unit 应为 {', '.join(UNITS)} 之一")
        values = []
        raw_values = spec.get("values") or []
        if not raw_values:
            raise PolicyError(f"{where}：没有 values")
        for i, v in enumerate(raw_values):
            w = f"{where} 第{i + 1}个值"
            if "from" not in v:
                raise PolicyError(f"{w}：缺少 from（生效日期）")
            start = v["from"] if isinstance(v["from"], dt.date) else dt.date.fromisoformat(str(v["from"]))
            source = str(v.get("source") or spec.get("source") or pack.source)
            if not source:
                raise PolicyError(f"{w}：缺少 source（文件号或种子文件名）")
            values.append(Value(start, None, _convert(unit, v.get("value"), w), source, pack.name))
        values.sort(key=lambda v: v.start)
        ends = [v.start for v in values[1:]] + [None]
        explicit_end = spec.get("until")
        if explicit_end is not None:
            ends[-1] = explicit_end if isinstance(explicit_end, dt.date) else dt.date.fromisoformat(str(explicit_end))
        values = [Value(v.start, e, v.value, v.source, v.pack) for v, e in zip(values, ends)]
        if len({v.start for v in values}) != len(values):
            raise PolicyError(f"{where}：有两个值的生效日期相同")
        pack.parameters[name] = Parameter(name, unit, str(spec.get("description", "")), values)
    return pack


class Chain:
    """A pack and the packs it extends, most specific first: where parameter lookups go."""

    def __init__(self, packs: list[Pack]):
        self.packs = packs
        self.key = "/".join(p.name for p in packs)

    @property
    def head(self) -> Pack:
        return self.packs[0]

    def param(self, name: str) -> Parameter | None:
        for p in self.packs:
            if name in p.parameters:
                return p.parameters[name]
        return None

    def lookup(self, name: str, date: dt.date) -> Value:
        known = False
        for p in self.packs:
            param = p.parameters.get(name)
            if param is None:
                continue
            known = True
            v = param.at(date)
            if v is not None:
                return v
        if known:
            raise PolicyError(f"参数 {name} 在 {date} 没有生效的值（政策包 {self.key}）")
        raise PolicyError(f"政策包 {self.key} 及其上级都没有参数 {name}")

    def unit(self, name: str) -> str:
        param = self.param(name)
        if param is None:
            raise PolicyError(f"政策包 {self.key} 及其上级都没有参数 {name}")
        return param.unit

    def timeline(self, name: str) -> list[tuple[dt.date, dt.date | None, Value | None]]:
        """Every segment of time with the value in force, after fallback (for batch mode)."""
        points = sorted({v.start for p in self.packs if name in p.parameters
                         for v in p.parameters[name].values}
                        | {v.end for p in self.packs if name in p.parameters
                           for v in p.parameters[name].values if v.end})
        segments = [(dt.date.min, points[0] if points else None)] if points else []
        segments += [(a, b) for a, b in zip(points, points[1:] + [None])]
        out = []
        for start, end in segments:
            try:
                out.append((start, end, self.lookup(name, start)))
            except PolicyError:
                out.append((start, end, None))
        return out


class PackSet:
    """All shipped packs (and any loaded from a path), resolved into chains."""

    def __init__(self, packs: list[Pack]):
        self.packs = {}
        for p in packs:
            if p.name in self.packs:
                raise PolicyError(f"政策包名称重复：{p.name}（{p.path} 与 {self.packs[p.name].path}）")
            self.packs[p.name] = p
        for p in packs:
            if p.extends and p.extends not in self.packs:
                raise PolicyError(f"政策包 {p.name} 扩展的 {p.extends} 不存在")

    @classmethod
    def shipped(cls, extra: list[Path] | None = None) -> "PackSet":
        paths = sorted(PACK_DIR.glob("*.yaml")) + list(extra or [])
        return cls([load_pack(p) for p in paths])

    def chain(self, name: str) -> Chain:
        if name not in self.packs:
            raise PolicyError(f"没有名为 {name} 的政策包；可用：{', '.join(sorted(self.packs))}")
        chain, seen = [], set()
        pack = self.packs[name]
        while pack is not None:
            if pack.name in seen:
                raise PolicyError(f"政策包 {name} 的扩展关系成环")
            seen.add(pack.name)
            chain.append(pack)
            pack = self.packs.get(pack.extends) if pack.extends else None
        return Chain(chain)

    def for_region(self, code: str, *, family: str | None = None) -> Chain:
        """The most specific pack whose region is a prefix of `code`."""
        matching = [p for p in self.packs.values() if code.startswith(p.region)]
        if not matching:
            raise PolicyError(f"区划 {code} 没有适用的政策包（连全国默认包也没有）")
        longest = max(len(p.region) for p in matching)
        best = [p for p in matching if len(p.region) == longest]
        if len(best) > 1:
            raise PolicyError(f"区划 {code} 同时适用政策包 {'、'.join(sorted(p.name for p in best))}，请只保留一个")
        return self.chain(best[0].name)


@lru_cache(maxsize=1)
def shipped_packs() -> PackSet:
    """The shipped packs, read once per process (every room uses this one copy)."""
    return PackSet.shipped()


def resolve(name_or_path: str) -> tuple[PackSet, Chain]:
    """`--pack NAME_OR_PATH`: a shipped pack by name, or a pack file (which may extend shipped ones)."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        pack = load_pack(path)
        packs = PackSet([p for p in shipped_packs().packs.values() if p.name != pack.name] + [pack])
        return packs, packs.chain(pack.name)
    packs = shipped_packs()
    return packs, packs.chain(name_or_path)
