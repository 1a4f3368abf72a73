"""Demo data of the health room: patients in every batch of 三个一批, at every stage (called
once by the demo generator; everything goes through the room's own services, with audit)."""
from __future__ import annotations

import datetime as dt

from fupin.core.models import User

# (batch, diseases given in turn, how many patients, how many started, how many finished)
PLAN = (("concentrated", ("gastric_cancer", "lung_cancer", "esrd", "breast_cancer", "mdr_tb"), 6, 3, 1),
        ("chronic", ("hypertension", "diabetes"), 5, 2, 0),
        ("critical", ("aplastic_anaemia", "sle", "haemophilia"), 3, 1, 0))


def seed(*, actor: User, year: int) -> int:
    """Record diagnoses for some seriously and chronically ill poor persons and put most of them
    in a batch; the rest stay on the candidate list. Returns the number of cases opened."""
    from fupin.registry.models import Person

    from . import programmes as prog
    from .models import Hospital

    hospitals = list(Hospital.objects.filter(level__in=("county", "city")).order_by("level", "code"))
    if not hospitals or actor is None:
        return 0
    poor = Person.objects.filter(alive=True, household__status__in=("registered", "monitored", "returned"),
                                 birth_date__year__lt=year - 18).order_by("pk")
    used: set[int] = set()
    opened = 0
    for batch, diseases, n, started, finished in PLAN:
        health = "serious" if batch != "chronic" else "chronic"
        people = [p for p in poor.filter(health=health).exclude(pk__in=used)[:n + 1]]
        for i, person in enumerate(people):
            used.add(person.pk)
            condition = prog.condition_record(actor=actor, person=person, code=diseases[i % len(diseases)],
                                              diagnosed_on=dt.date(year, 1, 10 + i))
            if i == n:        # one more patient found but not yet placed: stays on the candidate list
                continue
            case = prog.treatment_case_open(actor=actor, condition_id=condition.pk, batch=batch, year=year,
                                            hospital_id=hospitals[i % len(hospitals)].pk, on=dt.date(year, 2, 1))
            opened += 1
            if i < started:
                prog.treatment_case_advance(actor=actor, case_id=case.pk, on=dt.date(year, 2, 15))
            if i < finished:
                prog.treatment_case_advance(actor=actor, case_id=case.pk, on=dt.date(year, 4, 1), outcome="improved")
    seed_coverage(actor=actor, year=year, poor=poor.exclude(pk__in=used), hospitals=hospitals)
    return opened


def seed_coverage(*, actor: User, year: int, poor, hospitals) -> None:
    """Issue 17's second part: the premium run for every township but the last (whose poor stay
    on the uninsured list), three TB patients (one up to date, two behind), mobile clinics (behind
    the monthly number) and tele-consultations from the township hospital (one still waiting)."""
    from fupin.core.models import Region
    from fupin.funds import services as funds

    from fupin.core.errors import FupinError

    from . import consults, insurance, keygroups, programmes as prog
    from .models import Hospital

    county = Region.objects.filter(code=actor.region_id).first()
    officer = User.objects.filter(role="county_officer", region_id=actor.region_id).order_by("pk").first()
    if county is None or officer is None:
        return
    townships = list(Region.objects.filter(parent=county, level=4).order_by("code"))
    status = insurance.coverage_status(actor, county.code, year)
    funds.budget_allocate(actor=officer, budget=insurance._budget(county, year), amount=max(status["due_total"], 1),
                          date=dt.date(year, 1, 3), decision_id=f"演示拨款-资助参保{year}")
    for township in townships[:-1] if len(townships) > 1 else townships:
        try:
            insurance.premium_run(actor=actor, region_code=township.code, year=year, on=dt.date(year, 1, 5))
        except FupinError:   # a township without poor persons: nothing to pay
            continue
    patients = list(poor.filter(birth_date__year__lt=year - 18)[:6])
    for i, person in enumerate(patients[:3]):
        start = dt.date(year, 9, 1) + dt.timedelta(days=10 * i)
        keygroups.tb_case_open(actor=actor, person=person, started_on=start)
        dates = keygroups.schedule(person.household.village_id, start)
        for d in dates[: (len(dates) if i == 0 else 2)]:   # the first keeps every visit; the others stop early
            if d <= dt.date(year, 11, 1):
                prog.service_record(actor=actor, person=person, kind="tb_visit", on=d)
    township_hospital = Hospital.objects.filter(level="township").order_by("code").first()
    if township_hospital is None or not hospitals:
        return
    for month in (3, 5, 8):   # fewer outings than one a month: behind the pack's number
        consults.mobile_clinic_record(actor=actor, hospital_id=township_hospital.pk, township_code=townships[0].code,
                                      on=dt.date(year, month, 12), persons=20 + month)
    for i, person in enumerate(patients[3:]):
        c = consults.consultation_request(actor=actor, person=person, requester_id=township_hospital.pk,
                                          consultant_id=hospitals[i % len(hospitals)].pk,
                                          on=dt.date(year, 10, 8 + i), question="疑难病例，请上级医院会诊")
        if i < 2:
            consults.consultation_answer(actor=actor, consultation_id=c.pk, on=dt.date(year, 10, 9 + i),
                                         opinion="建议转上级医院进一步检查")
