"""Money is integer fen. Yuan → fen is `fupin.policy.money.parse_yuan` (the one parser, used by
forms through `core.forms.YuanField`, the API and the importers); fen → yuan is `policy.money.yuan`."""
from __future__ import annotations


def fen_to_yuan_str(fen: int, *, grouping: bool = False) -> str:
    from fupin.policy.money import yuan

    return yuan(fen, grouping=grouping)


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ["", "拾", "佰", "仟"]
_SECTIONS = ["", "万", "亿", "万亿"]


def amount_in_words(fen: int) -> str:
    """大写金额 as printed on receipts: 9980.00 → 玖仟玖佰捌拾元整; 1359.87 → 壹仟叁佰伍拾玖元捌角柒分."""
    if fen < 0:
        return "负" + amount_in_words(-fen)
    yuan, cents = divmod(int(fen), 100)
    jiao, fen_ = divmod(cents, 10)
    words = ""
    if yuan:
        groups = []
        while yuan:
            yuan, g = divmod(yuan, 10000)
            groups.append(g)
        out, zero = "", False
        for idx in range(len(groups) - 1, -1, -1):
            g = groups[idx]
            if g == 0:
                zero = bool(out)
                continue
            part, pzero = "", False
            for pos in range(3, -1, -1):
                d = (g // 10 ** pos) % 10
                if d == 0:
                    pzero = bool(part) or bool(out)
                    continue
                if pzero or (zero and not part):
                    part += "零"
                part += _DIGITS[d] + _UNITS[pos]
                pzero = zero = False
            out += part + _SECTIONS[idx]
            zero = g % 10 == 0
        words = out + "元"
    if not jiao and not fen_:
        return (words or "零元") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if fen_:
        words += _DIGITS[fen_] + "分"
    else:
        words += "整"
    return words
