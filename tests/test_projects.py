"""The project library: proposing, the life cycle whose approvers are pack data, progress with
photos, money from the plan through the ledger to the fen, the public notice and its PDF."""
import datetime as dt
import io

import pytest
from django.db.models import Sum

from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditEvent
from fupin.funds.models import Account, Entry, Transaction
from fupin.projects import selectors, services
from fupin.projects.models import Asset, Progress, Project, Step

from .conftest import COUNTY, V1, V3, shows_word
from .test_browser import browser  # noqa: F401  (the headless Chromium fixture)

D = dt.date(2026, 3, 1)


def _propose(world, who="village_cadre", region=V1, **kw):
    args = dict(actor=world.users[who], region_code=region, name="桃源村自来水工程", year=2026, category="infrastructure",
                content="新打自来水井1眼，主管道3000米", implementer="甘洛县水利建筑公司", start=D, end=dt.date(2026, 10, 31),
                budget={"central": 30_000_000, "social": 5_000_050}, household_numbers=["H1"])
    args.update(kw)
    return services.project_create(**args)


def _through(world, project, upto):
    """Walk the life cycle with the office the pack names for each step."""
    who = {"review": "township_officer", "approve": "county_officer", "start": "township_officer",
           "accept": "county_officer", "hand_over": "county_officer", "evaluate": "county_officer"}
    project = Project.objects.get(pk=project.pk)
    while (step := services.next_step(project)) is not None and step["key"] != upto:
        key = step["key"]
        services.project_step(actor=world.users[who[key]], project=project, key=key, date=D, note="验收合格：水质达标",
                              score=92, asset={"name": "自来水井及管网", "owner": "桃源村股份经济合作社",
                                               "value": 35_000_050, "beneficiaries": 1})


def test_proposing_copies_the_lifecycle_and_the_plan(world):
    p = _propose(world)
    assert (p.number, p.state, p.region_id) == ("XM513435-2026-001", "proposed", V1)
    assert [s["key"] for s in p.lifecycle["steps"]] == ["review", "approve", "start", "accept", "hand_over", "evaluate"]
    assert sorted(p.budget.values_list("source", "amount")) == [("central", 30_000_000), ("social", 5_000_050)]
    assert list(p.beneficiaries.values_list("household__number", flat=True)) == ["H1"]
    assert AuditEvent.objects.filter(object_type="project", object_id=str(p.pk)).get().summary == \
        "申报项目 XM513435-2026-001 桃源村自来水工程，计划投资 350000.50 元，受益 1 户"


def test_bad_proposals_say_what_is_wrong_and_write_nothing(world):
    with pytest.raises(InvalidInput) as exc:
        _propose(world, name=" ", category="roads", end=dt.date(2026, 1, 1), budget={"central": 0})
    assert exc.value.errors == {"项目名称": "必须填写", "类别": "应为 产业发展、基础设施、住房保障、教育扶贫、健康扶贫、易地扶贫搬迁、技能培训、其他 之一",
                                "计划完工": "不能早于计划开工日期 2026-03-01", "计划投资": "各来源金额不能为负，合计须大于0"}
    with pytest.raises(InvalidInput) as exc:   # a household of another county
        _propose(world, household_numbers=["H3", "H1"])
    assert exc.value.errors == {"受益户": "户编号 H3 找不到或不在您的管辖范围内"}
    with pytest.raises(AccessDenied):          # the village cadre of V1 proposes in V3
        _propose(world, region=V3)
    with pytest.raises(AccessDenied):          # the inspector has no project capability
        _propose(world, who="inspector")
    assert Project.objects.count() == 0
    assert AuditEvent.objects.filter(result="denied").count() == 2


def test_each_step_by_the_office_the_pack_names(world):
    p = _propose(world)
    with pytest.raises(AccessDenied) as exc:   # the village may propose but not review
        services.project_step(actor=world.users["village_cadre"], project=p, key="review", date=D)
    assert exc.value.message == "“乡镇审核”不由您的岗位办理"
    with pytest.raises(FupinError) as exc:     # a step out of order
        services.project_step(actor=world.users["county_officer"], project=p, key="approve", date=D)
    assert exc.value.message == "项目当前状态为“已申报”，不能办理这一步；请刷新页面后重试"
    services.project_step(actor=world.users["township_officer"], project=p, key="review", date=D, note="同意")
    with pytest.raises(AccessDenied):          # approval is the county's
        services.project_step(actor=world.users["township_officer"], project=p, key="approve", date=D)
    _through(world, Project.objects.get(pk=p.pk), "accept")
    p.refresh_from_db()
    with pytest.raises(InvalidInput) as exc:
        services.project_step(actor=world.users["county_officer"], project=p, key="accept", date=D, note=" ")
    assert exc.value.errors == {"验收记录": "竣工验收必须填写验收记录（参加人员、结论、问题及整改）"}
    services.project_step(actor=world.users["county_officer"], project=p, key="accept", date=D, note="验收合格")
    with pytest.raises(InvalidInput) as exc:
        services.project_step(actor=world.users["county_officer"], project=p, key="hand_over", date=D,
                              asset={"name": "水井", "owner": "", "value": 0, "beneficiaries": 1})
    assert exc.value.errors == {"产权归属": "必须填写（如某某村集体经济组织）", "资产价值": "须大于0"}
    _through(world, Project.objects.get(pk=p.pk), None)
    p.refresh_from_db()
    assert p.state == "evaluated"
    assert list(Step.objects.filter(project=p).values_list("key", "to_state")) == [
        ("review", "reviewed"), ("approve", "approved"), ("start", "implementing"), ("accept", "accepted"),
        ("hand_over", "handed_over"), ("evaluate", "evaluated")]
    a = Asset.objects.get(project=p)
    assert (a.owner, a.value, a.beneficiaries) == ("桃源村股份经济合作社", 35_000_050, 1)
    assert Step.objects.get(project=p, key="evaluate").score == 92


def test_a_project_of_another_county_is_not_found(world):
    p = _propose(world, who="county_officer", region=COUNTY)
    from fupin.core.models import User
    outsider = User.objects.create(username="other", role="county_officer", region_id="513436000000")
    with pytest.raises(NotFound):
        services.access_project(outsider, p.pk)


def _photo():
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (2400, 1200), (10, 120, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_progress_with_photos_only_while_implementing(world, settings, tmp_path, client):
    settings.MEDIA_ROOT = tmp_path
    p = _propose(world)
    with pytest.raises(FupinError) as exc:
        services.progress_record(actor=world.users["village_cadre"], project=p, date=D, percent=10, note="开挖")
    assert exc.value.message == "项目状态为“已申报”，只有实施中的项目可以报告进度"
    _through(world, p, "accept")
    r = services.progress_record(actor=world.users["village_cadre"], project=p, date=D, percent=40, note="管道铺设过半",
                                 photos=[_photo()])
    assert (r.percent, r.photos.count()) == (40, 1)
    from PIL import Image
    assert Image.open(tmp_path / r.photos.get().file).size == (1600, 800)
    client.force_login(world.users["township_officer"])
    shown = client.get(f"/projects/photos/{r.photos.get().pk}/")
    assert (shown.status_code, shown["Content-Type"], shown.content[:2]) == (200, "image/jpeg", b"\xff\xd8")
    from fupin.core.models import User
    from django.utils import timezone
    client.force_login(User.objects.create(username="v3", role="village_cadre", region_id=V3,
                                           password_changed_at=timezone.now()))
    assert client.get(f"/projects/photos/{r.photos.get().pk}/").status_code == 404
    with pytest.raises(InvalidInput) as exc:
        services.progress_record(actor=world.users["village_cadre"], project=p, date=D, percent=30, note="x")
    assert exc.value.errors == {"完成进度": "不能低于上次报告的 40%"}
    with pytest.raises(FupinError):
        services.progress_record(actor=world.users["village_cadre"], project=p, date=D, percent=50, note="x",
                                 photos=[b"not a picture"])
    assert Progress.objects.count() == 1


def test_money_from_plan_to_contractor_and_household_to_the_fen(world):
    officer = world.users["county_officer"]
    p = _propose(world)
    with pytest.raises(FupinError) as exc:   # not before approval
        services.project_allocate(actor=officer, project=p, source="central", amount=100, date=D, decision_id="甘财〔2026〕1号")
    assert exc.value.message == "项目状态为“已申报”，不能拨付资金"
    _through(world, p, "start")
    p.refresh_from_db()
    services.project_allocate(actor=officer, project=p, source="central", amount=20_000_000, date=D, decision_id="甘财〔2026〕1号")
    with pytest.raises(InvalidInput) as exc:  # beyond the plan
        services.project_allocate(actor=officer, project=p, source="central", amount=10_000_001, date=D,
                                  decision_id="甘财〔2026〕2号")
    assert exc.value.errors == {"拨付金额": "超过计划：中央财政计划 300000.00 元，已拨 200000.00 元，最多还能拨 100000.00 元"}
    services.project_allocate(actor=officer, project=p, source="social", amount=5_000_050, date=D, decision_id="社捐1号")
    with pytest.raises(FupinError) as exc:    # payments wait for the works to start
        services.project_pay(actor=officer, project=p, source="central", amount=100, date=D, decision_id="付1")
    assert exc.value.message == "项目状态为“已纳入年度计划”，不能支付资金"
    services.project_step(actor=officer, project=p, key="start", date=D)
    p.refresh_from_db()
    services.project_pay(actor=officer, project=p, source="central", amount=15_000_001, date=D, decision_id="付1")
    services.project_pay(actor=officer, project=p, source="social", amount=1_000_050, date=D, decision_id="付2",
                         household_id=world.h1.pk)
    with pytest.raises(FupinError) as exc:    # more than the line holds
        services.project_pay(actor=officer, project=p, source="central", amount=5_000_000, date=D, decision_id="付3")
    assert exc.value.message == "预算科目“桃源村自来水工程（中央财政）”余额 49999.99 元，不足以支付 50000.00 元；请先拨入资金或调整支付"
    with pytest.raises(InvalidInput):         # a household that does not benefit
        services.project_pay(actor=officer, project=p, source="social", amount=100, date=D, decision_id="付4",
                             household_id=world.h2.pk)
    with pytest.raises(AccessDenied):         # the township may run the project but not pay
        services.project_pay(actor=world.users["township_officer"], project=p, source="social", amount=100, date=D,
                             decision_id="付5")
    m = selectors.money(p)
    assert [(r["source"], r["plan"], r["allocated"], r["paid"], r["balance"], r["paid_permille"]) for r in m["rows"]] == [
        ("central", 30_000_000, 20_000_000, 15_000_001, 4_999_999, 500), ("social", 5_000_050, 5_000_050, 1_000_050, 4_000_000, 200)]
    assert m["total"] == {"plan": 35_000_050, "allocated": 25_000_050, "paid": 16_000_051, "balance": 8_999_999,
                          "paid_permille": 457}
    assert Account.objects.get(code="contractor:513435000000:甘洛县水利建筑公司").entries.aggregate(s=Sum("amount"))["s"] == 15_000_001
    assert Account.objects.get(code="household:H1").entries.aggregate(s=Sum("amount"))["s"] == 1_000_050
    for t in Transaction.objects.all():   # every transaction balanced
        assert t.entries.aggregate(s=Sum("amount"))["s"] == 0
    assert Entry.objects.aggregate(s=Sum("amount"))["s"] == 0
    by_source = selectors.progress_by_source(("513435000000", "513435999999"), 2026)
    assert [(r["source"], r["plan"], r["allocated"], r["paid"], r["paid_permille"]) for r in by_source] == [
        ("central", 30_000_000, 20_000_000, 15_000_001, 500), ("social", 5_000_050, 5_000_050, 1_000_050, 200)]


def _pdf_text(data: bytes, tmp_path) -> str:
    import subprocess
    path = tmp_path / "x.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_pages_the_notice_pdf_and_the_public_page_without_personal_data(world, client, tmp_path):
    officer = world.users["county_officer"]
    client.force_login(officer)
    r = client.post("/projects/new/", {"name": "红星村核桃产业园", "region": V1, "year": "2026", "category": "industry",
                                       "content": "核桃种植200亩", "implementer": "甘洛县核桃合作社", "start": "2026-03-01",
                                       "end": "2026-12-31", "budget_central": "1000.50", "budget_donation": "200",
                                       "households": "H1，H4"})
    p = Project.objects.get()
    assert (r.status_code, r["Location"]) == (302, f"/projects/{p.pk}/")
    assert sorted(p.budget.values_list("source", "amount")) == [("central", 100_050), ("donation", 20_000)]
    r = client.post("/projects/new/", {"name": "x", "region": V1, "year": "2026", "category": "industry", "content": "x",
                                       "implementer": "x", "start": "2026-03-01", "end": "2026-12-31",
                                       "budget_central": "1.234"})
    assert r.status_code == 400 and "中央财政计划金额" in r.content.decode()
    page = client.get(f"/projects/{p.pk}/").content.decode()
    assert "红星村核桃产业园" in page and "已申报" in page and "1,200.50" in page
    listing = client.get("/projects/?category=industry&year=2026").content.decode()
    assert "XM513435-2026-001" in listing and "1,200.50" in listing
    assert client.get("/projects/?state=nonsense").status_code == 400
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(client.get("/projects/export.xlsx?category=industry").content), read_only=True)
    assert [list(r) for r in wb["项目库"].iter_rows(min_row=2, values_only=True)] == [
        ["XM513435-2026-001", "红星村核桃产业园", "桃源村", 2026, "产业发展", "甘洛县核桃合作社", "2026-03-01", "2026-12-31",
         "已申报", 1200.5]]
    pdf = client.get(f"/projects/{p.pk}/notice.pdf")
    text = _pdf_text(pdf.content, tmp_path)
    assert pdf["Content-Type"] == "application/pdf"
    for expected in ("扶贫项目公示：红星村核桃产业园", "甘洛县新市坝镇桃源村", "甘洛县核桃合作社", "受益户数：2 户",
                     "中央财政", "1000.50", "合计", "1200.50"):
        assert expected in text, expected
    for private in ("张三", "赵七", "H1", world.h1.persons.first().id_number[:6] + "19"):
        assert private not in text
    client.logout()
    public = client.get(f"/projects/public/{p.token}/").content.decode()
    assert "红星村核桃产业园" in public and "2 户" in public and "张三" not in public and not shows_word(public, "H1")
    assert client.get("/projects/public/nope/").status_code == 404
    client.force_login(world.users["support_staff"])
    assert client.get(f"/projects/{p.pk}/").status_code == 403


def test_buttons_walk_the_project_and_pay(world, client):
    p = _propose(world)
    _through(world, p, "start")
    client.force_login(world.users["county_officer"])
    r = client.post(f"/projects/{p.pk}/allocate/", {"source": "central", "amount": "100000.01", "decision_id": "甘财1号",
                                                    "date": "2026-03-02"})
    assert r.status_code == 302
    client.post(f"/projects/{p.pk}/step/", {"key": "start", "date": "2026-03-03"})
    client.post(f"/projects/{p.pk}/pay/", {"source": "central", "amount": "0.01", "decision_id": "付1", "date": "2026-03-04",
                                           "household": str(world.h1.pk)})
    assert selectors.money(Project.objects.get(pk=p.pk))["total"]["paid"] == 1
    r = client.post(f"/projects/{p.pk}/step/", {"key": "accept", "note": " ", "date": "2026-03-05"})
    assert r.status_code == 400 and "竣工验收必须填写验收记录" in r.content.decode()


def test_demo_county_has_projects_in_every_state_and_a_campaign_reaching_students(db, settings, tmp_path):
    from fupin.charity.models import Campaign, Donation, Grant
    from fupin.demo import generator
    from fupin.projects.models import State

    settings.MEDIA_ROOT = tmp_path
    county = generator.generate(1500, min_villages=8)
    generator.seed_database(county)
    generator.seed_demo_users(county)
    generator.seed_demo_extras(county)
    assert sorted(Project.objects.values_list("state", flat=True)) == sorted(State.values)
    assert Asset.objects.count() == 2
    c = Campaign.objects.get()
    assert c.day == dt.date(generator.TODAY.year, 10, 17)
    from fupin.charity import selectors as charity
    acct = charity.public_account(c)
    paid = Grant.objects.filter(state__in=["paid", "visited"], programme="yuanmeng").count()
    assert (acct["cash_in"], acct["goods_in"], acct["paid_out"]) == (7_550_000, 300_000, paid * 500_000)
    # 圆梦助学: two paid, one in its public notice, one under review; a sponsored 慈善阳光班 paid two
    assert sorted(Grant.objects.filter(programme="yuanmeng").values_list("state", flat=True)) == [
        "applied", "notice", "paid", "visited"]
    assert (paid, Grant.objects.count(), Donation.objects.count()) == (2, 6, 6)
    from fupin.charity.models import SunshineClass
    from fupin.charity.services import class_fund
    from fupin.funds import services as funds
    cls = SunshineClass.objects.get()
    assert (cls.sponsor.name, funds.balance(class_fund(cls))) == ("四川某药业有限公司", 2_400_000 - 2 * 400_000)
    from fupin.projects.models import Dividend, HousingInstalment, InterestSubsidy
    assert HousingInstalment.objects.count() == 2 and Dividend.objects.get().total == 1_000_000
    assert InterestSubsidy.objects.get().amount == 102_493   # 50000 yuan × 172 days × 4.35% / 365
    assert Entry.objects.aggregate(s=Sum("amount"))["s"] == 0
    for t in Transaction.objects.filter(decision_type__in=["project_allocation", "project_payment", "donation", "charity_grant",
                                                           "housing_subsidy", "dividend", "interest_subsidy"]):
        assert t.entries.aggregate(s=Sum("amount"))["s"] == 0


# ---- housing in instalments, cooperatives and dividends ---------------------------------------------

def _housing_budget(world, amount):
    from fupin.funds import services as funds
    budget = funds.programme_budget_account(programme="housing", region_code=COUNTY, year=2026, source="central",
                                            name="2026年住房保障补助资金")
    funds.allocation_post(actor=world.users["county_officer"], budget=budget, amount=amount, date=D,
                          decision_type="allocation", decision_id="甘财建〔2026〕1号")
    return budget


def test_housing_subsidy_by_grade_and_size_paid_in_two_instalments(world):
    from fupin.projects.models import HousingInstalment
    from fupin.registry.models import Household
    officer = world.users["county_officer"]
    Household.objects.filter(pk=world.h1.pk).update(housing_grade="D")
    budget = _housing_budget(world, 10_000_001)
    with pytest.raises(FupinError) as exc:   # H2's house is not graded: no 危房改造
        services.housing_grant(actor=officer, household_id=world.h2.pk, kind="dangerous_house", before="土坯房", date=D)
    assert exc.value.message == "户 H2 的住房安全等级为“未鉴定”，农村危房改造只补助 C级、D级 危房；请先鉴定住房等级"
    s = services.housing_grant(actor=officer, household_id=world.h1.pk, kind="dangerous_house", before="D级土坯房，照片3张",
                               date=D)
    assert (s.amount, s.persons, s.explanation) == (2_500_000, 3, ["D级危房定额 25000.00 元"])
    with pytest.raises(FupinError) as exc:   # never both for the same house
        services.housing_grant(actor=officer, household_id=world.h1.pk, kind="relocation", before="x", date=D)
    assert exc.value.message == "户 H1 已核定农村危房改造补助，危房改造和易地扶贫搬迁不能重复享受"
    r = services.housing_grant(actor=officer, household_id=world.h4.pk, kind="relocation", before="地质灾害点", date=D)
    assert (r.amount, r.explanation) == (2_500_000, ["按人口 1 人 × 25000.00 元 = 25000.00 元"])
    assert services.instalment_amounts(2_500_001, s.rule) == [1_250_000, 1_250_001]
    services.housing_pay(actor=officer, subsidy=s, date=D, evidence="已开工，地基完成", decision_id="")
    with pytest.raises(InvalidInput) as exc:
        services.housing_pay(actor=officer, subsidy=s, date=D, evidence=" ", decision_id="")
    assert exc.value.errors == {"拨付依据": "竣工验收情况必须填写"}
    with pytest.raises(AccessDenied):
        services.housing_pay(actor=world.users["township_officer"], subsidy=s, date=D, evidence="验收合格", decision_id="")
    services.housing_pay(actor=officer, subsidy=s, date=D, evidence="竣工验收合格（乡镇、住建）", decision_id="")
    with pytest.raises(FupinError) as exc:
        services.housing_pay(actor=officer, subsidy=s, date=D, evidence="x", decision_id="")
    assert exc.value.message == "户 H1 的农村危房改造补助已全部拨付"
    assert list(HousingInstalment.objects.filter(subsidy=s).values_list("number", "amount")) == [(1, 1_250_000), (2, 1_250_000)]
    assert Account.objects.get(code="household:H1").entries.aggregate(s=Sum("amount"))["s"] == 2_500_000
    assert budget.entries.aggregate(s=Sum("amount"))["s"] == 7_500_001
    assert Entry.objects.aggregate(s=Sum("amount"))["s"] == 0


def test_dividends_split_by_shares_to_the_fen_once_a_year(world):
    from fupin.projects.models import Dividend
    officer = world.users["county_officer"]
    coop = services.cooperative_create(actor=officer, name="桃源村核桃专业合作社", region_code=V1,
                                       members={"H1": 3, "H4": 2, "H2": 2})
    assert services.dividend_shares(100, [3, 2, 2]) == [43, 29, 28]
    with pytest.raises(InvalidInput) as exc:
        services.cooperative_create(actor=officer, name="x", region_code=V1, members={"H3": 1})
    assert exc.value.errors == {"成员户": "户编号 H3 找不到或不在您的管辖范围内"}
    services.dividend_pay(actor=officer, cooperative=coop, year=2026, total=1_000_000, date=D, decision_id="")
    with pytest.raises(FupinError) as exc:
        services.dividend_pay(actor=officer, cooperative=coop, year=2026, total=1, date=D, decision_id="")
    assert exc.value.message == "桃源村核桃专业合作社 2026年的分红已发放"
    got = {n: Account.objects.get(code=f"household:{n}").entries.aggregate(s=Sum("amount"))["s"] for n in ("H1", "H2", "H4")}
    assert got == {"H1": 428_572, "H2": 285_714, "H4": 285_714}
    assert sum(got.values()) == Dividend.objects.get().total == 1_000_000
    assert Entry.objects.aggregate(s=Sum("amount"))["s"] == 0


# ---- micro-credit ----------------------------------------------------------------------------------

def test_loan_interest_subsidy_repayments_overdue_and_renewal(world):
    from fupin.funds import services as funds
    from fupin.projects.models import Loan
    officer = world.users["county_officer"]
    budget = funds.programme_budget_account(programme="credit_subsidy", region_code=COUNTY, year=2026,
                                            source="city_county", name="2026年小额信贷贴息资金")
    funds.allocation_post(actor=officer, budget=budget, amount=1_000_000, date=D, decision_type="allocation",
                          decision_id="甘财金〔2026〕1号")
    with pytest.raises(InvalidInput) as exc:
        services.loan_record(actor=officer, household_id=world.h1.pk, bank="农商银行", amount=5_000_001, term_months=37,
                             purpose="养牛", start=dt.date(2026, 1, 1))
    assert exc.value.errors == {"贷款金额": "应大于0且不超过 50000.00 元", "期限": "应为1到36个月"}
    loan = services.loan_record(actor=officer, household_id=world.h1.pk, bank="农商银行", amount=5_000_000, term_months=12,
                                purpose="养牛", start=dt.date(2026, 1, 1))
    assert loan.due == dt.date(2027, 1, 1)
    services.loan_repay(actor=officer, loan=loan, amount=2_000_000, date=dt.date(2026, 3, 1))
    # January and February on 50000 yuan (59 days), March on 30000 yuan (31 days) at 4.35% / 365:
    # (5_000_000 × 59 + 3_000_000 × 31) × 0.0435 / 365 = 46_241.09… fen → 46_241
    s = services.interest_subsidy_pay(actor=officer, loan=loan, start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31), date=D)
    assert s.amount == 46_241
    with pytest.raises(FupinError) as exc:
        services.interest_subsidy_pay(actor=officer, loan=loan, start=dt.date(2026, 3, 1), end=dt.date(2026, 4, 30), date=D)
    assert exc.value.message == "这一期间已经贴息，不能重复贴息"
    assert Account.objects.get(code="household:H1").entries.aggregate(s=Sum("amount"))["s"] == 46_241
    assert budget.entries.aggregate(s=Sum("amount"))["s"] == 1_000_000 - 46_241
    with pytest.raises(InvalidInput) as exc:
        services.loan_repay(actor=officer, loan=loan, amount=3_000_001, date=dt.date(2026, 4, 1))
    assert exc.value.errors == {"还款金额": "应大于0且不超过未还本金 30000.00 元"}
    scope = ("513435000000", "513435999999")
    overdue = list(selectors.overdue_loans(scope, dt.date(2027, 1, 2)))
    assert [(x.pk, x.left) for x in overdue] == [(loan.pk, 3_000_000)]
    assert list(selectors.overdue_loans(scope, dt.date(2027, 1, 1))) == []
    new = services.loan_renew(actor=officer, loan=loan, months=6, date=dt.date(2027, 1, 1))
    assert (new.amount, new.due, new.renewed_from_id) == (3_000_000, dt.date(2027, 7, 1), loan.pk)
    assert list(selectors.overdue_loans(scope, dt.date(2027, 1, 2))) == []
    with pytest.raises(FupinError):
        services.loan_renew(actor=officer, loan=Loan.objects.get(pk=loan.pk), months=6, date=dt.date(2027, 1, 1))
    assert Entry.objects.aggregate(s=Sum("amount"))["s"] == 0


def test_support_page_buttons_housing_dividend_and_loan(world, client):
    from fupin.registry.models import Household
    officer = world.users["county_officer"]
    Household.objects.filter(pk=world.h1.pk).update(housing_grade="C")
    _housing_budget(world, 5_000_000)
    client.force_login(officer)
    assert client.post("/projects/support/housing/", {"household": "H1", "kind": "dangerous_house", "before": "C级",
                                                      "date": "2026-03-01"}).status_code == 302
    from fupin.projects.models import Cooperative, HousingSubsidy, Loan
    s = HousingSubsidy.objects.get()
    assert s.amount == 1_500_000
    client.post("/projects/support/housing-pay/", {"pk": s.pk, "evidence": "已开工", "date": "2026-04-01"})
    page = client.get("/projects/support/").content.decode()
    assert "第1期 7,500.00 元" in page and "竣工验收后拨付 7,500.00 元" in page
    client.post("/projects/support/coop/", {"name": "红星合作社", "region": V1, "members": "H1：1，H4:1"})
    coop = Cooperative.objects.get()
    client.post("/projects/support/dividend/", {"pk": coop.pk, "year": "2026", "total": "0.03", "date": "2026-10-01"})
    assert Account.objects.get(code="household:H4").entries.aggregate(s=Sum("amount"))["s"] == 1
    r = client.post("/projects/support/loan/", {"household": "H9", "bank": "x", "amount": "1", "months": "1", "purpose": "x"})
    assert r.status_code == 400 and "“H9”找不到或不在您的管辖范围内" in r.content.decode()
    client.post("/projects/support/loan/", {"household": "H4", "bank": "农商行", "amount": "10000", "months": "12",
                                            "purpose": "养殖", "date": "2026-01-01"})
    assert Loan.objects.get().amount == 1_000_000
    client.force_login(world.users["inspector"])
    assert client.get("/projects/support/").status_code == 403


def test_yearly_allocation_notice_pdf(world, client, tmp_path):
    p = _propose(world)
    _through(world, p, "start")
    services.project_allocate(actor=world.users["county_officer"], project=p, source="central", amount=12_345_678, date=D,
                              decision_id="甘财1号")
    client.force_login(world.users["county_officer"])
    r = client.get("/projects/allocations.pdf?year=2026")      # not yet published: says what to do
    assert r.status_code == 400 and "甘洛县2026年资金公告尚未公布；请在项目库页面点“公布并打印年度资金公告”" in r.content.decode()
    r = client.post("/projects/allocations/publish/", {"year": "2026"})
    assert r["Location"] == "/projects/allocations.pdf?year=2026"
    client.post("/projects/allocations/publish/", {"year": "2026"})   # publishing again: the same notice
    from fupin.core.models import AuditEvent
    from fupin.projects.models import AllocationNotice
    notice = AllocationNotice.objects.get()
    assert (notice.region_id, notice.year) == (COUNTY, 2026)
    assert AuditEvent.objects.filter(object_type="allocation_notice").count() == 1
    r = client.get("/projects/allocations.pdf?year=2026")
    text = _pdf_text(r.content, tmp_path)
    for expected in ("甘洛县2026年扶贫项目资金安排公告", "桃源村自来水工程", "桃源村", "中央财政", "300000.00", "123456.78",
                     "社会帮扶：计划 50000.50 元，已拨付 0.00 元，已支付 0.00 元", "扫描右侧二维码可随时查看本公告"):
        assert expected in text, expected
    assert "张三" not in text and "H1" not in text
    # the public page: no login, the same money, nothing personal
    client.logout()
    page = client.get(f"/projects/allocations/public/{notice.token}/").content.decode()
    assert "甘洛县2026年扶贫项目资金安排公告" in page and "桃源村自来水工程" in page and "123,456.78" in page
    assert "张三" not in page and not shows_word(page, "H1")
    assert client.get("/projects/allocations/public/nothing/").status_code == 404
    client.force_login(world.users["inspector"])    # reads, but does not publish
    assert client.post("/projects/allocations/publish/", {"year": "2027"}).status_code == 403
    assert AllocationNotice.objects.count() == 1


@pytest.mark.browser
def test_project_pages_fit_a_phone(live_server, world, browser):
    from .test_browser import sign_in
    p = _propose(world)
    _through(world, p, "accept")
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(10000)
    sign_in(page, live_server.url, "county_officer")
    for url in (f"/projects/{p.pk}/", "/projects/", "/projects/support/", "/charity/", f"/projects/public/{p.token}/"):
        page.goto(f"{live_server.url}{url}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
    page.goto(f"{live_server.url}/projects/{p.pk}/")
    assert page.inner_text("#state") == "实施中"
    page.fill("#progress-form input[name=percent]", "60")
    page.fill("#progress-form textarea[name=note]", "管网铺设完成六成")
    page.click("#progress-form button[type=submit]")
    page.wait_for_load_state()
    assert "完成 60%：管网铺设完成六成" in page.inner_text("#progress")
    ctx.close()
