"""Counterpart hospital support (SPEC §9): rotation plan, end-of-rotation assessment, allowance,
fines and the promotion rule. Every number comes from the pack; no Django here."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from fupin.policy import calendar
from fupin.policy.errors import PolicyError
from fupin.policy.money import yuan
from fupin.policy.packs import RATIO_SCALE, Chain


def _p(chain: Chain, name: str, when: dt.date, used: dict):
    from fupin.policy.expr import _show

    v = chain.lookup(name, when)
    used[name] = {"value": _show(chain.unit(name), v.value), "from": v.start.isoformat(), "source": v.source}
    return v.value


def _dates(record: dict, key: str, label: str) -> list[dt.date]:
    raw = record.get(key)
    if raw is None:
        raise PolicyError(f"缺少输入 {key}（{label}），没有请填 []")
    if not isinstance(raw, list):
        raise PolicyError(f"{key}（{label}）应为日期列表")
    out = []
    for i, d in enumerate(raw):
        try:
            out.append(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)))
        except ValueError:
            raise PolicyError(f"{key}（{label}）第{i + 1}个日期“{d}”不是 YYYY-MM-DD") from None
    return sorted(out)




def assess(chain: Chain, record: dict) -> dict:
    """The end-of-rotation assessment of one dispatched staff member (SPEC §9)."""
    if not isinstance(record, dict):
        raise PolicyError("轮转记录应为一个 JSON 对象")
    try:
        start = dt.date.fromisoformat(str(record["start"]))
        end = dt.date.fromisoformat(str(record["end"]))
    except KeyError as exc:
        raise PolicyError(f"缺少输入 {exc.args[0]}（派驻开始/结束日期）") from None
    except ValueError:
        raise PolicyError("start、end 应为 YYYY-MM-DD 日期") from None
    if end < start:
        raise PolicyError(f"结束日期 {end} 早于开始日期 {start}")
    teaching = _dates(record, "teaching_sessions", "授课日期")
    rounds = _dates(record, "ward_rounds", "查房日期")
    present = _dates(record, "days_present", "出勤日期")
    for key, days in (("teaching_sessions", teaching), ("ward_rounds", rounds), ("days_present", present)):
        outside = [d for d in days if not start <= d <= end]
        if outside:
            raise PolicyError(f"{key} 中的 {outside[0]} 不在派驻期间 {start}～{end} 内")
    if len(set(present)) != len(present):
        raise PolicyError("days_present 有重复日期")
    wd = record.get("working_days")
    if isinstance(wd, bool) or wd is None:
        raise PolicyError("缺少输入 working_days（本期工作日：天数或日期列表）")
    if isinstance(wd, list):
        working = set(_dates(record, "working_days", "工作日"))
        n_working = len(working)
        n_present = len([d for d in present if d in working])
    elif isinstance(wd, int) and wd > 0:
        n_working, n_present = wd, len(present)
    else:
        raise PolicyError(f"working_days 应为正整数或日期列表，实际为 {wd!r}")
    if n_present > n_working:
        raise PolicyError(f"出勤 {n_present} 天多于工作日 {n_working} 天")
    unauthorised = record.get("unauthorised_return_days")
    if isinstance(unauthorised, bool) or not isinstance(unauthorised, int) or unauthorised < 0:
        raise PolicyError("缺少输入 unauthorised_return_days（擅自返回的工作日数，没有请填 0）")
    refused = record.get("department_refused", False)
    if not isinstance(refused, bool):
        raise PolicyError("department_refused 应为 true 或 false")

    used: dict = {}
    p = lambda name: _p(chain, name, end, used)  # noqa: E731
    items = []
    min_sessions, min_gap = p("support.teaching.min_sessions"), p("support.teaching.min_gap_days")
    close = [(i + 1, a, b) for i, (a, b) in enumerate(zip(teaching, teaching[1:])) if (b - a).days < min_gap]
    if len(teaching) < min_sessions:
        items.append(("teaching", "授课", False, f"授课 {len(teaching)} 次，少于 {min_sessions} 次"))
    elif close:
        i, a, b = close[0]
        items.append(("teaching", "授课", False, f"第{i}次（{a}）与第{i + 1}次（{b}）授课相隔 {(b - a).days} 天，不足 {min_gap} 天"))
    else:
        items.append(("teaching", "授课", True, f"授课 {len(teaching)} 次，相邻间隔均不少于 {min_gap} 天"))
    min_rounds = p("support.rounds.min")
    items.append(("rounds", "查房", len(rounds) >= min_rounds,
                  f"查房 {len(rounds)} 次，{'达到' if len(rounds) >= min_rounds else '少于'} {min_rounds} 次"))
    ratio = p("support.attendance.min_ratio")
    ok = n_present * RATIO_SCALE >= ratio * n_working
    pct = n_present * 10000 // n_working
    items.append(("attendance", "考勤", ok, f"出勤 {n_present}/{n_working} 天（{pct // 100}.{pct % 100:02d}%），"
                                          f"{'不低于' if ok else '低于'} {ratio * 100 // RATIO_SCALE}%"))
    failed = sum(1 for *_, passed, _ in items if not passed)
    per_day, days_pm, months = (p("support.allowance.rate_per_day"), p("support.allowance.days_per_month"),
                                p("support.allowance.months"))
    allowance = per_day * days_pm * months
    deduct_months = p(f"support.deduct_months.{failed}") if failed else 0
    deduction = min(allowance, deduct_months * days_pm * per_day)
    fine_day = p("support.unauthorised_fine_per_day")
    dept_fine = p("support.department_fine") if failed >= p("support.department_fine_from") else 0
    certificate = failed < p("support.certificate_withheld_from")
    repeat = failed >= p("support.repeat_dispatch_from")
    reward = p("support.department_reward_per_person")
    refusal = p("support.refusal_fine") if refused else 0
    return {
        "pack": chain.key,
        "items": [{"item": k, "label": label, "passed": passed, "reason": reason} for k, label, passed, reason in items],
        "failed_items": failed,
        "allowance": yuan(allowance), "deduction": yuan(deduction), "deduction_months": deduct_months,
        "allowance_payable": yuan(allowance - deduction),
        "certificate_granted": certificate,
        "certificate_reason": "考核合格，受援医院签署鉴定表" if certificate else
        f"{failed} 项不合格（达到 {p('support.certificate_withheld_from')} 项），受援医院不签署鉴定表",
        "repeat_dispatch": repeat,
        "fines": {"person": yuan(unauthorised * fine_day),
                  "department": yuan(unauthorised * fine_day + dept_fine + refusal),
                  "department_assessment_fine": yuan(dept_fine), "unauthorised_days": unauthorised,
                  "refusal": yuan(refusal)},
        "department_reward": yuan(reward),
        "parameters": used,
    }


# ---- the plan ------------------------------------------------------------------------------

def first_monday(year: int, quarter: int) -> dt.date:
    d = dt.date(year, 3 * (quarter - 1) + 1, 1)
    return d + dt.timedelta(days=(7 - d.weekday()) % 7)


def handover_day(chain: Chain, year: int, quarter: int) -> tuple[dt.date, str]:
    """The first Monday of the quarter; if it is a public holiday, the pack's rule applies."""
    monday = first_monday(year, quarter)
    rule = chain.lookup("support.handover_holiday_rule", monday).value
    if calendar.is_working_day(monday):
        return monday, f"{year}年第{quarter}季度第一个星期一"
    if rule != "next_working_day":
        raise PolicyError(f"未知的交接日顺延规则 {rule}")
    day = calendar.next_working_day(monday)
    return day, f"第一个星期一 {monday} 为{calendar.holiday_name(monday) or '休息日'}，顺延至节后第一个工作日 {day}"


@dataclass
class Batch:
    index: int
    year: int
    quarter: int
    handover: dt.date
    handover_note: str
    department: str
    cycle: int
    staff: list[str] = field(default_factory=list)


def plan(chain: Chain, departments: list[str], start_year: int, start_quarter: int, quarters: int,
         deferrals: dict[tuple[int, str], str] | None = None, staff: dict[str, list[str]] | None = None,
         priority: set[str] | None = None, served: dict[str, int] | None = None) -> list[Batch]:
    """One department per quarter in the fixed order. A deferral decided by medical affairs —
    `deferrals[(cycle, department)]` = "auto" (go one batch later) or "last" (move to the last
    batch of the cycle) — is allowed once per department per cycle. Staff: those asking priority
    for promotion first, then those who have served least, then the department's order."""
    if not departments or len(set(departments)) != len(departments):
        raise PolicyError("科室列表不能为空，也不能重复")
    deferrals = deferrals or {}
    per_cycle: dict[int, list[str]] = {}
    for (cycle, dept), decision in deferrals.items():
        if decision not in ("auto", "last"):
            raise PolicyError(f"{dept} 的延期决定应为 auto（自动顺延）或 last（调到最后一批），实际为 {decision}")
        if dept not in departments:
            raise PolicyError(f"延期申请的科室 {dept} 不在科室列表中")
        per_cycle.setdefault(cycle, []).append(dept)
    size = chain.lookup("support.staff_per_dispatch", dt.date(start_year, 1, 1)).value
    served = dict(served or {})
    batches, cycle, queue, deferred = [], 0, list(departments), set()
    year, quarter = start_year, start_quarter
    while len(batches) < quarters:
        if not queue:
            cycle, queue, deferred = cycle + 1, list(departments), set()
        dept = queue[0]
        decision = deferrals.get((cycle, dept))
        if decision and dept not in deferred and len(queue) > 1:
            deferred.add(dept)
            queue.pop(0)
            queue.insert(1, dept) if decision == "auto" else queue.append(dept)
            continue
        queue.pop(0)
        day, note = handover_day(chain, year, quarter)
        members = staff.get(dept, []) if staff else []
        ranked = sorted(members, key=lambda s: (s not in (priority or set()), served.get(s, 0), members.index(s)))
        chosen = ranked[:size]
        for s in chosen:
            served[s] = served.get(s, 0) + 1
        batches.append(Batch(len(batches) + 1, year, quarter, day, note, dept, cycle, chosen))
        quarter += 1
        if quarter == 5:
            year, quarter = year + 1, 1
    return batches


def promotion_check(chain: Chain, title: str, served_months: int, when: dt.date) -> dict:
    """Months of rural service needed before promotion to `title` (SPEC §9)."""
    labels = {"intermediate": "中级", "associate_senior": "副高级", "senior": "正高级"}
    if title not in labels:
        raise PolicyError(f"职称应为 {', '.join(labels)} 之一")
    need = chain.lookup(f"support.promotion_months.{title}", when).value
    ok = served_months >= need
    return {"title": title, "required_months": need, "served_months": served_months, "eligible": ok,
            "reason": f"晋升{labels[title]}职称前须在贫困县服务 {need} 个月，已服务 {served_months} 个月"
                      + ("，符合" if ok else f"，还差 {need - served_months} 个月")}
