"""The board (作战图) shows health insurance coverage of the year, the public-health rates and the
counterpart-support figures (policies/indicators/health.yaml): each number equals its list, child
regions side by side equal their own boards, and the targets come from the policy packs."""
from __future__ import annotations

import datetime as dt
import io

import pytest

from fupin.oversight import policy

from .conftest import COUNTY, OTHER_COUNTY, OTHER_VILLAGE, T1, T2, V1, V3

YEAR = 2024


@pytest.fixture
def health_world(world):
    from fupin.core.models import Region
    from fupin.health.models import Coverage, Hospital
    from fupin.pubhealth.models import Figure
    from fupin.support.models import Activity, Department, Dispatch, Member, Staff

    officer = world.users["health_officer"]
    by_name = {p.name: p for p in __import__("fupin.registry.models", fromlist=["Person"]).Person.objects.all()}
    for name, year in (("张三", YEAR), ("李四", YEAR), ("王五", YEAR), ("赵七", YEAR - 1), ("马六", YEAR)):
        Coverage.objects.create(person=by_name[name], year=year, recorded_by=officer)
    for region, ind, year, n, d in ((T1, "immunisation", YEAR, 90, 100), (V3, "immunisation", YEAR, 47, 50),
                                    (COUNTY, "immunisation", YEAR, 10, 10), (V1, "immunisation", YEAR - 1, 1, 9),
                                    (OTHER_VILLAGE, "immunisation", YEAR, 5, 5), (T1, "infant_mortality", YEAR, 1, 500)):
        Figure.objects.create(region_id=region, indicator=ind, year=year, numerator=n, denominator=d,
                              source="免疫规划信息系统")
    Region.objects.get_or_create(code="510100000000", defaults={"name": "成都市", "level": 2, "parent_id": "510000000000"})
    sender = Hospital.objects.create(code="H-SEND", name="省人民医院", region_id="510100000000", level="province")
    county_h = Hospital.objects.create(code="H-CTY", name="甘洛县人民医院", region_id=COUNTY, level="county")
    town_h = Hospital.objects.create(code="H-T1", name="新市坝镇卫生院", region_id=T1, level="township")
    other_h = Hospital.objects.create(code="H-OTH", name="邻县人民医院", region_id=OTHER_COUNTY, level="county")
    dept = Department.objects.create(hospital=sender, name="心内科", order=1)
    staff = [Staff.objects.create(department=dept, name=n) for n in ("孙医生", "周医生", "吴医生", "郑医生")]

    def dispatch(supported, year, quarter, members):
        dsp = Dispatch.objects.create(department=dept, supported=supported, year=year, quarter=quarter,
                                      handover=dt.date(year, 3 * quarter - 2, 1), handover_note="交接",
                                      end=dt.date(year, 3 * quarter, 28), cycle=1)
        return [Member.objects.create(dispatch=dsp, staff=s) for s in members]
    a, b = dispatch(county_h, YEAR, 1, staff[:2])
    (c,) = dispatch(town_h, YEAR, 2, staff[2:3])
    (old,) = dispatch(county_h, YEAR - 1, 4, staff[3:])
    dispatch(other_h, YEAR, 3, staff[:1])
    for m, kind, day in ((a, "teaching", dt.date(YEAR, 1, 10)), (a, "round", dt.date(YEAR, 1, 11)),
                         (a, "attendance", dt.date(YEAR, 1, 12)), (b, "round", dt.date(YEAR, 2, 3)),
                         (c, "teaching", dt.date(YEAR, 4, 8)), (old, "teaching", dt.date(YEAR - 1, 11, 2))):
        Activity.objects.create(member=m, kind=kind, date=day, note="带教")
    return world


def _cards(response) -> dict:
    return {c.ind.key: c for cards in response.context["groups"].values() for c in cards}


KEYS = ("insured_year", "support_members", "support_teaching_rounds", "ph_immunisation", "ph_immunisation_den",
        "ph_infant_mortality", "ph_infant_mortality_den", "ph_tb_cure")


def test_the_health_indicators_are_data_with_sources_and_pack_targets():
    inds = {k: i for k, i in policy.indicators().items() if k == "insured_year" or k.startswith(("ph_", "support_"))}
    assert len(inds) == 31 and all(i.source for i in inds.values())
    # 13 public-health rates (the two not in percent stay on the public-health page), each over its denominator
    assert sorted(k for k, i in inds.items() if i.is_rate) == sorted(
        ["insured_year"] + [f"ph_{c}" for c in ("immunisation", "vaccination_certificate", "pmtct_hiv_test",
                                                 "pmtct_syphilis_test", "pmtct_hepb_test", "pmtct_treatment",
                                                 "hiv_followup", "hiv_art", "tb_cure", "echinococcosis_screening",
                                                 "dog_register", "infant_mortality", "township_clinics_standard",
                                                 "village_clinics_standard")])
    assert "ph_maternal_mortality" not in inds and "ph_village_doctors" not in inds


@pytest.mark.parametrize("code, expected", [
    (COUNTY, {"insured_year": (3, 600, 1000, False), "support_members": (3, None, None, None),
              "support_teaching_rounds": (4, None, None, None), "ph_immunisation_den": (160, None, None, None),
              "ph_immunisation": (147, 918, 980, False), "ph_infant_mortality_den": (500, None, None, None),
              "ph_infant_mortality": (1, 2, 12, True), "ph_tb_cure": (0, None, None, None)}),
    (T1, {"insured_year": (2, 500, 1000, False), "support_members": (1, None, None, None),
          "support_teaching_rounds": (1, None, None, None), "ph_immunisation_den": (100, None, None, None),
          "ph_immunisation": (90, 900, 980, False), "ph_infant_mortality_den": (500, None, None, None),
          "ph_infant_mortality": (1, 2, 12, True), "ph_tb_cure": (0, None, None, None)}),
])
def test_each_number_is_exact_equals_its_list_and_reads_the_pack_target(health_world, login, code, expected):
    client = login("county_officer")
    r = client.get(f"/oversight/{code}/", {"year": YEAR})
    assert r.status_code == 200
    cards = _cards(r)
    assert {k: (cards[k].value, cards[k].rate, cards[k].target, cards[k].met) for k in KEYS} == expected
    for key in KEYS:
        lr = client.get(f"/oversight/{code}/list/{key}/", {"year": YEAR})
        assert lr.status_code == 200
        assert lr.context["total"] == cards[key].value, key
    assert "免疫规划按期接种人数（人）" in r.content.decode()
    assert cards["ph_immunisation"].rate_text == ("91.8%" if code == COUNTY else "90.0%")
    assert cards["ph_infant_mortality"].target_text == "1.2%"


def test_the_lists_behind_the_numbers_and_their_export(health_world, login):
    from openpyxl import load_workbook

    client = login("county_officer")
    page = client.get(f"/oversight/{COUNTY}/list/ph_immunisation/", {"year": YEAR}).content.decode()
    assert [f.region_id for f in client.get(f"/oversight/{COUNTY}/list/ph_immunisation/",
                                            {"year": YEAR}).context["page"]] == [COUNTY, T1, V3]
    assert '<td data-label="分子">47</td><td data-label="分母">50</td>' in page
    r = client.get(f"/oversight/{COUNTY}/list/support_teaching_rounds/", {"year": YEAR})
    assert [(a.date.isoformat(), a.member.staff.name, a.get_kind_display()) for a in r.context["page"]] == [
        ("2024-04-08", "吴医生", "授课"), ("2024-02-03", "周医生", "查房"), ("2024-01-11", "孙医生", "查房"),
        ("2024-01-10", "孙医生", "授课")]
    r = client.get(f"/oversight/{COUNTY}/list/support_members/", {"year": YEAR})
    assert [(m.dispatch.quarter, m.staff.name, m.dispatch.supported.name) for m in r.context["page"]] == [
        (1, "周医生", "甘洛县人民医院"), (1, "孙医生", "甘洛县人民医院"), (2, "吴医生", "新市坝镇卫生院")]
    r = client.get(f"/oversight/{COUNTY}/list/insured_year/", {"year": YEAR})
    assert sorted(p.name for p in r.context["page"]) == ["张三", "李四", "王五"]
    wb = load_workbook(io.BytesIO(client.get(f"/oversight/{COUNTY}/list/ph_immunisation.xlsx", {"year": YEAR}).content))
    assert [list(x) for x in wb.active.iter_rows(values_only=True)][1:] == [
        ["区划", "分子", "分母", "数据来源"], ["甘洛县", 10, 10, "免疫规划信息系统"],
        ["新市坝镇", 90, 100, "免疫规划信息系统"], [_name(V3), 47, 50, "免疫规划信息系统"]]


def _name(code):
    from fupin.core.models import Region

    return Region.objects.get(code=code).name


def test_children_side_by_side_equal_their_own_boards(health_world, login):
    client = login("county_officer")
    table = client.get(f"/oversight/{COUNTY}/", {"year": YEAR, "by": "ph_immunisation"}).context["children"]
    cols = [c.key for c in table["columns"]]
    got = {row["region"].code: {k: cell["value"] for k, cell in zip(cols, row["cells"]) if k in KEYS}
           for row in table["rows"]}
    assert got == {T1: {"insured_year": 2, "support_members": 1, "support_teaching_rounds": 1, "ph_immunisation": 90,
                        "ph_immunisation_den": 100, "ph_infant_mortality": 1, "ph_infant_mortality_den": 500,
                        "ph_tb_cure": 0},
                   T2: {"insured_year": 1, "support_members": 0, "support_teaching_rounds": 0, "ph_immunisation": 47,
                        "ph_immunisation_den": 50, "ph_infant_mortality": 0, "ph_infant_mortality_den": 0,
                        "ph_tb_cure": 0}}
    assert [row["region"].code for row in table["rows"]] == [T1, T2]   # 90.0% before 94.0%: worst first
    for row in table["rows"]:
        own = _cards(client.get(f"/oversight/{row['region'].code}/", {"year": YEAR}))
        assert got[row["region"].code] == {k: own[k].value for k in KEYS}
