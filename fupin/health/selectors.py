"""Reads of the health room: the treatment batches (三个一批)."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, F, OuterRef, Q

from fupin.core import access
from fupin.core.models import User

from .models import Condition, Stage, TreatmentCase
from .services import packs


def batch_diseases(batch: str) -> dict[str, int | None]:
    """The diseases of a batch (code → the highest age the list allows, or None), from the lists."""
    from .programmes import disease_lists

    doc = disease_lists()["doc"]
    out: dict[str, int | None] = {}
    for key in doc["batches"].get(batch, []):
        section = doc[key]
        for cat in section.get("categories", [{"diseases": section.get("diseases", [])}]):
            for d in cat["diseases"]:
                out[d["code"]] = cat.get("max_age")
    return out


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def treatment_candidates(user: User, region_code: str, year: int, batch: str) -> list[tuple]:
    """Registered-poor and monitored persons of the region with an open diagnosis of one of the
    batch's diseases (within its age limit when diagnosed) and no case of it this year:
    [(person, condition)], by village and name."""
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    year_end = dt.date(year, 12, 31)
    chain = packs().for_region(region.code)
    statuses = set(chain.lookup("health.registered_poor_statuses", year_end).value) \
        | set(chain.lookup("health.monitored_statuses", year_end).value)
    diseases = batch_diseases(batch)
    persons = access.persons_for(user).filter(alive=True, household__village_id__gte=lo, household__village_id__lte=hi,
                                              household__status__in=statuses)
    taken = set(TreatmentCase.objects.filter(person__in=persons, batch=batch, year=year)
                .values_list("person_id", "disease"))
    out = []
    for c in Condition.objects.filter(person__in=persons, code__in=diseases, diagnosed_on__lte=year_end) \
            .exclude(resolved_on__lt=dt.date(year, 1, 1)).select_related("person__household__village") \
            .order_by("person__household__village_id", "person__name", "code"):
        limit = diseases[c.code]
        if (c.person_id, c.code) in taken or (limit is not None and _age(c.person.birth_date, c.diagnosed_on) > limit):
            continue
        out.append((c.person, c))
    return out


def treatment_cases(user: User, region_code: str, year: int, batch: str, stage: str = ""):
    """The batch's cases of the year in the region (optionally one stage), and how many are at each stage."""
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    qs = TreatmentCase.objects.filter(person__in=access.persons_for(user), batch=batch, year=year,
                                      person__household__village_id__gte=lo, person__household__village_id__lte=hi)
    counts = dict(qs.values_list("stage").annotate(n=Count("id")))
    if stage:
        qs = qs.filter(stage=stage)
    rows = qs.select_related("person__household__village", "hospital").order_by("person__household__village_id",
                                                                                 "person__name", "disease")
    return region, rows, [(s, label, counts.get(s, 0)) for s, label in Stage.choices]


def contract_rates(user: User, region_code: str, on: dt.date) -> dict:
    """The family-doctor contract rate of registered-poor persons by village (against the pack's
    target, 100%), and how many each team has signed."""
    from .programmes import live_contracts

    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    chain = packs().for_region(region.code)
    statuses = chain.lookup("health.registered_poor_statuses", on).value
    target = chain.lookup("health.fd.contract_target", on).value   # a ratio in millionths
    poor = access.persons_for(user).filter(alive=True, household__status__in=statuses,
                                           household__village_id__gte=lo, household__village_id__lte=hi)
    live = live_contracts(on)
    # counted by the database, by village (issue 13: reading every person into Python was most of
    # the page's time at the county size)
    ppm = 1_000_000
    rows = []
    for r in poor.order_by().values("household__village_id").annotate(
            village=F("household__village__name"), persons=Count("pk"),
            signed=Count("pk", filter=Q(Exists(live.filter(person_id=OuterRef("pk")))))).order_by("household__village_id"):
        rows.append({"village": r["village"], "persons": r["persons"], "signed": r["signed"],
                     "rate_permille": r["signed"] * 1000 // r["persons"],
                     "meets": r["signed"] * ppm >= target * r["persons"]})
    # a person has one live contract at a time (contract_sign and the import refuse a second)
    teams = live.filter(Exists(poor.filter(pk=OuterRef("person_id")))).order_by().values("team") \
        .annotate(n=Count("person_id", distinct=True)).values_list("team", "n").order_by("team")
    return {"region": region, "on": on, "villages": rows, "teams": list(teams),
            "target_permille": target * 1000 // ppm}


def settlement_indicators(user: User, region_code: str, year: int) -> dict:
    """The health bureau's indicators from the year's live settlements of the region's patients:
    the in-county treatment rate of inpatient claims, and the self-pay share of in-county
    inpatient and chronic-outpatient care, with the claims whose own share breaks the target."""
    from .models import Claim, ClaimStatus

    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    chain = packs().for_region(region.code)
    year_end = dt.date(year, 12, 31)
    from fupin.core.errors import FupinError
    from fupin.policy.errors import PolicyError

    try:
        in_county_target = chain.lookup("health.indicator.in_county_rate", year_end).value    # millionths
        share_target = chain.lookup("health.indicator.self_pay_share", year_end).value
    except PolicyError:   # a year before the indicators took effect: say so, not a server error
        raise FupinError(f"{year} 年还没有施行健康扶贫结算考核指标，请从列表中选择年度") from None
    claims = Claim.objects.filter(person__in=access.persons_for(user), status=ClaimStatus.SETTLED,
                                  discharge_date__year=year, person__household__village_id__gte=lo,
                                  person__household__village_id__lte=hi)
    inpatient = claims.filter(visit_type="inpatient")
    n_in, n_all = inpatient.filter(in_county=True).count(), inpatient.count()
    covered = claims.filter(in_county=True, visit_type__in=("inpatient", "chronic_outpatient"))
    total = patient = 0
    breaking = []
    ppm = 1_000_000
    for c in covered.select_related("person__household__village", "hospital").order_by("discharge_date", "pk"):
        total += c.total
        patient += c.patient
        if c.patient * ppm > share_target * c.total:
            breaking.append(c)
    return {"region": region, "year": year,
            "inpatient": n_all, "in_county": n_in,
            "in_county_permille": n_in * 1000 // n_all if n_all else None,
            "in_county_target_permille": in_county_target * 1000 // ppm,
            "in_county_meets": n_all > 0 and n_in * ppm >= in_county_target * n_all,
            "covered_total": total, "covered_patient": patient,
            "self_pay_permille": patient * 1000 // total if total else None,
            "self_pay_target_permille": share_target * 1000 // ppm,
            "self_pay_meets": patient * ppm <= share_target * total,
            "breaking": breaking}


def marking_compare(user: User, region_code: str, on: dt.date, marked_ids: set[str]) -> dict:
    """降档提标: the registered-poor persons of the region the insurance office should mark, against
    the list of persons it has marked. Who is missing a mark, who is marked without being
    registered poor (a mark to lift), and how many marked IDs are not in this region's registry."""
    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    statuses = packs().for_region(region.code).lookup("health.registered_poor_statuses", on).value
    persons = access.persons_for(user).filter(alive=True, household__village_id__gte=lo, household__village_id__lte=hi) \
        .select_related("household__village").order_by("household__village_id", "name")
    poor = [p for p in persons.filter(household__status__in=statuses)]
    in_region = {p.id_number: p for p in persons.filter(id_number__in=marked_ids)}
    return {"region": region, "to_mark": len(poor), "marked": len(marked_ids),
            "missing": [p for p in poor if p.id_number not in marked_ids],
            "not_poor": [p for i, p in in_region.items() if p.household.status not in statuses],
            "elsewhere": len(marked_ids) - len(in_region)}


def checkup_status(user: User, region_code: str, year: int) -> dict:
    """Free check-ups of registered-poor persons of the pack's ages (by age reached in the year):
    by village, how many are due and how many were checked this year; and who is still due."""
    from .models import Service

    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    chain = packs().for_region(region.code)
    year_end = dt.date(year, 12, 31)
    statuses = chain.lookup("health.registered_poor_statuses", year_end).value
    lo_age, hi_age = chain.lookup("health.checkup.min_age", year_end).value, chain.lookup("health.checkup.max_age", year_end).value
    persons = access.persons_for(user).filter(
        alive=True, household__status__in=statuses, household__village_id__gte=lo, household__village_id__lte=hi,
        birth_date__year__gte=year - hi_age, birth_date__year__lte=year - lo_age)
    checked = Exists(Service.objects.filter(person_id=OuterRef("pk"), kind="check", date__gte=dt.date(year, 1, 1),
                                            date__lte=year_end))
    # counted by the database, by village (issue 13: thousands of persons read into Python made
    # this section a large part of the page's time); the due persons stay a query for the export
    villages = [{"village": r["village"], "persons": r["persons"], "checked": r["checked"]}
                for r in persons.order_by().values("household__village_id").annotate(
                    village=F("household__village__name"), persons=Count("pk"), checked=Count("pk", filter=Q(checked)))
                .order_by("household__village_id")]
    total, n_checked = sum(v["persons"] for v in villages), sum(v["checked"] for v in villages)
    due = persons.exclude(checked).select_related("household__village").order_by("household__village_id", "name")
    return {"region": region, "year": year, "min_age": lo_age, "max_age": hi_age,
            "villages": villages, "persons": total, "checked": n_checked, "due": due, "due_count": total - n_checked}


def certificate_status(user: User, region_code: str, on: dt.date) -> dict:
    """门诊服务证 for the special and chronic outpatient diseases: registered-poor and monitored
    persons with an open diagnosis of one of them and no certificate valid on `on` — to help
    apply (`apply`), or to renew when their last certificate for it has run out (`renew`)."""
    from .models import Certificate
    from .programmes import disease_lists

    region = access.access_region(user, region_code)
    lo, hi = region.code_range()
    chain = packs().for_region(region.code)
    statuses = set(chain.lookup("health.registered_poor_statuses", on).value) \
        | set(chain.lookup("health.monitored_statuses", on).value)
    lists = disease_lists()
    codes = lists["special"] | lists["chronic"]
    persons = access.persons_for(user).filter(alive=True, household__status__in=statuses,
                                              household__village_id__gte=lo, household__village_id__lte=hi)
    # driven by the few conditions and certificates, each asking whether its person is one of
    # these (an IN over the county's persons read them all on every page)
    mine = Exists(persons.filter(pk=OuterRef("person_id")))
    conditions = Condition.objects.filter(mine, code__in=codes, diagnosed_on__lte=on) \
        .filter(Q(resolved_on__isnull=True) | Q(resolved_on__gt=on)) \
        .select_related("person__household__village").order_by("person__household__village_id", "person__name", "code")
    last: dict = {}
    for c in Certificate.objects.filter(mine, disease__in=codes, valid_from__lte=on).order_by("valid_to"):
        last[(c.person_id, c.disease)] = c     # the latest-ending certificate of each person and disease
    apply, renew = [], []
    for c in conditions:
        cert = last.get((c.person_id, c.code))
        if cert is None:
            apply.append((c.person, lists["names"][c.code], None))
        elif cert.valid_to < on:
            renew.append((c.person, lists["names"][c.code], cert.valid_to))
    return {"region": region, "on": on, "apply": apply, "renew": renew}
