"""Counterpart support through the services and screens: plan, deferral once, changes and the
bulletin, leave rules, assessment from records, approval paying the allowance, the certificate."""
import datetime as dt
import subprocess

import pytest
from django.utils import timezone

from fupin.core.errors import FupinError
from fupin.core.models import User
from fupin.funds import services as funds
from fupin.funds.models import Entry
from fupin.health.models import Hospital
from fupin.support import services
from fupin.support.models import Activity, Assessment, Department, Dispatch, PlanChange, Staff

from .conftest import COUNTY, OTHER_COUNTY, T1


@pytest.fixture
def sup(world):
    medical = world.users["medical_affairs"]
    city = Hospital.objects.create(code="HC", name="州医院", region_id=COUNTY, level="city")
    township = Hospital.objects.create(code="HT", name="镇卫生院", region_id=T1, level="township")
    depts = [Department.objects.create(hospital=city, name=n, order=i) for i, n in enumerate(["内科", "外科", "儿科"])]
    for d in depts:
        for k in range(4):
            Staff.objects.create(department=d, name=f"{d.name}{k}")
    doctor = world.users["support_staff"]
    Staff.objects.filter(name="内科0").update(user=doctor)
    return dict(medical=medical, city=city, township=township, depts=depts, doctor=doctor)


def test_plan_with_a_deferral_and_the_holiday_rule(sup):
    m = sup["medical"]
    services.deferral_decide(actor=m, department=sup["depts"][0], cycle=0, decision="last", reason="科室人员外出培训")
    with pytest.raises(FupinError) as exc:
        services.deferral_decide(actor=m, department=sup["depts"][0], cycle=0, decision="auto", reason="再次申请")
    assert exc.value.message == "内科在本轮（第1轮）已延期过一次；全部科室轮转完之前每个科室只能延期一次"
    services.plan_generate(actor=m, hospital=sup["city"], supported=sup["township"], year=2024, quarter=2, quarters=3)
    plan = list(Dispatch.objects.order_by("year", "quarter").values_list("department__name", "handover"))
    assert plan == [("外科", dt.date(2024, 4, 1)), ("儿科", dt.date(2024, 7, 1)), ("内科", dt.date(2024, 10, 8))]
    assert [m.staff.name for m in Dispatch.objects.get(quarter=2).members.order_by("id")] == ["外科0", "外科1", "外科2"]


def test_no_change_of_person_mid_rotation_except_an_accident_in_the_bulletin(sup, login):
    m = sup["medical"]
    services.plan_generate(actor=m, hospital=sup["city"], supported=sup["township"], year=2024, quarter=1, quarters=1)
    d = Dispatch.objects.get()
    a, spare = Staff.objects.get(name="内科0"), Staff.objects.get(name="内科3")
    with pytest.raises(FupinError) as exc:
        services.member_change(actor=m, dispatch=d, replaced=a, replacement=spare, accident=False, description="",
                               when=dt.date(2024, 2, 1))
    assert exc.value.message.startswith("轮转期间不得中途换人")
    services.member_change(actor=m, dispatch=d, replaced=a, replacement=spare, accident=True,
                           description="家中突发变故", when=dt.date(2024, 2, 1))
    assert PlanChange.objects.get().month == "2024-02"
    html = login("medical_affairs").get("/support/bulletin/2024-02/").content.decode()
    assert "<td>内科0</td><td>内科3</td><td>家中突发变故</td>" in html


def _member(sup, year=2024, quarter=1):
    services.plan_generate(actor=sup["medical"], hospital=sup["city"], supported=sup["township"], year=year,
                           quarter=quarter, quarters=1)
    return Dispatch.objects.get().members.get(staff__name="内科0")


def test_leave_rules(sup):
    member = _member(sup)
    doctor = sup["doctor"]
    with pytest.raises(FupinError) as exc:
        services.leave_request(actor=doctor, member=member, start=dt.date(2024, 2, 5), days=3, head_approved=True)
    assert exc.value.message == "请假3天及以上，须向医务部主任作出书面说明"
    with pytest.raises(FupinError):
        services.leave_request(actor=doctor, member=member, start=dt.date(2024, 2, 5), days=2, head_approved=True)
    services.leave_request(actor=doctor, member=member, start=dt.date(2024, 2, 5), days=2, head_approved=True, informed=True)
    services.leave_request(actor=doctor, member=member, start=dt.date(2024, 3, 5), days=3, head_approved=True,
                           explanation="家属住院，需陪护三天")
    assert member.leaves.count() == 2


def test_assessment_from_records_approval_pays_and_certificate(sup, login, tmp_path):
    member = _member(sup)
    doctor, medical = sup["doctor"], sup["medical"]
    for i in range(4):
        services.activity_record(actor=doctor, member=member, kind="teaching", date=dt.date(2024, 1, 8) + dt.timedelta(days=14 * i))
    for i in range(8):
        services.activity_record(actor=doctor, member=member, kind="round", date=dt.date(2024, 1, 9) + dt.timedelta(days=7 * i))
    working = [dt.date(2024, 1, 2) + dt.timedelta(days=i) for i in range(90)]
    from fupin.policy import calendar
    working = [d for d in working if d <= dt.date(2024, 3, 31) and calendar.is_working_day(d)]
    need = -(-len(working) * 8 // 10)  # exactly 80 % (rounded up to whole days)
    for d in working[:need]:
        services.activity_record(actor=doctor, member=member, kind="attendance", date=d)
    with pytest.raises(FupinError) as exc:
        services.activity_record(actor=doctor, member=member, kind="attendance", date=dt.date(2024, 2, 12))
    assert exc.value.message == "日期：2024-02-12 不是工作日"
    from fupin.core.models import AuditEvent
    n = AuditEvent.objects.filter(result="denied").count()
    with pytest.raises(FupinError):
        services.assess(actor=doctor, member=member)  # only medical affairs assesses
    assert AuditEvent.objects.filter(result="denied").count() == n + 1  # checked before the transaction: kept
    a = services.assess(actor=medical, member=member)
    assert (a.result["failed_items"], a.result["allowance_payable"], a.result["certificate_granted"]) == (0, "1320.00", True)
    officer = User.objects.get(username="county_officer")  # the county office keeps the budget lines
    budget = funds.budget_create(actor=officer, code="support", name="对口支援补助", source="city_county",
                                 programme="support", year=2024, region=COUNTY)
    funds.budget_allocate(actor=officer, budget=budget, amount=1_000_000, date=dt.date(2024, 1, 1), decision_id="A")
    elsewhere = funds.account_for(code="support-other", name="外县对口支援补助", kind="budget", region_id=OTHER_COUNTY)
    with pytest.raises(FupinError) as exc:
        services.approve(actor=medical, assessment=a, budget=budget)  # no report yet
    assert exc.value.message == "尚未收到本人的工作总结，不能审核"
    Assessment.objects.filter(pk=a.pk).update(report_received=True)
    with pytest.raises(FupinError) as exc:  # another county's budget line is not the user's to spend
        services.approve(actor=medical, assessment=a, budget=elsewhere)
    assert exc.value.message == "找不到所选预算科目，或该科目不属于您的管辖区划；请选择本辖区的派驻补助预算科目"
    with pytest.raises(FupinError) as exc:  # the doctor cannot approve their own allowance
        services.approve(actor=doctor, assessment=a, budget=budget)
    assert exc.value.message == "您的角色没有“审批派驻补助”权限，如需办理请联系县级管理员"
    assert not Entry.objects.filter(entitlement="support.allowance").exists()
    services.approve(actor=medical, assessment=Assessment.objects.get(pk=a.pk), budget=budget)
    assert funds.balance(budget) == 1_000_000 - 132_000 - 100_000   # the allowance, and 1000 to the department
    line = Entry.objects.get(entitlement="support.allowance")
    assert (line.amount, line.period, line.account.payee_name) == (132_000, "2024Q1", "内科0")
    c = login("support_staff")
    pdf = c.get(f"/support/members/{member.pk}/certificate.pdf").content
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "医生到农村医疗卫生机构服务鉴定表" in text and "内科0" in text and "考核合格" in text
    from .test_printing import render
    img = render(pdf, tmp_path, dpi=40)
    assert (img.width, img.height) == (331, 468)   # A4 at 40 dpi
    assert sum(img.histogram()[:128]) > 1000        # the form is drawn, not a blank page


def test_certificate_refused_with_the_reason(sup, login):
    member = _member(sup)
    services.assess(actor=sup["medical"], member=member)  # nothing recorded: all three items fail
    r = login("support_staff").get(f"/support/members/{member.pk}/certificate.pdf")
    assert r.status_code == 400
    assert "不能出具鉴定表：3 项不合格（达到 2 项），受援医院不签署鉴定表" in r.content.decode()


def test_staff_phone_page_records_and_others_cannot_see_it(sup, login):
    member = _member(sup, year=2024, quarter=1)
    c = login("support_staff")
    r = c.get("/support/")
    assert r["Location"] == f"/support/members/{member.pk}/"
    c.post(f"/support/members/{member.pk}/", {"action": "activity", "kind": "round", "date": "2024-01-09"})
    assert Activity.objects.filter(member=member, kind="round").count() == 1
    other = User.objects.create(username="x", role="support_staff", region_id=COUNTY, password_changed_at=timezone.now())
    c.force_login(other)
    assert c.get(f"/support/members/{member.pk}/").status_code == 404


def test_fines_and_rewards_recorded_per_staff_member_with_reason_and_on_the_ledger(sup, login):
    """Seed 003: recalled 2 working days → 40 yuan a day each to the person and the department;
    all three items failed → two months' allowance kept back and 500 to the department; 1000 to
    the department per person sent; a refusal without reason is fined (the pack's example value)."""
    from fupin.core.errors import InvalidInput
    from fupin.support.models import Sanction

    member = _member(sup)
    medical = sup["medical"]
    with pytest.raises(InvalidInput) as exc:
        services.unauthorised_record(actor=medical, member=member, kind="recall", start=dt.date(2024, 4, 2), days=2)
    assert exc.value.errors == {"开始日期": "应在派驻期内（2024-01-02 至 2024-03-31）"}
    with pytest.raises(FupinError):     # only medical affairs records it
        services.unauthorised_record(actor=sup["doctor"], member=member, kind="recall", start=dt.date(2024, 2, 1), days=2)
    c = login("medical_affairs")
    r = c.post(f"/support/members/{member.pk}/", {"action": "unauthorised", "kind": "recall", "start": "2024-02-01",
                                                  "days": "2", "note": "科室手术排班调回"})
    assert r.status_code == 302 and member.unauthorised.get().days == 2
    a = services.assess(actor=medical, member=member)       # nothing else recorded: all three items fail
    assert (a.result["failed_items"], a.result["allowance_payable"]) == (3, "440.00")
    officer = User.objects.get(username="county_officer")
    budget = funds.budget_create(actor=officer, code="support", name="对口支援补助", source="city_county",
                                 programme="support", year=2024, region=COUNTY)
    funds.budget_allocate(actor=officer, budget=budget, amount=1_000_000, date=dt.date(2024, 1, 1), decision_id="A")
    Assessment.objects.filter(pk=a.pk).update(report_received=True)
    services.approve(actor=medical, assessment=Assessment.objects.get(pk=a.pk), budget=budget)
    rows = list(Sanction.objects.order_by("pk").values_list("kind", "staff__name", "department__name", "amount", "reason"))
    assert rows == [
        ("deduction", "内科0", "内科", 88_000, "授课、查房、考勤 3 项不合格，扣发 2 个月下乡补助"),
        ("person_fine", "内科0", "内科", 8_000, "内科0派驻期间科室擅自召回 2 个工作日，对个人每工作日罚 40.00 元"),
        ("dept_fine", None, "内科", 8_000, "内科0派驻期间科室擅自召回 2 个工作日，对科室每工作日罚 40.00 元"),
        ("dept_fine", None, "内科", 50_000, "内科0考核 3 项均不合格，对所在科室罚款，本人重新下乡"),
        ("dept_reward", "内科0", "内科", 100_000, "派出 内科0 下乡（2024年第1季度），奖励科室，与年终绩效挂钩")]
    assert all("城乡医院对口支援工作要求" in x for x in Sanction.objects.values_list("source", flat=True))
    # the ledger: allowance out, fines in, reward out, to the fen
    assert funds.balance(budget) == 1_000_000 - 44_000 + 8_000 + 8_000 + 50_000 - 100_000
    assert funds.balance(funds.payee_for_staff(member.staff)) == 44_000 - 8_000
    dept = member.dispatch.department
    assert funds.balance(funds.department_payee(dept)) == 100_000 - 8_000 - 50_000
    assert Sanction.objects.get(kind="deduction").transaction_id is None   # kept back, not paid
    # shown on the staff member's record (the doctor sees it too)
    page = login("support_staff").get(f"/support/members/{member.pk}/").content.decode()
    assert "扣发下乡补助" in page and "880.00" in page and "对个人每工作日罚 40.00 元" in page and "1,000.00" in page
    # a department refusing without reason: recorded with what it said, fined from the pack
    later = services.plan_generate(actor=medical, hospital=sup["city"], supported=sup["township"], year=2024, quarter=2,
                                   quarters=1)[0]
    c = login("medical_affairs")
    r = c.post("/support/", {"action": "refuse", "hospital": sup["city"].pk, "dispatch": later.pk,
                             "reason": "科室称人手不足，未提出延期申请", "budget": budget.pk}, follow=True)
    body = r.content.decode()
    assert f"已登记 {later.department.name} 拒派，罚款 2000.00 元" in body, body[body.find("<main>"):body.find("<main>") + 800]
    s = Sanction.objects.get(kind="refusal_fine")
    assert (s.department.name, s.amount, s.reason) == (
        later.department.name, 200_000, "2024年第2季度无特殊原因拒不派遣下乡人员：科室称人手不足，未提出延期申请")
    assert s.source.startswith("示例值：")
    with pytest.raises(FupinError) as exc:
        services.refusal_record(actor=medical, dispatch=later, reason="再次", budget=budget)
    assert exc.value.message == f"{later.department.name} 这一批的拒派已登记"
    assert funds.balance(budget) == 922_000 + 200_000
