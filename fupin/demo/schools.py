"""Demo data of the schools, pubhealth and notify rooms (issue #22): every demo school with its
register and enrolment by grade, teachers sent to rural schools (one principal who left early),
the year's “两后生” with some followed up, public-health activities in every township and a year
of indicator figures for every township (some below target), and the day's reminders in the app.
Deterministic; written through the rooms' own services (so every row has its audit event)."""
from __future__ import annotations

import datetime as dt
import random

from django.db.models import Count


def seed(county, *, officer, today: dt.date) -> None:
    from fupin.core.models import User
    from fupin.education.models import Enrolment, School
    from fupin.notify import services as notify
    from fupin.pubhealth import catalogue, services as pubhealth
    from fupin.schools import selectors, services
    from fupin.schools.models import Profile

    if Profile.objects.exists() or not School.objects.exists():
        return
    rng = random.Random(2222)
    year = today.year
    aid = User.objects.filter(role="school_aid").order_by("pk").first() or officer
    health = User.objects.filter(role="health_officer").order_by("pk").first() or officer
    # ---- the register and enrolment by grade (the roster's poor pupils are part of all pupils) ----
    roster = (Enrolment.objects.filter(semester=f"{year}-autumn").values_list("school_id", "stage", "grade")
              .annotate(n=Count("pk")))
    by_school: dict[int, list] = {}
    for school_id, stage, grade, n in roster:
        by_school.setdefault(school_id, []).append((stage, grade, n))
    for i, school in enumerate(School.objects.order_by("code")):
        kind = ("vocational" if "职业" in school.name else "primary" if school.name.endswith("小学")
                else "nine_year" if i % 3 == 0 else "junior")
        services.profile_save(actor=officer, code=school.code, values={
            "kind": kind, "village": school.region_id if school.region.level == 5 else "",
            "boarding": kind != "primary" or i % 4 == 0, "weak": i % 3 != 2})
        for stage, grade, n in sorted(by_school.get(school.pk, [])):
            pupils = n + rng.randint(20, 80)
            services.grade_save(actor=officer, code=school.code, year=year, stage=stage, grade=grade,
                                classes=max(1, pupils // 45), pupils=pupils,
                                boarders=pupils * 2 // 5 if kind != "primary" else 0)
    # ---- teachers: residents with the living allowance, volunteers, a principal who left early ----
    schools = list(School.objects.order_by("code")[:6])
    for i, school in enumerate(schools):
        services.teacher_add(actor=officer, code=school.code, name=f"教师{i + 1}号", kind="resident",
                             start=dt.date(2012 + i, 9, 1), subject="语文", living_allowance=True)
        services.teacher_add(actor=officer, code=school.code, name=f"支教教师{i + 1}号", kind="volunteer",
                             home_unit="成都市实验小学", subject="数学", start=dt.date(year - 1, 9, 1),
                             end=dt.date(year, 8, 31) if i % 2 else None)
    services.teacher_add(actor=officer, code=schools[0].code, name="挂职校长甲", kind="principal",
                         home_unit="西昌市第一中学", start=dt.date(year, 3, 1), end=dt.date(year, 5, 31))
    services.teacher_add(actor=officer, code=schools[1].code, name="挂职校长乙", kind="principal",
                         home_unit="凉山州民族中学", start=dt.date(year, 2, 20))
    services.teacher_add(actor=officer, code=schools[-1].code, name="实习生丙", kind="special_post",
                         start=dt.date(year, 9, 1), subject="英语")
    # ---- teachers' duties: each resident teacher takes two roster students of its school this autumn ----
    from fupin.schools.models import Teacher

    for t in Teacher.objects.filter(kind="resident").select_related("school").order_by("pk"):
        pupils = list(Enrolment.objects.filter(school=t.school, semester=f"{year}-autumn", status="enrolled")
                      .order_by("person_id")
                      .values_list("person_id", flat=True)[:2])
        for k, person_id in enumerate(pupils):
            m = services.mentor_assign(actor=officer, teacher_id=t.pk, person_id=person_id, semester=f"{year}-autumn")
            for month in range(9, 9 + (2 if k else 1)):   # the second pupil is on time, the first a talk behind
                services.contact_record(actor=officer, mentor_id=m.pk, kind="talk", date=dt.date(year, month, 12))
            services.contact_record(actor=officer, mentor_id=m.pk, kind="visit", date=dt.date(year, 9, 20))
    # ---- 两后生: a few who finished junior or senior high in spring and are not in school this autumn ----
    # (the demo county is small: its oldest junior and senior pupils are taken as this year's leavers)
    finals = list(Enrolment.objects.filter(semester=f"{year}-spring", stage__in=["junior", "senior"],
                                           person__household__status__in=["registered", "exited", "returned"])
                  .order_by("-grade", "person_id")[:8].values_list("person_id", flat=True))
    Enrolment.objects.filter(semester=f"{year}-spring", person_id__in=finals).update(status="graduated", grade=3)
    Enrolment.objects.filter(semester=f"{year}-autumn", person_id__in=finals).update(status="graduated")
    rows = selectors.lianghou(aid if aid.role == "school_aid" else officer, year=year)
    outcomes = [("vocational", "甘洛县职业技术学校"), ("training", "县就业局电工培训班"), ("persuading", "")]
    for row, (outcome, place) in zip(rows, outcomes):
        services.followup_record(actor=aid, person_id=row["person"].pk, date=dt.date(year, 9, 15), outcome=outcome,
                                 place=place, note="入户走访")
    # ---- public health: activities in every township, and last year's figures for every indicator ----
    townships = [(c, n) for c, n, lv, _ in county.regions if lv == 4]
    villages = {t: [c for c, _, lv, p in county.regions if lv == 5 and p == t] for t, _ in townships}
    places = {"checkup": "卫生院", "lecture": "村委会", "medicine": "村卫生室", "two_cancers": "县妇幼保健院",
              "prepregnancy": "县妇幼保健院", "policy_talk": "村民活动室", "echinococcosis": "村小学", "dog_deworming": "村委会"}
    for t, name in townships:
        for k, programme in enumerate(catalogue.programmes()):
            code = villages[t][k % len(villages[t])] if villages[t] else t
            pubhealth.activity_record(actor=health, region_code=code, programme=programme,
                                      date=dt.date(year, 1 + (k * 2 + len(name)) % 10, 10 + k),
                                      place=f"{name}{places[programme]}", participants=rng.randint(15, 120),
                                      organiser=f"{name}卫生院")
    from django.db import transaction

    from fupin.core.models import Region
    from fupin.pubhealth.services import _figure

    def fig(code, indicator, num, den):
        _figure(health, Region.objects.get(code=code), year - 1, indicator, num, den, "演示：卫生健康局年报")

    with transaction.atomic():
        for i, (t, _) in enumerate(townships):
            children = rng.randint(300, 600)
            fig(t, "immunisation", children - rng.randint(0, 15) - (12 if i % 3 == 0 else 0), children)
            fig(t, "vaccination_certificate", children // 6 - rng.randint(0, 3), children // 6)
            women = rng.randint(120, 300)
            for ind in ("pmtct_hiv_test", "pmtct_syphilis_test", "pmtct_hepb_test"):
                fig(t, ind, women - rng.randint(0, 4), women)
            fig(t, "pmtct_treatment", 3, 3)
            hiv = rng.randint(20, 60)
            fig(t, "hiv_followup", hiv * 9 // 10 - (i % 2) * 4, hiv)
            fig(t, "hiv_art", hiv * 86 // 100, hiv)
            tb = rng.randint(10, 30)
            fig(t, "tb_cure", tb - rng.randint(0, 3), tb)
            kids = rng.randint(400, 900)
            fig(t, "echinococcosis_screening", kids - rng.randint(10, 60), kids)
            dogs = rng.randint(200, 500)
            fig(t, "dog_register", dogs - rng.randint(0, 40), dogs)
            births = rng.randint(250, 500)
            fig(t, "maternal_mortality", 1 if i == 1 else 0, births)
            fig(t, "infant_mortality", rng.randint(1, 7), births)
            people = rng.randint(12000, 30000)
            fig(t, "village_doctors", people // 2000 + (1 if i % 2 else -1), people)
            fig(t, "township_clinics_standard", 1, 1)
            n = max(1, len(villages[t]))
            fig(t, "village_clinics_standard", n - (1 if i % 3 == 0 and n > 1 else 0), n)
    # ---- the day's reminders (in the app; nobody has opted into e-mail or SMS in the demo) ----
    notify.notices_send(day=today)
