"""A computation's explanation as a sentence an officer can repeat to a parent or a patient.

The engine's explanation (rule, pack chain, parameters with sources, inputs, branches) is kept as
the engine gave it; this module words it: a sentence, and the trace one click away, both by the
parameters' descriptions, never their codes. Pack chains are named by the
region their first pack is for ("四川某县"), never by the pack's file name."""
from __future__ import annotations

import re

from .errors import PolicyError
from .packs import PackSet, shipped_packs


def pack_title(chain: str, packs: PackSet | None = None) -> str:
    """'sc-513435/sc-province/cn-national' → '四川某县'; several chains ('a/b, c/d') → each,
    joined by '、'. A name no pack has is shown as it is."""
    packs = packs or shipped_packs()
    titles = []
    for one in re.split(r"[,，、;；]\s*", str(chain or "")):
        head = one.strip().split("/")[0]
        if not head:
            continue
        pack = packs.packs.get(head)
        title = pack.title.split("（")[0].strip() if pack else head
        if title not in titles:
            titles.append(title)
    return "、".join(titles)


def _code_names() -> dict[str, str]:
    """The words for the codes a rule's list parameter holds (categories, visit types, levels, welfare classes)."""
    from .rules.health import CATEGORY_LABELS, LEVEL_LABELS, VISIT_LABELS
    from .rules.welfare import LABELS as WELFARE_LABELS

    return {**WELFARE_LABELS, **LEVEL_LABELS, **VISIT_LABELS, **CATEGORY_LABELS}


def _percent(value) -> str:
    from decimal import Decimal, InvalidOperation

    try:
        return f"{(Decimal(str(value)) * 100).normalize():f}%"
    except InvalidOperation:
        return str(value)


def _value(unit: str, value) -> str:
    if unit == "yuan":
        return f"{value} 元"
    if unit == "bool" or isinstance(value, bool):
        return "是" if value else "否"
    if unit == "ratio":
        return _percent(value)
    if unit == "scale" and isinstance(value, (list, tuple)):
        # bands of an amount, each with its rate: "0.00～50000.00 元 60%；100000.00 元以上 80%"
        return "；".join(f"{b.get('from')}～{b.get('to')} 元 {_percent(b.get('rate'))}" if b.get("to") is not None
                        else f"{b.get('from')} 元以上 {_percent(b.get('rate'))}" for b in value if isinstance(b, dict))
    if isinstance(value, (list, tuple)):
        names = _code_names()
        return "、".join(names.get(str(v), str(v)) for v in value)
    return str(value)


def _listed_choice(description: str, value) -> tuple[str, str] | None:
    """A text parameter whose description lists its values ('学前保教费减免方式：none 不减免，actual 按实际
    收费减免'): (the description before the list, the words of `value`); None if it lists none."""
    head, sep, listed = description.partition("：")
    m = re.search(rf"(?:^|[，,、；;])\s*{re.escape(str(value))}\s+([^，,、；;]+)", listed) if sep else None
    return (head, m.group(1).strip()) if m else None


def worded(chain, key: str, p: dict) -> tuple[str, str] | None:
    """A parameter of an explanation as read: (what it is, its value), e.g. ('小学寄宿生每年生活补助',
    '1000.00 元'), ('学前保教费减免方式', '按实际收费减免'); None if no pack of `chain` describes it."""
    param = described(chain, key) if chain else None
    what = (param.description if param else "").rstrip("：:")
    if not what:
        return None
    if param.unit == "text" and (choice := _listed_choice(what, p.get("value"))):
        return choice
    return what, _value(param.unit, p.get("value"))


def _chain_of(explanation: dict, packs: PackSet):
    head = str(explanation.get("pack", "")).split("/")[0]
    try:
        return packs.chain(head) if head in packs.packs else None
    except PolicyError:
        return None


def trace(explanation: dict, packs: PackSet | None = None) -> list[str]:
    """The computation step by step, as the officer's "计算过程" shows it: the policy's region, each
    condition the rule took, each parameter by its description with its value, since when and its
    source. A parameter no pack describes is named "（未说明的参数）", never by its code."""
    packs = packs or shipped_packs()
    chain = _chain_of(explanation, packs)
    lines = [f"政策：{pack_title(explanation.get('pack', ''), packs)}"] if explanation.get("pack") else []
    lines += list(explanation.get("branches", []))
    for key, p in (explanation.get("parameters") or {}).items():
        what, value = worded(chain, key, p) or ("（未说明的参数）", _value(_unit(chain, key), p.get("value")))
        since = f"{p['from']}起，" if p.get("from") else ""
        lines.append(f"{what}：{value}（{since}{p.get('source', '')}）")
    return lines


def _unit(chain, key: str) -> str:
    """The unit a pack of `chain` gives the parameter `key` ("" if none defines it)."""
    return next((pk.parameters[key].unit for pk in (chain.packs if chain else ()) if key in pk.parameters), "")


def described(chain, key: str):
    """The parameter `key` as the most general pack of `chain` that describes it defines it (a county
    pack's wording may be a local note), or None."""
    return next((pk.parameters[key] for pk in reversed(chain.packs)
                 if key in pk.parameters and pk.parameters[key].description), None)


def sentence(explanation: dict, packs: PackSet | None = None) -> str:
    """E.g. '按四川某县的政策，义务教育生活补助 500.00 元。条件：义务教育且家庭经济困难、
    寄宿生、小学。标准：小学寄宿生每年生活补助 1000.00 元（《扶贫工作计划》（乡镇）：小学每生每学期500元）。'"""
    packs = packs or shipped_packs()
    chain_name = str(explanation.get("pack", ""))
    where = pack_title(chain_name, packs)
    words = [f"按{where}的政策，" if where else "", f"{explanation.get('label', '')} {explanation.get('amount', '')} 元。"]
    conditions = [b[:-2] if b.endswith("：是") else b for b in explanation.get("branches", [])]
    if conditions:
        words.append("条件：" + "、".join(conditions) + "。")
    standards = []
    chain = _chain_of(explanation, packs)
    for key, p in (explanation.get("parameters") or {}).items():
        said = worded(chain, key, p)
        if said is None:
            continue   # a parameter without a description is left to the trace
        standards.append(f"{said[0]} {said[1]}（{p.get('source', '')}）")
    if standards:
        words.append("标准：" + "；".join(standards) + "。")
    return "".join(words)
