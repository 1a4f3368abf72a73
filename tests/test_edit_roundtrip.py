"""Editing through the web forms: every field is saved, read back, and the audit row names
exactly the fields that changed (a snapshot taken after the form had changed the instance once
made every edit vanish)."""
import datetime as dt
from decimal import Decimal

from fupin.core.models import AuditAction, AuditEvent
from fupin.registry.models import Household, Person

from .conftest import V2


def test_household_form_saves_every_field_and_audits_exactly_those(world, login):
    h = world.h1
    c = login("county_officer")
    page = c.get(f"/households/{h.pk}/edit/").content.decode()
    assert 'name="phone"' in page
    new = {"village": V2, "standard": "provincial", "attribute": "dibao", "main_cause": "disability",
           "other_cause_1": "water", "other_cause_2": "land", "phone": "13800001111", "address": "新街 8 号",
           "housing_area": "86.50", "housing_structure": "砖混", "housing_year": "2019", "housing_grade": "B",
           "relocated": "on", "electricity": "", "fuel": "电", "market_distance_km": "3.5",
           "bank_name": "农村信用社", "bank_account": "6228480012345678"}
    r = c.post(f"/households/{h.pk}/edit/", new)
    assert (r.status_code, r["Location"]) == (302, f"/households/{h.pk}/")
    h = Household.objects.get(pk=h.pk)
    got = {"village": h.village_id, "standard": h.standard, "attribute": h.attribute, "main_cause": h.main_cause,
           "other_cause_1": h.other_cause_1, "other_cause_2": h.other_cause_2, "phone": h.phone, "address": h.address,
           "housing_area": h.housing_area, "housing_structure": h.housing_structure, "housing_year": h.housing_year,
           "housing_grade": h.housing_grade, "relocated": h.relocated, "electricity": h.electricity, "fuel": h.fuel,
           "market_distance_km": h.market_distance_km, "bank_name": h.bank_name, "bank_account": h.bank_account}
    assert got == {**new, "housing_area": Decimal("86.50"), "housing_year": 2019, "relocated": True,
                   "electricity": False, "market_distance_km": Decimal("3.5")}
    assert (h.number, h.status) == ("H1", "registered")  # not editable here
    e = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type="household").get()
    assert sorted(e.detail["fields"]) == sorted(new)
    assert e.detail["fields"]["phone"] == ["", "13800001111"]


def test_person_form_shows_the_birth_date_and_audits_only_what_changed(world, login):
    p = world.h1.persons.get(relation="spouse")
    c = login("county_officer")
    page = c.get(f"/persons/{p.pk}/edit/").content.decode()
    assert 'value="1972-03-02"' in page  # the date field comes up filled
    new = {"name": "李四妹", "sex": "F", "id_number": p.id_number, "birth_date": "1972-03-02", "relation": "spouse",
           "ethnicity": "彝族", "education": "junior", "schooling": "not_in_school", "health": "disabled",
           "disability_category": "肢体", "disability_grade": "2", "labour": "lost", "migrant_months": "4",
           "migrant_place": "成都", "medical_insurance": "on", "pension_insurance": "on", "assistance": "dibao"}
    r = c.post(f"/persons/{p.pk}/edit/", new)
    assert r.status_code == 302, r.content.decode()[:2000]
    p = Person.objects.get(pk=p.pk)
    assert (p.name, p.ethnicity, p.education, p.health, p.disability_category, p.disability_grade, p.labour,
            p.migrant_months, p.migrant_place, p.pension_insurance, p.assistance, p.birth_date) == (
        "李四妹", "彝族", "junior", "disabled", "肢体", 2, "lost", 4, "成都", True, "dibao", dt.date(1972, 3, 2))
    e = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_type="person").get()
    assert sorted(e.detail["fields"]) == sorted(["name", "ethnicity", "education", "health", "disability_category",
                                                "disability_grade", "labour", "migrant_months", "migrant_place",
                                                "pension_insurance", "assistance"])


def test_forms_api_and_import_share_one_validation(world, login, client):
    import io

    from openpyxl import Workbook

    from fupin.core import services as core_services
    from fupin.exchange import households as hx
    bad = {"phone": ("12345", "联系电话应为7–12位数字，实际为“12345”"),
           "bank_account": ("abc", "银行账号应为8–30位数字，实际为“abc”")}
    c = login("county_officer")
    h = world.h1
    base = {"village": h.village_id, "standard": h.standard, "attribute": h.attribute, "main_cause": h.main_cause,
            "electricity": "on"}
    for field, (value, message) in bad.items():
        r = c.post(f"/households/{h.pk}/edit/", base | {field: value})
        assert r.status_code == 200 and message in r.content.decode(), field
    user = world.users["county_officer"]
    token = core_services.token_create(actor=user, user=user, name="t")
    for field, (value, message) in bad.items():
        r = client.patch(f"/api/v1/households/{h.pk}", {field: value}, content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {token}")
        assert (r.status_code, message in r.json()["detail"]) == (400, True), (field, r.content)
    headers = [col.header for col in hx.COLUMNS]
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    head = h.persons.get(relation="head")
    values = {"户编号": "H1", "村代码": h.village_id, "贫困户属性": "一般贫困户", "主要致贫原因": "因病", "户状态": "贫困户",
              "姓名": head.name, "证件号码": head.id_number, "与户主关系": "户主", "劳动技能": "普通劳动力",
              "联系电话": "12345", "银行账号": "abc"}
    ws.append([values.get(x) for x in headers])
    buf = io.BytesIO()
    wb.save(buf)
    report = hx.run_import(user, buf.getvalue(), "x.xlsx")
    assert [p.message for p in report.problems] == [m for _, m in bad.values()]
    h.refresh_from_db()
    assert (h.phone, h.bank_account) == ("", "6217000011112222333")


def test_income_form_uses_the_one_money_parser(world, login):
    from fupin.registry.models import Income
    c = login("county_officer")
    form = {"year": "2025", "wages": "1,234.56", "business": "0", "transfers": "100", "property_income": "0",
            "costs": "0.5", "recorded_on": "2025-12-01", "source": "入户调查"}
    r = c.post(f"/households/{world.h1.pk}/income/", form | {"wages": "1.234"})
    assert r.status_code == 200
    assert "“1.234”应为不小于0、最多两位小数的金额（元），如 &quot;1234.56&quot;" in r.content.decode()
    assert not Income.objects.filter(household=world.h1, year=2025).exists()
    r = c.post(f"/households/{world.h1.pk}/income/", form)
    assert r.status_code == 302
    i = Income.objects.get(household=world.h1, year=2025)
    assert (i.wages, i.transfers, i.costs) == (123_456, 10_000, 50)
