"""Reads of the plans room: plans, items (overdue flagged), leading groups, and the mid-year and
year-end reports computed from the items as of a cut-off date."""
from __future__ import annotations

import calendar as cal
import datetime as dt

from django.db.models import Q, QuerySet

from fupin.core import access
from fupin.core.errors import FupinError
from fupin.core.models import User
from fupin.core.roles import Cap
from fupin.policy.errors import PolicyError
from fupin.policy.packs import shipped_packs

from .models import Item, ItemState, LeadingGroup, Plan

ITEM_SORTS = {"number": ("number", "id"), "due": ("due", "number"), "owner": ("owner_unit", "number"),
              "state": ("state", "due")}


def plans_for(user: User, *, year: int | None = None) -> QuerySet:
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    qs = Plan.objects.filter(region_id__gte=lo, region_id__lte=hi).select_related("region", "school")
    return qs.filter(year=year) if year else qs


def groups_for(user: User) -> QuerySet:
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return LeadingGroup.objects.filter(region_id__gte=lo, region_id__lte=hi).select_related("region", "school")


def is_overdue(item: Item, today: dt.date) -> bool:
    return item.state == ItemState.OPEN and item.due < today


def items(qs: QuerySet, *, today: dt.date, state: str = "", overdue: bool = False, owner: str = "",
          sort: str = "number") -> QuerySet:
    if state in ItemState.values:
        qs = qs.filter(state=state)
    if overdue:
        qs = qs.filter(state=ItemState.OPEN, due__lt=today)
    if owner:
        qs = qs.filter(owner_unit=owner)
    return qs.order_by(*ITEM_SORTS.get(sort, ITEM_SORTS["number"]))


def overdue_items(user: User, *, today: dt.date) -> QuerySet:
    """Every open item past its due date in the user's region: plans' targets and meetings' decisions."""
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return (Item.objects.filter(state=ItemState.OPEN, due__lt=today)
            .filter(Q(plan__region_id__gte=lo, plan__region_id__lte=hi)
                    | Q(meeting__group__region_id__gte=lo, meeting__group__region_id__lte=hi))
            .select_related("plan", "meeting__group").order_by("due", "id"))


# ---- reports ------------------------------------------------------------------------------------

def cutoff(plan: Plan, kind: str) -> dt.date:
    """The report's as-of date: the end of the pack's mid-year month, or 31 December."""
    if kind == "yearend":
        return dt.date(plan.year, 12, 31)
    try:
        month = shipped_packs().for_region(plan.region_id).lookup(
            "plans.midyear_cutoff_month", dt.date(plan.year, 1, 1)).value
    except PolicyError as exc:
        raise FupinError(exc.message) from None
    return dt.date(plan.year, month, cal.monthrange(plan.year, month)[1])


def summary(plan: Plan, as_of: dt.date) -> dict:
    """The plan as it stood on `as_of`: an item counts as done if it was done by then; overdue if its
    due date had passed and it was not done by then; otherwise not yet due."""
    rows = list(plan.items.order_by("number", "id"))
    done = [i for i in rows if i.done_on is not None and i.done_on <= as_of]
    overdue = [i for i in rows if i not in done and i.due < as_of]
    pending = [i for i in rows if i not in done and i.due >= as_of]
    late = [i for i in done if i.done_on > i.due]
    by_owner: dict[str, dict] = {}
    for i in rows:
        o = by_owner.setdefault(i.owner_unit, {"owner": i.owner_unit, "total": 0, "done": 0, "overdue": 0})
        o["total"] += 1
        o["done"] += i in done
        o["overdue"] += i in overdue
    total = len(rows)
    # per mille, rounded half up (integers: the same on every screen and in every export)
    permille = (len(done) * 2000 + total) // (2 * total) if total else 0
    return {"as_of": as_of, "total": total, "done": done, "overdue": overdue, "pending": pending, "late": late,
            "permille": permille, "percent": f"{permille // 10}.{permille % 10}%",
            "by_owner": sorted(by_owner.values(), key=lambda o: (-o["overdue"], o["owner"]))}


REPORT_TITLES = {"midyear": "半年执行情况报告", "yearend": "年度工作总结"}


def report(plan: Plan, kind: str) -> dict:
    s = summary(plan, cutoff(plan, kind))
    where = plan.school.name if plan.school_id else plan.region.name
    lead = (f"{where}{plan.year}年《{plan.title}》共 {s['total']} 项任务，截至{s['as_of']:%Y年%m月%d日}"
            f"已完成 {len(s['done'])} 项（完成率 {s['percent']}）")
    if s["late"]:
        lead += f"，其中逾期完成 {len(s['late'])} 项"
    lead += f"；逾期未完成 {len(s['overdue'])} 项；尚未到期 {len(s['pending'])} 项。"
    return {**s, "title": f"{where}{plan.year}年{REPORT_TITLES[kind]}", "lead": lead}


# ---- schools' condition gaps (改薄): a school's plan items with a quantity -------------------------

def school_gaps(user: User, *, year: int, today: dt.date) -> list[dict]:
    """Per school of the user's region with a plan for `year`: its items with a quantity (classrooms,
    desks, multimedia classes, broadband …), what is planned, what is done, what is overdue. The
    weak-school list (改薄) is these rows with something still open."""
    from fupin.education.models import School

    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    rows = (Item.objects.filter(plan__year=year, plan__school__isnull=False, quantity__isnull=False,
                                plan__region_id__gte=lo, plan__region_id__lte=hi)
            .select_related("plan").order_by("plan__school_id", "number", "id"))
    by_school: dict[int, list[Item]] = {}
    for i in rows:
        i.overdue = is_overdue(i, today)
        i.done_amount = (i.done_quantity if i.done_quantity is not None else i.quantity) if i.state == ItemState.DONE else 0
        by_school.setdefault(i.plan.school_id, []).append(i)
    schools = School.objects.filter(pk__in=list(by_school)).select_related("region").order_by("code")
    return [{"school": s, "items": by_school[s.pk], "open": sum(1 for i in by_school[s.pk] if i.state == ItemState.OPEN),
             "overdue": sum(1 for i in by_school[s.pk] if i.overdue)} for s in schools]
