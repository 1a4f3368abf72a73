"""Public-health programmes (issue #22 §3): activities with dates, places and participants counted per
township; the indicators' figures imported from the health systems and rated per township against
the Sichuan plan's targets (hand-computed)."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from fupin.core.errors import AccessDenied, InvalidInput, NotFound
from fupin.core.models import AuditEvent, Region
from fupin.pubhealth import importer, selectors, services
from fupin.pubhealth.models import Activity, Figure

from .conftest import COUNTY, OTHER_VILLAGE, T1, T2, V1, V2, V3


def _xlsx(rows):
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


FIGURES = [importer.HEADERS,
           [V1, "桃源村", 2025, "适龄儿童免疫规划疫苗接种率", 95, 100, "免疫规划信息系统"],
           [V2, "红星村", 2025, "immunisation", 99, 100, ""],
           [V3, "团结村", 2025, "适龄儿童免疫规划疫苗接种率", 50, 50, ""],
           [COUNTY, "甘洛县", 2025, "孕产妇死亡率", 1, 3000, "妇幼卫生年报"],
           [T1, "新市坝镇", 2025, "每千人口乡村医生数（执业助理医师及以上）", 1, 1500, ""],
           [T1, "新市坝镇", 2025, "婴儿死亡率", 2, 100, ""]]


def _rates(r):
    return {row["indicator"]["code"]: (
        [(c["num"], c["den"], c["rate"], c["met"]) for c in row["cells"]],
        (row["total"]["num"], row["total"]["den"], row["total"]["rate"], row["total"]["target"], row["total"]["met"]))
        for row in r["rows"] if row["total"]["den"]}


def test_imported_figures_rated_per_township_against_the_sichuan_targets(world):
    officer = world.users["health_officer"]
    r = importer.import_figures(officer, _xlsx(FIGURES), "卫健.xlsx")
    assert (r.ok, r.created, r.updated, r.unchanged) == (True, 6, 0, 0)
    rates = _rates(selectors.rates(officer, Region.objects.get(code=COUNTY), year=2025))
    assert rates == {
        # 新市坝镇 194/200 = 97 % (below 98 %), 田坝镇 50/50; the county 244/250 = 97.6 %
        "immunisation": ([(194, 200, 97.0, False), (50, 50, 100.0, True)], (244, 250, 97.6, 98.0, False)),
        # a county's own figure counts in its total only: 1 in 3000 live births = 33.33/10万 > 30/10万
        "maternal_mortality": ([(0, 0, None, None), (0, 0, None, None)], (1, 3000, 33.33, 30.0, False)),
        "infant_mortality": ([(2, 100, 20.0, False), (0, 0, None, None)], (2, 100, 20.0, 12.0, False)),
        # 1 village doctor per 1500 people = 0.67 per 1000, at least 0.5
        "village_doctors": ([(1, 1500, 0.67, True), (0, 0, None, None)], (1, 1500, 0.67, 0.5, True)),
    }
    # 2017 had the earlier targets (93 %, 14‰); the same import again changes nothing
    Figure.objects.filter(indicator="immunisation").update(year=2017)
    assert _rates(selectors.rates(officer, Region.objects.get(code=COUNTY), year=2017))["immunisation"][1] == \
        (244, 250, 97.6, 93.0, True)
    Figure.objects.filter(indicator="immunisation").update(year=2025)
    r = importer.import_figures(officer, _xlsx(FIGURES), "卫健.xlsx")
    assert (r.created, r.updated, r.unchanged) == (0, 0, 6)
    # the export imports back unchanged
    data = importer.export_figures(officer, Region.objects.get(code=COUNTY), 2025)
    rows = list(load_workbook(io.BytesIO(data))["公共卫生指标"].iter_rows(values_only=True))
    assert rows[1] == (COUNTY, "甘洛县", 2025, "孕产妇死亡率", 1, 3000, "妇幼卫生年报")
    assert importer.import_figures(officer, data, "导出.xlsx").unchanged == 6


def test_a_bad_file_writes_nothing_and_says_where(world):
    officer = world.users["health_officer"]
    before = AuditEvent.objects.count()
    r = importer.import_figures(officer, _xlsx([importer.HEADERS,
                                                [V1, "桃源村", 2025, "接种率", 95, 100, ""],
                                                [V1, "桃源村", 2025, "婴儿死亡率", 101, 100, ""],
                                                [OTHER_VILLAGE, "依果村", 2025, "婴儿死亡率", 1, 100, ""],
                                                [V1, "桃源村", 2025, "婴儿死亡率", 1, 0, ""],
                                                [V2, "桃源村", 2025, "婴儿死亡率", 1, 100, ""]]), "x.xlsx")
    assert [str(p) for p in r.problems] == [
        "第2行D列（指标）：“接种率”不是可选的指标；请用模板第二页的指标名称",
        "第3行E列（分子）：101 大于分母 100",
        "第4行A列（区划代码）：区划代码 513436100200 不存在、不是县乡村级或不在您的管辖范围内",
        "第5行F列（分母）：应为 1 到 10000000 的整数",
        "第6行B列（区划名称）：与区划库中的名称“红星村”不一致"]
    assert not Figure.objects.exists() and AuditEvent.objects.count() == before


def test_activities_counted_per_township_and_programme(world):
    officer = world.users["health_officer"]
    services.activity_record(actor=officer, region_code=V1, programme="checkup", date=dt.date(2026, 3, 2),
                             place="桃源村卫生室", participants=48, organiser="新市坝镇卫生院")
    services.activity_record(actor=officer, region_code=T1, programme="checkup", date=dt.date(2026, 4, 9),
                             place="镇卫生院", participants=32)
    services.activity_record(actor=officer, region_code=V3, programme="lecture", date=dt.date(2026, 5, 1),
                             place="团结村村委会", participants=60)
    services.activity_record(actor=officer, region_code=V3, programme="two_cancers", date=dt.date(2025, 12, 30),
                             place="田坝镇卫生院", participants=25)
    c = selectors.activity_counts(officer, Region.objects.get(code=COUNTY), start=dt.date(2026, 1, 1),
                                  end=dt.date(2026, 12, 31))
    codes = list(c["programmes"])
    assert codes[:4] == ["checkup", "lecture", "medicine", "two_cancers"]
    assert [(row["region"].name, row["cells"][:4]) for row in c["rows"]] == [
        ("新市坝镇", [[2, 80], [0, 0], [0, 0], [0, 0]]), ("田坝镇", [[0, 0], [1, 60], [0, 0], [0, 0]])]
    assert c["total"][:4] == [[2, 80], [1, 60], [0, 0], [0, 0]]   # the 2025 screening is in 2025
    with pytest.raises(InvalidInput) as e:
        services.activity_record(actor=officer, region_code=V1, programme="x", date=dt.date(2026, 3, 2), place=" ",
                                 participants=5)
    assert e.value.errors == {"项目": "请从列表中选择项目", "地点": "必须填写，最多 80 字"}
    with pytest.raises(NotFound):
        services.activity_record(actor=officer, region_code=OTHER_VILLAGE, programme="checkup",
                                 date=dt.date(2026, 3, 2), place="x", participants=5)
    with pytest.raises(AccessDenied):
        services.activity_record(actor=world.users["township_officer"], region_code=V1, programme="checkup",
                                 date=dt.date(2026, 3, 2), place="x", participants=5)
    assert Activity.objects.count() == 4
    assert list(AuditEvent.objects.filter(object_type="pubhealth_activity").order_by("id")
                .values_list("summary", flat=True))[1] == "新市坝镇免费健康体检（2026-04-09，镇卫生院，32人）"


def test_the_screens(world, login):
    officer = world.users["health_officer"]
    importer.import_figures(officer, _xlsx(FIGURES), "卫健.xlsx")
    c = login("health_officer")
    r = c.post("/pubhealth/", {"programme": "medicine", "region": V1, "date": "2026-05-04", "place": "桃源村",
                               "participants": "12"}, follow=True)
    assert "活动已登记" in r.content.decode()
    html = c.get("/pubhealth/?year=2026").content.decode()
    assert "送医送药" in html and "1 次 / 12" in html
    html = c.get("/pubhealth/rates/?year=2025").content.decode()
    assert "97.6%" in html and "≥98%" in html and "33.33/10万" in html and "≤30/10万" in html
    r = c.get("/pubhealth/?format=xlsx")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[1][1:6] == ("送医送药", "桃源村", "桃源村", None, 12)
    r = c.post("/pubhealth/rates/import/", {"file": io.BytesIO(_xlsx([importer.HEADERS, [V1, "", 2025, "x", 1, 2, ""]]))})
    assert r.status_code == 400 and "导入未完成" in r.content.decode()
    assert login("township_officer").post("/pubhealth/", {"programme": "medicine"}).status_code == 403


def test_activities_import_once_and_refuse_a_bad_file_whole(world, login):
    officer = world.users["health_officer"]
    rows = [importer.ACTIVITY_HEADERS,
            [V1, "免费健康体检", "2026-03-02", "桃源村卫生室", "新市坝镇卫生院", 48, ""],
            [V3, "lecture", "2026-05-01", "团结村村委会", None, 60, "讲慢病管理"]]
    r = importer.import_activities(officer, _xlsx(rows), "活动.xlsx")
    assert (r.ok, r.created, r.updated, r.unchanged) == (True, 2, 0, 0)
    rows[2][5] = 65
    r = importer.import_activities(officer, _xlsx(rows), "活动.xlsx")
    assert (r.created, r.updated, r.unchanged) == (0, 1, 1)
    assert list(Activity.objects.order_by("date").values_list("programme", "participants")) == [("checkup", 48), ("lecture", 65)]
    r = importer.import_activities(officer, _xlsx([importer.ACTIVITY_HEADERS,
                                                   [OTHER_VILLAGE, "免费健康体检", "2026-03-02", "x", None, 1, None],
                                                   [V1, "义诊", "2026-03-02", "x", None, 1, None],
                                                   [V2, "免费健康体检", "2026-03-02", "红星村", None, 5, None]]), "x.xlsx")
    assert [str(p) for p in r.problems][:2] == [
        "第2行A列（乡镇或村代码）：区划代码 513436100200 不存在、不是乡镇或村，或不在您的管辖范围内",
        "第3行B列（项目）：“义诊”不是可选的项目；可选：免费健康体检、健康教育讲座、送医送药、农村妇女“两癌”检查、免费孕前优生健康检查、"
        "健康扶贫政策宣讲、包虫病筛查、犬只登记与驱虫"]
    assert Activity.objects.count() == 2
    r = login("health_officer").post("/pubhealth/import/", {"file": io.BytesIO(_xlsx(rows))}, follow=True)
    assert "导入完成：新增 0 次活动，更新 0 次，无变化 2 次" in r.content.decode()


# Every indicator with 1 of 4 (hand-computed): 25 %, 250 ‰, 25000/10万, 250 per 1000; its Sichuan target
# for 2025 (None where the plan sets none) and whether 1 of 4 meets it.
EVERY_RATE = {
    "immunisation": (25.0, "%", 98.0, False), "vaccination_certificate": (25.0, "%", None, None),
    "pmtct_hiv_test": (25.0, "%", None, None), "pmtct_syphilis_test": (25.0, "%", None, None),
    "pmtct_hepb_test": (25.0, "%", None, None), "pmtct_treatment": (25.0, "%", None, None),
    "hiv_followup": (25.0, "%", 85.0, False), "hiv_art": (25.0, "%", 85.0, False), "tb_cure": (25.0, "%", None, None),
    "echinococcosis_screening": (25.0, "%", None, None), "dog_register": (25.0, "%", None, None),
    "maternal_mortality": (25000.0, "/10万", 30.0, False), "infant_mortality": (250.0, "‰", 12.0, False),
    "village_doctors": (250.0, "名/千人", 0.5, True), "township_clinics_standard": (25.0, "%", 100.0, False),
    "village_clinics_standard": (25.0, "%", 100.0, False),
}


def test_every_indicator_is_rated_against_its_target(world):
    from fupin.pubhealth import catalogue

    officer = world.users["health_officer"]
    assert set(EVERY_RATE) == set(catalogue.indicators())
    rows = [importer.HEADERS] + [[V1, "桃源村", 2025, code, 1, 4, ""] for code in EVERY_RATE]
    assert importer.import_figures(officer, _xlsx(rows), "x.xlsx").created == 16
    r = selectors.rates(officer, Region.objects.get(code=T1), year=2025)
    got = {row["indicator"]["code"]: (row["total"]["rate"], row["total"]["unit"], row["total"]["target"], row["total"]["met"])
           for row in r["rows"]}
    assert got == EVERY_RATE
