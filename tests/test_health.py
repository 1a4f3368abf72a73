"""Settlement at the window: the worked examples end to end, refusals, reversal, the slip, the API,
and two windows settling for one patient at once (PostgreSQL)."""
import datetime as dt
import re
import subprocess
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from fupin.core import services as core_services
from fupin.core.errors import FupinError
from fupin.core.models import AuditEvent, Region, User
from fupin.funds import services as funds
from fupin.funds.models import Entry
from fupin.health import services
from fupin.health.models import Accumulator, Claim, Hospital
from fupin.registry.models import Household, Person

from .conftest import PASSWORD, pid

# amounts in fen, as the window's form and the API pass them on after the one parser
BILL_1 = {"discharge_date": dt.date(2024, 6, 1), "visit_type": "inpatient", "in_county": True, "referred": False,
          "total": 10_000_000, "in_policy": 9_000_000, "waivable": 20_000}
BILL_2 = dict(BILL_1, total=6_000_000, in_policy=5_800_000, waivable=10_000)


def build_shili(db_ready=True):
    """示例省 (region prefix 99): a county hospital, a 低保 registered-poor patient, two window
    officers (a reversal needs a second person) and the county's top-up fund with 1,000,000 yuan."""
    for code, name, level, parent in [("990000000000", "示例省", 1, None), ("990100000000", "示例市", 2, "990000000000"),
                                      ("990101000000", "示例县", 3, "990100000000"),
                                      ("990101100000", "示例镇", 4, "990101000000"),
                                      ("990101100200", "示例村", 5, "990101100000")]:
        Region.objects.create(code=code, name=name, level=level, parent_id=parent)
    hospital = Hospital.objects.create(code="H990101", name="示例县人民医院", region_id="990101000000", level="county")
    household = Household.objects.create(number="SL1", village_id="990101100200", attribute="dibao_poor",
                                         main_cause="illness", status="registered")
    patient = Person(household=household, name="病人甲", id_number=pid("1960-01-01", 11), birth_date=dt.date(1960, 1, 1),
                     sex="M", relation="head", labour="lost", assistance="dibao")
    patient.save()
    window = User(username="window99", role="hospital_window", region_id="990101000000", password_changed_at=timezone.now())
    window.set_password(PASSWORD)
    window.save()
    User.objects.create(username="window99b", role="hospital_window", region_id="990101000000",
                        password_changed_at=timezone.now())
    officer = User.objects.create(username="officer99", role="county_officer", region_id="990101000000",
                                  password_changed_at=timezone.now())
    fund = services.fund_account("990101000000", "wsfp", dt.date(2024, 1, 1))
    funds.budget_allocate(actor=officer, budget=fund, amount=100_000_000, date=dt.date(2024, 1, 1), decision_id="A")
    return hospital, patient, window, fund


def second_window():
    return User.objects.get(username="window99b")


@pytest.fixture
def shili(db):
    return build_shili()


def acc(person):
    return dict(Accumulator.objects.filter(person=person, year=2024).values_list("key", "amount"))


def test_worked_examples_through_the_service_and_the_ledger(shili):
    hospital, patient, window, fund = shili
    c1 = services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    assert (c1.categories, c1.patient, c1.breakdown["health.topup.wsfp"]) == (["dibao", "registered_poor"], 998000, 135987)
    c2 = services.settle(user=window, hospital=hospital, person=patient, number="Z2", bill=BILL_2)
    assert c2.breakdown == {"health.waived": 10000, "health.basic": 4320000, "health.critical_illness": 955500,
                            "health.assistance": 360150, "health.absorbed": 0, "health.topup.wsfp": 0,
                            "health.topup.yyax": 0, "health.shortfall": 0, "health.patient": 354350}
    assert acc(patient) == {"basic": 6712500 + 4320000, "ci_base": 2267500 + 1470000, "ci": 1148875 + 955500,
                            "assistance": 783038 + 360150, "topup.wsfp": 135987}
    assert funds.balance(fund) == 100_000_000 - 135987
    hospital_account = services.hospital_account(hospital)
    # the hospital receives everything but the waived and absorbed parts
    assert funds.balance(hospital_account) == (10_000_000 - 20_000 - 201_600) + (6_000_000 - 10_000)
    for claim in (c1, c2):
        assert sum(e.amount for e in Entry.objects.filter(transaction=claim.transaction)) == 0


def test_a_claim_keeps_each_payers_explanation_whole_with_each_parameter_stored_once(shili):
    hospital, patient, window, fund = shili
    preview = services.preview(user=window, hospital=hospital, person=patient, bill=BILL_1)
    claim = Claim.objects.get(pk=services.settle(user=window, hospital=hospital, person=patient, number="Z1",
                                                 bill=BILL_1).pk)
    for p in preview["payers"]:
        assert services.explanation_of(claim, p["rule"]) == p["explanation"]
    # the patient's share uses every parameter of the chain; stored once, not once per payer
    x = claim.explanation
    assert sorted(x["_parameters"]) == sorted(preview["payers"][-1]["explanation"]["parameters"])
    assert sorted(x["_names"]["parameters"]) == sorted(x["_parameters"])
    assert sorted(x["health.patient"]["parameters"]) == list(range(len(x["_parameters"])))
    assert x["_labels"]["health.topup.wsfp"] == "卫生扶贫救助基金"
    # each payer names its inputs, parameters and branches by number: each name and each branch once a claim
    branches = [b for p in preview["payers"] for b in p["explanation"]["branches"]]
    assert x["_names"]["branches"] == list(dict.fromkeys(branches)) and len(set(branches)) < len(branches)
    assert [x["_names"]["branches"][i] for i in x["health.patient"]["branches"]] == \
        preview["payers"][-1]["explanation"]["branches"]
    # each source text once: the parameters name theirs by number
    texts = [v["source"] for v in preview["payers"][-1]["explanation"]["parameters"].values()]
    assert x["_sources"] == list(dict.fromkeys(texts)) and len(set(texts)) < len(texts)
    assert [x["_sources"][v["source"]] for v in x["_parameters"].values()] == \
        [preview["payers"][-1]["explanation"]["parameters"][k]["source"] for k in x["_parameters"]]
    # claims stored in the earlier forms read the same: before "_names" (names and branches in each
    # payer), and before "_sources" too (each parameter with its source text)
    names = {rule: v | {kind: [x["_names"][kind][i] for i in v[kind]] for kind in ("inputs", "parameters", "branches")}
             for rule, v in x.items() if not rule.startswith("_")}
    before_names = {k: v for k, v in x.items() if k != "_names"} | names
    before_sources = {k: v for k, v in before_names.items() if k != "_sources"} | {"_parameters": {
        k: v | {"source": x["_sources"][v["source"]]} for k, v in x["_parameters"].items()}}
    for older in (before_names, before_sources):
        Claim.objects.filter(pk=claim.pk).update(explanation=older)
        claim.refresh_from_db()
        for p in preview["payers"]:
            assert services.explanation_of(claim, p["rule"]) == p["explanation"]
    assert services.explanation_of(claim, "health.nothing") == {}


def test_same_claim_twice_is_refused_and_changes_nothing(shili):
    hospital, patient, window, fund = shili
    services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    before = (acc(patient), Entry.objects.count(), funds.balance(fund))
    with pytest.raises(FupinError) as exc:
        services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_2)
    first = Claim.objects.get()
    assert exc.value.message == (f"流水号 Z1 已结算过（结算编号 {first.pk}），不能重复结算；"
                                 "如需更正，请先冲销该结算，再用同一流水号重新结算")
    assert (acc(patient), Entry.objects.count(), funds.balance(fund)) == before


def test_reversal_restores_accumulators_and_ledger(shili):
    hospital, patient, window, fund = shili
    c1 = services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    assert c1.accumulator_changes == {"basic": 6712500, "ci_base": 2267500, "ci": 1148875, "assistance": 783038,
                                      "topup.wsfp": 135987, "topup.yyax": 0}
    services.reverse(user=second_window(), claim_id=c1.pk, reason="录入错误")
    assert set(acc(patient).values()) == {0}
    assert funds.balance(fund) == 100_000_000
    assert funds.balance(services.hospital_account(hospital)) == 0
    with pytest.raises(FupinError) as exc:
        services.reverse(user=second_window(), claim_id=c1.pk, reason="再冲")
    assert exc.value.message == "该结算已冲销"
    # the reversed number can be settled again, exactly as before
    again = services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    assert (again.patient, again.breakdown) == (998000, c1.breakdown)
    assert Claim.objects.filter(number="Z1").count() == 2


def test_the_settling_officer_cannot_reverse_and_the_refusal_is_audited(shili):
    hospital, patient, window, fund = shili
    c1 = services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    before = (acc(patient), Entry.objects.count(), AuditEvent.objects.filter(result="denied").count())
    with pytest.raises(FupinError) as exc:
        services.reverse(user=window, claim_id=c1.pk, reason="录入错误")
    assert exc.value.message == "结算 Z1 由您本人办理，不能由您冲销；请由另一位窗口工作人员复核后冲销"
    assert (acc(patient), Entry.objects.count()) == before[:2]
    assert AuditEvent.objects.filter(result="denied").count() == before[2] + 1


def test_later_claims_are_reversed_first(shili):
    """后结先退: settling A and B, then reversing A alone would leave B computed on A's
    accumulators. A is refused until B is reversed; then both settle again exactly as before."""
    hospital, patient, window, fund = shili
    a = services.settle(user=window, hospital=hospital, person=patient, number="A", bill=BILL_1)
    b = services.settle(user=window, hospital=hospital, person=patient, number="B", bill=BILL_2)
    with pytest.raises(FupinError) as exc:
        services.reverse(user=second_window(), claim_id=a.pk, reason="更正")
    assert exc.value.message == ("该患者在本笔之后还有未冲销的结算：示例县人民医院 流水号 B（2024-06-01）。"
                                 "按“后结先退”，请先冲销这些结算，再冲销本笔；之后按顺序重新结算")
    services.reverse(user=second_window(), claim_id=b.pk, reason="更正")
    services.reverse(user=second_window(), claim_id=a.pk, reason="更正")
    assert set(acc(patient).values()) == {0} and funds.balance(fund) == 100_000_000
    a2 = services.settle(user=window, hospital=hospital, person=patient, number="A", bill=BILL_1)
    b2 = services.settle(user=window, hospital=hospital, person=patient, number="B", bill=BILL_2)
    assert (a2.breakdown, b2.breakdown) == (a.breakdown, b.breakdown)


def test_a_dead_patient_is_not_paid_after_the_date_of_death(shili):
    hospital, patient, window, fund = shili
    Person.objects.filter(pk=patient.pk).update(alive=False, death_date=dt.date(2024, 5, 20))
    patient.refresh_from_db()
    before = (Entry.objects.count(), Claim.objects.count(), acc(patient))
    with pytest.raises(FupinError) as exc:
        services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    assert exc.value.message == ("病人甲 已于 2024-05-20 死亡（户籍库记录），不能向其支付；"
                                 "如死亡登记有误，请先在户籍中更正后再办理")
    assert (Entry.objects.count(), Claim.objects.count(), acc(patient)) == before


def test_empty_fund_is_skipped_and_the_shortfall_reported(db):
    hospital, patient, window, fund = build_shili()
    officer = User.objects.get(username="officer99")
    funds.transaction_reverse(actor=officer, txn=Entry.objects.get(account=fund).transaction, reason="清空",
                              date=dt.date(2024, 1, 2))
    c = services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    assert (c.breakdown["health.topup.wsfp"], c.shortfall, c.patient) == (0, 135987, 998000 + 135987)
    assert "兜底资金不足 1359.87 元" in AuditEvent.objects.get(object_type="claim").summary


def test_window_pages_preview_settle_claim_and_slip(shili, client, tmp_path):
    hospital, patient, window, fund = shili
    client.force_login(window)
    html = client.post("/health/window/", {"id_number": patient.id_number}).content.decode()
    assert "<span class=\"status\">低保</span> <span class=\"status\">建档立卡</span>" in html
    # a full ID in a URL is refused, so it never reaches an access log
    html = client.get(f"/health/window/?id_number={patient.id_number}").content.decode()
    assert "身份证号请在查找框中输入后点“查找”，不要放在网址中" in html and "建档立卡</span>" not in html
    form = {"id_number": patient.id_number, "hospital": hospital.pk, "number": "Z1", "visit_type": "inpatient",
            "discharge_date": "2024-06-01", "in_county": "1", "total": "100000.00", "in_policy": "90000.00",
            "waivable": "200.00"}
    preview = client.post("/health/window/preview/", form).json()
    assert [(p["label"], p["amount"]) for p in preview["payers"]] == [
        ("减免", "200.00"), ("基本医保", "67125.00"), ("大病保险", "11488.75"), ("医疗救助", "7830.38"),
        ("医院承担", "2016.00"), ("卫生扶贫救助基金", "1359.87"), ("医药爱心扶贫基金", "0.00"),
        ("兜底资金不足（未支付部分，已计入个人）", "0.00"), ("个人自付", "9980.00")]
    assert client.post("/health/window/preview/", dict(form, total="abc")).json() == {
        "error": "总费用：“abc”应为不小于0、最多两位小数的金额（元），如 \"1234.56\""}
    assert client.post("/health/window/preview/", dict(form, total="100000.005")).json() == {
        "error": "总费用：“100000.005”应为不小于0、最多两位小数的金额（元），如 \"1234.56\""}
    # a stay that has not ended, a day that does not exist, a day before the county's policy: said in words
    from django.utils import timezone
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert client.post("/health/window/preview/", dict(form, discharge_date=str(tomorrow))).json() == {
        "error": f"出院日期：{tomorrow} 晚于今天（{timezone.localdate()}），尚未出院的费用不能结算；请核对日期"}
    assert client.post("/health/window/preview/", dict(form, discharge_date="2024-02-30")).json() == {
        "error": "出院日期：2024-02-30 不是存在的日期"}
    early = client.post("/health/window/preview/", dict(form, discharge_date="2010-06-01")).json()["error"]
    assert early.startswith("按示例省 2024的政策，") and early.endswith("2010-06-01 尚未生效；请核对日期")
    assert not re.search(r"[a-z]{3,}", early)
    # refused: the window comes back with the patient and the bill as typed, to correct, not retype
    html = client.post("/health/window/settle/", dict(form, discharge_date=str(tomorrow), referred="1")).content.decode()
    for typed in ('name="number" value="Z1"', '<option value="inpatient" selected>', f'value="{tomorrow}"',
                  'name="in_county" value="1" checked', 'name="referred" value="1" checked', 'value="100000.00"',
                  'value="90000.00"', 'value="200.00"', "尚未出院的费用不能结算"):
        assert typed in html, typed
    assert Claim.objects.count() == 0
    r = client.post("/health/window/settle/", form)
    claim = Claim.objects.get()
    assert r["Location"] == f"/health/claims/{claim.pk}/"
    page = client.get(r["Location"]).content.decode()
    assert '<b id="patient">9,980.00</b> 元（大写：玖仟玖佰捌拾元整）' in page
    basic = services.explanation_of(claim, "health.basic")["branches"]   # read back from the claim's numbered lists
    assert "贫困人口报销比例提高：是" in basic and "；".join(basic) in page
    pdf = client.get(f"/health/claims/{claim.pk}/slip.pdf").content
    path = tmp_path / "slip.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for needle in ("医疗费用一站式结算单", "卫生扶贫救助基金", "1359.87", "9980.00", "玖仟玖佰捌拾元整", "513435********"):
        assert needle in text
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", str(path), str(tmp_path / "slip")], check=True)
    from PIL import Image  # pillow comes with reportlab
    img = Image.open(tmp_path / "slip.png").convert("L")
    assert (img.width, img.height) == (331, 468)  # A4 at 40 dpi
    dark = sum(img.histogram()[:128])
    assert dark > 1500  # the text is really drawn, not a blank page


def test_settle_api_for_hospital_systems(shili, client):
    hospital, patient, window, fund = shili
    token = core_services.token_create(actor=window, user=window, name="his")
    h = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = {"hospital": "H990101", "id_number": patient.id_number, "number": "HIS-1", "visit_type": "inpatient",
            "discharge_date": "2024-06-01", "in_county": True, "total": "100000.00", "in_policy": "90000.00",
            "waivable": "200.00"}
    r = client.post("/api/v1/settlements/preview", body, content_type="application/json", **h)
    assert (r.status_code, r.json()["patient"]) == (200, "9980.00")
    r = client.post("/api/v1/settlements", body, content_type="application/json", **h)
    assert (r.status_code, r.json()["patient"], r.json()["categories"]) == (201, "9980.00", ["dibao", "registered_poor"])
    r = client.post("/api/v1/settlements", body, content_type="application/json", **h)
    first = Claim.objects.get()
    assert (r.status_code, r.json()["detail"]) == (400, f"流水号 HIS-1 已结算过（结算编号 {first.pk}），不能重复结算；"
                                                        "如需更正，请先冲销该结算，再用同一流水号重新结算")
    r = client.post("/api/v1/settlements/preview", dict(body, total="1e5"), content_type="application/json", **h)
    assert (r.status_code, r.json()["detail"]) == (400, "总费用：“1e5”应为不小于0、最多两位小数的金额（元），如 \"1234.56\"")
    other = User.objects.create(username="w2", role="hospital_window", region_id="513435000000",
                                password_changed_at=timezone.now())
    Region.objects.create(code="513435000000", name="甘洛县", level=3, parent=None)
    t2 = core_services.token_create(actor=other, user=other, name="x")
    r = client.post("/api/v1/settlements/preview", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {t2}")
    assert (r.status_code, r.json()["detail"]) == (404, "找不到医疗机构 H990101，或不在您的管辖范围内")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_windows_settle_the_same_patient_at_once_and_lose_no_update():
    hospital, patient, window, fund = build_shili()
    barrier = threading.Barrier(2)
    errors = []

    def settle(number, bill):
        try:
            barrier.wait()
            services.settle(user=window, hospital=hospital, person=patient, number=number, bill=bill)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=settle, args=("C1", BILL_1)), threading.Thread(target=settle, args=("C2", BILL_2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    claims = {c.number: c for c in Claim.objects.all()}
    # whichever went first, the second saw its accumulators: the totals equal a sequential settlement
    assert acc(patient)["basic"] == claims["C1"].breakdown["health.basic"] + claims["C2"].breakdown["health.basic"]
    assert acc(patient)["ci_base"] == 2267500 + 1470000
    assert sum(c.breakdown["health.topup.wsfp"] for c in claims.values()) == acc(patient).get("topup.wsfp", 0)
    assert funds.balance(fund) == 100_000_000 - acc(patient).get("topup.wsfp", 0)
    # and each claim equals what settling them one after the other, in the order the database
    # serialised them, gives
    from fupin.policy.rules import health as rules
    chain = services.packs().for_region("990101000000")
    ytd = {"basic": "0", "ci_base": "0", "ci": "0", "assistance": "0", "topup": {"wsfp": "0", "yyax": "0"}}
    for claim in sorted(claims.values(), key=lambda c: c.pk):
        bill = BILL_1 if claim.number == "C1" else BILL_2
        expected = rules.settle(chain, {"region": "990101000000", "discharge_date": "2024-06-01", "visit_type": "inpatient",
                                        "level": "county", "in_county": True, "referred": False,
                                        "categories": ["dibao", "registered_poor"], "total": rules.yuan(bill["total"]),
                                        "in_policy": rules.yuan(bill["in_policy"]), "waivable": rules.yuan(bill["waivable"]),
                                        "ytd": ytd,
                                        "fund_balances": {"wsfp": "1000000.00", "yyax": "0.00"}})
        assert claim.breakdown == expected["_fen"]
        ytd = expected["accumulators"]


def test_worked_example_2_through_the_window_screen(shili, client):
    hospital, patient, window, fund = shili
    services.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    client.force_login(window)
    form = {"id_number": patient.id_number, "hospital": hospital.pk, "number": "Z2", "visit_type": "inpatient",
            "discharge_date": "2024-06-01", "in_county": "1", "total": "60000.00", "in_policy": "58000.00",
            "waivable": "100.00"}
    preview = client.post("/health/window/preview/", form).json()
    assert {p["rule"]: p["amount"] for p in preview["payers"]} == {
        "health.waived": "100.00", "health.basic": "43200.00", "health.critical_illness": "9555.00",
        "health.assistance": "3601.50", "health.absorbed": "0.00", "health.topup.wsfp": "0.00",
        "health.topup.yyax": "0.00", "health.shortfall": "0.00", "health.patient": "3543.50"}


@pytest.mark.django_db(transaction=True)
def test_claims_settled_before_the_stored_changes_get_them_from_their_breakdown():
    """Migration health 0003 fills `accumulator_changes` of existing claims, so they reverse exactly."""
    from django.db.migrations.executor import MigrationExecutor

    hospital, patient, window, _ = build_shili()
    txn = Entry.objects.first().transaction
    executor = MigrationExecutor(connection)
    old = [("health", "0002_certificate_condition_contract_fixedsubsidy_service")]
    executor.migrate(old)
    HistoricalClaim = executor.loader.project_state(old).apps.get_model("health", "Claim")
    breakdown = {"health.waived": 20000, "health.basic": 6712500, "health.critical_illness": 1148875,
                 "health.assistance": 783038, "health.absorbed": 201600, "health.topup.wsfp": 135987,
                 "health.topup.yyax": 0, "health.shortfall": 0, "health.patient": 998000}
    HistoricalClaim.objects.create(
        hospital_id=hospital.pk, number="Z1", person_id=patient.pk, visit_type="inpatient", level="county",
        in_county=True, referred=False, discharge_date=dt.date(2024, 6, 1), categories=[], total=10_000_000,
        in_policy=9_000_000, waivable=20000, patient=998000, breakdown=breakdown, explanation={}, pack="x",
        settled_by_id=window.pk, transaction_id=txn.pk)
    executor = MigrationExecutor(connection)
    executor.migrate([("health", "0003_claim_accumulator_changes")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert Claim.objects.get(number="Z1").accumulator_changes == {
        "basic": 6712500, "ci_base": 2267500, "ci": 1148875, "assistance": 783038, "topup.wsfp": 135987,
        "topup.yyax": 0}


def test_a_fund_richer_than_the_largest_amount_still_settles(db):
    from fupin.policy.money import max_fen
    hospital, patient, window, fund = build_shili()
    officer = User.objects.get(username="officer99")
    funds.budget_allocate(actor=officer, budget=fund, amount=max_fen(), date=dt.date(2024, 1, 1), decision_id="B")
    assert funds.balance(fund) > max_fen()
    c = services.settle(user=window, hospital=hospital, person=patient, number="R1", bill=BILL_1)
    assert (c.breakdown["health.topup.wsfp"], c.patient) == (135987, 998000)
