"""Resident ID numbers (GB 11643-1999): normalisation, validation, masking.

Pure Python, no Django: used by forms, the importer, the API and `fupin id check`.
"""
from __future__ import annotations

import datetime as dt
import functools
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

    Why two. An ID is 6 address digits, 8 birth-date digits, 3 sequence digits (the last one odd
    for men) and a check character computed from the first 17 (Σ aᵢ·wᵢ mod 11), so one body in
    11 fits a given check character. Whoever sees a masked ID also knows the village (hence the
    address code), the sex, and the birth year — or the age: about 365 possible birth dates.
    The hidden sequence digits add another 100 (the last one is shown, and gives only the sex),
    and the shown check character keeps one candidate in 11. Showing the last four characters
    (the old mask) left 365 / 11 ≈ 33 candidates, easy to try one by one — and 1 with the birth
    date shown beside it; the last two leave 365 × 100 / 11 ≈ 3,300. `candidates()` counts them
    and the tests require at least 1,000 for every person of the demo county on every surface.

    So beside a masked ID every surface shows the birth year and nothing finer: never the birth
    date, and never the age as well as the year — both together keep only the dates that fit
    both (for someone born on 20 December, seen on 2 December: 29 days, ≈ 260 candidates).
    The year rather than the age, because the age changes on the birthday, so a page read on two
    days would tell the date.
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
    """138****5678: a mobile's network prefix and last four digits (10,000 candidates). A
    shorter (landline) number still hides four digits: 1234****, not 123*5678."""
    n = len(value or "")
    if n >= 11:
        return value[:3] + "*" * (n - 7) + value[-4:]
    if n >= 8:
        return "*" * (n - 4) + value[-4:]
    return (value or "")[:max(n - 4, 0)] + "*" * min(n, 4)


def birth_year(birth: dt.date | None) -> int | None:
    """What every surface shows of a birth date beside a masked ID (see `mask`)."""
    return birth.year if birth else None


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def candidates(masked: str, *, age: int | None = None, birth_year: int | None = None, sex: str | None = None,
               on: dt.date) -> int:
    """How many valid 18-character IDs agree with what is shown: the mask, the age on `on`
    and/or the birth year (given both, only the dates that fit both), and the sex ('M'/'F').
    The measure of "cannot be rebuilt"."""
    if len(masked) != 18:
        raise ValueError("只能计算18位身份证号的候选数")
    if "*" in masked[:6]:
        raise ValueError("地址码被遮住时候选数过多，无需计算")
    if birth_year is not None:
        first, last = dt.date(birth_year, 1, 1), min(dt.date(birth_year, 12, 31), on)
    else:
        first, last = dt.date(1900 if age is None else on.year - age - 1, 1, 1), on
    days = _dates(first, last)
    if age is not None:
        days = [(date, r) for date, r in days
                if age_on(dt.date(int(date[:4]), int(date[4:6]), int(date[6:])), on) == age]
    # The check character depends on the weighted sum mod 11: count the sequence digits by their
    # share of it once, then how many checks each residue of the rest leaves, instead of computing a
    # check character per candidate.
    seqs = _sequence_residues(masked[14:17], sex)
    per_residue = [sum(k for s, k in seqs if masked[17] in ("*", CHECK_CHARS[(r + s) % 11])) for r in range(11)]
    head = sum(int(c) * w for c, w in zip(masked[:6], WEIGHTS))
    shown = [(i, m) for i, m in enumerate(masked[6:14]) if m != "*"]
    return sum(per_residue[(head + r) % 11] for date, r in days if all(date[i] == m for i, m in shown))


@functools.lru_cache(maxsize=64)
def _dates(first: dt.date, last: dt.date) -> tuple[tuple[str, int], ...]:
    """Each day from `first` to `last` as YYYYMMDD, with its share of the weighted sum."""
    out = []
    for i in range((last - first).days + 1):
        date = f"{first + dt.timedelta(days=i):%Y%m%d}"
        out.append((date, sum(int(c) * w for c, w in zip(date, WEIGHTS[6:14]))))
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _sequence_residues(shown: str, sex: str | None) -> tuple[tuple[int, int], ...]:
    """How many sequence numbers fit the shown digits and the sex, by their share of the weighted sum mod 11."""
    seqs: dict[int, int] = {}
    for q in range(1000):
        digits = f"{q:03d}"
        if all(m in ("*", c) for m, c in zip(shown, digits)) and (sex is None or (q % 2 == 1) == (sex == "M")):
            r = sum(int(c) * w for c, w in zip(digits, WEIGHTS[14:17])) % 11
            seqs[r] = seqs.get(r, 0) + 1
    return tuple(seqs.items())


def make_id(prefix6: str, birth: dt.date, seq3: int) -> str:
    """Build a valid ID (used by the demo generator and tests)."""
    body = f"{prefix6}{birth:%Y%m%d}{seq3:03d}"
    return body + check_digit(body)
