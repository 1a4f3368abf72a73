"""The 低保 means test counts the family's assets (issue 16): recorded at the home visit (入户核查)
through the step form and the API, tested by the pack's rule per case and in batch alike, refused
at the county's approval with the reason, re-read by re-checks; department findings shown to the
verifier."""
import datetime as dt

import polars as pl
import pytest

from fupin.core import services as core_services
from fupin.core.errors import InvalidInput
from fupin.core.models import AuditEvent
from fupin.policy.engine import run_batch, run_case
from fupin.policy.packs import shipped_packs
from fupin.policy.rules.welfare import MODEL
from fupin.welfare import services
from fupin.welfare.models import Application, AppState, AssetRecord, Enrolment, RecheckResult

from .conftest import V1
from .test_welfare import approve_all, clock, enrol_dibao, wel  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("on_a_covered_day")   # starts workflows (conftest.on_a_covered_day)

DEC = dt.date(2026, 12, 1)
# 张三's household (conftest): 3 members, 200 yuan a month per head; the county's standard is
# 480 yuan, so 24 months × 480 × 3 = 34560 yuan of financial assets is the most it may have
LIMIT = 48000 * 24 * 3
PAID = (48000 - 20000) * 3


def dibao(**assets):
    case = services.case_for(region=V1, month=DEC, programme="dibao", category="ordinary", income=20000, members=3,
                             **assets)
    return services.compute(case)


# ---- the rule ------------------------------------------------------------------------------------

def test_deposits_above_the_limit_get_nothing_with_the_reason_and_at_the_limit_are_paid():
    assert LIMIT == 3_456_000
    assert dibao(financial_assets=LIMIT)[0] == PAID == 84000
    amount, explanation = dibao(financial_assets=LIMIT + 1)
    assert amount == 0
    assert explanation["branches"] == ["低保：是", "家庭金融资产超过计入人数的规定月数低保标准：是"]
    assert services.refusal(explanation) == "家庭金融资产超过计入人数的规定月数低保标准"
    assert services.explain(explanation).startswith(
        "最低生活保障金 0.00 元：（低保标准 − 家庭月人均收入）× 计入人数，另加分类施保；家庭财产超过规定的不予保障。"
        "依据：低保：是，家庭金融资产超过计入人数的规定月数低保标准：是。标准：农村最低生活保障标准（每人每月） 480.00元")


def test_a_non_essential_vehicle_housing_or_business_excludes_and_a_work_vehicle_does_not():
    # a vehicle used for work or by a disabled member is recorded but not counted
    record = AssetRecord(vehicles=1, vehicles_exempt=1, houses=1)
    assert record.inputs() == dict(financial_assets=0, vehicle=False, commercial_housing=False, houses=1,
                                   business=False)
    assert dibao(**record.inputs())[0] == 84000
    record = AssetRecord(vehicles=2, vehicles_exempt=1, houses=1)
    amount, explanation = dibao(**record.inputs())
    assert (amount, services.refusal(explanation)) == (0, "有非生活必需的机动车辆")
    assert services.refusal(dibao(houses=2)[1]) == "有商业用房或超过规定套数的住房"
    assert services.refusal(dibao(commercial_housing=True)[1]) == "有商业用房或超过规定套数的住房"
    assert services.refusal(dibao(business=True)[1]) == "有工商登记的企业或个体户"
    assert dibao(houses=1)[0] == 84000
    # income above the standard: the reason is the income, not an asset
    _, explanation = services.compute(services.case_for(region=V1, month=DEC, programme="dibao",
                                                        category="ordinary", income=50000, members=3))
    assert services.refusal(explanation) == "家庭月人均收入不低于低保标准"
    # other programmes do not test assets (特困 has its own conditions)
    assert services.compute(services.case_for(region=V1, month=DEC, programme="tekun", category="dispersed",
                                              vehicle=True, financial_assets=LIMIT * 10))[0] == 30000


def test_batch_and_one_by_one_agree_on_the_asset_cases():
    base = services.case_for(region=V1, month=DEC, programme="dibao", category="class_a", income=20000, members=3)
    cases = [base, {**base, "financial_assets": LIMIT}, {**base, "financial_assets": LIMIT + 1},
             {**base, "vehicle": True}, {**base, "houses": 2}, {**base, "commercial_housing": True},
             {**base, "business": True}, {**base, "date": dt.date(2021, 6, 1), "financial_assets": 24 * 30000 * 3},
             {**base, "date": dt.date(2021, 6, 1), "financial_assets": 24 * 30000 * 3 + 1}]
    out = run_batch(MODEL, pl.DataFrame(cases, schema_overrides={"date": pl.Date}), shipped_packs())
    one = [next(r.amount for r in run_case(MODEL, c, shipped_packs()) if r.rule == "welfare.dibao") for c in cases]
    # 四川 A类 adds 60 a head; before 2025 the county's standard was 300 yuan: (300 − 200 + 60) × 3
    assert out["welfare.dibao"].to_list() == one == [102000, 102000, 0, 0, 0, 0, 0, 48000, 0]


# ---- the procedure -------------------------------------------------------------------------------

def start(world, wel):
    head = world.h1.persons.get(relation="head")
    return services.application_start(actor=wel["village"], household_id=world.h1.pk, person_id=head.pk,
                                      programme="dibao", category="ordinary", consent_assets=True)


def test_the_step_form_records_assets_and_the_audit_row_names_them(world, wel, clock, client):
    app = start(world, wel)
    client.force_login(wel["village"])
    client.post(f"/welfare/applications/{app.pk}/", {"step": "application", "decision": "approve"})
    page = client.get(f"/welfare/applications/{app.pk}/").content.decode()
    assert 'name="deposits"' in page and "其中经营用或残疾成员代步用（辆）" in page and "部门数据比对线索" in page
    r = client.post(f"/welfare/applications/{app.pk}/", {
        "step": "home_verification", "decision": "approve", "verifier1": "王村长", "verifier2": "李队员",
        "evidence": "核实表001", "deposits": "12,000.50", "securities": "", "insurance": "3000", "vehicles": "1",
        "vehicles_exempt": "1", "houses": "1", "businesses": "0"})
    assert r.status_code == 302
    record = AssetRecord.objects.get()
    assert (record.application_id, record.household_id, record.deposits, record.securities, record.insurance,
            record.vehicles, record.vehicles_exempt, record.commercial_housing, record.houses, record.businesses,
            record.recorded_by.username, record.decision.step_key) == (
        app.pk, world.h1.pk, 1_200_050, 0, 300_000, 1, 1, False, 1, 0, "village_cadre", "home_verification")
    event = AuditEvent.objects.get(object_type="welfare_assets")
    assert (event.actor_name, event.household_id, event.object_id, event.summary) == (
        "village_cadre", world.h1.pk, str(record.pk),
        "张三 最低生活保障（低保）申请入户核查家庭财产：存款 12000.50 元、有价证券 0.00 元、商业保险现金价值 3000.00 元"
        "（金融资产合计 15000.50 元）；机动车 1 辆（其中经营用或残疾成员代步用 1 辆）；商业用房无；住房 1 套；工商登记 0 个")
    assert event.detail["fields"]["deposits"] == 1_200_050
    page = client.get(f"/welfare/applications/{app.pk}/").content.decode()
    assert "入户核查的家庭财产" in page and "存款 12000.50 元" in page
    # the work vehicle is not counted: the county approves and the household is enrolled
    approve_all(Application.objects.get(pk=app.pk), wel, clock)
    e = Enrolment.objects.get(application=app)
    assert (e.monthly_amount, e.financial_assets, e.vehicle, e.commercial_housing, e.houses, e.business) == (
        84000, 1_500_050, False, False, 1, False)


@pytest.mark.parametrize("typed, message", [
    ("abc", "“abc”应为不小于0、最多两位小数的金额（元），如 \"1234.56\""),
    ("-5", "“-5”应为不小于0、最多两位小数的金额（元），如 \"1234.56\""),
])
def test_a_bad_amount_gets_a_chinese_message_naming_the_field_and_records_nothing(world, wel, clock, client,
                                                                                  typed, message):
    app = start(world, wel)
    services.application_act(actor=wel["village"], application_id=app.pk, step_key="application", approve=True)
    with pytest.raises(InvalidInput) as exc:
        services.application_act(actor=wel["village"], application_id=app.pk, step_key="home_verification",
                                 approve=True, verifiers=["王村长", "李队员"], evidence=["表1"],
                                 assets={"deposits": typed, "vehicles": "x", "vehicles_exempt": "0"})
    assert exc.value.errors == {"银行存款（元）": message, "机动车辆（辆）": "“x”应为0到99的整数"}
    client.force_login(wel["village"])
    r = client.post(f"/welfare/applications/{app.pk}/", {
        "step": "home_verification", "decision": "approve", "verifier1": "王村长", "verifier2": "李队员",
        "evidence": "核实表001", "insurance": typed}, follow=True)
    assert f"商业保险现金价值（元）：{message}" in r.content.decode().replace("&quot;", '"').replace("&#x27;", "'")
    app.refresh_from_db()
    assert (app.current["key"], AssetRecord.objects.count(), app.decisions.count()) == ("home_verification", 0, 1)
    with pytest.raises(InvalidInput) as exc:
        services.application_act(actor=wel["village"], application_id=app.pk, step_key="home_verification",
                                 approve=True, verifiers=["王村长", "李队员"], evidence=["表1"],
                                 assets={"vehicles": "1", "vehicles_exempt": "2"})
    assert exc.value.errors == {"其中经营用或残疾成员代步用（辆）": "不能多于机动车辆总数（1 辆）"}


def test_the_county_refuses_an_application_whose_assets_fail_and_the_record_says_why(world, wel, clock, client):
    app = start(world, wel)
    actors = {"village": wel["village"], "township": wel["township"]}
    while app.current["tier"] != "county":
        if app.notice_end:
            clock["today"] = app.notice_end + dt.timedelta(days=1)
        app = services.application_act(actor=actors[app.current["tier"]], application_id=app.pk,
                                       step_key=app.current["key"], approve=True, verifiers=["王村长", "李队员"],
                                       evidence=["核实表001"], assets={"deposits": "30000", "securities": "4560.01"})
    client.force_login(wel["civil"])   # the county approves on the screen: refused, with the reason shown
    r = client.post(f"/welfare/applications/{app.pk}/", {"step": "county_approval", "decision": "approve"}, follow=True)
    assert "不予批准：经核算不符合最低生活保障（低保）条件：家庭金融资产超过计入人数的规定月数低保标准" in r.content.decode()
    app.refresh_from_db()
    assert app.state == AppState.REJECTED and not Enrolment.objects.exists()
    last = app.decisions.order_by("-id").first()
    reason = "经核算不符合最低生活保障（低保）条件：家庭金融资产超过计入人数的规定月数低保标准"
    assert (last.step_key, last.approved, last.actor.username, last.comment) == (
        "county_approval", False, "civil_affairs", reason)
    assert AuditEvent.objects.filter(object_type="welfare_application", object_id=str(app.pk)).order_by("-id").first().summary == \
        f"最低生活保障（低保）申请：县级民政部门审批 不予批准（{reason}）"
    assert sorted(world.h1.persons.values_list("assistance", flat=True)) == ["none"] * 3


def test_at_exactly_the_limit_the_county_approves_and_a_non_essential_vehicle_is_refused(world, wel, clock):
    app = approve_all(start(world, wel), wel, clock, assets={"deposits": "30000", "securities": "4560.00"})
    assert app.state == AppState.APPROVED
    assert Enrolment.objects.get(application=app).monthly_amount == 84000
    other = world.h2.persons.get()
    from fupin.registry.models import Income
    Income.objects.create(household=world.h2, year=2025, wages=120000, business=0, transfers=0, property_income=0,
                          costs=0, size=1, recorded_on=dt.date(2026, 1, 10))
    from django.contrib.auth import get_user_model
    from fupin.core.roles import Role
    village3 = get_user_model().objects.create(username="v3", role=Role.VILLAGE_CADRE, region_id=world.h2.village_id)
    town2 = get_user_model().objects.create(username="t2", role=Role.TOWNSHIP_OFFICER,
                                            region_id=world.h2.village.parent_id)
    app2 = services.application_start(actor=village3, household_id=world.h2.pk, person_id=other.pk,
                                      programme="dibao", category="ordinary", consent_assets=True)
    app2 = approve_all(app2, dict(wel, village=village3, township=town2), clock,
                       assets={"vehicles": "1", "vehicles_exempt": "0"})
    assert app2.state == AppState.REJECTED
    assert app2.decisions.order_by("-id").first().comment == "经核算不符合最低生活保障（低保）条件：有非生活必需的机动车辆"
    assert not Enrolment.objects.filter(person=other).exists()


def test_a_recheck_rereads_the_latest_verified_assets(world, wel, clock):
    e = enrol_dibao(world, wel, clock)
    assert e.monthly_amount == 84000
    # a later home visit found a business registration
    AssetRecord.objects.create(household=world.h1, businesses=1, houses=1, recorded_by=wel["village"])
    clock["today"] = dt.date(2026, 12, 10)
    with pytest.raises(InvalidInput) as exc:
        services.recheck_record(actor=wel["civil"], enrolment_id=e.pk)
    assert exc.value.errors == {"停发原因": "停发必须写明原因（复核计算金额为0：有工商登记的企业或个体户）"}
    r = services.recheck_record(actor=wel["civil"], enrolment_id=e.pk, reason="入户核查发现开办个体商店")
    assert (r.result, r.new_amount, r.effective) == (RecheckResult.STOP, 0, dt.date(2027, 1, 1))
    e.refresh_from_db()
    assert (e.stop, e.stop_reason) == (dt.date(2027, 1, 1), "入户核查发现开办个体商店")


# ---- the API and the department findings ---------------------------------------------------------

def test_the_api_takes_the_assets_with_the_step_and_refuses_a_bad_amount(world, wel, clock, client):
    token = core_services.token_create(actor=wel["village"], user=wel["village"], name="t")
    h = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    app = start(world, wel)

    def act(body):
        return client.post(f"/api/v1/welfare/applications/{app.pk}/act", body, content_type="application/json", **h)

    assert act({"step": "application", "approve": True}).status_code == 200
    body = {"step": "home_verification", "approve": True, "verifiers": ["王村长", "李队员"], "evidence": ["表1"]}
    r = act(body)
    assert (r.status_code, r.json()["errors"]) == (
        400, {"家庭财产": "“入户核实（至少两人）”须登记核查到的家庭财产（没有的填0或留空）"})
    r = act({**body, "assets": {"deposits": "-5"}})
    assert (r.status_code, r.json()["errors"]) == (
        400, {"银行存款（元）": "“-5”应为不小于0、最多两位小数的金额（元），如 \"1234.56\""})
    r = act({**body, "assets": {"deposits": "5000.00", "insurance": 200, "houses": 1, "commercial_housing": True}})
    assert (r.status_code, r.json()["step"]) == (200, "appraisal")
    record = AssetRecord.objects.get()
    assert (record.deposits, record.insurance, record.houses, record.commercial_housing) == (500000, 20000, 1, True)


def test_the_verifier_sees_the_department_findings_on_the_home_visit_step(world, wel, clock, client):
    from fupin.monitoring import services as monitoring

    head = world.h1.persons.get(relation="head")
    header = "姓名,公民身份号码,性别,出生日期,住址,号牌号码,车辆类型"
    row = f"张三,{head.id_number},男,1970-05-01,新市坝镇桃源村,川W12345,小型轿车"
    batch = monitoring.batch_import(actor=world.users["county_officer"], kind="vehicles", source="县公安局交警大队",
                                    as_of=dt.date(2026, 10, 1), data=(header + "\n" + row + "\n").encode(),
                                    filename="vehicles.csv").batch
    monitoring.batch_link(actor=world.users["county_officer"], batch_id=batch.pk)
    app = start(world, wel)
    client.force_login(wel["village"])
    page = client.get(f"/welfare/applications/{app.pk}/").content.decode()
    assert 'id="findings"' not in page                      # only on the home-visit step
    services.application_act(actor=wel["village"], application_id=app.pk, step_key="application", approve=True)
    page = client.get(f"/welfare/applications/{app.pk}/").content.decode()
    assert "张三：机动车登记名单（公安部门（交警），2026-10-01）：号牌号码：川W12345；车辆类型：小型轿车" in page
    assert "vehicles" not in page.split('id="findings"')[1].split("</section>")[0]
