"""Semesters: the one parser and the one label.

Stored as "2026-autumn" (sorts, and is what the packs' `education.semester_start.<term>` keys
name); typed or imported as "2026年秋季", "2026秋", "2026年秋季学期" or the stored form; shown
as "2026年秋季". Every form, import column, API field and screen goes through this module."""
from __future__ import annotations

import datetime as dt
import re

from .errors import PolicyError

TERMS = {"spring": "春季", "autumn": "秋季"}
_WORDS = {"春": "spring", "春季": "spring", "秋": "autumn", "秋季": "autumn", "spring": "spring", "autumn": "autumn"}
_PATTERN = re.compile(r"^\s*(\d{4})\s*(?:年|-|\s)?\s*(春季|秋季|春|秋|spring|autumn)\s*(?:学期)?\s*$", re.IGNORECASE)


class SemesterError(PolicyError):
    """The text names no semester; the message says how to write one."""


def parse(text: str) -> tuple[int, str]:
    """(year, "spring" | "autumn") of any accepted spelling, or SemesterError in Chinese."""
    m = _PATTERN.match(str(text or ""))
    if not m:
        raise SemesterError(f"学期“{str(text or '')[:30]}”应写作 2027年春季 或 2026年秋季")
    return int(m.group(1)), _WORDS[m.group(2).lower()]


def code(text: str) -> str:
    """The stored form ("2027-spring") of any accepted spelling."""
    year, term = parse(text)
    return f"{year}-{term}"


def label(value: str) -> str:
    """"2027年春季" for any accepted spelling; text that names no semester is shown as it is."""
    try:
        year, term = parse(value)
    except SemesterError:
        return str(value or "")
    return f"{year}年{TERMS[term]}"


def current(today: dt.date) -> str:
    """The semester `today` falls in: autumn from July."""
    return f"{today.year}-{'autumn' if today.month >= 7 else 'spring'}"


def recent(today: dt.date, *, back: int = 3, ahead: int = 1) -> list[tuple[str, str]]:
    """(code, label) choices around today, newest first: for a semester picker."""
    year, term = parse(current(today))
    index = year * 2 + (term == "autumn")
    out = []
    for i in range(index + ahead, index - back - 1, -1):
        year, term = divmod(i, 2)
        c = f"{year}-{'autumn' if term else 'spring'}"
        out.append((c, label(c)))
    return out
