"""Disease lists and certificates, fixed subsidies with limits, family-doctor follow-up (SPEC §6.2–6.4)."""
import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import Workbook

from fupin.core.errors import FupinError
from fupin.funds import services as funds
from fupin.funds.models import Entry
from fupin.health import programmes as prog
from fupin.health import services
from fupin.core.models import User
from fupin.health.models import Contract, FixedSubsidy, Service
from fupin.registry.models import Person

from .conftest import V1
from .test_health import BILL_1, build_shili


def test_disease_lists_ship_as_data():
    lists = prog.disease_lists()
    doc = lists["doc"]
    cats = doc["concentrated_treatment"]["categories"]
    assert (len(cats), sum(len(c["diseases"]) for c in cats)) == (13, 19)
    assert lists["chronic"] == {"hypertension", "diabetes", "severe_mental"}
    assert len(lists["special"]) == 24 and lists["names"]["tof"] == "法洛氏四联症"


def test_chronic_outpatient_needs_a_valid_certificate(db):
    hospital, patient, window, fund = build_shili()
    bill = dict(BILL_1, visit_type="chronic_outpatient")
    with pytest.raises(FupinError) as exc:
        services.settle(user=window, hospital=hospital, person=patient, number="M1", bill=bill)
    assert exc.value.message.startswith(f"{patient.name} 没有在 2024-06-01 有效的门诊服务证")
    health = User.objects.create(username="health99", role="health_officer", region_id="990101000000",
                                 password_changed_at=timezone.now())
    with pytest.raises(FupinError) as exc:
        prog.certificate_issue(actor=health, person=patient, kind="chronic", disease="hypertension", number="C1",
                               valid_from=dt.date(2024, 1, 1), valid_to=dt.date(2024, 12, 31))
    assert exc.value.message == f"{patient.name} 没有登记 高血压 的确诊记录，不能办理门诊服务证"
    with pytest.raises(FupinError) as exc:  # the window reads conditions; it does not record them
        prog.condition_record(actor=window, person=patient, code="hypertension", diagnosed_on=dt.date(2023, 5, 1))
    assert exc.value.message == "您的角色没有“登记患者病情与证明”权限，如需办理请联系县级管理员"
    prog.condition_record(actor=health, person=patient, code="hypertension", diagnosed_on=dt.date(2023, 5, 1))
    prog.certificate_issue(actor=health, person=patient, kind="chronic", disease="hypertension", number="C1",
                           valid_from=dt.date(2024, 1, 1), valid_to=dt.date(2024, 12, 31))
    # the example pack has no chronic-outpatient parameters: the certificate passes, the pack answers
    with pytest.raises(FupinError) as exc:
        services.settle(user=window, hospital=hospital, person=patient, number="M1", bill=bill)
    assert exc.value.message.startswith("示例省 2024的政策没有县级医疗机构慢病门诊的报销参数")


def test_fixed_subsidy_eligibility_limit_and_ledger(world):
    officer = world.users["health_officer"]  # the health bureau pays fixed subsidies
    mother = world.h1.persons.get(relation="spouse")  # 李四, female, registered-poor household
    account = funds.fixed_subsidy_account(region_code=V1, kind="poor_mother_delivery", name="孕产妇补助")
    assert (account.code, account.region_id) == ("fixed:513435000000:poor_mother_delivery", "513435000000")
    funds.budget_allocate(actor=world.users["county_officer"], budget=account, amount=10_000_000,
                          date=dt.date(2024, 1, 1), decision_id="A")
    s = prog.fixed_subsidy_claim(actor=officer, person=mother, kind="poor_mother_delivery", date=dt.date(2024, 3, 1),
                                 region_code=V1)
    assert (s.amount, s.period) == (350_000, "2024-03-01")
    line = Entry.objects.get(entitlement="health.fixed.poor_mother_delivery")
    assert (line.amount, line.account.person_id) == (350_000, mother.pk)
    with pytest.raises(FupinError) as exc:
        prog.fixed_subsidy_claim(actor=officer, person=mother, kind="poor_mother_delivery", date=dt.date(2024, 3, 1),
                                 region_code=V1)
    assert exc.value.message == "李四 的该项补助在2024-03-01已领取 3500.00 元，达到每人上限 3500.00 元"
    # reversed in the ledger by the county office (a second person), it can be paid again
    funds.transaction_reverse(actor=world.users["county_officer"], txn=s.transaction, reason="发放有误",
                              date=dt.date(2024, 3, 2))
    again = prog.fixed_subsidy_claim(actor=officer, person=mother, kind="poor_mother_delivery",
                                     date=dt.date(2024, 3, 1), region_code=V1)
    assert (again.amount, funds.balance(account)) == (350_000, 10_000_000 - 350_000)
    head = world.h1.persons.get(relation="head")
    with pytest.raises(FupinError) as exc:
        prog.fixed_subsidy_claim(actor=officer, person=head, kind="poor_mother_delivery", date=dt.date(2024, 3, 1),
                                 region_code=V1)
    assert exc.value.message == "张三 不符合条件：孕产妇补助只适用于女性"
    with pytest.raises(FupinError) as exc:
        prog.fixed_subsidy_claim(actor=officer, person=head, kind="kashin_beck", date=dt.date(2024, 3, 1), region_code=V1)
    assert exc.value.message == "张三 不符合条件：没有大骨节病确诊记录"
    assert FixedSubsidy.objects.count() == 2


def test_no_fixed_subsidy_for_a_person_recorded_as_dead(world):
    mother = world.h1.persons.get(relation="spouse")
    account = funds.fixed_subsidy_account(region_code=V1, kind="poor_mother_delivery", name="孕产妇补助")
    funds.budget_allocate(actor=world.users["county_officer"], budget=account, amount=10_000_000,
                          date=dt.date(2024, 1, 1), decision_id="A")
    Person.objects.filter(pk=mother.pk).update(alive=False, death_date=dt.date(2024, 2, 1))
    mother.refresh_from_db()
    with pytest.raises(FupinError) as exc:
        prog.fixed_subsidy_claim(actor=world.users["health_officer"], person=mother, kind="poor_mother_delivery",
                                 date=dt.date(2024, 3, 1), region_code=V1)
    assert exc.value.message == "李四 已于 2024-02-01 死亡（户籍库记录），不能向其支付；如死亡登记有误，请先在户籍中更正后再办理"
    assert (FixedSubsidy.objects.count(), Entry.objects.filter(entitlement__startswith="health.fixed").count()) == (0, 0)


def test_followup_overdue_and_rates(world):
    officer = world.users["county_officer"]
    head = world.h1.persons.get(relation="head")
    prog.condition_record(actor=world.users["health_officer"], person=head, code="diabetes", diagnosed_on=dt.date(2020, 1, 1))
    Contract.objects.create(person=head, team="桃源村家医团队", doctor="王医生", signed_on=dt.date(2024, 1, 1),
                            valid_to=dt.date(2024, 12, 31))
    on = dt.date(2024, 6, 30)  # half the year: 2 of the 4 follow-ups are due by now
    Service.objects.create(person=head, kind="check", date=dt.date(2024, 2, 1))
    Service.objects.create(person=head, kind="followup", date=dt.date(2024, 3, 1))
    s = prog.followup_status(officer, "513435100000", on)
    assert [(p.name, c.team if c else None, why, missing) for p, c, why, missing in s["overdue"]] == [
        ("张三", "桃源村家医团队", "慢病", [("followup", 3)])]
    assert (s["chronic"], s["managed"], s["management_rate_permille"], s["management_meets"]) == (1, 0, 0, False)
    # contract rate: 1 of the 4 living registered-poor persons in T1 (H1: 3, H4: 1)
    assert (s["contract_rate_permille"], s["contract_target_permille"], s["contract_meets"]) == (250, 1000, False)
    Service.objects.create(person=head, kind="followup", date=dt.date(2024, 5, 1))
    s = prog.followup_status(officer, "513435100000", on)
    assert (s["overdue"], s["managed"], s["management_meets"]) == ([], 1, True)


def test_service_import_all_or_nothing_and_idempotent(world):
    officer = world.users["county_officer"]
    head = world.h1.persons.get(relation="head")

    def book(rows):
        wb = Workbook()
        ws = wb.active
        ws.append(["身份证号", "服务类型", "服务日期", "签约团队", "医生"])
        for r in rows:
            ws.append(r)
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()
    bad = book([[head.id_number, "面对面随访", "2024-03-01", "团队", "王"], ["513435198001010112", "体检", "2024.3.1", "", ""]])
    created, unchanged, problems, wb = prog.import_services(officer, bad, "x.xlsx")
    assert [str(p) for p in problems] == ["第3行A列（身份证号）：校验码错误：最后一位应为 4，实际为 2",
                                         "第3行B列（服务类型）：“体检”不是服务类型；可选：健康体检、面对面随访、老年人健康评估、孕期保健、产后访视、儿童健康检查、肺结核患者随访"]
    assert Service.objects.count() == 0 and wb[:2] == b"PK"
    good = book([[head.id_number, "面对面随访", "2024年3月1日", "团队", "王"], [head.id_number, "健康体检", 20240201, "", ""]])
    assert prog.import_services(officer, good, "g.xlsx")[:3] == (2, 0, [])
    assert prog.import_services(officer, good, "g.xlsx")[:3] == (0, 2, [])


def test_programmes_page_for_the_health_officer(world, login):
    head = world.h1.persons.get(relation="head")
    c = login("health_officer")
    r = c.post("/health/", {"action": "condition", "id_number": head.id_number, "code": "hypertension", "date": "2020-01-01"})
    assert r.status_code == 200
    html = c.get("/health/?region=513435100000&date=2024-06-30").content.decode()
    assert "<td data-label=\"姓名\">张三</td><td data-label=\"类别\">慢病</td>" in html
    assert "建档立卡人口签约率 0%" in html


def test_follow_up_groups_go_by_year_of_birth_so_dates_do_not_reveal_birthdays(world):
    """Who is elderly or a young child is decided by year of birth: moving the page's date a day at
    a time within a year never changes the list, so it cannot be used to find a birth date."""
    from fupin.registry.models import Person

    from .conftest import pid
    old = Person(household=world.h1, name="老人甲", id_number=pid("1959-10-10", 81), birth_date=dt.date(1959, 10, 10),
                 sex="M", relation="parent", labour="lost")
    old.save()
    officer = world.users["county_officer"]
    lists = [[(p.name, why) for p, _, why, _ in prog.followup_status(officer, "513435100000", on)["overdue"]]
             for on in (dt.date(2024, 7, 1), dt.date(2024, 10, 9), dt.date(2024, 10, 10), dt.date(2024, 12, 31))]
    assert lists[0] == lists[1] == lists[2] == lists[3]
    assert ("老人甲", "65岁以上") in lists[0]
