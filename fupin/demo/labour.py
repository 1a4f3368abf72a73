"""Demo labour force, a 雨露计划 course with its subsidies paid, public-welfare posts paid for
one month, and the college students of poor families. Called once from generator.seed_demo_extras."""
from __future__ import annotations

import datetime as dt
import random


def seed(county, *, officer, today: dt.date, rng: random.Random) -> None:
    from fupin.funds import services as funds
    from fupin.labour import services
    from fupin.labour.models import Capacity, Employment, LabourRecord
    from fupin.registry.models import Person

    year = today.year
    county_code = next(c for c, _, lv, _ in county.regions if lv == 3)
    villages = [c for c, _, lv, _ in county.regions if lv == 5]
    people = list(Person.objects.filter(alive=True, birth_date__year__gt=year - 60, birth_date__year__lte=year - 16)
                  .order_by("pk").only("pk", "labour"))
    kinds = [(Employment.LOCAL, 25), (Employment.OUT_COUNTY, 15), (Employment.OUT_PROVINCE, 30),
             (Employment.SELF_EMPLOYED, 8), (Employment.NONE, 22)]
    places = {Employment.LOCAL: "甘洛县城", Employment.OUT_COUNTY: "成都市", Employment.OUT_PROVINCE: "广东省东莞市",
              Employment.SELF_EMPLOYED: ""}
    records = []
    for p in people:
        if p.labour in ("lost", "none"):
            records.append(LabourRecord(person_id=p.pk, year=year, capacity=Capacity.NONE, employment=Employment.NONE))
            continue
        employment = rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        months = 0 if employment == Employment.NONE else rng.randint(3, 12)
        records.append(LabourRecord(
            person_id=p.pk, year=year, capacity=Capacity.FULL if rng.random() < 0.8 else Capacity.PARTIAL,
            skills=rng.choice(["", "", "电焊", "厨师", "驾驶", "种植", "养殖"]), employment=employment,
            employer=places.get(employment, ""), months=months,
            monthly_income=0 if not months else rng.randrange(150000, 600000, 10000)))
    LabourRecord.objects.bulk_create(records, batch_size=5000)

    # one 雨露计划 course in spring: ten trainees, eight attend every session and are paid
    course = services.course_create(actor=officer, name=f"{year}年雨露计划电工班", kind="yulu_long",
                                    county_code=county_code, provider="甘洛县职业技术学校",
                                    start=dt.date(year, 3, 2), end=dt.date(year, 3, 6), sessions=5)
    trainees = [p for p in Person.objects.filter(alive=True, household__village_id=villages[0],
                                                 birth_date__year__gt=year - 40, birth_date__year__lte=year - 16)
                .select_related("household").order_by("pk")[:10]]
    budget = services.labour_budget(region_code=county_code, programme="training", name="培训补助")
    funds.budget_allocate(actor=officer, budget=budget, amount=10_000_000, date=dt.date(year, 1, 10),
                          decision_id=f"演示拨款-培训{year}")
    for i, person in enumerate(trainees):
        e = services.enrol(actor=officer, course=course, person=person, on=dt.date(year, 2, 20))
        days = 5 if i < 8 else 2
        services.attendance_sheet(actor=officer, course=course, date=dt.date(year, 3, 2), enrolment_ids=[e.pk])
        for d in range(3, 2 + days):
            services.attendance_record(actor=officer, enrolment=e, date=dt.date(year, 3, d))
        if i < 8:
            services.complete(actor=officer, enrolment=e, on=dt.date(year, 3, 6), certificate=f"YL{year}-{i + 1:03d}")
    if trainees:
        services.training_subsidies_pay(actor=officer, course=course, date=dt.date(year, 3, 20),
                                        decision_id=f"甘扶〔{year}〕演示培训补助")

    # public-welfare posts in the first villages, held since January, October paid
    pay = services.labour_budget(region_code=county_code, programme="public_job", name="公益性岗位补贴")
    funds.budget_allocate(actor=officer, budget=pay, amount=5_000_000, date=dt.date(year, 1, 10),
                          decision_id=f"演示拨款-岗位{year}")
    held = {t.pk for t in trainees}
    for village, name, monthly in zip(villages[:3], ["护林员", "道路养护员", "保洁员"], [80000, 60000, 50000]):
        post = services.post_create(actor=officer, name=name, village_code=village, monthly_pay=monthly)
        holder = (Person.objects.filter(alive=True, household__village_id=village, birth_date__year__gt=year - 60,
                                        birth_date__year__lte=year - 30).exclude(pk__in=held).order_by("pk").first())
        if holder is not None:
            services.post_assign(actor=officer, post=post, person=holder, start=dt.date(year, 1, 1))
            held.add(holder.pk)
    services.post_pay_month(actor=officer, region_code=county_code, month=f"{year}-10", date=dt.date(year, 11, 1),
                            decision_id=f"甘扶〔{year}〕演示岗位补贴10月")
    seed_college(county, officer=officer, today=today, rng=random.Random(rng.random()))


def seed_college(county, *, officer, today: dt.date, rng: random.Random) -> None:
    """College students of the demo county's poor families; this autumn's entrants get the
    entrant aid through the ledger."""
    from fupin.education import college
    from fupin.funds import services as funds
    from fupin.registry.models import Person

    year = today.year
    colleges = [("四川大学", "bachelor"), ("西南民族大学", "bachelor"), ("凉山职业技术学院", "higher_voc"),
                ("四川交通职业技术学院", "higher_voc")]
    students = []
    for p in Person.objects.filter(alive=True, schooling__in=["higher_voc", "bachelor"]).select_related("household") \
            .order_by("pk")[:40]:
        name, level = rng.choice([c for c in colleges if c[1] == p.schooling] or colleges)
        students.append(college.college_student_save(actor=officer, person=p, data={
            "college": name, "major": rng.choice(["护理", "土木工程", "学前教育", "会计", "电气自动化"]), "level": level,
            "entry_year": year - rng.randint(0, 3), "wish": rng.choice(["", "回乡就业", "考公务员", "升学"]),
            "outcome": "studying", "employer": ""}))
    entrants = [s for s in students if s.entry_year == year]
    if entrants:
        county_code = next(c for c, _, lv, _ in county.regions if lv == 3)
        funds.budget_allocate(actor=officer, budget=college.college_budget(region_code=county_code), amount=10_000_000,
                              date=dt.date(year, 8, 1), decision_id=f"演示拨款-大学新生{year}")
        for s in entrants:
            college.entrant_aid_pay(actor=officer, student=s, date=dt.date(year, 9, 15),
                                    decision_id=f"甘教〔{year}〕演示新生资助")
