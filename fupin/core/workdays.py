"""Working-day deadlines for the rooms: the policy calendar (fupin/policy/calendar.py), with its
refusal of a year whose holiday arrangement is not entered turned into a message for the user.
The one path every room counts deadlines by: a page, a job or the public declaration form then
answers that message, never a server error."""
from __future__ import annotations

import datetime as dt

from fupin.policy import calendar
from fupin.policy.errors import PolicyError

from .errors import FupinError


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The date n working days after `start` (start itself not counted)."""
    try:
        return calendar.add_working_days(start, n)
    except PolicyError as exc:
        raise FupinError(exc.message) from None
