"""The labour room: labour records (one validation for form and import), Excel in and out,
employment counts by region, training with attendance and completion, subsidies through the
ledger with seed 003's audit, and public-welfare job pay."""
import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from fupin.core.errors import AccessDenied, FupinError, InvalidInput
from fupin.core.models import AuditEvent, AuditResult
from fupin.funds import services as funds
from fupin.funds.models import Entry
from fupin.labour import selectors, services
from fupin.labour.models import Attendance, Course, Enrolment, LabourRecord

from .conftest import COUNTY, T1, V1, V2

YEAR = 2026
D = dt.date


def _row(**kw):
    base = {"capacity": "full", "employment": "out_province", "employer": "广东东莞某电子厂", "skills": "电焊",
            "months": 10, "monthly_income": 450000}
    return {**base, **kw}


def _person(world, name):
    from fupin.registry.models import Person
    return Person.objects.get(name=name)


def test_one_validation_names_each_wrong_field():
    with pytest.raises(InvalidInput) as exc:
        services.labour_validate(_row(capacity="strong", employment="abroad", months=13))
    assert exc.value.errors == {"劳动能力": "应为 全劳力、半劳力、无劳力 之一",
                                "就业情况": "应为 县内务工、县外省内务工、省外务工、自主创业或个体经营、公益性岗位、未就业 之一",
                                "务工月数": "应为0到12之间的整数"}
    with pytest.raises(InvalidInput) as exc:
        services.labour_validate(_row(capacity="none"))
    assert exc.value.errors == {"就业情况": "无劳力的成员应为“未就业”；如已就业，请把劳动能力改为全劳力或半劳力"}
    with pytest.raises(InvalidInput) as exc:
        services.labour_validate(_row(employment="none", employer=""))
    assert exc.value.errors == {"务工月数": "未就业的成员务工月数和月收入应为0"}
    with pytest.raises(InvalidInput) as exc:
        services.labour_validate(_row(employer=" "))
    assert exc.value.errors == {"就业单位或地点": "“省外务工”须填写就业单位或地点"}
    assert services.labour_validate(_row(employment="self_employed", employer="")) == {
        "capacity": "full", "employment": "self_employed", "employer": "", "skills": "电焊", "months": 10,
        "monthly_income": 450000}


def test_record_saved_once_a_year_with_audit_and_working_age_from_the_pack(world):
    cadre = world.users["village_cadre"]
    zhang = _person(world, "张三")
    r = services.labour_record_save(actor=cadre, person=zhang, year=YEAR, data=_row())
    services.labour_record_save(actor=cadre, person=zhang, year=YEAR, data=_row(months=11))
    assert list(LabourRecord.objects.values_list("person__name", "year", "months", "monthly_income")) == [
        ("张三", 2026, 11, 450000)]
    assert list(AuditEvent.objects.filter(object_type="labour_record", object_id=str(r.pk))
                .order_by("pk").values_list("action", "detail")) == [
        ("create", {"fields": {"capacity": [None, "full"], "employment": [None, "out_province"],
                               "employer": [None, "广东东莞某电子厂"], "skills": [None, "电焊"], "months": [None, 10],
                               "monthly_income": [None, 450000]}}),
        ("update", {"fields": {"months": [10, 11]}})]
    with pytest.raises(FupinError) as exc:   # born 2012: 14 in 2026, below the pack's 16
        services.labour_record_save(actor=cadre, person=_person(world, "张小"), year=YEAR, data=_row())
    assert exc.value.message == "张小 2026 年 14 岁，不在劳动年龄内，不登记劳动力信息"
    with pytest.raises(FupinError) as exc:   # born 1965: 61 in 2026, at or above the pack's 60
        services.labour_record_save(actor=world.users["county_officer"], person=_person(world, "王五"), year=YEAR,
                                    data=_row())
    assert exc.value.message == "王五 2026 年 61 岁，不在劳动年龄内，不登记劳动力信息"
    assert LabourRecord.objects.count() == 1


def test_a_reader_cannot_write_and_the_refusal_is_audited(world):
    with pytest.raises(AccessDenied):
        services.labour_record_save(actor=world.users["inspector"], person=_person(world, "张三"), year=YEAR,
                                    data=_row())
    assert LabourRecord.objects.count() == 0
    assert AuditEvent.objects.filter(actor=world.users["inspector"], result=AuditResult.DENIED).count() == 1


def _workbook(rows, headers=("身份证号", "姓名", "劳动能力", "技能特长", "就业情况", "就业单位或地点", "务工月数", "月收入（元）")):
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_import_is_all_or_nothing_and_round_trips_through_export(world):
    officer = world.users["county_officer"]
    zhang, li, zhao = _person(world, "张三"), _person(world, "李四"), _person(world, "赵七")
    bad = _workbook([(zhang.id_number, "张三", "全劳力", "", "省外务工", "东莞", 10, "4500"),
                     (li.id_number, "李四", "半劳力", "", "未就业", "", 3, "0"),
                     (zhao.id_number, "赵七", "全劳力", "", "县内务工", "县城", 12, "1e3"),
                     ("513436198008080061", "马六", "全劳力", "", "县内务工", "县城", 12, "100")])
    n, problems, errors = services.labour_import(actor=officer, data=bad, filename="l.xlsx", year=YEAR)
    assert (n, errors is not None) == (0, True)
    assert [str(x) for x in problems] == [
        "第4行H列（月收入（元））：" + problems[0].message,
        "第3行：未就业的成员务工月数和月收入应为0",
        "第5行A列（身份证号）：查无此人，或此人不在您的管辖范围内"]
    assert LabourRecord.objects.count() == 0
    good = _workbook([(zhang.id_number, "张三", "全劳力", "电焊", "省外务工", "东莞", 10, "4500.50"),
                      (li.id_number, "李四", "半劳力", "", "公益性岗位", "桃源村", 12, "800"),
                      (zhao.id_number, "赵七", "无劳力", "", "未就业", "", 0, "")])
    assert services.labour_import(actor=officer, data=good, filename="l.xlsx", year=YEAR)[:2] == (3, [])
    assert sorted(LabourRecord.objects.values_list("person__name", "capacity", "employment", "months", "monthly_income")) == [
        ("张三", "full", "out_province", 10, 450050), ("李四", "partial", "public_job", 12, 80000),
        ("赵七", "none", "none", 0, 0)]
    data, count = services.labour_export(actor=officer, region_code=COUNTY, year=YEAR)
    rows = list(load_workbook(io.BytesIO(data)).active.values)
    assert count == 3
    assert rows[0] == ("身份证号", "姓名", "劳动能力", "技能特长", "就业情况", "就业单位或地点", "务工月数", "月收入（元）")
    assert rows[1:] == [(zhang.id_number, "张三", "全劳力", "电焊", "省外务工", "东莞", 10, "4500.50"),
                        (li.id_number, "李四", "半劳力", None, "公益性岗位", "桃源村", 12, "800.00"),
                        (zhao.id_number, "赵七", "无劳力", None, "未就业", None, 0, "0.00")]
    assert list(AuditEvent.objects.filter(object_type="labour_record").order_by("pk")
                .values_list("action", "summary")) == [("create", "导入 2026 年劳动力信息：张三"),
                                                       ("create", "导入 2026 年劳动力信息：李四"),
                                                       ("create", "导入 2026 年劳动力信息：赵七")]
    # the exported file imports again and changes nothing; a changed cell is one update
    assert services.labour_import(actor=officer, data=data, filename="e.xlsx", year=YEAR)[:2] == (3, [])
    assert (LabourRecord.objects.count(), AuditEvent.objects.filter(object_type="labour_record").count()) == (3, 3)
    again = _workbook([(zhang.id_number, "张三", "全劳力", "电焊", "省外务工", "东莞", 11, "4500.50")])
    assert services.labour_import(actor=officer, data=again, filename="a.xlsx", year=YEAR)[:2] == (1, [])
    assert AuditEvent.objects.filter(object_type="labour_record").order_by("pk").values_list("action", "detail").last() == (
        "update", {"fields": {"months": [10, 11]}})
    assert AuditEvent.objects.filter(action="export", object_type="labour").count() == 1


def test_employment_counts_by_township_and_village(world):
    officer = world.users["county_officer"]
    services.labour_record_save(actor=officer, person=_person(world, "张三"), year=YEAR, data=_row())
    services.labour_record_save(actor=officer, person=_person(world, "李四"), year=YEAR,
                                data=_row(employment="local", employer="县城"))
    services.labour_record_save(actor=officer, person=_person(world, "赵七"), year=YEAR,
                                data=_row(employment="none", employer="", months=0, monthly_income=0))
    c = selectors.employment_counts(officer, COUNTY, YEAR)
    assert [(r["name"], r["counts"], r["employed"], r["total"]) for r in c["rows"]] == [
        ("新市坝镇", [1, 0, 1, 0, 0, 1], 2, 3)]
    t = selectors.employment_counts(world.users["township_officer"], T1, YEAR)
    assert [(r["name"], r["employed"], r["total"]) for r in t["rows"]] == [("桃源村", 2, 2), ("红星村", 0, 1)]
    assert (c["employed"], c["total"], c["totals"]) == (2, 3, [1, 0, 1, 0, 0, 1])


@pytest.fixture
def course(world):
    officer = world.users["county_officer"]
    c = services.course_create(actor=officer, name="2026年雨露计划电工班", kind="yulu_long", county_code=COUNTY,
                               provider="县职教中心", start=D(2026, 3, 1), end=D(2026, 3, 3), sessions=3)
    budget = services.labour_budget(region_code=COUNTY, programme="training", name="培训补助")
    funds.budget_allocate(actor=officer, budget=budget, amount=2_000_000, date=D(2026, 3, 1), decision_id="甘扶〔2026〕1号")
    return c


def _attend(officer, e, days):
    for d in days:
        services.attendance_record(actor=officer, enrolment=e, date=D(2026, 3, d))


def test_attendance_completion_and_subsidy_paid_once_through_the_ledger(world, course):
    officer = world.users["county_officer"]
    full = services.enrol(actor=officer, course=course, person=_person(world, "张三"), on=D(2026, 2, 20))
    part = services.enrol(actor=officer, course=course, person=_person(world, "李四"), on=D(2026, 2, 20))
    with pytest.raises(FupinError) as exc:
        services.enrol(actor=officer, course=course, person=_person(world, "李四"), on=D(2026, 2, 21))
    assert exc.value.message == "李四 已报名 2026年雨露计划电工班"
    _attend(officer, full, [1, 2, 3])
    _attend(officer, part, [1, 2])
    with pytest.raises(InvalidInput) as exc:
        services.attendance_record(actor=officer, enrolment=part, date=D(2026, 3, 4))
    assert exc.value.errors == {"日期": "应在培训期间 2026-03-01 至 2026-03-03 之内"}
    with pytest.raises(FupinError) as exc:   # the pack asks for every session (share 1)
        services.complete(actor=officer, enrolment=part, on=D(2026, 3, 3), certificate="C-2")
    assert exc.value.message == "李四 出勤 2 次，课次 3，未达到结业要求的出勤比例"
    services.complete(actor=officer, enrolment=full, on=D(2026, 3, 3), certificate="C-1")
    txn = services.training_subsidies_pay(actor=officer, course=course, date=D(2026, 3, 10), decision_id="甘扶〔2026〕9号")
    assert sorted(txn.entries.values_list("account__name", "amount", "entitlement", "period")) == [
        ("培训补助", -300000, "", ""), ("张三", 300000, "labour.training.yulu_long", f"course-{course.pk}")]
    with pytest.raises(FupinError) as exc:
        services.training_subsidies_pay(actor=officer, course=course, date=D(2026, 3, 11), decision_id="甘扶〔2026〕10号")
    assert exc.value.message == "2026年雨露计划电工班 已结业学员的培训补助均已发放，不能重复发放"
    assert Entry.objects.filter(entitlement="labour.training.yulu_long").count() == 1
    assert services.subsidy_audit(actor=officer, region_code=COUNTY) == []


def test_short_courses_pay_nothing_until_a_province_sets_the_amount(world):
    officer = world.users["county_officer"]
    c = services.course_create(actor=officer, name="电商短训", kind="short", county_code=COUNTY, provider="县人社局",
                               start=D(2026, 4, 1), end=D(2026, 4, 1), sessions=1)
    with pytest.raises(FupinError) as exc:
        services.training_subsidies_pay(actor=officer, course=c, date=D(2026, 4, 2), decision_id="x")
    assert exc.value.message == "本地区政策包中“短期技能培训”的补助标准为0元，不发放；如省里已定标准，请先更新政策包"


def test_seed_003_audit_finds_subsidies_for_absent_trainees_and_double_claims(world, course):
    """Payments that reached the ledger by another path (a paper list posted by the finance
    office) are checked against the sign-in sheets."""
    officer = world.users["county_officer"]
    other = services.course_create(actor=officer, name="同期厨师班", kind="yulu_long", county_code=COUNTY,
                                   provider="县职教中心", start=D(2026, 3, 2), end=D(2026, 3, 5), sessions=2)
    zhang, li, zhao = _person(world, "张三"), _person(world, "李四"), _person(world, "赵七")
    e_zhang = services.enrol(actor=officer, course=course, person=zhang, on=D(2026, 2, 20))
    _attend(officer, e_zhang, [1, 2, 3])
    services.enrol(actor=officer, course=course, person=li, on=D(2026, 2, 20))   # never came
    e_other = services.enrol(actor=officer, course=other, person=zhang, on=D(2026, 2, 20))
    services.attendance_record(actor=officer, enrolment=e_other, date=D(2026, 3, 4))
    services.attendance_record(actor=officer, enrolment=e_other, date=D(2026, 3, 5))
    budget = services.labour_budget(region_code=COUNTY, programme="training", name="培训补助")
    pay = lambda person, c: funds.Payment(payee=funds.payee_for_person(person), amount=300000,  # noqa: E731
                                          entitlement="labour.training.yulu_long", period=f"course-{c.pk}")
    funds.payments_post(actor=officer, budget=budget, date=D(2026, 3, 10), decision_type="training_subsidy",
                        decision_id="纸质名单", payments=[pay(zhang, course), pay(li, course), pay(zhang, other),
                                                          pay(zhao, course)])
    found = [(f.person.name, f.course.name, f.amount, f.problem)
             for f in services.subsidy_audit(actor=officer, region_code=COUNTY)]
    assert found == [
        ("李四", "2026年雨露计划电工班", 300000, "出勤 0 次（课次 3），未达到领取补助的出勤要求"),
        ("赵七", "2026年雨露计划电工班", 300000, "领取培训补助，但没有该培训班的报名记录"),
        ("张三", "同期厨师班", 300000, "与同期的“2026年雨露计划电工班”（2026-03-01至2026-03-03）重复领取补助")]


def test_public_welfare_posts_pay_each_full_month_once(world):
    officer = world.users["county_officer"]
    officer_budget = services.labour_budget(region_code=COUNTY, programme="public_job", name="公益性岗位补贴")
    funds.budget_allocate(actor=officer, budget=officer_budget, amount=500_000, date=D(2026, 1, 1), decision_id="拨款1")
    post = services.post_create(actor=officer, name="护林员", village_code=V1, monthly_pay=80000)
    road = services.post_create(actor=officer, name="道路养护员", village_code=V2, monthly_pay=60000)
    li = _person(world, "李四")
    services.post_assign(actor=officer, post=post, person=li, start=D(2026, 1, 1))
    with pytest.raises(FupinError) as exc:
        services.post_assign(actor=officer, post=road, person=li, start=D(2026, 1, 1))
    assert exc.value.message == "李四 已在其他公益性岗位上岗，一人只能上一个岗位"
    with pytest.raises(FupinError) as exc:
        services.post_assign(actor=officer, post=post, person=_person(world, "张三"), start=D(2026, 1, 1))
    assert exc.value.message == "岗位“护林员”已由 李四 在岗，请先办理离岗"
    services.post_assign(actor=officer, post=road, person=_person(world, "赵七"), start=D(2026, 1, 15))
    txn = services.post_pay_month(actor=officer, region_code=COUNTY, month="2026-01", date=D(2026, 2, 5),
                                  decision_id="岗位补贴1月")
    assert sorted(txn.entries.values_list("account__name", "amount", "period")) == [
        ("公益性岗位补贴", -80000, ""), ("李四", 80000, "2026-01")]
    with pytest.raises(FupinError) as exc:
        services.post_pay_month(actor=officer, region_code=COUNTY, month="2026-01", date=D(2026, 2, 6), decision_id="再发")
    assert exc.value.message == "甘洛县 2026-01 的岗位补贴已发放，不能重复发放"
    txn2 = services.post_pay_month(actor=officer, region_code=COUNTY, month="2026-02", date=D(2026, 3, 5),
                                   decision_id="岗位补贴2月")
    assert sorted(txn2.entries.values_list("account__name", "amount")) == [
        ("公益性岗位补贴", -140000), ("李四", 80000), ("赵七", 60000)]
    with pytest.raises(AccessDenied):   # a township may manage posts but not pay them
        services.post_pay_month(actor=world.users["township_officer"], region_code=T1, month="2026-03",
                                date=D(2026, 4, 5), decision_id="x")
    assert funds.balance(officer_budget) == 500_000 - 80000 - 140000


def test_household_page_shows_the_labour_figures(world, course, login):
    officer = world.users["county_officer"]
    services.labour_record_save(actor=officer, person=_person(world, "张三"), year=YEAR, data=_row())
    services.enrol(actor=officer, course=course, person=_person(world, "张三"), on=D(2026, 2, 20))
    body = login("county_officer").get(f"/households/{world.h1.pk}/").content.decode()
    assert '<section class="card" id="labour">' in body
    assert "2026 年劳动力：1 人登记，1 人就业，全年务工收入 45,000.00 元" in body
    assert "2026年雨露计划电工班：出勤 0 / 3" in body


def test_screens_take_a_course_from_creation_to_payment(world, login):
    officer = world.users["county_officer"]
    budget = services.labour_budget(region_code=COUNTY, programme="training", name="培训补助")
    funds.budget_allocate(actor=officer, budget=budget, amount=600_000, date=D(2026, 1, 5), decision_id="拨款")
    c = login("county_officer")
    r = c.post("/labour/courses/", {"name": "养殖班", "kind": "yulu_long", "county": COUNTY, "provider": "职教中心",
                                    "start": "2026-05-01", "end": "2026-05-02", "sessions": "2"})
    course = Course.objects.get(name="养殖班")
    assert r["Location"] == f"/labour/courses/{course.pk}/"
    zhang = _person(world, "张三")
    c.post(f"/labour/courses/{course.pk}/", {"action": "enrol", "id_number": zhang.id_number, "date": "2026-04-20"})
    e = Enrolment.objects.get(course=course)
    for day in ("2026-05-01", "2026-05-02"):
        c.post(f"/labour/courses/{course.pk}/", {"action": "attend", "date": day, "present": [str(e.pk)]})
    c.post(f"/labour/courses/{course.pk}/", {"action": "complete", "enrolment": str(e.pk), "certificate": "YL-001",
                                             "date": "2026-05-02"})
    c.post(f"/labour/courses/{course.pk}/", {"action": "pay", "decision": "甘扶〔2026〕20号", "date": "2026-05-10"})
    assert Attendance.objects.filter(enrolment=e).count() == 2
    assert list(Entry.objects.filter(entitlement="labour.training.yulu_long").values_list("account__name", "amount")) == [
        ("张三", 300000)]
    page = c.get(f"/labour/courses/{course.pk}/").content.decode()
    assert "2026-05-02（证书 YL-001）" in page and "2 / 2" in page
    c.post(f"/labour/persons/{zhang.pk}/?year=2026", {"capacity": "full", "employment": "local", "employer": "县城",
                                                      "months": "6", "monthly_income": "3000"})
    home = c.get(f"/labour/?region={COUNTY}&year=2026").content.decode()
    assert "就业人数（已登记 1 人，就业 1 人）" in home and "3,000.00" in home
    xlsx = c.get(f"/labour/?region={COUNTY}&year=2026&format=xlsx")
    assert list(load_workbook(io.BytesIO(xlsx.content)).active.values)[1][:3] == (zhang.id_number, "张三", "全劳力")


def test_a_role_without_the_capability_is_refused_on_screens_and_nothing_changes(world, login):
    c = login("inspector")
    r = c.post("/labour/courses/", {"name": "x", "kind": "short", "county": COUNTY, "provider": "y",
                                    "start": "2026-05-01", "end": "2026-05-02", "sessions": "2"})
    assert r.status_code == 302 and Course.objects.count() == 0
    assert AuditEvent.objects.filter(actor=world.users["inspector"], result=AuditResult.DENIED).count() == 1
    assert c.get("/labour/posts/").status_code == 200
    assert login("support_staff").get("/labour/").status_code == 403


def test_the_income_card_prints_the_labour_figures(world, login, tmp_path):
    import subprocess

    from django.utils import timezone

    officer = world.users["county_officer"]
    year = timezone.localdate().year
    services.labour_record_save(actor=officer, person=_person(world, "张三"), year=year, data=_row())
    services.labour_record_save(actor=officer, person=_person(world, "李四"), year=year,
                                data=_row(employment="none", employer="", months=0, monthly_income=0))
    pdf = login("county_officer").get(f"/pairing/cards/{world.h1.pk}.pdf").content
    (tmp_path / "c.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "c.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert f"{year}年劳动力 2 人，就业 1 人，务工收入 45000.00 元" in text


def test_a_trainee_who_completes_later_is_paid_later_and_only_once(world, course):
    officer = world.users["county_officer"]
    first = services.enrol(actor=officer, course=course, person=_person(world, "张三"), on=D(2026, 2, 20))
    late = services.enrol(actor=officer, course=course, person=_person(world, "李四"), on=D(2026, 2, 20))
    _attend(officer, first, [1, 2, 3])
    _attend(officer, late, [1, 2, 3])
    services.complete(actor=officer, enrolment=first, on=D(2026, 3, 3), certificate="C-1")
    services.training_subsidies_pay(actor=officer, course=course, date=D(2026, 3, 10), decision_id="第一批")
    services.complete(actor=officer, enrolment=late, on=D(2026, 3, 20), certificate="C-2")
    txn = services.training_subsidies_pay(actor=officer, course=course, date=D(2026, 3, 25), decision_id="第二批")
    assert sorted(txn.entries.values_list("account__name", "amount")) == [("培训补助", -300000), ("李四", 300000)]
    assert sorted(Entry.objects.filter(entitlement="labour.training.yulu_long").values_list("account__name", flat=True)) == [
        "张三", "李四"]
