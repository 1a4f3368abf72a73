"""Money as people read and write it: integer fen ↔ yuan. The one formatter (`yuan`, which
`fupin.core.money.fen_to_yuan_str` uses too) and the one parser (`parse_yuan`): every amount
typed on a screen, sent to the API or the calculators, or written in a pack goes through it.
No Django here."""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from .errors import PolicyError

LIMITS_FILE = Path(__file__).resolve().parents[2] / "policies" / "limits.yaml"

# "1234", "1234.5", "1234.56", "1,234.56" — digits (grouped by threes or not), at most two decimals
_YUAN = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]{1,2})?")


class MoneyError(PolicyError, ValueError):
    """An amount that cannot be taken as money. `field` names the amount, `problem` says what is
    wrong (both Chinese); `message` is the two together, for a screen or a JSON error."""

    def __init__(self, field: str, problem: str):
        self.field = field
        self.problem = problem
        super().__init__(f"{field}：{problem}" if field else problem)


def yuan(fen: int, *, grouping: bool = False) -> str:
    """123456 → '1234.56' (or '1,234.56'); -5 → '-0.05'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}" if grouping else f"{sign}{whole}.{cents:02d}"


@lru_cache(maxsize=1)
def limits() -> dict:
    """policies/limits.yaml: the largest amount, the range of ratios and counts."""
    import yaml

    try:
        doc = yaml.safe_load(LIMITS_FILE.read_text(encoding="utf-8"))
        max_fen = _decimal_fen(Decimal(str(doc["money"]["max_yuan"])))
        return {"max_fen": max_fen, "ratio_min": Decimal(str(doc["ratio"]["min"])),
                "ratio_max": Decimal(str(doc["ratio"]["max"])), "count_max": int(doc["count"]["max"])}
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, InvalidOperation):
        raise PolicyError(f"金额上限文件 {LIMITS_FILE} 缺失或格式不对（应有 money.max_yuan、ratio.min/max、count.max）") from None


def max_fen() -> int:
    """The largest amount (fen) any single money value may hold (policies/limits.yaml)."""
    return limits()["max_fen"]


def _decimal_fen(d: Decimal) -> int | None:
    """Fen for a finite Decimal with at most two decimals, else None (a huge value gives a
    huge int without building a million-digit number first)."""
    if not d.is_finite():
        return None
    if d.adjusted() > 30:   # far above any limit: say so without the exact (huge) number
        return 10 ** 33 if d > 0 else -10 ** 33
    fen = d * 100
    if fen != fen.to_integral_value():
        return None
    return int(fen)


def parse_yuan(value, field: str = "", *, signed: bool = False, maximum: int | None = None) -> int:
    """An amount in yuan → integer fen, or MoneyError with a Chinese message naming `field`.

    Accepted: an int (yuan), a Decimal, or a string of digits with at most two decimals
    ("1234.56", "1,234.56", "１２３４．５６", surrounding spaces ignored; "-12.30" only when `signed`).
    Refused: floats (binary, inexact: write "100000.00"), bools, None, lists, exponents,
    "Infinity"/"NaN", a third decimal (never rounded), negative amounts (unless `signed`), and
    amounts whose size exceeds `maximum` fen (default: policies/limits.yaml money.max_yuan).
    """
    limit = max_fen() if maximum is None else maximum
    example = "如 \"1234.56\""
    shape = f"应为{'' if signed else '不小于0、'}最多两位小数的金额（元），{example}"
    if isinstance(value, bool) or value is None:
        raise MoneyError(field, f"缺少金额或不是金额（{_json_name(value)}），{shape}")
    if isinstance(value, float):
        raise MoneyError(field, f"应写成字符串或整数形式的元，{example}，不能用浮点数")
    if isinstance(value, int):
        fen = value * 100
    elif isinstance(value, Decimal):
        fen = _decimal_fen(value)
        if fen is None:
            raise MoneyError(field, f"“{value}”{shape}")
    elif isinstance(value, str):
        # full-width digits, point, comma and minus (a Chinese input method's １２００．５０) read as ASCII
        text = unicodedata.normalize("NFKC", value).strip()
        negative = signed and text.startswith("-")
        body = text[1:] if negative else text
        if not _YUAN.fullmatch(body):
            raise MoneyError(field, f"“{_short(value)}”{shape}")
        fen = _decimal_fen(Decimal(body.replace(",", "")))
        fen = -fen if negative else fen
    else:
        raise MoneyError(field, f"应为金额（元），不能是{_json_name(value)}；{example}")
    if fen < 0 and not signed:
        raise MoneyError(field, f"“{_short(value)}”{shape}")
    if abs(fen) > limit:
        raise MoneyError(field, f"金额 {_short(value)} 元超过上限 {yuan(limit, grouping=True)} 元，请核对")
    return fen


def _short(value) -> str:
    if isinstance(value, int) and value.bit_length() > 128:
        return "（超过39位数字）"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _json_name(value) -> str:
    if value is None:
        return "空值 null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (list, tuple)):
        return "列表"
    if isinstance(value, dict):
        return "对象"
    return type(value).__name__
