"""Reports upward (报表): forms as data, generated for a region and period from the same queries as the
board, reviewed by a second person, submitted, consolidated one level up, returned; Excel and PDF.

conftest's world: 甘洛县 with 新市坝镇 (H1 桃源村 3 persons, H4 红星村 1 person) and 田坝镇 (H2 团结村
1 person), all 贫困户; H3 in 美姑县. Both counties are in 凉山州."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from fupin.core.errors import AccessDenied, InvalidInput
from fupin.core.models import AuditEvent, Region, User
from fupin.oversight import policy, reports, selectors, services
from fupin.oversight.models import ReportFiling

from .conftest import COUNTY, OTHER_COUNTY, T1, T2

CITY = "513400000000"
TODAY = dt.date(2026, 12, 2)
FORMS = policy.report_forms()


def officer(username: str, region: str) -> User:
    return User.objects.create(username=username, role="county_officer", region_id=region,
                               password_changed_at=timezone.now())


def test_the_catalogue_ships_the_four_reports_with_their_columns():
    assert list(FORMS) == ["poverty_monthly", "education_aid", "health_settlement", "rectification_monthly"]
    f = FORMS["poverty_monthly"]
    assert (f.title, f.period, f.due_days, f.files) == ("扶贫对象动态管理月报表", "month", 5, (3, 2, 1))
    assert f.groups == (("贫困户", 2), ("已脱贫", 3), ("监测对象", 4), ("两不愁三保障", 2))
    assert [c.label for c in f.columns][:3] == ["户数", "人数", "户数"]
    assert FORMS["health_settlement"].columns[3].rate == ("claims_patient", "claims_total")


def test_periods_are_parsed_labelled_and_offered_newest_first():
    month, quarter = FORMS["poverty_monthly"], FORMS["health_settlement"]
    p = reports.parse_period(month, "2026-11")
    assert (p.label, p.start, p.end, p.year) == ("2026年11月", dt.date(2026, 11, 1), dt.date(2026, 11, 30), 2026)
    q = reports.parse_period(quarter, "2026-Q1")
    assert (q.label, q.start, q.end) == ("2026年第一季度", dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert reports.due_date(month, p) == dt.date(2026, 12, 5)
    for form, bad in [(month, "2026-13"), (month, "2026-Q4"), (quarter, "2026-11"), (month, "十一月"), (month, "")]:
        with pytest.raises(InvalidInput) as e:
            reports.parse_period(form, bad)
        assert e.value.errors["报告期"].endswith("应写作 2026-11（2026年11月）" if form is month
                                                   else "应写作 2026-Q4（2026年第四季度）")
    assert [x.code for x in reports.recent_periods(month, dt.date(2026, 1, 15), 3)] == ["2026-01", "2025-12", "2025-11"]
    assert [x.code for x in reports.recent_periods(quarter, dt.date(2026, 1, 15), 3)] == ["2026-Q1", "2025-Q4", "2025-Q3"]


def test_a_county_report_counts_its_townships_as_the_board_does(world):
    user = world.users["county_officer"]
    form, county = FORMS["poverty_monthly"], Region.objects.get(code=COUNTY)
    f = services.report_generate(actor=user, form=form, region=county,
                                 period=reports.parse_period(form, "2026-11"), today=TODAY)
    t = f.table
    assert (t["source"], t["as_of"], t["missing"]) == ("registry", "2026-11-30", [])
    assert [(r["name"], r["cells"][:2]) for r in t["rows"]] == [("新市坝镇", [2, 4]), ("田坝镇", [1, 1])]
    assert t["total"][:2] == [3, 5]
    # the same numbers as the board's indicators for the county
    inds = policy.indicators()
    for i, col in enumerate(form.columns):
        if col.indicator:
            assert t["total"][i] == selectors.indicator_value(user, county, inds[col.indicator], year=2026,
                                                              today=dt.date(2026, 11, 30)), col.label
    assert f.state == "generated" and f.generated_by == user
    assert AuditEvent.objects.filter(object_type="report", object_id=str(f.pk), action="create").count() == 1


def test_review_needs_a_second_person_then_submit_and_the_report_is_frozen(world):
    first, second = world.users["county_officer"], officer("county2", COUNTY)
    form, county = FORMS["poverty_monthly"], Region.objects.get(code=COUNTY)
    period = reports.parse_period(form, "2026-11")
    f = services.report_generate(actor=first, form=form, region=county, period=period, today=TODAY)
    with pytest.raises(InvalidInput) as e:
        services.report_step(actor=first, form=form, filing=f, action="review")
    assert e.value.errors == {"审核签发": "报表须由生成人以外的人员审核签发"}
    with pytest.raises(InvalidInput) as e:
        services.report_step(actor=second, form=form, filing=f, action="submit")
    assert e.value.errors == {"报表": "报表当前为“已生成待审核”，不能上报"}
    services.report_step(actor=second, form=form, filing=f, action="review")
    services.report_step(actor=first, form=form, filing=f, action="submit")
    f.refresh_from_db()
    assert (f.state, f.reviewed_by, f.submitted_by) == ("submitted", second, first)
    with pytest.raises(InvalidInput) as e:
        services.report_generate(actor=first, form=form, region=county, period=period, today=TODAY)
    assert e.value.errors == {"报表": "2026年11月《扶贫对象动态管理月报表》已上报；如需更正，请上级退回后重新生成"}


def test_who_may_file_what(world):
    form = FORMS["poverty_monthly"]
    period = reports.parse_period(form, "2026-11")
    county, township = Region.objects.get(code=COUNTY), Region.objects.get(code=T1)
    with pytest.raises(AccessDenied):         # a pairing helper files nothing
        services.report_generate(actor=world.users["pairing_helper"], form=form, region=county, period=period)
    with pytest.raises(AccessDenied) as e:    # a township files its own unit's report only
        services.report_generate(actor=world.users["township_officer"], form=form, region=county, period=period)
    assert e.value.message == "只能填报本单位（新市坝镇）的报表"
    with pytest.raises(InvalidInput) as e:    # and this form is filed from the county up
        services.report_generate(actor=world.users["township_officer"], form=form, region=township, period=period)
    assert e.value.errors == {"报表": "《扶贫对象动态管理月报表》不由乡（镇、街道）一级填报"}
    with pytest.raises(InvalidInput) as e:
        services.report_generate(actor=world.users["county_officer"], form=form, region=county,
                                 period=reports.parse_period(form, "2027-01"), today=TODAY)
    assert e.value.errors == {"报告期": "2027年1月尚未开始，不能生成报表"}
    assert AuditEvent.objects.filter(action="denied", actor__username="pairing_helper").count() == 1


def test_the_city_consolidates_what_its_counties_submitted_and_sees_who_has_not(world):
    form = FORMS["poverty_monthly"]
    period = reports.parse_period(form, "2026-10")
    county, city = Region.objects.get(code=COUNTY), Region.objects.get(code=CITY)
    first, second, city_officer = world.users["county_officer"], officer("county2", COUNTY), officer("city1", CITY)
    f = services.report_generate(actor=first, form=form, region=county, period=period, today=TODAY)
    services.report_step(actor=second, form=form, filing=f, action="review")
    services.report_step(actor=first, form=form, filing=f, action="submit")

    status = reports.children_status(city_officer, form, city, period, TODAY)
    assert [(s["region"].name, s["state"], s["submitted"], s["overdue"]) for s in status] == [
        ("甘洛县", "已上报", True, False), ("美姑县", "未生成", False, True)]   # due 2026-11-05
    c = services.report_generate(actor=city_officer, form=form, region=city, period=period, today=TODAY)
    assert c.table["source"] == "consolidated" and c.table["missing"] == ["美姑县"]
    assert [(r["name"], r["filed"], r["cells"][:2]) for r in c.table["rows"]] == [
        ("甘洛县", True, [3, 5]), ("美姑县", False, [None, None])]
    assert c.table["total"][:2] == [3, 5]
    services.report_step(actor=officer("city2", CITY), form=form, filing=c, action="review")
    with pytest.raises(InvalidInput) as e:
        services.report_step(actor=city_officer, form=form, filing=c, action="submit")
    assert e.value.errors == {"报表": "下级尚未全部上报：美姑县。请待其上报后重新生成"}

    # the city returns the county's report; the county corrects and regenerates it
    with pytest.raises(AccessDenied):
        services.report_return(actor=world.users["township_officer"], form=form, filing=f, reason="x")
    with pytest.raises(InvalidInput) as e:
        services.report_return(actor=city_officer, form=form, filing=f, reason=" ")
    assert e.value.errors == {"退回原因": "必须填写"}
    services.report_return(actor=city_officer, form=form, filing=f, reason="监测对象户数与台账不符")
    f.refresh_from_db()
    assert (f.state, f.return_reason) == ("returned", "监测对象户数与台账不符")
    f = services.report_generate(actor=first, form=form, region=county, period=period, today=TODAY)
    assert (f.state, f.reviewed_by, f.submitted_by) == ("generated", None, None)
    assert ReportFiling.objects.filter(region=county, form=form.key).count() == 1


def test_the_health_settlement_summary_counts_settled_claims_and_the_self_pay_share(db):
    from fupin.health import services as health

    from .test_health import BILL_1, BILL_2, build_shili, second_window

    hospital, patient, window, fund = build_shili()
    health.settle(user=window, hospital=hospital, person=patient, number="Z1", bill=BILL_1)
    c2 = health.settle(user=window, hospital=hospital, person=patient, number="Z2", bill=BILL_2)
    health.reverse(user=second_window(), claim_id=c2.pk, reason="重复结算")
    late = dict(BILL_2, discharge_date=dt.date(2024, 7, 2))
    health.settle(user=window, hospital=hospital, person=patient, number="Z3", bill=late)   # next quarter
    form = FORMS["health_settlement"]
    officer99 = User.objects.get(username="officer99")
    f = services.report_generate(actor=officer99, form=form, region=Region.objects.get(code="990101000000"),
                                 period=reports.parse_period(form, "2024-Q2"), today=TODAY)
    # Z1 only: Z2 was reversed, Z3 left hospital in July
    assert f.table["rows"] == [{"code": "990101100000", "name": "示例镇", "filed": None,
                                "cells": [1, 10_000_000, 998_000, 99, 1, 0]}]
    assert [reports.show_cell(form, i, v) for i, v in enumerate(f.table["total"])] == [
        "1", "100,000.00", "9,980.00", "9.9%", "1", "0"]


def test_pages_excel_and_pdf(world, client):
    form = FORMS["poverty_monthly"]
    second = officer("county2", COUNTY)
    c = client
    c.force_login(world.users["county_officer"])
    r = c.get("/oversight/reports/")
    assert r.status_code == 200 and "扶贫对象动态管理月报表" in r.content.decode()
    assert c.get("/oversight/reports/open/?form=poverty_monthly&period=2026-11").url == "/oversight/reports/poverty_monthly/2026-11/"
    r = c.get("/oversight/reports/poverty_monthly/2026-13/")
    assert r.status_code == 400 and "应写作 2026-11" in r.content.decode()
    r = c.post("/oversight/reports/poverty_monthly/2026-11/generate/", follow=True)
    page = r.content.decode()
    assert "已生成待审核" in page and "<th colspan=\"2\">贫困户</th>" in page and "新市坝镇" in page
    c.force_login(second)
    c.post("/oversight/reports/poverty_monthly/2026-11/review/")
    r = c.post("/oversight/reports/poverty_monthly/2026-11/submit/", follow=True)
    assert "已上报" in r.content.decode()

    r = c.get("/oversight/reports/poverty_monthly/2026-11/report.xlsx")
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws["A1"].value == "扶贫对象动态管理月报表"
    assert {str(m) for m in ws.merged_cells.ranges} >= {"A1:L1", "A3:A4", "B3:C3", "D3:F3", "G3:J3", "K3:L3"}
    assert [ws.cell(4, i).value for i in range(1, 5)] == [None, "户数", "人数", "户数"]
    assert [[ws.cell(r, i).value for i in range(1, 4)] for r in (5, 6, 7)] == [
        ["新市坝镇", 2, 4], ["田坝镇", 1, 1], ["合计", 3, 5]]
    assert ws.cell(7, 2).number_format == "#,##0"
    pdf = c.get("/oversight/reports/poverty_monthly/2026-11/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="export", object_type="report").count() == 2
    # a pairing helper may read the catalogue but not export or file
    c.force_login(world.users["pairing_helper"])
    assert c.get("/oversight/reports/poverty_monthly/2026-11/report.xlsx").status_code == 403
    assert c.post("/oversight/reports/poverty_monthly/2026-11/generate/").status_code == 403
