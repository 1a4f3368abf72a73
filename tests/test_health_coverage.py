"""Issue 17, second part: the premium run (资助参保) through the ledger, the insured rate and the
uninsured list; TB patients' visit schedules; tele-consultations; the contract rate per team; and
all of them on the indicator page with click-through."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import IntegrityError, transaction

from .conftest import COUNTY, OTHER_COUNTY, T1, V2
from .test_browser import browser, phone  # noqa: F401  (browser fixtures)

D = dt.date


def _names(rows):
    return [r.name for r in rows]


def _premium_world(world):
    """王五 is 特困 as well as registered poor; 赵七's household is monitored (no share nationally)."""
    from fupin.registry.models import Household, Person

    Person.objects.filter(pk=world.h2.persons.get().pk).update(assistance="tekun")
    Household.objects.filter(pk=world.h4.pk).update(status="monitored")
    return world.users["health_officer"]


def _fund(world, fen):
    from fupin.core.models import Region
    from fupin.funds import services as funds
    from fupin.health import insurance

    budget = insurance._budget(Region.objects.get(code=COUNTY), 2024)
    funds.budget_allocate(actor=world.users["county_officer"], budget=budget, amount=fen, date=D(2024, 1, 2),
                          decision_id="甘财社〔2024〕1号")
    return budget


def test_the_premium_run_pays_through_the_ledger_once_per_person_and_year(world):
    from fupin.core.errors import FupinError
    from fupin.core.models import AuditEvent
    from fupin.funds import services as funds
    from fupin.funds.models import Account, Entry
    from fupin.health import insurance
    from fupin.health.models import Coverage, PremiumRun

    officer = _premium_world(world)
    s = insurance.coverage_status(officer, COUNTY, 2024)
    # 400 yuan a head in 2024 (医保发〔2024〕19号), paid in full for the registered poor and 特困
    assert (s["premium"], s["persons"], s["insured"], s["rate_permille"], s["target_permille"], s["meets"]) == (
        40000, 5, 0, 0, 1000, False)
    assert [(r.name, r.category, r.subsidy) for r in s["due"]] == [
        ("张三", "registered_poor", 40000), ("张小", "registered_poor", 40000), ("李四", "registered_poor", 40000),
        ("王五", "tekun", 40000)]
    assert [(r.name, r.category_label, r.subsidy) for r in s["uninsured"] if r.name == "赵七"] == [("赵七", "防止返贫监测对象", 0)]

    # the county's premium budget line holds 1,000 yuan: 1,600 cannot be paid, and nothing is written
    budget = _fund(world, 100000)
    with pytest.raises(FupinError) as exc:
        insurance.premium_run(actor=officer, region_code=COUNTY, year=2024, on=D(2024, 1, 5))
    assert exc.value.message == "预算科目“资助参保资金2024年”余额 1000.00 元，不足以支付 1600.00 元；请先拨入资金或调整支付"
    assert (Coverage.objects.count(), PremiumRun.objects.count()) == (0, 0)

    _fund(world, 100000)
    run = insurance.premium_run(actor=officer, region_code=COUNTY, year=2024, on=D(2024, 1, 5))
    assert (run.persons, run.total, run.region_id) == (4, 160000, COUNTY)
    fund = Account.objects.get(code="insurer:basic:513435000000")
    assert (funds.balance(budget), funds.balance(fund)) == (40000, 160000)
    assert sorted(Entry.objects.filter(transaction=run.transaction).values_list("account__code", "amount", "period")) == [
        ("insurer:basic:513435000000", 160000, "2024"), ("premium:513435000000:2024", -160000, "2024")]
    assert sorted(Coverage.objects.values_list("person__name", "year", "premium", "subsidy", "category")) == [
        ("张三", 2024, 40000, 40000, "registered_poor"), ("张小", 2024, 40000, 40000, "registered_poor"),
        ("李四", 2024, 40000, 40000, "registered_poor"), ("王五", 2024, 40000, 40000, "tekun")]
    assert AuditEvent.objects.get(object_type="premium_run").summary == \
        "资助参保：代缴 甘洛县 2024 年城乡居民医保个人缴费 4 人，共 1600.00 元"

    # never twice: the next run has no one to pay, and the database refuses a second row
    with pytest.raises(FupinError) as exc:
        insurance.premium_run(actor=officer, region_code=COUNTY, year=2024, on=D(2024, 2, 1))
    assert exc.value.message == "甘洛县 2024 年没有需要代缴的人员：符合资助条件的贫困人口均已参保"
    with pytest.raises(IntegrityError), transaction.atomic():
        Coverage.objects.create(person=world.h2.persons.get(), year=2024, recorded_by=officer)

    # 赵七 paid his own contribution: recorded as insured, nothing paid; the rate reaches the target
    zhao = world.h4.persons.get()
    insurance.coverage_record(actor=officer, person=zhao, year=2024, scheme="resident")
    with pytest.raises(FupinError) as exc:
        insurance.coverage_record(actor=officer, person=zhao, year=2024, scheme="employee")
    assert exc.value.message == "赵七 2024 年已登记参保"
    s = insurance.coverage_status(officer, COUNTY, 2024)
    assert (s["insured"], s["rate_permille"], s["meets"], s["uninsured"]) == (5, 1000, True, [])
    assert [(v["village"], v["persons"], v["insured"]) for v in s["villages"]] == [
        ("桃源村", 3, 3), ("红星村", 1, 1), ("团结村", 1, 1)]
    assert funds.balance(budget) == 40000   # the recorded coverage paid nothing


def test_a_later_year_uses_its_own_amount_and_a_share_below_one(world):
    from fupin.health import insurance

    officer = _premium_world(world)
    assert insurance.coverage_status(officer, COUNTY, 2019)["due_total"] == 4 * 25000      # 250 yuan in 2019
    assert insurance.premium_terms(COUNTY, 2016)["premium"] == 15000
    from fupin.core.errors import FupinError
    with pytest.raises(FupinError) as exc:
        insurance.coverage_status(officer, COUNTY, 2015)
    assert exc.value.message == "2015 年没有资助参保的政策（个人缴费标准或资助比例），请选择其他年度"


def test_only_the_health_bureau_runs_premiums_in_its_own_region_and_a_refusal_changes_nothing(world):
    from fupin.core.errors import AccessDenied, NotFound
    from fupin.core.models import AuditEvent
    from fupin.health import insurance
    from fupin.health.models import Coverage, PremiumRun

    _premium_world(world)
    _fund(world, 1_000_000)
    with pytest.raises(AccessDenied):
        insurance.premium_run(actor=world.users["hospital_window"], region_code=COUNTY, year=2024, on=D(2024, 1, 5))
    assert AuditEvent.objects.filter(result="denied", summary="资助参保（代缴2024年医保个人缴费）").count() == 1
    with pytest.raises(NotFound):
        insurance.premium_run(actor=world.users["health_officer"], region_code=OTHER_COUNTY, year=2024, on=D(2024, 1, 5))
    assert (Coverage.objects.count(), PremiumRun.objects.count()) == (0, 0)


def test_the_insurance_page_runs_lists_the_uninsured_exports_and_the_indicator_links_to_it(world, login):
    from openpyxl import load_workbook

    from fupin.health.models import Coverage

    _premium_world(world)
    _fund(world, 1_000_000)
    client = login("health_officer")
    page = client.get(f"/health/insurance/?region={COUNTY}&year=2024").content.decode()
    assert "贫困人口 5 人，已参保 0 人，参保率 0%（目标 100%，未达标）" in page
    assert "本次将为 4 人代缴 2024 年个人缴费，共 1,600.00 元" in page
    assert "特困人员 100%、建档立卡贫困人口 100%、低保对象 0%、防止返贫监测对象 0%" in page
    r = client.post("/health/insurance/", {"action": "run", "region": COUNTY, "year": "2024", "date": "2024-01-05"},
                    follow=True)
    assert "已代缴 4 人 2024 年医保个人缴费，共 1,600.00 元" in r.content.decode()
    assert Coverage.objects.count() == 4
    page = client.get(f"/health/insurance/?region={COUNTY}&year=2024").content.decode()
    assert "参保率 80%（目标 100%，未达标）" in page and f'href="?region={V2}&amp;year=2024">红星村' in page
    # the village's click-through: only 红星村's uninsured
    page = client.get(f"/health/insurance/?region={V2}&year=2024").content.decode()
    assert "贫困人口 1 人，已参保 0 人" in page and "赵七" in page and "张三" not in page
    wb = load_workbook(io.BytesIO(client.get(f"/health/insurance/?region={COUNTY}&year=2024&format=xlsx").content))
    assert [list(r) for r in wb.active.iter_rows(values_only=True)] == [
        ["村", "姓名", "资助类别", "财政代缴（元）", "户籍卡登记参保"], ["红星村", "赵七", "防止返贫监测对象", "0.00", "是"]]
    # who is covered: the run's roster (代缴花名册), and the recorded ones apart
    client.post("/health/insurance/", {"action": "record", "region": COUNTY, "year": "2024",
                                       "id_number": world.h4.persons.get().id_number, "scheme": "employee"})
    wb = load_workbook(io.BytesIO(client.get(f"/health/insurance/covered/?region={COUNTY}&year=2024&format=xlsx").content))
    assert [list(r) for r in wb.active.iter_rows(values_only=True)] == [
        ["村", "姓名", "险种", "参保方式", "资助类别", "个人缴费标准（元）", "财政代缴（元）"],
        ["桃源村", "张三", "城乡居民基本医疗保险", "财政代缴（2024-01-05）", "建档立卡贫困人口", "400.00", "400.00"],
        ["桃源村", "张小", "城乡居民基本医疗保险", "财政代缴（2024-01-05）", "建档立卡贫困人口", "400.00", "400.00"],
        ["桃源村", "李四", "城乡居民基本医疗保险", "财政代缴（2024-01-05）", "建档立卡贫困人口", "400.00", "400.00"],
        ["红星村", "赵七", "职工基本医疗保险", "本人缴费或单位参保", "—", "—", "—"],
        ["团结村", "王五", "城乡居民基本医疗保险", "财政代缴（2024-01-05）", "特困人员", "400.00", "400.00"]]
    page = client.get(f"/health/insurance/covered/?region={COUNTY}&year=2024&how=own").content.decode()
    assert "赵七" in page and "张三" not in page
    page = client.get(f"/health/indicators/?region={COUNTY}&year=2024").content.decode()
    assert "贫困人口 5 人，已参保 5 人，参保率 100%（目标 100%，达标）" in page
    assert f'href="/health/insurance/?region={COUNTY}&amp;year=2024">未参保 0 人名单与代缴' in page


# ---- TB patients --------------------------------------------------------------------------------------

def test_the_tb_schedule_comes_from_the_pack(db):
    from fupin.health import keygroups

    # every 10 days in the two intensive months, then every 30 days until six months are over
    assert keygroups.schedule(COUNTY, D(2024, 3, 1)) == [
        D(2024, 3, 11), D(2024, 3, 21), D(2024, 3, 31), D(2024, 4, 10), D(2024, 4, 20), D(2024, 4, 30),
        D(2024, 5, 10), D(2024, 6, 9), D(2024, 7, 9), D(2024, 8, 8)]


def test_tb_patients_visits_due_overdue_and_the_management_rate(world, login):
    from fupin.core.errors import FupinError
    from fupin.health import keygroups, programmes as prog

    officer = world.users["health_officer"]
    wang, zhang = world.h2.persons.get(), world.h1.persons.get(relation="head")
    keygroups.tb_case_open(actor=officer, person=wang, started_on=D(2024, 3, 1))
    keygroups.tb_case_open(actor=officer, person=zhang, started_on=D(2024, 3, 25))
    with pytest.raises(FupinError) as exc:
        keygroups.tb_case_open(actor=officer, person=wang, started_on=D(2024, 3, 2))
    assert exc.value.message == "王五 已在肺结核患者管理中，请先登记上一疗程的结果"
    prog.contract_sign(actor=officer, person=wang, whole_household=False, team="田坝镇卫生院", doctor="王医生",
                       package="基础性签约服务包", signed_on=D(2024, 1, 1))
    prog.service_record(actor=officer, person=wang, kind="tb_visit", on=D(2024, 3, 11))
    s = keygroups.tb_status(officer, COUNTY, D(2024, 4, 1))
    # by 1 April (3 days' grace: visits due by 29 March count) 王五 owes the visit of 21 March
    assert [(r.name, r.team, r.done, r.due, r.next_due, r.overdue_days) for r in s["rows"]] == [
        ("王五", "田坝镇卫生院", 1, 2, D(2024, 3, 21), 11), ("张三", "（未签约）", 0, 0, D(2024, 4, 4), 0)]
    assert (s["patients"], s["managed"], s["rate_permille"], s["target_permille"], s["meets"]) == (2, 1, 500, 900, False)
    prog.service_record(actor=officer, person=wang, kind="tb_visit", on=D(2024, 3, 22))
    s = keygroups.tb_status(officer, COUNTY, D(2024, 4, 1))
    assert (s["overdue"], s["rate_permille"], s["meets"]) == ([], 1000, True)

    client = login("health_officer")
    page = client.get(f"/health/tb/?region={COUNTY}&date=2024-04-20&overdue=1").content.decode()
    assert "在治患者 2 人，按时随访 0 人，规范管理率 0%（目标 90%），逾期未随访 2 人" in page
    r = client.post("/health/tb/", {"action": "close", "region": COUNTY, "id_number": zhang.id_number,
                                    "date": "2024-04-15", "outcome": "lost"}, follow=True)
    assert "已登记 张三 停止治疗" in r.content.decode()
    page = client.get(f"/health/tb/?region={COUNTY}&date=2024-04-20").content.decode()
    assert "在治患者 1 人，按时随访 0 人" in page and "张三" not in page.split('id="tb-list"')[1].split("</table>")[0]
    page = client.get(f"/health/indicators/?region={COUNTY}&year=2024").content.decode()
    assert "逾期未随访" in page and f'href="/health/tb/?region={COUNTY}&amp;date=2024-12-31&amp;overdue=1"' in page


# ---- tele-consultation --------------------------------------------------------------------------------

def test_tele_consultations_requested_answered_per_patient_and_counted(world, login):
    from fupin.core.errors import FupinError, InvalidInput
    from fupin.health import consults
    from fupin.health.models import Hospital

    officer = world.users["health_officer"]
    township = Hospital.objects.create(code="HT1", name="新市坝镇卫生院", region_id=T1, level="township")
    county = Hospital.objects.create(code="HC", name="甘洛县人民医院", region_id=COUNTY, level="county")
    province = Hospital.objects.create(code="HP", name="四川省人民医院", region_id="510000000000", level="province")
    other = Hospital.objects.create(code="HO", name="美姑县卫生院", region_id="513436100000", level="township")
    wang = world.h2.persons.get()
    a = consults.consultation_request(actor=officer, person=wang, requester_id=township.pk, consultant_id=county.pk,
                                      on=D(2024, 5, 6), question="胸片阴影，请协助诊断")
    consults.consultation_request(actor=officer, person=wang, requester_id=county.pk, consultant_id=province.pk,
                                  on=D(2024, 6, 1), question="手术方案")
    with pytest.raises(InvalidInput) as exc:
        consults.consultation_request(actor=officer, person=wang, requester_id=county.pk, consultant_id=township.pk,
                                      on=D(2024, 6, 1), question="x")
    assert exc.value.errors == {"会诊医院": "应为比甘洛县人民医院（县级）更高一级的医院"}
    with pytest.raises(InvalidInput) as exc:
        consults.consultation_request(actor=officer, person=wang, requester_id=other.pk, consultant_id=county.pk,
                                      on=D(2024, 6, 1), question="x")
    assert exc.value.errors == {"申请医院": "请从您辖区的医疗机构中选择"}
    consults.consultation_answer(actor=officer, consultation_id=a.pk, on=D(2024, 5, 7), opinion="考虑肺结核，建议痰检")
    with pytest.raises(FupinError) as exc:
        consults.consultation_answer(actor=officer, consultation_id=a.pk, on=D(2024, 5, 8), opinion="再议")
    assert exc.value.message == "该会诊已有会诊意见"
    assert consults.consultation_counts(officer, COUNTY, 2024) == {
        "total": 2, "answered": 1, "pending": 1, "by_level": [("县级", 1), ("省级", 1)]}
    assert consults.consultation_counts(officer, COUNTY, 2023)["total"] == 0

    client = login("health_officer")
    page = client.get(f"/health/consults/person/{wang.pk}/").content.decode()
    assert page.index("胸片阴影，请协助诊断") < page.index("手术方案") and "考虑肺结核，建议痰检" in page
    page = client.get(f"/health/consults/?region={COUNTY}&year=2024&state=pending").content.decode()
    assert "手术方案" in page and "胸片阴影" not in page
    assert client.get(f"/health/consults/person/{world.h3.persons.get().pk}/").status_code == 404   # another county
    page = client.get(f"/health/indicators/?region={COUNTY}&year=2024").content.decode()
    assert "申请 2 例，已会诊 1 例，待会诊 1 例；县级医院会诊 1 例；省级医院会诊 1 例" in page


# ---- contract rate per team ------------------------------------------------------------------------

def test_the_contract_rate_per_team_and_its_unsigned_list(world, login):
    from openpyxl import load_workbook

    from fupin.health import programmes as prog, teams

    officer = world.users["health_officer"]
    head, wang = world.h1.persons.get(relation="head"), world.h2.persons.get()
    prog.contract_sign(actor=officer, person=head, whole_household=True, team="新市坝镇卫生院一组", doctor="刘医生",
                       package="基础性签约服务包", signed_on=D(2024, 3, 1))
    prog.contract_sign(actor=officer, person=wang, whole_household=False, team="田坝镇卫生院", doctor="王医生",
                       package="基础性签约服务包", signed_on=D(2024, 3, 1))
    prog.contract_end(actor=officer, person=world.h1.persons.get(relation="child"), on=D(2024, 5, 1), reason="外出就学")
    s = teams.team_rates(officer, COUNTY, D(2024, 6, 1))
    assert [(t["team"], t["village_names"], t["persons"], t["signed"], t["rate_permille"], t["meets"],
             _names(t["unsigned"])) for t in s["teams"]] == [
        ("新市坝镇卫生院一组", "桃源村", 3, 2, 666, False, ["张小"]),
        ("田坝镇卫生院", "团结村", 1, 1, 1000, True, []),
        ("（无签约团队的村）", "红星村", 1, 0, 0, False, ["赵七"])]
    client = login("health_officer")
    page = client.get(f"/health/indicators/?region={COUNTY}&year=2024").content.decode()
    link = f"/health/teams/?region={COUNTY}&amp;date=2024-12-31&amp;team=%E6%96%B0%E5%B8%82%E5%9D%9D%E9%95%87%E5%8D%AB%E7%94%9F%E9%99%A2%E4%B8%80%E7%BB%84"
    assert f'href="{link}">新市坝镇卫生院一组' in page
    page = client.get(f"/health/teams/?region={COUNTY}&date=2024-06-01&team=新市坝镇卫生院一组").content.decode()
    assert "新市坝镇卫生院一组：未签约 1 人" in page and "张小" in page
    wb = load_workbook(io.BytesIO(client.get(
        f"/health/teams/?region={COUNTY}&date=2024-06-01&team=新市坝镇卫生院一组&format=xlsx").content))
    assert [list(r) for r in wb.active.iter_rows(values_only=True)] == [["村", "姓名"], ["桃源村", "张小"]]



# ---- mobile clinics ---------------------------------------------------------------------------------

def test_mobile_clinics_against_the_pack_numbers_and_the_townships_reached(world, login):
    from fupin.core.errors import FupinError, InvalidInput
    from fupin.health import consults
    from fupin.health.models import Hospital

    officer = world.users["health_officer"]
    county = Hospital.objects.create(code="HC", name="甘洛县人民医院", region_id=COUNTY, level="county")
    township = Hospital.objects.create(code="HT1", name="新市坝镇卫生院", region_id=T1, level="township")
    other = Hospital.objects.create(code="HO", name="美姑县人民医院", region_id=OTHER_COUNTY, level="county")
    consults.mobile_clinic_record(actor=officer, hospital_id=township.pk, township_code=T1, on=D(2024, 1, 10), persons=12)
    consults.mobile_clinic_record(actor=officer, hospital_id=township.pk, township_code=T1, on=D(2024, 2, 10), persons="8")
    with pytest.raises(FupinError) as exc:
        consults.mobile_clinic_record(actor=officer, hospital_id=township.pk, township_code=T1, on=D(2024, 2, 10), persons=1)
    assert exc.value.message == "新市坝镇卫生院 2024-02-10 到新市坝镇的巡回医疗已登记"
    with pytest.raises(InvalidInput) as exc:
        consults.mobile_clinic_record(actor=officer, hospital_id=other.pk, township_code="513436100000", on=D(2024, 3, 1),
                                      persons="-1")
    assert exc.value.errors == {"医疗机构": "请从您辖区的县级医院、乡镇卫生院中选择", "巡诊乡镇": "请从您辖区的乡镇中选择",
                                "诊疗人次": "应为不小于0的整数"}
    s = consults.mobile_clinic_status(officer, COUNTY, 2024, D(2024, 3, 31))
    # the county hospital: 4 a year; the township hospital: 1 a month, three months begun by 31 March
    assert [(h["hospital"], h["done"], h["need"], h["persons"], h["meets"]) for h in s["hospitals"]] == [
        ("甘洛县人民医院", 0, 4, 0, False), ("新市坝镇卫生院", 2, 3, 20, False)]
    assert (s["outings"], s["persons"], s["unreached"]) == (2, 20, ["田坝镇"])
    client = login("health_officer")
    r = client.post("/health/mobile/", {"region": COUNTY, "hospital": county.pk, "township": "513435101000",
                                        "date": "2024-03-05", "persons": "30"}, follow=True)
    assert "巡回医疗已登记" in r.content.decode()
    page = client.get(f"/health/indicators/?region={COUNTY}&year=2024").content.decode()
    assert "巡回医疗 3 次，诊疗 50 人次；甘洛县人民医院 1/4 次、新市坝镇卫生院 2/12 次" in page
    page = client.get(f"/health/mobile/?region={COUNTY}&year=2024").content.decode()
    assert "已覆盖全部 2 个乡镇" in page


@pytest.mark.browser
def test_health_officer_on_a_phone_opens_a_tb_patient_and_records_a_visit(live_server, world, phone):  # noqa: F811
    from fupin.health.models import Service, TBCase

    from .test_browser import sign_in

    wang = world.h2.persons.get()
    sign_in(phone, live_server.url, "health_officer")
    phone.goto(f"{live_server.url}/health/tb/?region={COUNTY}&date=2024-04-01")
    form = phone.locator("form#tb-open")
    form.locator("input[name=id_number]").fill(wang.id_number)
    form.locator("input[name=date]").fill("2024-03-01")
    form.locator("button").click()
    phone.wait_for_load_state()
    assert "王五 已纳入肺结核患者管理" in phone.inner_text("body")
    form = phone.locator("form#tb-visit")
    form.locator("input[name=id_number]").fill(wang.id_number)
    form.locator("input[name=date]").fill("2024-03-11")
    form.locator("button").click()
    phone.wait_for_load_state()
    assert "已登记 王五 的随访" in phone.inner_text("body")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390   # fits the phone
    phone.goto(f"{live_server.url}/health/insurance/?region={COUNTY}&year=2024")
    assert "贫困人口 5 人，已参保 0 人" in phone.inner_text("body")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert list(TBCase.objects.values_list("person__name", "started_on")) == [("王五", D(2024, 3, 1))]
    assert list(Service.objects.values_list("person__name", "kind", "date")) == [("王五", "tb_visit", D(2024, 3, 11))]


def _insured_workbook(rows):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["身份证号", "险种"])
    for r in rows:
        wb.active.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_insurance_offices_list_is_imported_all_or_nothing_and_again_unchanged(world, login):
    from fupin.health import insurance
    from fupin.health.models import Coverage

    officer = _premium_world(world)
    zhang, zhao, ma = world.h1.persons.get(relation="head"), world.h4.persons.get(), world.h3.persons.get()
    bad = _insured_workbook([[zhang.id_number, "职工"], [ma.id_number, ""], [zhao.id_number, "商业保险"]])
    created, unchanged, problems = insurance.coverage_import(officer, bad, "参保.xlsx", 2024)
    assert (created, unchanged, [str(p) for p in problems]) == (0, 0, [
        "第4行B列（险种）：“商业保险”不是险种；可填：城乡居民、职工", "第3行A列（身份证号）：此人不在本辖区户籍库中"])
    assert Coverage.objects.count() == 0
    good = _insured_workbook([[zhang.id_number, "职工"], [zhao.id_number, None], [zhang.id_number, "职工"]])
    assert insurance.coverage_import(officer, good, "参保.xlsx", 2024) == (2, 1, [])
    assert insurance.coverage_import(officer, good, "参保.xlsx", 2024) == (0, 3, [])
    assert sorted(Coverage.objects.values_list("person__name", "year", "scheme", "subsidy", "run")) == [
        ("张三", 2024, "employee", 0, None), ("赵七", 2024, "resident", 0, None)]
    # the run then pays for the other three only
    assert [r.name for r in insurance.coverage_status(officer, COUNTY, 2024)["due"]] == ["张小", "李四", "王五"]
    page = login("health_officer").post("/health/insurance/", {"action": "import", "region": COUNTY, "year": "2024",
                                                              "file": io.BytesIO(bad)}, follow=True).content.decode()
    assert "第3行A列（身份证号）：此人不在本辖区户籍库中" in page
