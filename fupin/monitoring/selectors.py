"""Reads of the monitoring room, each through the user's scope (fupin.core.access)."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone

from fupin.core import access
from fupin.core.errors import NotFound
from fupin.core.models import User
from fupin.core.roles import Cap

from .models import Band, Batch, Link, Warning, WarningState


def batches_for(user: User):
    if not (access.may(user, Cap.MONITOR) or access.may(user, Cap.MONITOR_IMPORT)):
        access.require(user, Cap.MONITOR)
    lo, hi = access.scope_range(user)
    return Batch.objects.filter(region_id__gte=lo, region_id__lte=hi)


def access_batch(user: User, pk: int) -> Batch:
    batch = batches_for(user).filter(pk=pk).first()
    if batch is None:
        raise NotFound(f"找不到名单批次 {pk}，或不在您的管辖范围内")
    return batch


def warnings_for(user: User):
    access.require(user, Cap.MONITOR)
    lo, hi = access.scope_range(user)
    return Warning.objects.filter(village_id__gte=lo, village_id__lte=hi)


def access_warning(user: User, pk: int) -> Warning:
    w = warnings_for(user).select_related("household", "village", "batch", "row", "person").filter(pk=pk).first()
    if w is None:
        raise NotFound(f"找不到预警 {pk}，或不在您的管辖范围内")
    return w


def review_queue(user: User):
    """Pairs in the review band not decided yet, whose registry person is in the user's scope."""
    access.require(user, Cap.MONITOR)
    lo, hi = access.scope_range(user)
    return (Link.objects.filter(band=Band.REVIEW, decision="", person__household__village_id__gte=lo,
                                person__household__village_id__lte=hi)
            .select_related("row__batch", "person__household__village").order_by("row__batch_id", "row__row"))


def access_link(user: User, pk: int) -> Link:
    access.require(user, Cap.MONITOR)
    lo, hi = access.scope_range(user)
    link = (Link.objects.filter(pk=pk, person__household__village_id__gte=lo, person__household__village_id__lte=hi)
            .select_related("row__batch", "person__household__village").first())
    if link is None:
        raise NotFound(f"找不到待复核记录 {pk}，或不在您的管辖范围内")
    return link


def queue(user: User, *, state: str = WarningState.OPEN, overdue_only: bool = False, on: dt.date | None = None,
          rule: str = "", village: str = "", month: str = ""):
    """Warnings in scope; state "" means every state; month is YYYY-MM of arrival."""
    on = on or timezone.localdate()
    qs = warnings_for(user).select_related("village", "household", "batch")
    if state:
        qs = qs.filter(state=state)
    if overdue_only:
        qs = qs.filter(state=WarningState.OPEN, due__lt=on)
    if rule:
        qs = qs.filter(rule=rule)
    if village:
        qs = qs.filter(village_id=village)
    if month:
        try:
            first = dt.date.fromisoformat(f"{month}-01")
        except ValueError:
            return qs.none()
        qs = qs.filter(created_on__gte=first, created_on__lt=(first + dt.timedelta(days=32)).replace(day=1))
    return qs


def dashboard(user: User) -> list[dict]:
    """Counts per finding kind, village and month of arrival (one query), each the size of the
    list `queue(user, state="", rule=…, village=…, month=…)` returns."""
    from django.db.models.functions import TruncMonth

    rows = (warnings_for(user).annotate(month=TruncMonth("created_on"))
            .values("rule", "label", "village_id", "village__name", "village__parent__name", "month")
            .annotate(total=Count("id"), open=Count("id", filter=Q(state=WarningState.OPEN)))
            .order_by("-month", "rule", "village_id"))
    return [{**r, "month": r["month"].strftime("%Y-%m")} for r in rows]


def response_days(user: User, limit: int = 1000) -> float | None:
    """Average working days from a warning's arrival to the village's answer (last `limit` answers)."""
    from fupin.policy import calendar
    from fupin.policy.errors import PolicyError

    answered = warnings_for(user).exclude(state=WarningState.OPEN).order_by("-decided_at") \
        .values_list("created_on", "decided_at")[:limit]
    try:
        days = [calendar.working_days_between(c + dt.timedelta(days=1), timezone.localtime(d).date())
                for c, d in answered if d]
    except PolicyError:   # an answer in a year whose holiday arrangement is not entered: no figure, never a guess
        return None
    return round(sum(days) / len(days), 1) if days else None


def counts(user: User, on: dt.date | None = None) -> dict:
    on = on or timezone.localdate()
    qs = warnings_for(user)
    return qs.aggregate(open=Count("id", filter=Q(state=WarningState.OPEN)),
                        overdue=Count("id", filter=Q(state=WarningState.OPEN, due__lt=on)),
                        started=Count("id", filter=Q(state=WarningState.STARTED)),
                        dismissed=Count("id", filter=Q(state=WarningState.DISMISSED)))


def household_section(user: User, household) -> dict:
    """The department warnings of one household, for its page (only for roles that handle them)."""
    if not access.may(user, Cap.MONITOR):
        return {"warnings": None}
    return {"warnings": list(Warning.objects.filter(household=household).select_related("batch").order_by("-id")[:20]),
            "today": timezone.localdate()}
