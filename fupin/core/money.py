"""Money is integer fen. Conversions to and from yuan go through Decimal, never float."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def yuan_to_fen(value) -> int:
    """'12.345' → 1235 (half up). Accepts str, int or Decimal; a float is refused."""
    if isinstance(value, float):
        raise TypeError("金额不能用浮点数表示")
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fen_to_yuan_str(fen: int, *, grouping: bool = False) -> str:
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    whole = f"{yuan:,}" if grouping else str(yuan)
    return f"{sign}{whole}.{cents:02d}"
