"""Reads of the labour room, each through the user's scope (fupin.core.access)."""
from __future__ import annotations

from django.db.models import Count, Q, Sum
from django.utils import timezone

from fupin.core import access
from fupin.core.errors import NotFound
from fupin.core.models import User
from fupin.core.roles import Cap
from fupin.funds.models import AccountKind, Entry, TxnKind

from .models import Course, Employment, Enrolment, Holding, LabourRecord, Post


def records_for(user: User, region_code: str, year: int):
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    return LabourRecord.objects.filter(year=year, person__household__village_id__gte=lo,
                                       person__household__village_id__lte=hi)


def employment_counts(user: User, region_code: str, year: int) -> dict:
    """Employment counts by the region's child regions (townships of a county, villages of a
    township) and in total: one grouped query."""
    region = access.access_region(user, region_code)
    width = {1: 4, 2: 6, 3: 9, 4: 12}.get(region.level, 12)
    from django.db.models.functions import Substr

    from fupin.core.models import Region

    rows = (records_for(user, region.code, year)
            .annotate(child=Substr("person__household__village_id", 1, width))
            .values("child", "employment").annotate(n=Count("id"), income=Sum("monthly_income")))
    kinds = list(Employment)
    table: dict[str, dict] = {}
    for r in rows:
        row = table.setdefault(r["child"], {k.value: 0 for k in kinds})
        row[r["employment"]] += r["n"]
    names = {c.code[:width]: c.name for c in Region.objects.filter(parent=region)}
    out = []
    for prefix in sorted(table):
        counts = table[prefix]
        employed = sum(v for k, v in counts.items() if k != Employment.NONE)
        out.append({"prefix": prefix, "name": names.get(prefix, prefix), "counts": [counts[k.value] for k in kinds],
                    "employed": employed, "total": sum(counts.values())})
    totals = [sum(r["counts"][i] for r in out) for i in range(len(kinds))]
    return {"region": region, "year": year, "kinds": [k.label for k in kinds], "rows": out, "totals": totals,
            "employed": sum(r["employed"] for r in out), "total": sum(r["total"] for r in out)}


def courses_for(user: User):
    lo, hi = access.scope_range(user)
    access.require(user, Cap.READ)
    # a township officer sees its county's courses (courses are run per county)
    return Course.objects.filter(county_id__gte=lo[:6] + "000000", county_id__lte=hi[:6] + "999999")


def access_course(user: User, pk: int) -> Course:
    course = courses_for(user).select_related("county").filter(pk=pk).first()
    if course is None:
        raise NotFound(f"找不到培训班（编号 {pk}），或不在您的管辖范围内")
    return course


def access_enrolment(user: User, pk: int) -> Enrolment:
    lo, hi = access.scope_range(user)
    access.require(user, Cap.READ)
    e = Enrolment.objects.select_related("course__county", "person__household").filter(
        pk=pk, person__household__village_id__gte=lo, person__household__village_id__lte=hi).first()
    if e is None:
        raise NotFound(f"找不到报名记录（编号 {pk}），或不在您的管辖范围内")
    return e


def enrolments_of(user: User, course: Course):
    lo, hi = access.scope_range(user)
    return (course.enrolments.filter(person__household__village_id__gte=lo, person__household__village_id__lte=hi)
            .select_related("person").annotate(attended=Count("attendance")).order_by("person__name", "pk"))


def posts_for(user: User):
    access.require(user, Cap.READ)
    lo, hi = access.scope_range(user)
    return Post.objects.filter(village_id__gte=lo, village_id__lte=hi)


def access_post(user: User, pk: int) -> Post:
    post = posts_for(user).select_related("village").filter(pk=pk).first()
    if post is None:
        raise NotFound(f"找不到岗位（编号 {pk}），或不在您的管辖范围内")
    return post


def access_holding(user: User, pk: int) -> Holding:
    lo, hi = access.scope_range(user)
    access.require(user, Cap.READ)
    h = Holding.objects.select_related("post", "person").filter(pk=pk, post__village_id__gte=lo,
                                                                 post__village_id__lte=hi).first()
    if h is None:
        raise NotFound(f"找不到上岗记录（编号 {pk}），或不在您的管辖范围内")
    return h


def subsidy_lines(user: User, region_code: str) -> list[dict]:
    """Live training-subsidy payment lines to persons of the region (not reversed)."""
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    entries = (Entry.objects.filter(transaction__kind=TxnKind.PAYMENT, reversals__isnull=True, amount__gt=0,
                                    account__kind=AccountKind.PAYEE, entitlement__startswith="labour.training.",
                                    account__person__household__village_id__gte=lo,
                                    account__person__household__village_id__lte=hi)
               .select_related("account__person").order_by("account__person_id", "pk"))
    entries = list(entries)
    ids = {int(e.period.split("-", 1)[1]) for e in entries if e.period.startswith("course-")
           and e.period.split("-", 1)[1].isdigit()}
    courses = Course.objects.in_bulk(ids)
    out = []
    for e in entries:
        pk = e.period.split("-", 1)[1] if e.period.startswith("course-") else ""
        out.append({"person": e.account.person, "course": courses.get(int(pk)) if pk.isdigit() else None,
                    "amount": e.amount, "entry": e})
    return out


def paid_person_ids(entitlement: str, period: str, person_ids) -> set[int]:
    """Who among these persons already has a live (not reversed) payment of this entitlement and period."""
    return set(Entry.objects.filter(transaction__kind=TxnKind.PAYMENT, reversals__isnull=True, amount__gt=0,
                                    account__kind=AccountKind.PAYEE, entitlement=entitlement, period=period,
                                    account__person_id__in=list(person_ids))
               .values_list("account__person_id", flat=True))


def household_section(user: User, household) -> dict:
    """The household page's labour figures: this year's (or the latest) records, training and posts."""
    people = list(household.persons.filter(alive=True).only("pk", "name", "household_id"))
    members = [x.pk for x in people]
    records = list(LabourRecord.objects.filter(person_id__in=members).select_related("person")
                   .order_by("-year", "person_id"))
    year = records[0].year if records else timezone.localdate().year
    current = [r for r in records if r.year == year]
    enrolments = list(Enrolment.objects.filter(person_id__in=members).select_related("course", "person")
                      .annotate(attended=Count("attendance")))
    holdings = list(Holding.objects.filter(person_id__in=members, end__isnull=True).select_related("post", "person"))
    return {"year": year, "records": current, "people": people, "can_write": access.may(user, Cap.WRITE), "enrolments": enrolments, "holdings": holdings,
            "employed": sum(r.employment != Employment.NONE for r in current),
            "income": sum(r.monthly_income * r.months for r in current)}


def household_figures(household, year: int) -> dict:
    """Labour figures a four card prints: workers, employed, yearly wage income (fen)."""
    records = LabourRecord.objects.filter(person__household=household, year=year)
    agg = records.aggregate(n=Count("id"), employed=Count("id", filter=~Q(employment=Employment.NONE)))
    income = sum(r.monthly_income * r.months for r in records)
    return {"workers": agg["n"], "employed": agg["employed"], "income": income}
