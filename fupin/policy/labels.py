"""What a person reads for a code the ledger and the rules keep: an entitlement's name and a
payment period, from the rule models that define them (the one mapping; screens, workbooks and
printed forms all ask here)."""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from . import semester


@lru_cache(maxsize=1)
def _entitlements() -> dict[str, str]:
    from .rules import education, health

    return {**{r.name: r.label for r in education.MODEL.rules}, **health.ENTITLEMENT_LABELS}


# the rooms that pay from the ledger without a rule model name their codes here (AppConfig.ready):
# an exact code → its name, or a prefix ('housing.') → the wording of the rest of the code
_NAMED: dict[str, str] = {}
_FAMILIES: dict[str, Callable[[str], str]] = {}


def register(code: str, name: str | Callable[[str], str]) -> None:
    """`register("labour.public_job", "公益性岗位补贴")`, or a family:
    `register("housing.", lambda kind: ...)` (the code's prefix, ending in a dot)."""
    if callable(name):
        _FAMILIES[code] = name
    else:
        _NAMED[code] = name


def entitlement(code: str) -> str:
    """'education.nutrition_meals' → '营养膳食补助', 'welfare.dibao' → '最低生活保障（低保）'; a code
    no rule or room names is shown as it is."""
    code = code or ""
    named = _entitlements().get(code) or _NAMED.get(code)
    if named:
        return named
    prefix = max((p for p in _FAMILIES if code.startswith(p)), key=len, default=None)
    return _FAMILIES[prefix](code[len(prefix):]) if prefix else code


def period(value: str) -> str:
    """'2026-autumn' → '2026年秋季', '2026' → '2026年', '2026-05' → '2026年5月', '2026Q1' → '2026年第1季度',
    '2026-05-01' → '2026年5月1日' (a period that starts that day)."""
    value = str(value or "")
    if re.fullmatch(r"\d{4}", value):
        return f"{value}年"
    m = re.fullmatch(r"(\d{4})-(\d{2})", value)
    if m:
        return f"{m.group(1)}年{int(m.group(2))}月"
    m = re.fullmatch(r"(\d{4})Q([1-4])", value)
    if m:
        return f"{m.group(1)}年第{m.group(2)}季度"
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    if m:
        return f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日"
    return semester.label(value)
