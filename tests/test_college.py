"""The college-student database: one validation, entrant aid paid once through the ledger at
the pack's amount, loans capped by the pack, the household page, the list and its export."""
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from fupin.core.errors import AccessDenied, FupinError, InvalidInput
from fupin.education import college
from fupin.education.models import CollegeAid, CollegeStudent
from fupin.funds import services as funds
from fupin.funds.models import Entry
from fupin.registry.models import Person

from .conftest import COUNTY

ROW = {"college": "西南民族大学", "major": "护理", "level": "bachelor", "entry_year": 2025, "wish": "回乡就业",
       "outcome": "studying", "employer": ""}


def test_validation_names_each_wrong_field():
    with pytest.raises(InvalidInput) as exc:
        college.college_validate({**ROW, "college": " ", "level": "phd", "entry_year": 1980})
    assert exc.value.errors == {"院校": "必须填写", "层次": "应为 中职、高职（专科）、本科、研究生 之一",
                                "入学年份": f"应为1990到{dt.date.today().year + 1}之间的年份"}
    with pytest.raises(InvalidInput) as exc:
        college.college_validate({**ROW, "outcome": "employed"})
    assert exc.value.errors == {"就业单位": "“毕业已就业”须填写就业单位"}


def test_entrant_aid_is_paid_once_at_the_pack_amount_and_loans_are_capped(world):
    officer = world.users["county_officer"]
    child = Person.objects.get(name="张小")
    s = college.college_student_save(actor=world.users["school_aid"], person=child, data=ROW)
    funds.budget_allocate(actor=officer, budget=college.college_budget(region_code=COUNTY), amount=1_000_000,
                          date=dt.date(2025, 8, 1), decision_id="拨款")
    with pytest.raises(AccessDenied):     # the school records; the county office pays
        college.entrant_aid_pay(actor=world.users["school_aid"], student=s, date=dt.date(2025, 9, 10), decision_id="x")
    aid = college.entrant_aid_pay(actor=officer, student=s, date=dt.date(2025, 9, 10), decision_id="甘教〔2025〕5号")
    # 四川某县 pack: 4000 yuan per 学年 from the 2017 autumn semester, paid half per semester
    assert (aid.amount, aid.year) == (200000, 2025)
    aid2 = college.entrant_aid_pay(actor=officer, student=s, date=dt.date(2026, 3, 10), decision_id="甘教〔2026〕2号")
    assert (aid2.amount, aid2.year) == (200000, 2026)
    assert list(Entry.objects.filter(entitlement="education.college_entrant").order_by("id")
                .values_list("account__name", "amount", "period")) == [
        ("张小", 200000, "2025-autumn"), ("张小", 200000, "2026-spring")]
    # the semester run pays the same item under the same key: the ledger refuses the second path
    with pytest.raises(FupinError) as exc:
        funds.payments_post(actor=officer, budget=college.college_budget(region_code=COUNTY), date=dt.date(2025, 9, 20),
                            payments=[funds.Payment(payee=funds.payee_for_person(child), amount=200000,
                                                    entitlement="education.college_entrant", period="2025-autumn")],
                            decision_type="subsidy_run", decision_id="1")
    assert exc.value.message == "重复支付：张小 的“大学新生入学资助”（2025年秋季）已支付过，共 1 笔重复，本批未支付"
    with pytest.raises(FupinError) as exc:
        college.entrant_aid_pay(actor=officer, student=s, date=dt.date(2026, 3, 11), decision_id="再发")
    assert exc.value.message == "张小 已领取过大学新生入学资助（入学学年的秋季、春季两个学期），不能重复发放"
    with pytest.raises(InvalidInput) as exc:
        college.college_aid_record(actor=officer, student=s, kind="credit_loan", year=2025, amount=800001)
    assert exc.value.errors == {"金额": "生源地信用助学贷款每学年不超过 8000.00 元"}
    college.college_aid_record(actor=officer, student=s, kind="credit_loan", year=2025, amount=800000, note="县农信社")
    assert sorted(CollegeAid.objects.values_list("kind", "year", "amount")) == [
        ("credit_loan", 2025, 800000), ("entrant", 2025, 200000), ("entrant", 2026, 200000)]


def test_screens_list_filter_export_and_household_page(world, login):
    c = login("county_officer")
    child = Person.objects.get(name="张小")
    c.post("/education/college/", {"id_number": child.id_number, **{k: str(v) for k, v in ROW.items()}})
    s = CollegeStudent.objects.get()
    c.post(f"/education/college/{s.pk}/", {"action": "edit", **{k: str(v) for k, v in ROW.items()},
                                           "outcome": "employed", "employer": "甘洛县人民医院"})
    assert CollegeStudent.objects.values_list("outcome", "employer").get() == ("employed", "甘洛县人民医院")
    assert "张小" in c.get(f"/education/college/?region={COUNTY}&outcome=employed").content.decode()
    assert "张小" not in c.get(f"/education/college/?region={COUNTY}&outcome=studying").content.decode()
    rows = list(load_workbook(io.BytesIO(c.get(f"/education/college/?region={COUNTY}&format=xlsx").content)).active.values)
    assert rows[1] == ("H1", "张小", child.id_number, "西南民族大学", "护理", "本科", 2025, "回乡就业", "毕业已就业",
                       "甘洛县人民医院", "0.00")
    page = c.get(f"/households/{world.h1.pk}/").content.decode()
    assert "西南民族大学 本科 2025 级 · 毕业已就业（甘洛县人民医院）" in page
    assert login("support_staff").get("/education/college/").status_code == 403
