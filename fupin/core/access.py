"""The one place where region scope and role are applied (Zulip's access_* habit).

Every view, API endpoint, importer and exporter loads records through these functions.
A record outside the user's region is reported as not found, so its existence is not leaked.
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from . import audit
from .errors import AccessDenied, NotFound
from .models import AuditAction, AuditResult, Region, User
from .roles import Cap, can


def require(user: User, cap: str, *, what: str = "") -> None:
    if not (user.is_authenticated and user.is_active and can(user.role, cap)):
        label = Cap(cap).label if cap in Cap.values else cap
        audit.record(user if user.is_authenticated else None, AuditAction.DENIED,
                     object_type="capability", object_id=cap, result=AuditResult.DENIED,
                     summary=what or f"缺少权限“{label}”",
                     actor_name=None if user.is_authenticated else "匿名")
        raise AccessDenied(f"您的角色没有“{label}”权限，如需办理请联系县级管理员")


def scope_range(user: User) -> tuple[str, str]:
    if user.region_id is None:
        raise AccessDenied("您的账户未绑定行政区划，请联系县级管理员")
    return user.region.code_range()


def in_scope(user: User, code: str) -> bool:
    lo, hi = scope_range(user)
    return lo <= code <= hi


def regions_for(user: User) -> QuerySet[Region]:
    lo, hi = scope_range(user)
    return Region.objects.filter(code__gte=lo, code__lte=hi)


def access_region(user: User, code: str) -> Region:
    require(user, Cap.READ)
    region = Region.objects.select_related("parent__parent__parent__parent").filter(code=code).first()
    if region is None or not in_scope(user, region.code):
        raise NotFound(f"找不到区划 {code}，或不在您的管辖范围内")
    return region


def households_for(user: User, cap: str = Cap.READ):
    from fupin.registry.models import Household

    require(user, cap)
    lo, hi = scope_range(user)
    return Household.objects.filter(village_id__gte=lo, village_id__lte=hi)


def persons_for(user: User, cap: str = Cap.READ):
    from fupin.registry.models import Person

    require(user, cap)
    lo, hi = scope_range(user)
    return Person.objects.filter(household__village_id__gte=lo, household__village_id__lte=hi)


def access_household(user: User, pk: int, cap: str = Cap.READ, *, for_update: bool = False):
    qs = households_for(user, cap).select_related("village__parent__parent")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    household = qs.filter(pk=pk).first()
    if household is None:
        raise NotFound(f"找不到户（编号 {pk}），或该户不在您的管辖范围内")
    return household


def access_person(user: User, pk: int, cap: str = Cap.READ):
    person = persons_for(user, cap).select_related("household").filter(pk=pk).first()
    if person is None:
        raise NotFound(f"找不到人员（编号 {pk}），或此人不在您的管辖范围内")
    return person


def access_village_for_write(user: User, code: str) -> Region:
    """A village the user may put a household into."""
    require(user, Cap.WRITE)
    region = Region.objects.filter(code=code).first()
    if region is None or region.level != 5:
        raise NotFound(f"村代码 {code} 不存在或不是村级区划")
    if not in_scope(user, code):
        raise AccessDenied(f"村 {region.name}（{code}）不在您的管辖范围内")
    return region


def audit_events_for(user: User):
    """Audit records a user may read: those of actors in the user's region and those about
    households in it. Records of other regions are not shown, not even counted."""
    from fupin.registry.models import Household

    from .models import AuditEvent

    require(user, Cap.READ_AUDIT)
    lo, hi = scope_range(user)
    households = Household.objects.filter(village_id__gte=lo, village_id__lte=hi).values("pk")
    return AuditEvent.objects.filter(Q(actor__region_id__gte=lo, actor__region_id__lte=hi)
                                     | Q(household_id__in=households))


def may(user: User, cap: str) -> bool:
    return user.is_authenticated and can(user.role, cap)


# ---- looking people up by the digits of their ID number -----------------------------------------
# Each lookup answers "someone has this number" or "no one": a way to read a masked ID by trying
# the few thousand numbers that fit its visible part (~3,300 for one birth year). So the searches
# by ID digits are audited (on the search pages all of them; at the window and in forms those that
# find nobody: a hit there is the clerk's ordinary work), and a user whose searches found nobody
# too often in the last window (settings) is refused any further search by ID, found or not.
ID_SEARCH = "id_search"   # the audit rows' object_type


def id_misses_query(user: User) -> tuple[str, list]:
    """The count of the user's searches by ID digits that found nobody within the window: one
    statement text, run alone (`id_search_check`) or inside the window's patient lookup."""
    import datetime as dt

    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from . import sql
    from .models import AuditEvent

    since = timezone.now() - dt.timedelta(minutes=settings.ID_SEARCH_WINDOW_MINUTES)
    return (f"SELECT count(*) FROM {sql.table(AuditEvent)} WHERE actor_id = %s AND object_type = %s "
            "AND result = %s AND at >= %s",
            [user.pk, ID_SEARCH, AuditResult.FAILED, connection.ops.adapt_datetimefield_value(since)])


def id_search_check(user: User, misses: int | None = None) -> None:
    """Refuse (and audit) a search by ID digits from a user over the limit of searches that found
    nobody; `misses`: the count, when the caller read it already."""
    from django.conf import settings

    from . import sql

    if misses is None:
        misses = sql.fetch_one(*id_misses_query(user))[0]
    if misses >= settings.ID_SEARCH_MAX_MISSES:
        audit.record(user, AuditAction.DENIED, object_type=ID_SEARCH, result=AuditResult.DENIED,
                     summary="按身份证号查找：未找到的次数过多，暂停")
        raise AccessDenied(f"您在 {settings.ID_SEARCH_WINDOW_MINUTES} 分钟内按身份证号查找而未找到的已有 {misses} 次。"
                           "为防止逐个试号推算他人身份证号，暂停按身份证号查找，请稍后再试；按姓名或户编号查询不受影响")


def id_searched(user: User, how: str, found: int) -> None:
    """Record one search by ID digits (`how`: what was searched, masked): one that found nobody
    counts towards the limit."""
    audit.record(user, AuditAction.SEARCH, object_type=ID_SEARCH, result=AuditResult.OK if found else AuditResult.FAILED,
                 summary=f"{how}：" + (f"找到 {found} 条" if found else "未找到"))

