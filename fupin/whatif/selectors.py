"""Reads of the what-if room: a region's rosters of one year as Polars frames (one query each),
scenarios visible to a user, and the parameters a scenario may change."""
from __future__ import annotations

import datetime as dt
import re

import polars as pl

from fupin.core.bulk import frame_from_query
from fupin.core.models import Region
from fupin.policy.packs import shipped_packs
from fupin.policy.whatif import PREFIXES, Rosters


def _persons(region: Region, person_ids=None) -> pl.DataFrame:
    from fupin.registry.models import Person

    lo, hi = region.code_range()
    qs = Person.objects.filter(household__village_id__gte=lo, household__village_id__lte=hi)
    if person_ids is not None:
        qs = qs.filter(pk__in=person_ids)
    raw = frame_from_query(qs,
                           [("id", pl.Int64), ("household_id", pl.Int64), ("household__village_id", pl.Utf8)])
    return raw.rename({"id": "_person", "household_id": "_household", "household_village_id": "_village"})


def education_roster(region: Region, year: int, persons: pl.DataFrame, person_ids=None) -> pl.DataFrame | None:
    """Both semesters of the year, students enrolled at schools of the region (as a semester run)."""
    from fupin.education.models import Enrolment, EnrolmentStatus
    from fupin.education.services import roster_frame

    lo, hi = region.code_range()
    enrolments = Enrolment.objects.filter(semester__in=[f"{year}-spring", f"{year}-autumn"],
                                          status=EnrolmentStatus.ENROLLED,
                                          school__region_id__gte=lo, school__region_id__lte=hi)
    if person_ids is not None:
        enrolments = enrolments.filter(person_id__in=person_ids)
    frame, ids = roster_frame(enrolments)
    if not ids:
        return None
    return frame.join(persons, on="_person", how="inner", maintain_order="left")


def welfare_roster(region: Region, year: int, person_ids=None) -> pl.DataFrame | None:
    """One row per recipient and month of the year in which the enrolment runs (as the monthly
    run: from its start month, until the month it stops; temporary aid is one month)."""
    from django.db.models import Q

    from fupin.welfare.models import Enrolment

    lo, hi = region.code_range()
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 1)
    qs = Enrolment.objects.filter(household__village_id__gte=lo, household__village_id__lte=hi, start__lte=last,
                                  person__alive=True).filter(Q(stop__isnull=True) | Q(stop__gt=first))
    if person_ids is not None:
        qs = qs.filter(person_id__in=person_ids)
    raw = frame_from_query(qs.order_by("id"), [
        ("id", pl.Int64), ("person_id", pl.Int64), ("household_id", pl.Int64), ("household__village_id", pl.Utf8),
        ("programme", pl.Utf8), ("category", pl.Utf8), ("care_level", pl.Utf8), ("income", pl.Int64),
        ("members", pl.Int64), ("used_before", pl.Int64), ("financial_assets", pl.Int64), ("vehicle", pl.Boolean),
        ("commercial_housing", pl.Boolean), ("houses", pl.Int64), ("business", pl.Boolean), ("start", pl.Date),
        ("stop", pl.Date)])
    if raw.height == 0:
        return None
    months = pl.DataFrame({"date": [dt.date(year, m, 1) for m in range(1, 13)]})
    return (raw.join(months, how="cross")
            .filter((pl.col("start") <= pl.col("date")) & (pl.col("stop").is_null() | (pl.col("stop") > pl.col("date"))))
            .select(pl.col("person_id").alias("_person"), pl.col("household_id").alias("_household"),
                    pl.col("household_village_id").alias("_village"), pl.col("household_village_id").alias("region"),
                    "date", "programme", "category", "care_level", "income", "members",
                    pl.col("used_before").alias("used_this_year"), "financial_assets", "vehicle", "commercial_housing",
                    "houses", "business", pl.col("id").alias("_enrolment"))
            .sort("_enrolment", "date"))


def health_roster(region: Region, year: int, person_ids=None) -> pl.DataFrame | None:
    """The year's live claims of patients of the region, with the inputs the window used (the
    categories stored on each claim), in settlement order per patient."""
    from django.db.models import TextField
    from django.db.models.functions import Cast

    from fupin.health.models import Claim, ClaimStatus
    from fupin.policy.rules.health import CATEGORIES

    lo, hi = region.code_range()
    qs = Claim.objects.filter(status=ClaimStatus.SETTLED, discharge_date__year=year,
                              person__household__village_id__gte=lo, person__household__village_id__lte=hi)
    if person_ids is not None:
        qs = qs.filter(person_id__in=person_ids)
    # the categories as JSON text on both databases (PostgreSQL would hand back a list)
    qs = qs.annotate(cats=Cast("categories", TextField()))
    raw = frame_from_query(qs.order_by("id"), [
        ("id", pl.Int64), ("person_id", pl.Int64), ("person__household_id", pl.Int64),
        ("person__household__village_id", pl.Utf8), ("hospital__region_id", pl.Utf8), ("discharge_date", pl.Date),
        ("visit_type", pl.Utf8), ("level", pl.Utf8), ("in_county", pl.Boolean), ("referred", pl.Boolean),
        ("cats", pl.Utf8), ("total", pl.Int64), ("in_policy", pl.Int64), ("waivable", pl.Int64)])
    if raw.height == 0:
        return None
    cats = pl.col("cats").str.json_decode(pl.List(pl.String))
    return raw.select(
        pl.col("person_id").alias("_person"), pl.col("person_household_id").alias("_household"),
        pl.col("person_household_village_id").alias("_village"), pl.col("hospital_region_id").alias("region"),
        "discharge_date", "visit_type", "level", "in_county", "referred",
        *(cats.list.contains(c).alias(c) for c in CATEGORIES), "total", "in_policy", "waivable",
        pl.col("person_id").alias("patient"), pl.col("id").alias("seq"))


def rosters(region: Region, year: int, person_ids=None) -> Rosters:
    """The region's cases of the year (or only those of `person_ids`)."""
    persons = _persons(region, person_ids)
    return Rosters(education=education_roster(region, year, persons, person_ids),
                   welfare=welfare_roster(region, year, person_ids), health=health_roster(region, year, person_ids))


def person_rosters(r: Rosters, person_id: int) -> Rosters:
    """One person's rows of the rosters (for the two explanations side by side)."""
    def only(f):
        return None if f is None else f.filter(pl.col("_person") == person_id)
    return Rosters(education=only(r.education), welfare=only(r.welfare), health=only(r.health))


def parameters(region_code: str, when: dt.date) -> list[dict]:
    """Every parameter a scenario may change, with its value in force for the region: name,
    description, unit and the current value as a pack writes it."""
    from fupin.policy.errors import PolicyError

    chain = shipped_packs().for_region(region_code)
    names = sorted({n for p in chain.packs for n, param in p.parameters.items()
                    if n.startswith(PREFIXES) and param.unit in ("yuan", "ratio", "count", "bool")})
    out = []
    for name in names:
        param = chain.param(name)
        try:
            value = chain.lookup(name, when)
        except PolicyError:
            continue
        described = next((pk.parameters[name].description for pk in reversed(chain.packs)
                          if name in pk.parameters and pk.parameters[name].description), "")
        # a note for pack writers in brackets ("（fee_waiver_mode 为 capped 时使用）") is not for the screen
        described = re.sub(r"[（(][^（）()]*[A-Za-z][^（）()]*[）)]", "", described).strip()
        if not described or re.search(r"[A-Za-z]", described):
            continue   # a parameter without plain words is not offered on a screen
        current = written(param.unit, value.value)
        out.append({"name": name, "description": described, "unit": param.unit, "current": current,
                    "current_shown": shown(param.unit, current), "source": value.source})
    return out


def shown(unit: str, value) -> str:
    """A value as a pack writes it, as the screen shows it (是/否 for a yes-or-no)."""
    if unit == "bool" or isinstance(value, bool):
        return "是" if str(value).lower() == "true" else "否"
    if unit == "ratio":
        from decimal import Decimal

        return f"{(Decimal(str(value)) * 100).normalize():f}%"
    return str(value)


def written(unit: str, value) -> str:
    """A value as the engine holds it (fen, millionths) → as a pack writes it."""
    from decimal import Decimal

    from fupin.policy.money import yuan
    from fupin.policy.packs import RATIO_SCALE

    if unit == "yuan":
        return yuan(value)
    if unit == "ratio":
        return format((Decimal(value) / RATIO_SCALE).normalize(), "f")
    if unit == "bool":
        return "true" if value else "false"
    return str(value)


def scenarios_for(user):
    """Scenarios of the user's region and of the regions inside it (shared with colleagues)."""
    from fupin.core import access

    from .models import Scenario

    lo, hi = access.scope_range(user)
    return Scenario.objects.filter(region_id__gte=lo, region_id__lte=hi).select_related("region", "created_by")


def result_households(result) -> pl.DataFrame:
    """The result's table of households: _household, _village, current, scenario, change (fen)."""
    import io

    return pl.read_parquet(io.BytesIO(bytes(result.households)))


def household_rows(user, table: pl.DataFrame) -> list[dict]:
    """Rows of `table` with the household's number, village and head as the user may see them:
    the head's name and masked ID number (never the birth date beside it); a household outside
    the user's region is left out."""
    from fupin.core import access, idcard
    from fupin.registry.models import Household, Person

    ids = table["_household"].to_list()
    lo, hi = access.scope_range(user)
    households = {h.pk: h for h in Household.objects.filter(pk__in=ids, village_id__gte=lo, village_id__lte=hi)
                  .select_related("village")}
    heads = {p.household_id: p for p in Person.objects.filter(household_id__in=list(households), relation="head")}
    out = []
    for row in table.iter_rows(named=True):
        h = households.get(row["_household"])
        if h is None:
            continue
        head = heads.get(h.pk)
        out.append({"pk": h.pk, "number": h.number, "village": h.village.name if h.village else "",
                    "head": head.name if head else "", "id_masked": idcard.mask(head.id_number) if head else "",
                    "current": row["current"], "scenario": row["scenario"], "change": row["change"]})
    return out


def most_affected(user, result, n: int = 20) -> list[dict]:
    table = result_households(result)
    top = table.filter(pl.col("change") != 0).sort([pl.col("change").abs(), pl.col("_household")],
                                                     descending=[True, False]).head(n)
    return household_rows(user, top)
