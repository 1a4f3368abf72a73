"""Money as people read it: integer fen shown as yuan with two decimals. The one formatter
(`fupin.core.money.fen_to_yuan_str` uses it too)."""


def yuan(fen: int, *, grouping: bool = False) -> str:
    """123456 → '1234.56' (or '1,234.56'); -5 → '-0.05'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}" if grouping else f"{sign}{whole}.{cents:02d}"
