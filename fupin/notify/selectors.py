"""Reads of the notify room: what is due or overdue on a day and who is to hear of it, and a
user's own reminders."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from fupin.core.models import User
from fupin.core.roles import Cap, can

from .models import Channel, Kind, Notice


@dataclass(frozen=True)
class Due:
    kind: str
    object_id: int
    region: str          # the region code whose users hear of it
    cap: str             # who of them: holders of this capability
    text: str
    link: str
    overdue: bool


def due_items(day: dt.date) -> list[Due]:
    """Every open item whose date is `day` or earlier: plan items and meeting decisions, warnings,
    problems. Read-only across the rooms that own them (their dates are their own data)."""
    from fupin.monitoring.models import Warning, WarningState
    from fupin.oversight.models import Problem, ProblemState
    from fupin.plans.models import Item, ItemState

    out: list[Due] = []
    for i in (Item.objects.filter(state=ItemState.OPEN, due__lte=day)
              .select_related("plan", "meeting__group").order_by("due", "id")):
        region = i.plan.region_id if i.plan_id else i.meeting.group.region_id
        where = i.plan.title if i.plan_id else i.meeting.title
        late = i.due < day
        link = f"/plans/{i.plan_id}/" if i.plan_id else "/plans/overdue/"
        out.append(Due(Kind.PLAN_ITEM, i.pk, region, Cap.PLAN_MANAGE,
                       f"{where}第{i.number}项“{i.target[:40]}”{'已逾期' if late else '今天到期'}（时限 {i.due}，"
                       f"责任单位 {i.owner_unit}）", link, late))
    for w in (Warning.objects.filter(state=WarningState.OPEN, due__lte=day)
              .select_related("village").order_by("due", "id")):
        late = w.due < day
        out.append(Due(Kind.WARNING, w.pk, w.village_id, Cap.MONITOR,
                       f"{w.village.name}比对预警“{w.label[:40]}”{'已超过答复期限' if late else '今天到答复期限'}"
                       f"（{w.due}）", "/monitoring/", late))
    closed = [ProblemState.VERIFIED]
    for p in (Problem.objects.exclude(state__in=closed).filter(deadline__lte=day)
              .select_related("region").order_by("deadline", "id")):
        late = p.deadline < day
        out.append(Due(Kind.PROBLEM, p.pk, p.region_id, Cap.PROBLEM_RECTIFY,
                       f"{p.region.name}问题“{p.title[:40]}”{'已逾期未整改' if late else '今天到整改期限'}"
                       f"（期限 {p.deadline}，责任单位 {p.owner_unit}）", f"/oversight/problems/{p.pk}/", late))
    return out


def recipients(items: list[Due]) -> dict[int, tuple[User, list[Due]]]:
    """Each active user whose region covers an item's region and whose role holds its capability."""
    users = [u for u in User.objects.filter(is_active=True, region__isnull=False).select_related("region")]
    ranges = {u.pk: u.region.code_range() for u in users}
    out: dict[int, tuple[User, list[Due]]] = {}
    for u in users:
        lo, hi = ranges[u.pk]
        mine = [d for d in items if lo <= d.region <= hi and can(u.role, d.cap)]
        if mine:
            out[u.pk] = (u, mine)
    return out


def notices_for(user: User, *, channel: str = "") -> QuerySet:
    qs = Notice.objects.filter(user=user)
    return qs.filter(channel=channel) if channel else qs


def in_app(user: User) -> QuerySet:
    return Notice.objects.filter(user=user, channel=Channel.APP).order_by("-day", "-overdue", "kind", "object_id")

