"""The demo clock: in demo mode only, the whole app may run some days ahead of the real date, so
a visitor can let a 7-day public notice (or any deadline from the packs) run its course in one
sitting (`fupin demo clock +7d`).

The offset lives in a small file (settings.DEMO_CLOCK_FILE) so the command and the running server
share it. Outside demo mode nothing here has any effect: `install()` does nothing, the shifted
clock reads no file and answers the real time, and the command refuses."""
from __future__ import annotations

import datetime as dt
import re
import time

from django.conf import settings
from django.utils import timezone

from .errors import FupinError, InvalidInput

_REAL_NOW = timezone.now
_cache = {"read_at": -1e9, "days": 0}
RECHECK_SECONDS = 1.0   # how often the server looks at the file (a command's change shows within a second)


def offset_days() -> int:
    """Days the demo clock runs ahead (0 outside demo mode, or when never moved)."""
    if not settings.DEMO:
        return 0
    now = time.monotonic()
    if now - _cache["read_at"] >= RECHECK_SECONDS:
        try:
            _cache["days"] = max(0, int(settings.DEMO_CLOCK_FILE.read_text().strip() or 0))
        except (OSError, ValueError):
            _cache["days"] = 0
        _cache["read_at"] = now
    return _cache["days"]


def _demo_now():
    real = _REAL_NOW()
    days = offset_days()
    return real + dt.timedelta(days=days) if days else real


def install() -> None:
    """Run the app on the demo clock (CoreConfig.ready calls this; only in demo mode)."""
    if settings.DEMO:
        timezone.now = _demo_now


def uninstall() -> None:
    timezone.now = _REAL_NOW


def move(shift: str) -> int:
    """`+7d`, `7`, `+2w` move the clock forward from where it stands; `reset` puts it back to the
    real date. Returns the new offset in days. Demo mode only."""
    if not settings.DEMO:
        raise FupinError("演示时钟只能在演示模式（FUPIN_DEMO=1）下使用，正式部署永远按真实日期运行")
    shift = (shift or "").strip().lower()
    if shift in ("reset", "0"):
        days = 0
    else:
        m = re.fullmatch(r"\+?(\d{1,3})([dw]?)", shift)
        if not m:
            raise InvalidInput({"时钟": f"“{shift[:20]}”应写作 +7d（拨快7天）、+2w（拨快2周）或 reset（恢复真实日期）"})
        days = offset_days() + int(m.group(1)) * (7 if m.group(2) == "w" else 1)
    settings.DEMO_CLOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    settings.DEMO_CLOCK_FILE.write_text(str(days))
    _cache["read_at"] = -1e9
    return days


def banner() -> str | None:
    """“演示时钟：2026-12-09（比真实日期快 7 天）” while the clock is moved, else None."""
    days = offset_days()
    if not days:
        return None
    return f"演示时钟：{timezone.localdate(_demo_now()):%Y-%m-%d}（比真实日期快 {days} 天）"
