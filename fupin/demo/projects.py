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


def seed_support(county, *, year: int) -> None:
    """A 危房改造 subsidy paid in two instalments, a cooperative's dividend, and a micro-loan with
    a repayment and an interest subsidy, each on the ledger."""
    from fupin.core.models import User
    from fupin.funds import services as funds
    from fupin.projects import services
    from fupin.projects.models import Cooperative, HousingSubsidy
    from fupin.registry.models import Household

    if HousingSubsidy.objects.exists() or Cooperative.objects.exists():
        return
    officer = User.objects.filter(role="county_officer", region_id=county.regions[2][0]).first() \
        or User.objects.filter(role="county_officer").first()
    code = county.regions[2][0]
    for programme, source, name, amount in (("housing", "central", f"{year}年住房保障补助资金", 50_000_000),
                                            ("credit_subsidy", "city_county", f"{year}年小额信贷贴息资金", 5_000_000)):
        budget = funds.programme_budget_account(programme=programme, region_code=code, year=year, source=source, name=name)
        funds.allocation_post(actor=officer, budget=budget, amount=amount, date=dt.date(year, 1, 15),
                              decision_type="allocation", decision_id=f"甘财〔{year}〕演示{programme}")
    poor = Household.objects.filter(status__in=["registered", "monitored"]).order_by("number")
    house = poor.filter(housing_grade__in=["C", "D"]).first() or poor.first()
    if house.housing_grade not in ("C", "D"):   # a small demo may have no C/D house: appraise one as D
        Household.objects.filter(pk=house.pk).update(housing_grade="D")
        house.refresh_from_db()
    s = services.housing_grant(actor=officer, household_id=house.pk, kind="dangerous_house", before="土坯房，墙体开裂（照片2张）",
                               date=dt.date(year, 3, 1))
    services.housing_pay(actor=officer, subsidy=s, date=dt.date(year, 4, 1), evidence="已开工，地基完成", decision_id="")
    services.housing_pay(actor=officer, subsidy=s, date=dt.date(year, 9, 1), evidence="竣工验收合格（乡镇、住建）", decision_id="")
    village = next(c for c, _, lv, _ in county.regions if lv == 5)
    members = list(Household.objects.filter(village_id=village, status__in=["registered", "monitored", "exited"])
                   .order_by("number").values_list("number", flat=True)[:5])
    if members:
        coop = services.cooperative_create(actor=officer, name="核桃专业合作社", region_code=village,
                                           members={n: k % 3 + 1 for k, n in enumerate(members)})
        services.dividend_pay(actor=officer, cooperative=coop, year=year, total=1_000_000, date=dt.date(year, 10, 20),
                              decision_id="")
    borrower = poor.exclude(pk=house.pk).first()
    loan = services.loan_record(actor=officer, household_id=borrower.pk, bank="甘洛县农村商业银行", amount=5_000_000,
                                term_months=36, purpose="发展肉牛养殖", start=dt.date(year, 1, 10))
    services.loan_repay(actor=officer, loan=loan, amount=1_000_000, date=dt.date(year, 7, 10))
    services.interest_subsidy_pay(actor=officer, loan=loan, start=dt.date(year, 1, 10), end=dt.date(year, 6, 30),
                                  date=dt.date(year, 7, 5))
