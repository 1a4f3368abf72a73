"""The programme kinds and indicators of policies/lists/public_health.yaml (read once)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

LIST = Path(__file__).resolve().parents[2] / "policies" / "lists" / "public_health.yaml"
SCALES = {"percent": (100, "%"), "permille": (1000, "‰"), "per100k": (100_000, "/10万"), "per1000": (1000, "名/千人")}


@lru_cache(maxsize=1)
def _doc() -> dict:
    return yaml.safe_load(LIST.read_text(encoding="utf-8"))


def programmes() -> dict[str, dict]:
    return {p["code"]: p for p in _doc()["programmes"]["kinds"]}


def indicators() -> dict[str, dict]:
    return {i["code"]: i for i in _doc()["indicators"]}
