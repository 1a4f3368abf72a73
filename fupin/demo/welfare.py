"""Demo recipients of every social-assistance programme in the demo county, through the
welfare services (so amounts come from the packs and the registry flags stay consistent):
the households the generator marked 低保/特困, a few disability, family-planning and temporary
recipients, one 低保 application under way, and this month's 低保 run awaiting approval."""
from __future__ import annotations

import datetime as dt
import random

from django.db import transaction


def seed(county, *, actor=None, today: dt.date | None = None) -> int:
    """Returns the number of enrolments made. Idempotent: does nothing if any exist."""
    from fupin.core.errors import FupinError
    from fupin.core.models import User
    from fupin.funds import services as funds
    from fupin.registry.models import Household, Person
    from fupin.welfare import services
    from fupin.welfare.models import Enrolment

    from .generator import COUNTY, TODAY

    if Enrolment.objects.exists():
        return 0
    today = today or TODAY
    civil = User.objects.filter(role="civil_affairs", region_id=COUNTY[0]).order_by("id").first()
    if civil is None:
        return 0
    rng = random.Random(16)
    start = dt.date(today.year, 1, 1)
    made = 0

    def grant(person, programme, category, care="none"):
        nonlocal made
        try:
            with transaction.atomic():
                services.enrolment_grant(actor=civil, household_id=person.household_id, person_id=person.pk,
                                         programme=programme, category=category, care_level=care, start=start)
            made += 1
            return True
        except FupinError:
            return False

    # the caseload the registry already marks: one 低保 enrolment per household (paid to the head)
    dibao = Household.objects.filter(persons__assistance="dibao").distinct().order_by("number")
    for h in dibao:
        head = h.persons.filter(relation="head", alive=True).first()
        if head is None or not grant(head, "dibao", rng.choice(["ordinary", "ordinary", "class_a", "class_b"])):
            # income above the standard: the registry flag follows the (absent) enrolment
            Person.objects.filter(household=h, assistance="dibao").update(assistance="none")
    for p in Person.objects.filter(assistance="tekun", alive=True, household__isnull=False).order_by("id"):
        if not grant(p, "tekun", rng.choice(["centralised", "dispersed"]), rng.choice(["self", "partial", "full"])):
            Person.objects.filter(pk=p.pk).update(assistance="none")
    # living subsidy: the poor disabled (低保 or registered-poor households)
    from django.db.models import Q
    for p in Person.objects.filter(Q(assistance="dibao") | Q(household__status="registered"), alive=True,
                                   disability_grade__isnull=False, household__isnull=False).order_by("id")[:10]:
        grant(p, "disability_living", "ordinary")
    for p in Person.objects.filter(alive=True, disability_grade__in=[1, 2], household__isnull=False).order_by("id")[:40]:
        grant(p, "disability_nursing", f"grade{p.disability_grade}")
    people = list(Person.objects.filter(alive=True, relation="head", household__isnull=False).order_by("id")[:400])
    rng.shuffle(people)
    for p in people[:30]:
        grant(p, "fp_reward", "ordinary")
    for p in people[30:33]:
        grant(p, "fp_special", rng.choice(["death", "disabled"]))
    for p in people[33:43]:
        grant(p, "temporary", rng.choice(["illness", "disaster", "accident"]))
    # one 低保 application under way (village step), taken by the demo village cadre
    cadre = User.objects.filter(role="village_cadre").order_by("id").first()
    if cadre:
        lo, hi = cadre.region.code_range()
        h = Household.objects.filter(village_id__gte=lo, village_id__lte=hi).exclude(persons__assistance="dibao") \
            .order_by("number").first()
        head = h and h.persons.filter(relation="head", alive=True).first()
        if head:
            from django.utils import timezone

            from .play import history_day, on

            with on(history_day(timezone.localdate())):   # its step's deadline in a year already entered
                services.application_start(actor=cadre, household_id=h.pk, person_id=head.pk, programme="dibao",
                                           category="ordinary", consent_assets=True, comment="演示申请")
    # this month's 低保 run of the county, funded and awaiting a second officer's approval
    officer = actor or User.objects.filter(role="county_officer").order_by("id").first()
    region = civil.region
    budget = services.budget_for(region, "dibao", today.year)
    if officer:
        funds.budget_allocate(actor=officer, budget=budget, amount=500_000_000, date=start,
                              decision_id=f"民财〔{today.year}〕演示1号")
    services.run_compute(actor=civil, programme="dibao", county_code=region.code, month=today)
    return made
