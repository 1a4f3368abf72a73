"""Demo projects: one project in every life-cycle state in the first villages of the demo
county, with planned, allocated and paid money on the ledger and an asset handed over."""
from __future__ import annotations

import datetime as dt

PROJECTS = [  # name, category, implementer, (central, provincial, city_county, social, donation) in yuan, last step
    ("村组道路硬化", "infrastructure", "甘洛县交通建设有限公司", (600000, 200000, 100000, 0, 0), None),
    ("核桃产业园", "industry", "甘洛县核桃专业合作社", (300000, 0, 50000, 0, 20000), "review"),
    ("人畜饮水工程", "infrastructure", "甘洛县水利建筑公司", (250000, 50000, 0, 30000, 0), "approve"),
    ("肉牛养殖基地", "industry", "甘洛县鑫源养殖合作社", (400000, 100000, 0, 0, 0), "start"),
    ("村卫生室标准化建设", "health", "甘洛县建筑工程公司", (150000, 0, 30000, 0, 0), "accept"),
    ("光伏扶贫电站", "industry", "甘洛县电力实业公司", (800000, 200000, 0, 0, 0), "hand_over"),
    ("农村实用技术培训", "training", "甘洛县职业技术学校", (50000, 0, 10000, 0, 0), "evaluate"),
]
SOURCES = ("central", "provincial", "city_county", "social", "donation")


def seed(county, *, year: int) -> None:
    from django.db.models import Q

    from fupin.core.models import User
    from fupin.projects import services
    from fupin.projects.models import Project
    from fupin.registry.models import Household

    if Project.objects.exists():
        return
    officer = User.objects.filter(role="county_officer", region_id=county.regions[2][0]).first() \
        or User.objects.filter(role="county_officer").first()
    villages = [c for c, _, lv, _ in county.regions if lv == 5][:len(PROJECTS)]
    order = [s["key"] for s in services.lifecycle(villages[0], dt.date(year, 3, 1))["steps"]]
    for i, ((name, category, implementer, plan, last), village) in enumerate(zip(PROJECTS, villages)):
        numbers = list(Household.objects.filter(Q(village_id=village), status__in=["registered", "monitored", "exited"])
                       .order_by("number").values_list("number", flat=True)[:5])
        budget = {s: yuan * 100 for s, yuan in zip(SOURCES, plan) if yuan}
        p = services.project_create(actor=officer, region_code=village, name=name, year=year, category=category,
                                    content=f"{name}（演示）", implementer=implementer, start=dt.date(year, 3, 1),
                                    end=dt.date(year, 10, 31), budget=budget, household_numbers=numbers)
        steps = order[:order.index(last) + 1] if last else []
        for key in steps:
            if key == "start":   # the plan's money comes in once the county has approved it
                for k, (source, amount) in enumerate(budget.items(), start=1):
                    services.project_allocate(actor=officer, project=p, source=source, amount=amount,
                                              date=dt.date(year, 4, 1), decision_id=f"甘财农〔{year}〕{i * 10 + k}号")
            services.project_step(actor=officer, project=p, key=key, date=dt.date(year, 4 + order.index(key), 10),
                                  note="验收合格，资料齐全" if key == "accept" else "同意", score=90,
                                  asset={"name": name, "owner": "村股份经济合作社", "value": sum(budget.values()),
                                         "beneficiaries": len(numbers)})
            if key == "start":
                services.progress_record(actor=officer, project=p, date=dt.date(year, 6, 1), percent=45,
                                         note="主体工程完成近半")
                first = next(iter(budget))
                services.project_pay(actor=officer, project=p, source=first, amount=budget[first] // 2,
                                     date=dt.date(year, 6, 5), decision_id=f"付{p.number[-3:]}-1")
                if numbers and category == "industry":   # a direct subsidy to a beneficiary household
                    hh = Household.objects.get(number=numbers[0])
                    services.project_pay(actor=officer, project=p, source=first, amount=200_000,
                                         date=dt.date(year, 6, 6), decision_id=f"付{p.number[-3:]}-2", household_id=hh.pk)
