"""The one list helper (fupin/core/listing.py): pages, whitelisted sorts and filters, and the
export of exactly what is filtered, audited; used on the run review and the follow-up page."""
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from fupin.core.listing import Column, Filter, Listing
from fupin.core.models import AuditAction, AuditEvent
from fupin.education.models import Enrolment, RunLine, School, SubsidyRun
from fupin.funds import services as funds
from fupin.registry.models import Person

from .conftest import COUNTY, V1, V2, pid

ROWS = [{"n": i, "name": f"户{i:03d}", "odd": "单" if i % 2 else "双"} for i in range(1, 131)]
COLS = [Column("n", "序号", lambda r: r["n"], order=lambda r: r["n"]),
        Column("name", "姓名", lambda r: r["name"], order=lambda r: r["name"]),
        Column("odd", "单双", lambda r: r["odd"])]
ODD = Filter("odd", "单双", (("单", "单号"), ("双", "双号")), lambda rs, v: [r for r in rs if r["odd"] == v])


def make(**params):
    return Listing(params=params, rows=ROWS, columns=COLS, filters=[ODD], default_sort="n")


def test_page_two_holds_rows_51_to_100_in_the_chosen_order():
    page = make(page="2", sort="n").page
    assert [r["n"] for r in page] == list(range(51, 101))
    assert [r["n"] for r in make(page="1", sort="-name").page][:3] == [130, 129, 128]
    assert [r["n"] for r in make(page="3").page] == list(range(101, 131))


def test_what_the_url_cannot_say_is_ignored_not_an_error():
    assert make(sort="odd").sort == "n"                 # not a sortable column: the default
    assert make(sort="__class__").sort == "n"
    assert make(page="99").page.number == 3             # past the end: the last page
    assert make(page="x").page.number == 1
    assert make(odd="三").count == 130                  # not one of the choices: no filter


def test_filters_count_and_links_keep_each_other():
    rows = make(odd="双", sort="-n", page="2")
    assert rows.count == 65 and [r["n"] for r in rows.page][:2] == [30, 28]
    assert rows.export_url == "?odd=%E5%8F%8C&sort=-n&format=xlsx"
    assert rows.pages["previous"] == "?odd=%E5%8F%8C&sort=-n&page=1"
    assert [(h.label, h.url, h.arrow) for h in rows.headers] == [
        ("序号", "?odd=%E5%8F%8C&sort=n", "↓"), ("姓名", "?odd=%E5%8F%8C&sort=name", ""), ("单双", None, "")]
    assert len(list(rows.export_rows())) == 65


@pytest.fixture
def run120(world):
    """A semester run of 120 lines: 80 pupils of 桃源小学 (S1), 40 of 红星中学 (S2)."""
    county = world.users["county_officer"]
    s1 = School.objects.create(code="S1", name="桃源小学", region_id=V1)
    s2 = School.objects.create(code="S2", name="红星中学", region_id=V2)
    budget = funds.budget_create(actor=county, code="edu", name="教育资助", source="central", programme="education",
                                 year=2024, region=COUNTY)
    run = SubsidyRun.objects.create(semester="2024-autumn", region_id=COUNTY, budget=budget, computed_by=county,
                                    packs="x", total=120 * 50000, lines_count=120)
    for i in range(1, 121):
        p = Person(household=world.h1, name=f"学生{i:03d}", id_number=pid("2013-01-01", 100 + i),
                   birth_date=dt.date(2013, 1, 1), sex="M", relation="child", labour="none")
        p.save()
        school = s1 if i <= 80 else s2
        e = Enrolment.objects.create(person=p, school=school, semester="2024-autumn", stage="primary", grade=3)
        RunLine.objects.create(run=run, enrolment=e, person=p, school=school, item="education.nutrition_meals",
                               amount=50000 + i)
    return run, s1, s2


def names(html):
    return re.findall(r'<td data-label="姓名">(学生\d+)</td>', html)


def test_run_review_pages_sorts_and_filters(run120, login):
    run, s1, s2 = run120
    c = login("county_officer")
    html = c.get(f"/education/runs/{run.pk}/?sort=name&page=2").content.decode()
    assert names(html) == [f"学生{i:03d}" for i in range(51, 101)]
    assert "共 120 条，第 51–100 条" in html and "下一页" in html and "上一页" in html
    html = c.get(f"/education/runs/{run.pk}/?sort=-amount").content.decode()
    assert names(html)[:2] == ["学生120", "学生119"]
    html = c.get(f"/education/runs/{run.pk}/?school={s2.pk}&sort=name").content.decode()
    assert names(html) == [f"学生{i:03d}" for i in range(81, 121)] and "共 40 条" in html
    assert "<td data-label=\"项数\">80</td>" in html           # the school totals stay whole


def test_export_holds_exactly_the_filtered_rows_and_is_audited(run120, login):
    run, s1, s2 = run120
    c = login("county_officer")
    r = c.get(f"/education/runs/{run.pk}/?school={s2.pk}&sort=-name&format=xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("学校", "姓名", "学段/年级", "项目", "金额（元）", "此前已发（元）")
    assert len(rows) == 41 and rows[1][:2] == ("红星中学", "学生120") and rows[40][1] == "学生081"
    assert rows[1][4] == "501.20"
    event = AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="subsidy_run").get()
    assert (event.object_id, event.detail["persons"]) == (str(run.pk), 40)


def test_export_is_refused_without_the_export_capability(run120, login):
    run, s1, s2 = run120
    c = login("pairing_helper")
    assert c.get(f"/education/runs/{run.pk}/?format=xlsx").status_code in (403, 404)
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_pairs_list_filters_by_unit_sorts_and_exports_the_filtered_pairs(world, login):
    from fupin.pairing.models import Helper, Pair, Unit
    from fupin.registry.models import Household

    edu_unit = Unit.objects.create(name="县教育局", region_id=COUNTY)
    farm_unit = Unit.objects.create(name="县农业局", region_id=COUNTY)
    a = Helper.objects.create(unit=edu_unit, name="干部甲", kind="staff")
    b = Helper.objects.create(unit=farm_unit, name="干部乙", kind="staff")
    for i in range(1, 61):
        h = Household.objects.create(number=f"P{i:03d}", village_id=V1, attribute="general", main_cause="illness",
                                     status="registered")
        Pair.objects.create(helper=a if i <= 45 else b, household=h, start=dt.date(2024, 1, 1),
                            locked_until=dt.date(2026, 1, 1))
    c = login("county_officer")
    html = c.get("/pairing/pairs/?sort=household&page=2").content.decode()
    shown = re.findall(r'>(P\d{3}|H\d)</a></td>', html)
    assert shown == [f"P{i:03d}" for i in range(51, 61)]   # page 2 of 60 pairs, 50 a page
    assert "<li>县教育局：45 户</li>" in html and "<li>县农业局：15 户</li>" in html
    html = c.get("/pairing/pairs/?unit=县农业局&sort=-household").content.decode()
    assert re.findall(r'>(P\d{3})</a></td>', html)[:2] == ["P060", "P059"] and "共 15 条" in html
    r = c.get("/pairing/pairs/?unit=县农业局&format=xlsx")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("单位", "帮扶责任人", "户", "结对期至") and len(rows) == 16
    assert rows[1] == ("县农业局", "干部乙", "P046", "2026-01-01")
    assert AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="pairs").detail["persons"] == 15
