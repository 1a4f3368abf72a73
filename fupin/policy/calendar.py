"""The Chinese working-day calendar: weekends, official holidays and make-up working days (调休),
kept as yearly data files in policies/calendar/. A year without a file is an error, never a guess."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import PolicyError

CAL_DIR = Path(__file__).resolve().parents[2] / "policies" / "calendar"


@lru_cache(maxsize=32)
def _year(year: int) -> tuple[frozenset, frozenset, dict]:
    path = CAL_DIR / f"cn-{year}.yaml"
    if not entered(year):
        # the words a county officer reads; where the file goes is for the administrator (docs/policy-packs.md)
        raise PolicyError(f"系统还没有录入 {year} 年的法定节假日和调休安排，无法推算办理期限。"
                          f"请联系系统管理员按国务院办公厅 {year} 年部分节假日安排的通知录入后再办理")
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    holidays, names = set(), {}
    for h in doc.get("holidays", []):
        d = h["from"]
        while d <= h["to"]:
            holidays.add(d)
            names[d] = h["name"]
            d += dt.timedelta(days=1)
    return frozenset(holidays), frozenset(doc.get("workdays", [])), names


def entered(year: int) -> bool:
    """Whether the year's holiday arrangement has been entered."""
    return (CAL_DIR / f"cn-{year}.yaml").exists()


def is_working_day(day: dt.date) -> bool:
    holidays, workdays, _ = _year(day.year)
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def holiday_name(day: dt.date) -> str | None:
    return _year(day.year)[2].get(day)


def next_working_day(day: dt.date) -> dt.date:
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The date n working days after `start` (start itself not counted)."""
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in [start, end] inclusive."""
    n, day = 0, start
    while day <= end:
        n += is_working_day(day)
        day += dt.timedelta(days=1)
    return n
