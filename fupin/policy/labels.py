"""What a person reads for a code the ledger and the rules keep: an entitlement's name and a
payment period, from the rule models that define them (the one mapping; screens, workbooks and
printed forms all ask here)."""
from __future__ import annotations

import re
from functools import lru_cache

from . import semester


@lru_cache(maxsize=1)
def _entitlements() -> dict[str, str]:
    from .rules import education, health

    return {**{r.name: r.label for r in education.MODEL.rules}, **health.ENTITLEMENT_LABELS}


def entitlement(code: str) -> str:
    """'education.nutrition_meals' → '营养膳食补助'; a code no rule defines is shown as it is."""
    return _entitlements().get(code or "", code or "")


def period(value: str) -> str:
    """'2026-autumn' → '2026年秋季', '2026' → '2026年', '2026-05' → '2026年5月'."""
    value = str(value or "")
    if re.fullmatch(r"\d{4}", value):
        return f"{value}年"
    m = re.fullmatch(r"(\d{4})-(\d{2})", value)
    if m:
        return f"{m.group(1)}年{int(m.group(2))}月"
    return semester.label(value)
