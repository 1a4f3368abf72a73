"""Reads of the pairing room: what the household page shows, a visit photo for its viewer, and
pairing administration (units, helpers, teams, the unpaired list), each through the user's scope."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q

from fupin.core import access
from fupin.core.errors import NotFound
from fupin.core.models import User
from fupin.core.roles import Cap

from .models import Helper, Measure, Pair, Team, TeamMember, Unit, Visit, VisitPhoto
from .services import p


def household_section(user, household) -> dict:
    """The household's helper (and unit), its measures and its visits with their photos, newest
    first. The caller has already loaded the household through the access layer."""
    pair = Pair.objects.filter(household=household, ended_on__isnull=True).select_related("helper__unit").first()
    visits = list(Visit.objects.filter(household=household).select_related("helper")
                  .prefetch_related("photos").order_by("-date", "-id")[:20])
    measures = list(Measure.objects.filter(household=household).select_related("helper").order_by("-date", "-id")[:20])
    return {"pair": pair, "visits": visits, "measures": measures, "household": household}


def access_photo(user, pk: int) -> VisitPhoto:
    """A visit photo, if the user may read the household it was taken at (else not found)."""
    photo = VisitPhoto.objects.select_related("visit").filter(pk=pk).first()
    if photo is None:
        raise NotFound(f"找不到照片（编号 {pk}）")
    try:
        access.access_household(user, photo.visit.household_id)
    except NotFound:
        raise NotFound(f"找不到照片（编号 {pk}），或该户不在您的管辖范围内") from None
    return photo


def units_for(user: User):
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return Unit.objects.filter(region_id__gte=lo, region_id__lte=hi)


def access_unit(user: User, pk: int) -> Unit:
    unit = units_for(user).filter(pk=pk).first()
    if unit is None:
        raise NotFound(f"找不到帮扶单位（编号 {pk}），或不在您的管辖范围内")
    return unit


def helpers_for(user: User):
    lo, hi = access.scope_range(user)
    access.require(user, Cap.READ)
    return Helper.objects.filter(unit__region_id__gte=lo, unit__region_id__lte=hi)


def access_helper(user: User, pk: int) -> Helper:
    helper = helpers_for(user).select_related("unit").filter(pk=pk).first()
    if helper is None:
        raise NotFound(f"找不到帮扶责任人（编号 {pk}），或不在您的管辖范围内")
    return helper


def pairable_helpers(user: User):
    """Active helpers a user may pair with households of its region: those of units inside its
    region or above it (a county department pairs in its townships); never another county's."""
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    above, region = [], user.region
    while region is not None:
        above.append(region.code)
        region = region.parent
    return Helper.objects.filter(Q(unit__region_id__gte=lo, unit__region_id__lte=hi) | Q(unit__region_id__in=above),
                                 active=True).select_related("unit")


def teams_for(user: User):
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return Team.objects.filter(village_id__gte=lo, village_id__lte=hi)


def access_team(user: User, pk: int) -> Team:
    team = teams_for(user).select_related("village").filter(pk=pk).first()
    if team is None:
        raise NotFound(f"找不到驻村工作队（编号 {pk}），或不在您的管辖范围内")
    return team


def access_member(user: User, pk: int) -> TeamMember:
    lo, hi = access.scope_range(user)
    access.require(user, Cap.READ)
    m = TeamMember.objects.select_related("team").filter(pk=pk, team__village_id__gte=lo, team__village_id__lte=hi).first()
    if m is None:
        raise NotFound(f"找不到工作队员（编号 {pk}），或不在您的管辖范围内")
    return m


def unpaired(user: User, region_code: str, on: dt.date) -> dict:
    """Who is still unpaired: the region's households in a status the pack says needs a helper
    with no current pair, and active helpers below or above their quota (from the pack)."""
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    statuses = p(region.code, "pairing.statuses_needing_helper", on)
    households = (access.households_for(user).filter(village_id__gte=lo, village_id__lte=hi, status__in=statuses)
                  .exclude(pk__in=Pair.objects.filter(ended_on__isnull=True).values("household_id")).select_related("village").order_by("number"))
    helpers = (helpers_for(user).filter(active=True, unit__region_id__gte=region.code[:6] + "000000",
                                        unit__region_id__lte=hi)
               .select_related("unit").annotate(current=Count("pairs", filter=Q(pairs__ended_on__isnull=True)))
               .order_by("unit__name", "name"))
    under, over = [], []
    for h in helpers:
        quota = p(region.code, f"pairing.households_per_helper.{h.kind}", on)
        row = {"helper": h, "quota": quota, "current": h.current, "free": quota - h.current}
        if h.current < quota:
            under.append(row)
        elif h.current > quota:
            over.append(row)
    return {"region": region, "households": households, "under": under, "over": over, "statuses": statuses}


def current_pairs_in(user: User):
    lo, hi = access.scope_range(user)
    return Pair.objects.filter(household__village_id__gte=lo, household__village_id__lte=hi, ended_on__isnull=True)


def satisfaction(user: User, region_code: str, year: int) -> dict:
    """Households' satisfaction with their helper (seed 004: 100%): each currently paired
    household's latest answer of the year, recorded with a visit on the helper's phone."""
    from fupin.policy.packs import RATIO_SCALE

    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    pairs = list(Pair.objects.filter(ended_on__isnull=True, household__village_id__gte=lo, household__village_id__lte=hi)
                 .select_related("household", "helper__unit").order_by("household__number"))
    latest = {}
    for hid, answer in (Visit.objects.filter(household_id__in=[x.household_id for x in pairs], date__year=year)
                        .exclude(satisfaction="").order_by("date", "pk").values_list("household_id", "satisfaction")):
        latest[hid] = answer
    labels = dict(Visit._meta.get_field("satisfaction").choices)
    rows = [{"pair": x, "answer": latest.get(x.household_id, ""),
             "label": labels.get(latest.get(x.household_id, ""), "未调查")} for x in pairs]
    surveyed = [r for r in rows if r["answer"]]
    satisfied = sum(r["answer"] == "satisfied" for r in surveyed)
    target = p(region.code, "pairing.satisfaction_target", dt.date(year, 12, 31))
    share = None if not surveyed else satisfied * RATIO_SCALE // len(surveyed)
    return {"rows": [r for r in rows if r["answer"] != "satisfied"], "surveyed": len(surveyed), "paired": len(rows),
            "satisfied": satisfied, "percent": None if share is None else share * 100 // RATIO_SCALE,
            "target_percent": target * 100 // RATIO_SCALE, "met": share is not None and share >= target
            and len(surveyed) == len(rows)}


def helper_accounts(actor: User):
    """The 帮扶责任人 login accounts of the actor's area (to pick one for a helper record)."""
    from fupin.core.roles import Role

    lo, hi = access.scope_range(actor)
    return User.objects.filter(role=Role.PAIRING_HELPER, is_active=True, region_id__gte=lo, region_id__lte=hi) \
        .order_by("username")
