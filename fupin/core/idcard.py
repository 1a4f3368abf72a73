"""Resident ID numbers (GB 11643-1999): normalisation, validation, masking.

Pure Python, no Django: used by forms, the importer, the API and `fupin id check`.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# First two digits of GB/T 2260 province-level codes.
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)


@dataclass(frozen=True)
class IdCheck:
    id: str  # as normalised (what would be stored)
    valid: bool
    error: str | None  # Chinese message, or None
    birth_date: dt.date | None
    sex: str | None  # "男" / "女"

    def as_json(self, original: str) -> dict:
        return {
            "id": original,
            "normalized": self.id,
            "valid": self.valid,
            "error": self.error,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex,
        }


def normalize(raw: str) -> str:
    """Full-width → half-width, remove all whitespace, lower-case x → X."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(text.split())
    return text.upper()


def check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def check(raw: object, *, today: dt.date | None = None) -> IdCheck:
    """Validate one resident ID number and say in Chinese what is wrong."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return IdCheck("", False, "证件号码为空", None, None)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return IdCheck(
            str(raw), False,
            f"证件号码被存成了数字（{raw:.5E}），后几位已丢失；请把该列设为“文本”格式后重新录入",
            None, None,
        )
    value = normalize(str(raw))
    if len(value) == 15 and value.isdigit():
        return IdCheck(value, False, "这是15位旧身份证号，请换成18位新号码", None, None)
    if len(value) != 18:
        return IdCheck(value, False, f"身份证号应为18位，实际为{len(value)}位", None, None)
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        return IdCheck(value, False, "身份证号前17位须为数字，最后一位为数字或X", None, None)
    if value[:2] not in PROVINCE_CODES:
        return IdCheck(value, False, f"前6位地址码 {value[:6]} 不是有效的省级行政区划代码", None, None)
    if value[2:6] == "0000":
        return IdCheck(value, False, f"前6位地址码 {value[:6]} 不是县级行政区划代码", None, None)
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return IdCheck(value, False, f"出生日期 {value[6:14]} 不存在", None, None)
    today = today or dt.date.today()
    if birth > today:
        return IdCheck(value, False, f"出生日期 {birth.isoformat()} 晚于今天", None, None)
    if birth.year < 1800:
        return IdCheck(value, False, f"出生日期 {birth.isoformat()} 早于1800年，不可能", None, None)
    expected = check_digit(value[:17])
    if value[17] != expected:
        return IdCheck(value, False, f"校验码错误：最后一位应为 {expected}，实际为 {value[17]}", birth, None)
    sex = "男" if int(value[16]) % 2 == 1 else "女"
    return IdCheck(value, True, None, birth, sex)


def facts(valid_id: str) -> tuple[dt.date, str]:
    """Birth date and sex of an ID that has already passed `check`."""
    return dt.date(int(valid_id[6:10]), int(valid_id[10:12]), int(valid_id[12:14])), \
        ("男" if int(valid_id[16]) % 2 else "女")


def mask(value: str | None) -> str:
    """513435**********2X: the address code and the last two characters only.

    Why two: whoever sees a masked ID also sees the person's age or birth year, sex and village.
    The age leaves about 365 possible birth dates; the hidden sequence digits another 100 (the
    last sequence digit is shown); the check character keeps one candidate in 11. Showing the
    last four characters (the old mask) left 365 / 11 ≈ 33 candidates, easy to try one by one;
    the last two leave 365 × 100 / 11 ≈ 3,300. `candidates()` counts them exactly and the tests
    require at least 1,000 for every person of the demo county.
    """
    if not value:
        return ""
    if len(value) <= 10:
        return value[:2] + "*" * max(len(value) - 4, 0) + value[-2:]
    return value[:6] + "*" * (len(value) - 8) + value[-2:]


def mask_bank(value: str | None) -> str:
    """Bank account: keep the last four digits only."""
    if not value:
        return ""
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask_phone(value: str | None) -> str:
    """138****5678: a mobile's network prefix and last four digits (10,000 candidates)."""
    if not value:
        return ""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on `day` (what a screen shows instead of the birth date)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def candidates(masked: str, *, age: int | None = None, birth_year: int | None = None, sex: str | None = None,
               on: dt.date) -> int:
    """How many valid 18-character IDs agree with what a masked screen shows: the mask, the
    age on `on` (or the birth year) and the sex ('M'/'F'). The measure of "cannot be rebuilt"."""
    if len(masked) != 18:
        raise ValueError("只能计算18位身份证号的候选数")
    if age is not None:
        first, last = dt.date(on.year - age - 1, on.month, 1), on
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        days = [d for d in days if age_on(d, on) == age]
    elif birth_year is not None:
        days = [dt.date(birth_year, 1, 1) + dt.timedelta(days=i) for i in range(366)]
        days = [d for d in days if d.year == birth_year]
    else:
        days = [dt.date(1900, 1, 1) + dt.timedelta(days=i) for i in range((on - dt.date(1900, 1, 1)).days + 1)]
    if "*" in masked[:6]:
        raise ValueError("地址码被遮住时候选数过多，无需计算")
    seqs = [f"{q:03d}" for q in range(1000)
            if all(m in ("*", c) for m, c in zip(masked[14:17], f"{q:03d}")) and (sex is None or (q % 2 == 1) == (sex == "M"))]
    n = 0
    for d in days:
        date = f"{d:%Y%m%d}"
        if not all(m in ("*", c) for m, c in zip(masked[6:14], date)):
            continue
        for seq in seqs:
            body = masked[:6] + date + seq
            if masked[17] in ("*", check_digit(body)):
                n += 1
    return n


def make_id(prefix6: str, birth: dt.date, seq3: int) -> str:
    """Build a valid ID (used by the demo generator and tests)."""
    body = f"{prefix6}{birth:%Y%m%d}{seq3:03d}"
    return body + check_digit(body)
