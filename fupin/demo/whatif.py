"""Demo of the policy what-if (issue 20): this year's hospital claims of some poor patients
(settled at the window, through the health services), and three saved scenarios of the county,
each run once: the boarding subsidy +200 yuan a year, the 低保 standard at 450 yuan a month,
the self-pay cap from 10% to 8%."""
from __future__ import annotations

import datetime as dt
import random

SCENARIOS = (
    ("寄宿生生活补助每年提高200元", {"education.compulsory.boarding_living_per_year.primary": "1200",
                                     "education.compulsory.boarding_living_per_year.junior": "1450"},
     "义务教育寄宿生生活补助小学、初中每生每年各提高200元"),
    ("低保标准调整为每月450元", {"welfare.dibao.standard_per_month": "450"}, "农村低保标准按每人每月450元测算"),
    ("个人自付封顶比例由10%降至8%", {"health.topup.cap_share": "0.08"}, "贫困患者县域内住院个人自付不超过8%"),
)


def seed_claims(county, *, year: int, n: int = 60) -> int:
    """Settle `n` inpatient claims of registered-poor patients at the county's hospitals."""
    from fupin.core.errors import FupinError
    from fupin.core.models import User
    from fupin.health import services
    from fupin.health.models import Claim, Hospital
    from fupin.registry.models import Person

    from .generator import COUNTY

    if Claim.objects.exists():
        return 0
    window = User.objects.filter(role="hospital_window", region_id=COUNTY[0]).order_by("pk").first()
    hospitals = list(Hospital.objects.filter(region__code__startswith=COUNTY[0][:6]).order_by("code"))
    if window is None or not hospitals:
        return 0
    rng = random.Random(20)
    persons = list(Person.objects.filter(alive=True, household__status__in=["registered", "monitored", "returned"])
                   .order_by("pk")[: n // 2])
    made = 0
    for i, person in enumerate(persons):
        for k in range(2):   # two stays each: the second settles on the first's accumulators
            total = rng.randrange(300_000, 6_000_000)
            in_policy = total * rng.randrange(75, 95) // 100
            bill = {"discharge_date": dt.date(year, 2 + k * 4 + i % 3, 1 + i % 27), "visit_type": "inpatient",
                    "in_county": True, "referred": True, "total": total, "in_policy": in_policy, "waivable": 0}
            try:
                services.settle(user=window, hospital=hospitals[(i + k) % len(hospitals)], person=person,
                                number=f"ZY{year}{i:04d}{k}", bill=bill)
                made += 1
            except FupinError:
                continue   # a bill the pack cannot settle here (e.g. no certificate): leave it out
    return made


def seed(county, *, year: int) -> None:
    from fupin.core.models import User
    from fupin.whatif import services
    from fupin.whatif.models import Scenario

    from .generator import COUNTY

    if Scenario.objects.exists():
        return
    seed_claims(county, year=year)
    officer = User.objects.filter(role="county_officer", region_id=COUNTY[0]).order_by("pk").first()
    if officer is None:
        return
    for name, changes, note in SCENARIOS:
        scenario = services.scenario_save(actor=officer, name=name, region_code=COUNTY[0], year=year,
                                          changes=changes, note=note)
        services.scenario_run(actor=officer, scenario_id=scenario.pk)
