"""Donations (cash to a village or the county fund through the ledger, goods at their valuation,
receipts), the 扶贫日 campaign with pledges, and programme grants: eligibility from the registry
and the school roster (per case = in batch), never the same grant twice, every fen on the ledger."""
import datetime as dt

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from fupin.charity import selectors, services
from fupin.charity.models import Donation, Grant
from fupin.core.errors import AccessDenied, FupinError, InvalidInput
from fupin.education.models import CollegeStudent, Enrolment, School
from fupin.funds.models import Account, Entry, Transaction
from fupin.registry.models import Person

from .conftest import COUNTY, V1, V2, pid

D = dt.date(2026, 10, 17)


@pytest.fixture
def students(world):
    """张小 (H1, registered) admitted to college this autumn; 赵七 (H4) in his second year;
    李新 of H2 admitted too."""
    school = School.objects.create(code="U1", name="西昌学院", region_id=V1)
    zhang = Person.objects.get(name="张小")
    zhao = Person.objects.get(name="赵七")
    li = Person.objects.create(household=world.h2, name="李新", id_number=pid("2008-03-03", 81), sex="M",
                               birth_date=dt.date(2008, 3, 3), relation="child", labour="ordinary")
    for person, entry, level in ((zhang, 2026, "bachelor"), (zhao, 2025, "bachelor"), (li, 2026, "higher_voc")):
        CollegeStudent.objects.create(person=person, college="西昌学院", level=level, entry_year=entry)
    # the opening step of each programme (下发通知、发布公告), open around today (the default application date)
    today = timezone.localdate()
    for programme in ("yuanmeng", "sunshine_class", "shiliuzhu"):
        services.call_publish(actor=world.users["county_officer"], programme=programme, year=2026,
                              published=today - dt.timedelta(days=30), apply_until=today + dt.timedelta(days=30))
    return {"zhang": zhang, "zhao": zhao, "li": li}


def test_applications_follow_the_published_call(world, students, client):
    officer = world.users["county_officer"]
    with pytest.raises(FupinError) as exc:
        services.grant_apply(actor=officer, person_id=students["zhang"].pk, programme="yuanmeng", year=2027)
    assert exc.value.message == "尚未发布2027年“圆梦助学”的申报公告（下发通知、发布公告），发布后才能接受申报"
    with pytest.raises(AccessDenied):           # the county publishes, not the township
        services.call_publish(actor=world.users["township_officer"], programme="yuanmeng", year=2027,
                              published=dt.date(2027, 7, 1), apply_until=dt.date(2027, 8, 31))
    with pytest.raises(InvalidInput) as exc:
        services.call_publish(actor=officer, programme="yuanmeng", year=2027, published=dt.date(2027, 7, 1),
                              apply_until=dt.date(2027, 6, 30))
    assert exc.value.errors == {"申报截止日期": "应不早于发布日期 2027-07-01"}
    client.force_login(officer)
    r = client.post("/charity/call/", {"programme": "yuanmeng", "year": "2027", "published": "2027-07-01",
                                       "apply_until": "2027-08-31", "content": "录取通知书复印件交乡镇教育办"})
    assert r.status_code == 302
    call = services.GrantCall.objects.get(year=2027)
    assert (call.title, call.published, call.apply_until, call.region_id) == (
        "关于申报2027年“圆梦助学”资助的通知", dt.date(2027, 7, 1), dt.date(2027, 8, 31), COUNTY)
    home = client.get("/charity/").content.decode()
    assert "关于申报2027年“圆梦助学”资助的通知：2027-07-01 发布，2027-08-31 截止申报。录取通知书复印件交乡镇教育办" in home
    with pytest.raises(FupinError) as exc:
        services.call_publish(actor=officer, programme="yuanmeng", year=2027, published=dt.date(2027, 7, 1),
                              apply_until=dt.date(2027, 8, 31))
    assert exc.value.message == "2027年“圆梦助学”的申报公告已发布"
    for on in (dt.date(2027, 6, 30), dt.date(2027, 9, 1)):
        with pytest.raises(FupinError) as exc:
            services.grant_apply(actor=officer, person_id=students["zhang"].pk, programme="yuanmeng", year=2027, on=on)
        assert exc.value.message == f"2027年“圆梦助学”的申报期为 2027-07-01 至 2027-08-31，{on} 不在申报期内"
    # within the window the call no longer stops it: the eligibility check answers (张小 entered in 2026)
    with pytest.raises(FupinError) as exc:
        services.grant_apply(actor=officer, person_id=students["zhang"].pk, programme="yuanmeng", year=2027,
                             on=dt.date(2027, 8, 31))
    assert exc.value.message.startswith("张小 不符合“圆梦助学”资助条件")
    assert Grant.objects.count() == 0


def _through_notice(officer, g):
    """Review on the campaign day, the 7-day notice (pack) without objection, decided the day after."""
    g = services.grant_review(actor=officer, grant=g, approve=True, on=D)
    return services.grant_decide(actor=officer, grant=g, on=g.notice_until + dt.timedelta(days=1))


def _cash(world, donor_name, amount, designation="", campaign=None, who="county_officer"):
    actor = world.users[who]
    donor = services.donor_get_or_create(actor=actor, name=donor_name, kind="enterprise")
    return services.donation_record(actor=actor, donor=donor, date=D, kind="cash", amount=amount,
                                    designation=designation, campaign=campaign)


def test_cash_goes_to_the_village_or_county_fund_on_the_ledger(world):
    to_village = _cash(world, "甘洛县电力公司", 1_234_567, designation=V1)
    to_county = _cash(world, "凉山农商银行", 50_000_001)
    assert (to_village.number, to_county.number) == ("JZ513435202600001", "JZ513435202600002")
    assert Account.objects.get(code=f"charity:{V1}").entries.aggregate(s=Sum("amount"))["s"] == 1_234_567
    assert Account.objects.get(code=f"charity:{COUNTY}").entries.aggregate(s=Sum("amount"))["s"] == 50_000_001
    assert Account.objects.get(code="source:donation:2026").entries.aggregate(s=Sum("amount"))["s"] == -51_234_568
    assert to_village.transaction.decision_id == "JZ513435202600001"


def test_goods_are_valued_not_posted_and_bad_input_is_refused(world):
    actor = world.users["county_officer"]
    donor = services.donor_get_or_create(actor=actor, name="爱心人士甲", kind="public")
    goods = services.donation_record(actor=actor, donor=donor, date=D, kind="in_kind", amount=300_000,
                                     items="棉被100床", designation=V2)
    assert (goods.transaction_id, goods.amount, Transaction.objects.count()) == (None, 300_000, 0)
    with pytest.raises(InvalidInput) as exc:
        services.donation_record(actor=actor, donor=donor, date=D, kind="in_kind", amount=0, items=" ")
    assert exc.value.errors == {"物资估价": "须大于0", "物资名称及数量": "捐赠物资须写明名称和数量"}
    with pytest.raises(AccessDenied):   # a village of another county
        services.donation_record(actor=actor, donor=donor, date=D, kind="cash", amount=100, designation="513436100200")
    with pytest.raises(AccessDenied):   # the inspector records nothing
        services.donor_get_or_create(actor=world.users["inspector"], name="某单位", kind="unit")
    assert Donation.objects.count() == 1


def test_campaign_day_from_the_pack_pledges_and_collections(world):
    officer = world.users["county_officer"]
    c = services.campaign_create(actor=officer, year=2026)
    assert (c.name, c.day) == ("2026年“扶贫日”募捐活动", dt.date(2026, 10, 17))
    unit = services.donor_get_or_create(actor=officer, name="县教育局", kind="unit")
    services.pledge_record(actor=officer, campaign=c, donor=unit, amount=2_000_000)
    with pytest.raises(FupinError) as exc:
        services.pledge_record(actor=officer, campaign=c, donor=unit, amount=1)
    assert exc.value.message == "县教育局 已认捐 20000.00 元；认捐只登记一次"
    services.donation_record(actor=officer, donor=unit, date=D, kind="cash", amount=1_500_050, campaign=c)
    assert [(r["donor"], r["pledged"], r["collected"], r["permille"]) for r in selectors.pledge_progress(c)] == [
        ("县教育局", 2_000_000, 1_500_050, 750)]


def test_eligibility_per_case_equals_the_batch(world, students):
    rule = services.programmes(V1, dt.date(2026, 9, 1))["yuanmeng"]
    assert rule["amount"] == 500_000
    ok, reasons = services.eligibility(students["zhang"], rule, 2026)
    assert (ok, reasons) == (True, ["√ 户的状态为“贫困户”，属于资助对象", "√ 2026年考入西昌学院（本科）"])
    ok, reasons = services.eligibility(students["zhao"], rule, 2026)
    assert (ok, reasons[1]) == (False, "× 2025年入学（西昌学院），本项目只资助2026年新录取的学生")
    shiliu = services.programmes(V1, dt.date(2026, 9, 1))["shiliuzhu"]   # 十六助: bachelor's degrees only
    assert services.eligibility(students["li"], shiliu, 2026) == (
        False, ["√ 户的状态为“贫困户”，属于资助对象", "× 大学生库中没有2026年在读的本科记录"])
    assert set(Person.objects.filter(services.eligible_q(shiliu, 2026)).values_list("name", flat=True)) == {"张小"}
    batch = set(Person.objects.filter(services.eligible_q(rule, 2026)).values_list("name", flat=True))
    case = {p.name for p in Person.objects.all() if services.eligibility(p, rule, 2026)[0]}
    assert batch == case == {"张小", "李新"}


def test_yuanmeng_from_a_campaign_to_a_student_once(world, students):
    officer = world.users["county_officer"]
    c = services.campaign_create(actor=officer, year=2026)
    _cash(world, "凉山农商银行", 800_000, campaign=c)
    g = services.grant_apply(actor=officer, person_id=students["zhang"].pk, programme="yuanmeng", year=2026, campaign=c)
    assert (g.amount, g.state, g.label) == (500_000, "applied", "圆梦助学")
    with pytest.raises(FupinError) as exc:     # applying twice
        services.grant_apply(actor=officer, person_id=students["zhang"].pk, programme="yuanmeng", year=2026)
    assert exc.value.message == "张小 已获得过“圆梦助学”资助（2026年），同一资助不能重复享受"
    with pytest.raises(FupinError) as exc:
        services.grant_apply(actor=officer, person_id=students["zhao"].pk, programme="yuanmeng", year=2026)
    assert exc.value.message == "赵七 不符合“圆梦助学”资助条件：× 2025年入学（西昌学院），本项目只资助2026年新录取的学生"
    with pytest.raises(FupinError) as exc:     # paying before the decision
        services.grant_pay(actor=officer, grant=g, date=D)
    assert exc.value.message == "该申请状态为“评审中”，审定通过后才能拨款"
    with pytest.raises(AccessDenied):          # the township records, the county decides
        services.grant_review(actor=world.users["township_officer"], grant=g, approve=True)
    _through_notice(officer, g)
    services.grant_pay(actor=officer, grant=g, date=D)
    with pytest.raises(FupinError):
        services.grant_pay(actor=officer, grant=g, date=D)
    services.grant_visit(actor=world.users["township_officer"], grant=g, note="已入学，学习生活正常")
    assert Grant.objects.get(pk=g.pk).state == "visited"
    payee = Account.objects.get(code=f"person:{students['zhang'].id_number}")
    assert payee.entries.aggregate(s=Sum("amount"))["s"] == 500_000
    assert Account.objects.get(code=f"charity:{COUNTY}").entries.aggregate(s=Sum("amount"))["s"] == 300_000
    # a second grant of 5000 from a fund holding 3000 is refused by the ledger, nothing written
    g2 = services.grant_apply(actor=officer, person_id=students["li"].pk, programme="yuanmeng", year=2026, campaign=c)
    _through_notice(officer, g2)
    with pytest.raises(FupinError) as exc:
        services.grant_pay(actor=officer, grant=g2, date=D)
    assert exc.value.message.startswith("预算科目“甘洛县慈善扶贫统筹资金”余额 3000.00 元，不足以支付 5000.00 元")
    assert Grant.objects.get(pk=g2.pk).state == "approved"
    assert Entry.objects.aggregate(s=Sum("amount"))["s"] == 0
    acct = selectors.public_account(c)
    assert (acct["cash_in"], acct["paid_out"], acct["balance"]) == (800_000, 500_000, 300_000)
    assert [(r["name"], r["programme"], r["amount"]) for r in acct["out"]] == [("张*", "圆梦助学", 500_000)]


def test_sunshine_class_pays_three_years_never_a_fourth(world, students):
    officer = world.users["county_officer"]
    senior = Person.objects.create(household=world.h1, name="张高", id_number=pid("2011-01-01", 91), sex="M",
                                   birth_date=dt.date(2011, 1, 1), relation="child", labour="ordinary")
    school = School.objects.get(code="U1")
    Enrolment.objects.create(person=senior, school=school, semester="2026-autumn", stage="senior", grade=1)
    _cash(world, "县内企业", 600_000)
    from fupin.funds import services as funds
    funds.allocation_post(actor=officer, budget=services.province_fund(V1), amount=600_000, date=D, decision_type="donation",
                          decision_id="省慈善总会拨付1号")
    for year in (2026, 2027, 2028):
        g = services.grant_apply(actor=officer, person_id=senior.pk, programme="sunshine_class", year=year)
        _through_notice(officer, g)
        services.grant_pay(actor=officer, grant=g, date=D)
    with pytest.raises(FupinError) as exc:
        services.grant_apply(actor=officer, person_id=senior.pk, programme="sunshine_class", year=2029)
    assert exc.value.message == "张高 已获得过“慈善阳光班”资助（2026年、2027年、2028年），同一资助不能重复享受"
    assert list(Grant.objects.filter(person=senior).order_by("year").values_list("instalment", "amount")) == [
        (1, 400_000), (2, 400_000), (3, 400_000)]
    # half from the provincial charity, half from the county's: both funds spent to the fen
    assert Account.objects.get(code=f"charity:{COUNTY}").entries.aggregate(s=Sum("amount"))["s"] == 0
    assert Account.objects.get(code="charity:510000000000").entries.aggregate(s=Sum("amount"))["s"] == 0
    assert Account.objects.get(code=f"person:{senior.id_number}").entries.aggregate(s=Sum("amount"))["s"] == 1_200_000
    # grants paid outside any campaign appear on the county's public account of that year, masked,
    # beside (not inside) the campaign's own money in and out
    c = services.campaign_create(actor=officer, year=2027)
    acct = selectors.public_account(c)
    assert (acct["cash_in"], acct["paid_out"], acct["balance"], acct["other_paid"]) == (0, 0, 0, 400_000)
    assert [(r["name"], r["village"], r["programme"], r["year"], r["amount"]) for r in acct["other"]] == [
        ("张*", "桃源村", "慈善阳光班", 2027, 400_000)]
    page = Client().get(f"/charity/public/{c.token}/").content.decode()
    assert "活动以外的资助（县慈善资金或冠名捐赠方拨付）：4,000.00 元" in page and "张高" not in page


def test_pages_receipt_and_public_account(world, students, client, tmp_path):
    import subprocess
    officer = world.users["county_officer"]
    client.force_login(officer)
    r = client.post("/charity/campaign/", {"year": "2026"})
    c = services.Campaign.objects.get()
    assert r["Location"] == f"/charity/campaigns/{c.pk}/"
    client.post("/charity/pledge/", {"campaign": c.pk, "donor": "县教育局", "donor_kind": "unit", "amount": "10000"})
    r = client.post("/charity/donate/", {"donor": "县教育局", "donor_kind": "unit", "kind": "cash", "amount": "8000.50",
                                         "campaign": c.pk, "date": "2026-10-17"})
    assert r.status_code == 302
    d = Donation.objects.get()
    assert (d.amount, d.designation_id) == (800_050, COUNTY)
    page = client.get(f"/charity/campaigns/{c.pk}/").content.decode()
    assert "县教育局" in page and "8,000.50" in page and "80%" in page
    home = client.get("/charity/?programme=yuanmeng&year=2026").content.decode()
    assert "符合条件的学生（2 人）" in home and "张小" in home and "赵七" not in home
    client.post("/charity/apply/", {"programme": "yuanmeng", "year": "2026", "person": students["zhang"].pk, "campaign": c.pk})
    g = Grant.objects.get()
    client.post(f"/charity/grants/{g.pk}/approve/")
    g.refresh_from_db()
    client.post(f"/charity/grants/{g.pk}/decide/", {"date": (g.notice_until + dt.timedelta(days=1)).isoformat()})
    client.post(f"/charity/grants/{g.pk}/pay/", {"date": "2026-10-20"})
    assert Grant.objects.get().state == "paid"
    pdf = client.get(f"/charity/donations/{d.pk}/receipt.pdf")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for expected in ("公益事业捐赠收据", "JZ513435202600001", "县教育局", "8000.50", "捌仟元伍角", "甘洛县慈善扶贫统筹资金"):
        assert expected in text, expected
    from openpyxl import load_workbook
    import io
    wb = load_workbook(io.BytesIO(client.get("/charity/export.xlsx").content), read_only=True)
    assert [list(r) for r in wb["捐赠"].iter_rows(min_row=2, values_only=True)] == [
        ["JZ513435202600001", "县教育局", "机关事业单位", "2026-10-17", "资金", None, 8000.5, "甘洛县", c.name]]
    assert [list(r) for r in wb["资助"].iter_rows(min_row=2, values_only=True)] == [
        ["圆梦助学", 1, "张小", "桃源村", "H1", 2026, 5000, "已拨款"]]
    client.logout()
    public = client.get(f"/charity/public/{c.token}/").content.decode()
    assert "张*" in public and "张小" not in public and "5,000.00" in public and "3,000.50" in public
    client.force_login(world.users["inspector"])
    assert client.get("/charity/").status_code == 403


def test_a_township_designates_only_its_own_villages(world):
    actor = world.users["township_officer"]
    donor = services.donor_get_or_create(actor=actor, name="乡镇企业", kind="enterprise")
    d = services.donation_record(actor=actor, donor=donor, date=D, kind="cash", amount=100, designation=V1)
    assert d.designation_id == V1
    with pytest.raises(AccessDenied) as exc:   # 团结村 lies in another township
        services.donation_record(actor=actor, donor=donor, date=D, kind="cash", amount=100, designation="513435101200")
    assert exc.value.message == "定向区划 513435101200 不是您管辖范围内的村，也不是本县统筹"
    assert Donation.objects.count() == 1


def test_public_notice_step_objections_and_the_printed_notice(world, students, client, tmp_path):
    """Review → public notice for the pack's 7 days → objections (one dismissed, one upheld) →
    decision only after the notice and with no objection open; the notice shows name, village and
    reason, never an ID number or a birth date."""
    import subprocess

    from fupin.charity.models import GrantObjection

    officer, township = world.users["county_officer"], world.users["township_officer"]
    _cash(world, "凉山农商银行", 1_000_000)
    g = services.grant_apply(actor=officer, person_id=students["zhang"].pk, programme="yuanmeng", year=2026)
    g2 = services.grant_apply(actor=officer, person_id=students["li"].pk, programme="yuanmeng", year=2026)
    with pytest.raises(FupinError) as exc:
        services.grant_decide(actor=officer, grant=g, on=D)
    assert exc.value.message == "该申请状态为“评审中”，公示期满后才能确定资助对象"
    g = services.grant_review(actor=officer, grant=g, approve=True, on=D)
    g2 = services.grant_review(actor=officer, grant=g2, approve=True, on=D)
    assert (g.state, g.notice_from, g.notice_until) == ("notice", D, dt.date(2026, 10, 23))
    with pytest.raises(InvalidInput) as exc:
        services.objection_record(actor=township, grant=g, received=dt.date(2026, 10, 24), content="家里新盖了楼房")
    assert exc.value.errors == {"收到日期": "公示期为 2026-10-17 至 2026-10-23，收到日期应在公示期内"}
    o1 = services.objection_record(actor=township, grant=g, received=dt.date(2026, 10, 20), content="家里新盖了楼房",
                                   objector="村民")
    o2 = services.objection_record(actor=officer, grant=g2, received=dt.date(2026, 10, 21), content="并未被录取")
    with pytest.raises(FupinError) as exc:      # the notice has not run its days
        services.grant_decide(actor=officer, grant=g, on=dt.date(2026, 10, 23))
    assert exc.value.message == "公示期至 2026-10-23，期满后（2026-10-24 起）才能确定资助对象"
    with pytest.raises(FupinError) as exc:      # an objection is still open
        services.grant_decide(actor=officer, grant=g, on=dt.date(2026, 10, 24))
    assert exc.value.message == "公示期内收到的异议还有 1 件未处理，处理后才能确定资助对象"
    with pytest.raises(AccessDenied):           # the township records objections, the county decides them
        services.objection_handle(actor=township, objection=o1, upheld=False, finding="核实")

    # the printed notice while both are in notice
    client.force_login(officer)
    r = client.get("/charity/notice.pdf?programme=yuanmeng&year=2026")
    assert r.status_code == 200
    path = tmp_path / "n.pdf"
    path.write_bytes(r.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for expected in ("甘洛县2026年“圆梦助学”资助对象公示", "张小", "新市坝镇桃源村", "2026年考入西昌学院（本科）",
                     "李新", "田坝镇团结村", "2026年考入西昌学院（高职", "5000.00", "公示期：2026-10-17 至 2026-10-23",
                     "甘洛县慈善会（盖章）"):
        assert expected in text, expected
    for p in (students["zhang"], students["li"]):
        assert p.id_number not in text and p.id_number[6:14] not in text and str(p.birth_date) not in text
    # the QR code (and its link) leads to the notice's public page: no login, the same rows, nothing personal
    import re
    url = re.search(rb"/URI \((http[^)]*)\)", r.content).group(1).decode()
    assert url.startswith("http://testserver/charity/public/notice/")
    anonymous = Client()
    page = anonymous.get(url[len("http://testserver"):])
    assert page.status_code == 200
    html = page.content.decode()
    for expected in ("甘洛县2026年“圆梦助学”资助对象公示", "张小", "新市坝镇桃源村", "2026年考入西昌学院（本科）",
                     "李新", "田坝镇团结村", "5,000.00", "2026-10-17 至 2026-10-23", "向甘洛县慈善会反映"):
        assert expected in html, expected
    for p in (students["zhang"], students["li"]):
        assert p.id_number not in html and p.id_number[6:14] not in html and str(p.birth_date) not in html
        assert p.id_number[:6] + "*" not in html
    forged = url[len("http://testserver"):].replace("/notice/", "/notice/x")
    assert anonymous.get(forged).status_code == 404

    # on screen: an objection found groundless, the other upheld (the grant is cancelled)
    r = client.post(f"/charity/objections/{o1.pk}/dismiss/", {"finding": "经入户核查，新房为易地扶贫搬迁安置房"})
    assert r.status_code == 302
    services.objection_handle(actor=officer, objection=o2, upheld=True, finding="经向学校核实，该生未被录取",
                              on=dt.date(2026, 10, 22))
    assert list(GrantObjection.objects.order_by("pk").values_list("result", "finding")) == [
        ("dismissed", "经入户核查，新房为易地扶贫搬迁安置房"), ("upheld", "经向学校核实，该生未被录取")]
    g2.refresh_from_db()
    assert (g2.state, g2.note) == ("rejected", "公示期内异议成立：经向学校核实，该生未被录取")
    r = client.post(f"/charity/grants/{g.pk}/decide/", {"date": "2026-10-24"})
    g.refresh_from_db()
    assert (g.state, g.decided_on, g.note) == ("approved", dt.date(2026, 10, 24), "公示无异议")
    services.grant_pay(actor=officer, grant=g, date=dt.date(2026, 10, 25))
    assert Account.objects.get(code=f"charity:{COUNTY}").entries.aggregate(s=Sum("amount"))["s"] == 500_000
    # the page shows the objections with their results
    home = client.get("/charity/").content.decode()
    assert "异议不成立，维持" in home and "异议成立，取消资助" in home


def test_a_sponsored_sunshine_class_pays_from_its_sponsors_earmarked_money(world, students, client, tmp_path):
    """One named sponsor (冠名): its donation is earmarked to the class's own fund, the class's
    grants are paid from it in full (no provincial share), and the sponsor's statement shows it."""
    import subprocess

    from fupin.funds import services as funds

    officer = world.users["county_officer"]
    school = School.objects.create(code="G1", name="甘洛中学", region_id=V1)
    senior = Person.objects.create(household=world.h1, name="张高", id_number=pid("2011-01-01", 91), sex="M",
                                   birth_date=dt.date(2011, 1, 1), relation="child", labour="ordinary")
    Enrolment.objects.create(person=senior, school=school, semester="2026-autumn", stage="senior", grade=1)
    other = Person.objects.create(household=world.h4, name="赵高", id_number=pid("2011-02-02", 93), sex="M",
                                  birth_date=dt.date(2011, 2, 2), relation="child", labour="ordinary")
    Enrolment.objects.create(person=other, school=School.objects.get(code="U1"), semester="2026-autumn",
                             stage="senior", grade=1)
    sponsor = services.donor_get_or_create(actor=officer, name="四川某药业公司", kind="enterprise")
    cls = services.sunshine_class_create(actor=officer, school=school, year=2026, sponsor=sponsor)
    assert cls.name == "甘洛中学2026级“四川某药业公司”慈善阳光班"
    stranger = services.donor_get_or_create(actor=officer, name="别的公司", kind="enterprise")
    with pytest.raises(InvalidInput) as exc:
        services.donation_record(actor=officer, donor=stranger, date=D, kind="cash", amount=100, sunshine_class=cls)
    assert exc.value.errors == {"定向冠名阳光班": "“甘洛中学2026级“四川某药业公司”慈善阳光班”的冠名捐赠方是四川某药业公司，不是 别的公司"}
    d = services.donation_record(actor=officer, donor=sponsor, date=D, kind="cash", amount=1_000_000, sunshine_class=cls)
    fund = services.class_fund(cls)
    assert (fund.code, funds.balance(fund)) == (f"charity:sponsor:class-{cls.pk}", 1_000_000)
    assert d.transaction.entries.get(account=fund).amount == 1_000_000
    with pytest.raises(FupinError) as exc:       # not a student of the class's school
        services.grant_apply(actor=officer, person_id=other.pk, programme="sunshine_class", year=2026, sunshine_class=cls)
    assert exc.value.message == "赵高 2026年秋季不在 甘洛中学 就读，不能编入甘洛中学2026级“四川某药业公司”慈善阳光班"
    for year in (2026, 2027):
        g = services.grant_apply(actor=officer, person_id=senior.pk, programme="sunshine_class", year=year,
                                 sunshine_class=cls if year == 2026 else None)
        assert g.sunshine_class_id == cls.pk        # later years stay in the class
        _through_notice(officer, g)
        services.grant_pay(actor=officer, grant=g, date=dt.date(2026, 10, 30))
    # the whole 4000 a year from the sponsor's fund; the county and provincial funds untouched
    assert funds.balance(fund) == 200_000
    assert not Account.objects.filter(code__in=[f"charity:{COUNTY}", "charity:510000000000"]).exists()
    st = selectors.class_statement(cls)
    assert (st["given"], st["spent"], st["balance"], st["students"]) == (1_000_000, 800_000, 200_000, 1)
    assert [(r["name"], r["year"], r["instalment"], r["amount"]) for r in st["out"]] == [
        ("张*", 2026, 1, 400_000), ("张*", 2027, 2, 400_000)]
    client.force_login(officer)
    page = client.get(f"/charity/classes/{cls.pk}/").content.decode()
    assert '<th id="class-spent">8,000.00</th>' in page and '<strong id="class-balance">2,000.00</strong>' in page
    pdf = client.get(f"/charity/classes/{cls.pk}/statement.pdf")
    path = tmp_path / "s.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for expected in ("资金使用情况", "冠名捐赠方：四川某药业公司", "定向捐赠合计 10000.00 元，已拨付资助 8000.00 元，结余 2000.00 元",
                     "张*", "桃源村", "4000.00"):
        assert expected in text, expected
    assert "张高" not in text and senior.id_number not in text
    client.logout()
    public = client.get(f"/charity/sponsor/{cls.token}/").content.decode()
    assert "张*" in public and "张高" not in public and "2,000.00" in public
    assert client.get("/charity/sponsor/nothing/").status_code == 404
