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
    return opened
