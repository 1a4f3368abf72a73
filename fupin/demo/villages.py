"""Demo data of the villages and plans rooms: every demo village with its register, finance and
responsible units (one young-staff rotation), some villages exited as a whole, a county plan
for the year about half done with some items overdue, and a leading group with a meeting.
Deterministic; written through the rooms' own services (so every row has its audit event)."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db.models import Count


def seed(county, *, officer, today: dt.date) -> None:
    from fupin.plans import services as plans
    from fupin.plans.models import Plan
    from fupin.registry.models import Person
    from fupin.villages import selectors, services
    from fupin.villages.models import Village

    if Village.objects.exists() or Plan.objects.exists():
        return
    rng = random.Random(22)
    year = today.year
    villages = [(c, n) for c, n, lv, _ in county.regions if lv == 5]
    county_code = next(c for c, _, lv, _ in county.regions if lv == 3)
    people = dict(Person.objects.filter(household__village_id__in=[c for c, _ in villages], alive=True)
                  .values_list("household__village_id").annotate(n=Count("pk")).values_list("household__village_id", "n"))
    poor = dict(Person.objects.filter(household__village_id__in=[c for c, _ in villages], alive=True,
                                      household__status__in=["registered", "returned"])
                .values_list("household__village_id").annotate(n=Count("pk")).values_list("household__village_id", "n"))
    units = ["甘洛县教育局", "甘洛县财政局", "甘洛县卫生健康局", "甘洛县交通运输局", "凉山州民族中学", "四川省某职业学院"]
    for i, (code, name) in enumerate(villages):
        kind = ("key", "poor", "poor", "none")[i % 4]
        ready = i % 3 == 0          # a third of the villages have their infrastructure done
        registered = people.get(code, 0)
        # registered persons are only those in the poverty registry; the village has more residents
        population = registered + rng.randint(800, 2000)
        if ready:
            population = max(population, poor.get(code, 0) * 40 + 1)   # incidence 2.5 %: below 3 %
        services.village_save(actor=officer, code=code, values={
            "poor_kind": kind, "poor_since": dt.date(2014, 10, 1) if kind != "none" else None,
            "key_since": dt.date(2016, 3, 1) if kind == "key" else None, "exited_on": None,
            "households": population // 3, "population": population,
            "arable_land_mu": Decimal(f"{rng.randint(800, 4000)}.{rng.choice(['00', '50'])}"),
            "road_km": Decimal(f"{rng.randint(2, 12)}.{rng.randint(0, 9)}0"),
            "road_hardened": ready or rng.random() < 0.5, "wells": rng.randint(0, 8), "piped_water": ready,
            "electricity": True, "broadband": ready or rng.random() < 0.4, "clinic": ready or rng.random() < 0.5,
            "culture_room": ready})
        debt = rng.choice([0, 0, 3_000_000, 12_000_000])
        services.finance_save(actor=officer, code=code, year=year, income=rng.randint(5, 60) * 1_000_000,
                              collective_income=rng.randint(1, 30) * 100_000 if ready else 0, debt=debt,
                              debt_note="村道路整治工程队垫资欠款" if debt else "")
        services.duty_assign(actor=officer, code=code, kind="aid_unit", name=units[i % len(units)],
                             programme="千村扶贫" if i % 2 else "定点扶贫", start=dt.date(2016, 1, 1))
        services.duty_assign(actor=officer, code=code, kind="liaison_leader", name=f"联系领导{i + 1}",
                             unit=f"{units[i % len(units)]} 副局长", start=dt.date(2018, 3, 1))
        services.duty_assign(actor=officer, code=code, kind="zone_staff", name=f"包村干部{i + 1}", unit="乡镇干部",
                             start=dt.date(2020, 1, 1))
        first = services.duty_assign(actor=officer, code=code, kind="young_staff", name=f"驻村干部{i + 1}甲",
                                     unit="县直单位 科员", start=dt.date(year - 2, 3, 1))
        services.duty_assign(actor=officer, code=code, kind="young_staff", name=f"驻村干部{i + 1}乙",
                             unit="县直单位 科员", start=dt.date(year - 1, 3, 1), replaces_id=first.pk)
    # villages that meet every criterion exit as a whole (the others show why not)
    from fupin.core.models import Region

    for code, result in selectors.exit_checks(officer, Region.objects.get(code=county_code),
                                              on=dt.date(year, 10, 31)).items():
        if result["eligible"]:
            services.village_exit(actor=officer, code=code, on=dt.date(year, 10, 31))

    # the county's plan for the year: about half done, some overdue (seeds 000–004 write them as prose)
    plan = plans.plan_create(actor=officer, region_code=county_code, year=year, title=f"{year}年脱贫攻坚工作计划")
    items = [
        ("完成贫困户动态调整和信息采集", None, "", "县扶贫开发局", dt.date(year, 3, 31), dt.date(year, 3, 25)),
        ("为乡镇中心校班级配备多媒体", 12, "个班", "县教育局", dt.date(year, 6, 30), dt.date(year, 6, 20)),
        ("新建硬化村道路", 6, "公里", "县交通运输局", dt.date(year, 9, 30), dt.date(year, 10, 15)),
        ("贫困村卫生室标准化建设", 8, "个", "县卫生健康局", dt.date(year, 8, 31), None),
        ("驻村工作队员全年驻村不少于220天的考核", None, "", "县委组织部", dt.date(year, 12, 20), None),
        ("开展“扶贫日”募捐活动", None, "", "县民政局", dt.date(year, 10, 17), dt.date(year, 10, 17)),
        ("完成教师培训", 100, "人次", "县教育局", dt.date(year, 7, 31), None),
        ("整改省考核通报指出的问题", None, "", "县扶贫开发局", dt.date(year, 12, 31), None),
    ]
    for target, qty, measure, owner, due, done in items:
        it = plans.item_add(actor=officer, plan=plan, values={
            "target": target, "quantity": qty, "measure": measure, "owner_unit": owner, "due": due,
            "evidence_required": "验收单、照片或台账"})
        if done:
            plans.item_done(actor=officer, item_id=it.pk, done_on=done, evidence="已验收，资料归档", done_quantity=qty)
    group = plans.group_create(actor=officer, region_code=county_code, name="甘洛县脱贫攻坚领导小组", office="县扶贫开发局")
    for role, name, post, duties in (("leader", "县委书记", "县委书记", "全面负责"),
                                     ("deputy", "县长", "县长", "统筹推进"),
                                     ("deputy", "分管副县长", "副县长", "分管扶贫开发"),
                                     ("member", "扶贫开发局局长", "县扶贫开发局局长", "办公室日常工作"),
                                     ("member", "教育局局长", "县教育局局长", "教育扶贫"),
                                     ("member", "卫生健康局局长", "县卫生健康局局长", "健康扶贫")):
        plans.member_add(actor=officer, group=group, role=role, name=name, post=post, duties=duties,
                         start=dt.date(year, 1, 5))
    meeting = plans.meeting_record(actor=officer, group=group, date=dt.date(year, 4, 20), title="领导小组第一次全体会议",
                                   minutes="研究部署问题整改和年度目标任务。")
    done = plans.item_add(actor=officer, meeting=meeting, values={
        "target": "各包村领导5月10日前带领镇村干部深入联系村督促整改", "owner_unit": "各乡镇", "due": dt.date(year, 5, 10)})
    plans.item_done(actor=officer, item_id=done.pk, done_on=dt.date(year, 5, 8), evidence="走访记录已报县扶贫开发局")
    plans.item_add(actor=officer, meeting=meeting, values={
        "target": "细化产业扶贫任务分解并量化指标", "owner_unit": "县农业农村局", "due": dt.date(year, 6, 30)})

    # the weak-school list (改薄): the first two demo schools' condition gaps as their plans' items
    from fupin.education.models import School

    for school in School.objects.order_by("code")[:2]:
        sp = plans.plan_create(actor=officer, region_code="", year=year, title=f"{school.name}{year}年办学条件改善计划",
                               school_id=school.pk)
        for target, qty, measure, due, done in (("新建教室", 4, "间", dt.date(year, 8, 31), dt.date(year, 8, 25)),
                                                ("为班级配备多媒体", 12, "个班", dt.date(year, 6, 30), None),
                                                ("添置课桌凳", 200, "套", dt.date(year, 12, 15), None),
                                                ("接通宽带网络", 1, "处", dt.date(year, 9, 30), dt.date(year, 9, 1))):
            it = plans.item_add(actor=officer, plan=sp, values={"target": target, "quantity": qty, "measure": measure,
                                                                "owner_unit": "县教育局", "due": due})
            if done:
                plans.item_done(actor=officer, item_id=it.pk, done_on=done, evidence="已验收", done_quantity=qty)

    # a published bulletin for the months before the demo's day
    bulletin = plans.bulletin_compose(actor=officer, region_code=county_code, start=dt.date(year, 9, 1),
                                      end=dt.date(year, 10, 31))
    plans.bulletin_publish(actor=officer, pk=bulletin.pk)
