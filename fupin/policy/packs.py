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
from .money import limits, max_fen, yuan

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


def _number(raw, where: str, what: str) -> Decimal:
    """A YAML number or numeric string as an exact Decimal; .inf, .nan, true/false are refused."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise PolicyError(f"{where}：{what}应为数字，实际为 {raw!r}")
    try:
        # a YAML float such as 6.5 is written back as its shortest form ("6.5"), never binary noise
        d = Decimal(repr(raw) if isinstance(raw, float) else str(raw).strip())
    except InvalidOperation:
        raise PolicyError(f"{where}：{what} {raw!r} 不是数字") from None
    if not d.is_finite():
        raise PolicyError(f"{where}：{what} {raw} 不是有限的数（不能写 .inf、.nan）")
    return d


def _date(raw, where: str, what: str) -> dt.date:
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise PolicyError(f"{where}：{what} {raw!r} 不是有效日期，应写作 YYYY-MM-DD") from None


def _convert(unit: str, raw, where: str, maximum: int | None = None):
    """A pack value as the engine holds it, checked completely (docs/policy-packs.md, units):
    money within the declared maximum, ratios within policies/limits.yaml, valid dates."""
    lim = limits()
    if raw is None:
        raise PolicyError(f"{where}：缺少 value")
    if unit == "yuan":
        d = _number(raw, where, "金额")
        fen = d * 100
        if fen != fen.to_integral_value() or d < 0:
            raise PolicyError(f"{where}：金额 {raw} 应为不小于0、最多两位小数的元")
        top = max_fen() if maximum is None else maximum
        if fen > top:
            raise PolicyError(f"{where}：金额 {raw} 元超过上限 {yuan(top, grouping=True)} 元"
                              f"（{'该参数的 max' if maximum is not None else 'policies/limits.yaml money.max_yuan'}），请核对")
        return int(fen)
    if unit == "ratio":
        d = _number(raw, where, "比例")
        m = d * RATIO_SCALE
        if m != m.to_integral_value() or not (lim["ratio_min"] <= d <= lim["ratio_max"]):
            raise PolicyError(f"{where}：比例 {raw} 应为{lim['ratio_min']}到{lim['ratio_max']}之间、最多六位小数"
                              f"（如 0.75 表示 75%）")
        return int(m)
    if unit == "count":
        d = _number(raw, where, "数量")
        if d != d.to_integral_value() or d < 0 or d > lim["count_max"]:
            raise PolicyError(f"{where}：应为0到{lim['count_max']}之间的整数，实际为 {raw}")
        return int(d)
    if unit == "bool":
        if not isinstance(raw, bool):
            raise PolicyError(f"{where}：应为 true 或 false，实际为 {raw}")
        return raw
    if unit == "text":
        if isinstance(raw, (dict, list)):
            raise PolicyError(f"{where}：应为一段文字，实际为 {raw!r}")
        return str(raw)
    if unit == "date":
        return _date(raw, where, "日期")
    if unit == "list":
        if not isinstance(raw, list) or any(isinstance(x, (dict, list)) or x is None for x in raw):
            raise PolicyError(f"{where}：应为列表（如 [registered_poor, dibao]）")
        return tuple(str(x) for x in raw)
    if unit == "map":
        if not isinstance(raw, dict):
            raise PolicyError(f"{where}：应为映射（键: 值）")
        return raw
    if unit == "scale":
        if not isinstance(raw, list) or not raw:
            raise PolicyError(f"{where}：分档应为非空列表，如 [{{from: 0, to: 50000, rate: 0.6}}, …]")
        tiers = []
        for i, t in enumerate(raw):
            if not isinstance(t, dict):
                raise PolicyError(f"{where}：第{i + 1}档应为映射 {{from, to, rate}}")
            lo = _convert("yuan", t.get("from"), f"{where} 第{i + 1}档 from", maximum)
            hi = None if t.get("to") is None else _convert("yuan", t["to"], f"{where} 第{i + 1}档 to", maximum)
            rate = _convert("ratio", t.get("rate"), f"{where} 第{i + 1}档 rate")
            if tiers and tiers[-1][1] != lo:
                raise PolicyError(f"{where}：第{i + 1}档的起点应等于上一档的终点")
            if hi is not None and hi <= lo:
                raise PolicyError(f"{where}：第{i + 1}档的终点应大于起点")
            if hi is None and i != len(raw) - 1:
                raise PolicyError(f"{where}：只有最后一档可以不写终点（to: null）")
            tiers.append((lo, hi, rate))
        return tuple(tiers)
    raise PolicyError(f"{where}：未知单位 {unit}；可选 {', '.join(UNITS)}")


def load_pack(path: Path | str) -> Pack:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"找不到政策包文件 {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"读不出政策包文件 {path}：{exc}") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"政策包 {path.name} 不是有效的 YAML：{exc}") from None
    except (ValueError, OverflowError):   # YAML reads 2024-02-30 as a date and fails on it
        raise PolicyError(f"政策包 {path.name} 中有不存在的日期（如 2024-02-30）；日期应写作 YYYY-MM-DD 且确实存在") from None
    return parse_pack(doc, path)


def parse_pack(doc, path: Path | str) -> Pack:
    """A pack from its parsed YAML, validated completely: a wrong pack is refused when it is
    loaded, never when a case first reads the wrong value."""
    path = Path(path)
    if not isinstance(doc, dict):
        raise PolicyError(f"政策包 {path.name} 应是一个映射（name、region、parameters …）")
    for key in ("name", "title", "region", "parameters"):
        if key not in doc:
            raise PolicyError(f"政策包 {path.name} 缺少 {key}")
    if not isinstance(doc["name"], str) or not doc["name"].strip():
        raise PolicyError(f"政策包 {path.name}：name 应为非空文字")
    region = str(doc["region"] or "")
    if region and (not region.isdigit() or len(region) not in (2, 4, 6, 9, 12)):
        raise PolicyError(f"政策包 {path.name}：region “{region}” 应为区划代码前缀（2/4/6/9/12位）或空（全国）")
    if doc["parameters"] is not None and not isinstance(doc["parameters"], dict):
        raise PolicyError(f"政策包 {path.name}：parameters 应为映射（参数名: {{unit, values}}）")
    pack = Pack(name=doc["name"], title=str(doc["title"]), region=region,
                extends=None if doc.get("extends") is None else str(doc["extends"]),
                source=str(doc.get("source", "")), path=str(path))
    for name, spec in (doc["parameters"] or {}).items():
        where = f"政策包 {pack.name} 参数 {name}"
        if not isinstance(spec, dict):
            raise PolicyError(f"{where}：应为映射（unit、values …）")
        unit = spec.get("unit")
        if unit not in UNITS:
            raise PolicyError(f"{where}：unit 应为 {', '.join(UNITS)} 之一")
        maximum = None
        if spec.get("max") is not None:   # a parameter may declare a lower maximum than the global one
            if unit not in ("yuan", "scale"):
                raise PolicyError(f"{where}：只有金额（yuan、scale）参数可以写 max")
            maximum = _convert("yuan", spec["max"], f"{where} max")
        values = []
        raw_values = spec.get("values") or []
        if not isinstance(raw_values, list) or not raw_values:
            raise PolicyError(f"{where}：没有 values（应为列表，每项 {{from, value, source}}）")
        for i, v in enumerate(raw_values):
            w = f"{where} 第{i + 1}个值"
            if not isinstance(v, dict):
                raise PolicyError(f"{w}：应为映射 {{from, value, source}}")
            if "from" not in v:
                raise PolicyError(f"{w}：缺少 from（生效日期）")
            start = _date(v["from"], w, "from（生效日期）")
            source = str(v.get("source") or spec.get("source") or pack.source)
            if not source:
                raise PolicyError(f"{w}：缺少 source（文件号或种子文件名）")
            values.append(Value(start, None, _convert(unit, v.get("value"), w, maximum), source, pack.name))
        values.sort(key=lambda v: v.start)
        ends = [v.start for v in values[1:]] + [None]
        explicit_end = spec.get("until")
        if explicit_end is not None:
            ends[-1] = _date(explicit_end, where, "until（停止日期）")
            if ends[-1] <= values[-1].start:
                raise PolicyError(f"{where}：until {ends[-1]} 应晚于最后一个值的生效日期 {values[-1].start}")
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
        # (parameter, date) → (value, its explanation entry): filled by the interpreter, as the
        # packs of a chain never change once loaded
        self.noted: dict = {}
        self._derived: dict = {}

    def derived(self, what, date: dt.date, compute):
        """`compute(self, date)`, a value made from this chain's parameters on one date (a rule set's
        model, its payer chain; `what`, any hashable, names it), computed once per chain and date:
        the packs of a chain never change once loaded. A refusal (PolicyError) is not kept: it is
        raised again each time."""
        key = (what, date)
        try:
            return self._derived[key]
        except KeyError:
            value = self._derived[key] = compute(self, date)
            return value

    @property
    def head(self) -> Pack:
        return self.packs[0]

    def param(self, name: str) -> Parameter | None:
        for p in self.packs:
            if name in p.parameters:
                return p.parameters[name]
        return None

    def lookup(self, name: str, date: dt.date) -> Value:
        found = []
        for p in self.packs:
            param = p.parameters.get(name)
            if param is None:
                continue
            found.append(param)
            v = param.at(date)
            if v is not None:
                return v
        if found:
            # said in words (a window clerk reads it): what, by its description, and from when it applies
            what = next((x.description for x in found if x.description), "") or "所需的政策规定"
            what = what.split("（")[0]
            starts = [v.start for x in found for v in x.values]
            title = self.packs[0].title.split("（")[0].strip()
            if starts and min(starts) > date:
                raise PolicyError(f"按{title}的政策，{what}自 {min(starts):%Y-%m-%d} 起施行，"
                                  f"{date:%Y-%m-%d} 尚未生效；请核对日期")
            raise PolicyError(f"按{title}的政策，{what}在 {date:%Y-%m-%d} 未生效；请核对日期")
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
        self._chains: dict[str, Chain] = {}   # each chain built once (a settlement asks several times)

    @classmethod
    def shipped(cls, extra: list[Path] | None = None) -> "PackSet":
        paths = sorted(PACK_DIR.glob("*.yaml")) + list(extra or [])
        return cls([load_pack(p) for p in paths])

    def chain(self, name: str) -> Chain:
        if name in self._chains:
            return self._chains[name]
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
        return self._chains.setdefault(name, Chain(chain))

    def key_width(self) -> int:
        """How many leading characters of a region code decide its chain (no pack region is
        longer): a batch looks up one chain per such prefix, not per village."""
        return max((len(p.region) for p in self.packs.values()), default=0)

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


def derived(chain, what, date: dt.date, compute):
    """`Chain.derived`, or for a stand-in that is not a Chain (tests' own chains) `compute` each time."""
    keep = getattr(chain, "derived", None)
    return compute(chain, date) if keep is None else keep(what, date, compute)


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
