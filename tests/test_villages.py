"""The village register (issue #22 §1): register, responsibilities with history, exit of a village
as a whole against the pack's criteria (one village and the batch agree), Excel in and out."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from fupin.core.errors import AccessDenied, FupinError, InvalidInput, NotFound
from fupin.core.models import AuditEvent, Region
from fupin.policy.packs import shipped_packs
from fupin.policy.rules import villages as rules
from fupin.villages import importer, selectors, services
from fupin.villages.models import Duty, Finance, Village

from .conftest import COUNTY, OTHER_VILLAGE, T1, V1, V2, V3

ON = dt.date(2026, 6, 1)
ALL_MET = {"road_hardened": True, "clinic": True, "culture_room": True, "broadband": True}


# ---- the rule (no database) --------------------------------------------------------------------

def test_sichuan_incidence_must_be_below_three_percent_with_the_five_haves():
    chain = shipped_packs().for_region("513435100200")
    r = rules.exit_check(chain, {"population": 2000, "poor_persons": 59, "collective_income": 150000, **ALL_MET}, ON)
    assert r["eligible"] is True
    assert [i["explain"] for i in r["items"]] == [
        "贫困发生率 2.95%（未脱贫 59 人 ÷ 户籍人口 2000 人），应低于 3%：达到",
        "本年度村集体经济收入 1500.00 元，应高于 0.00 元：达到",
        "通村道路已硬化：是", "有标准化村卫生室：是", "有村文化室：是", "通宽带网络：是"]
    assert r["explanation"] == "全部退出条件均已达到，可以按程序申请整村退出"
    # exactly 3 % is not below 3 %; no collective income recorded fails too
    r = rules.exit_check(chain, {"population": 2000, "poor_persons": 60, "collective_income": None, **ALL_MET}, ON)
    assert r["eligible"] is False
    assert r["items"][0]["explain"] == "贫困发生率 3%（未脱贫 60 人 ÷ 户籍人口 2000 人），应低于 3%：未达到"
    assert r["explanation"] == "尚不具备整村退出条件：贫困发生率低于3%；有村集体经济收入 未达到"


def test_the_national_default_is_two_percent_and_a_clinic():
    chain = shipped_packs().for_region("440000000000")   # no provincial pack: the national default
    r = rules.exit_check(chain, {"population": 1500, "poor_persons": 29, "clinic": False}, ON)
    assert [(i["label"], i["met"]) for i in r["items"]] == [("贫困发生率低于2%", True), ("有标准化村卫生室", False)]
    assert r["items"][0]["explain"] == "贫困发生率 1.93%（未脱贫 29 人 ÷ 户籍人口 1500 人），应低于 2%：达到"
    r = rules.exit_check(chain, {"population": 0, "poor_persons": 0, "clinic": True}, ON)
    assert r["items"][0]["explain"] == "户籍人口未登记，无法计算贫困发生率；请先在村档案中填写户籍人口"
    assert r["eligible"] is False


# ---- register, finance, duties -----------------------------------------------------------------

def _values(**kw):
    v = {"poor_kind": "key", "poor_since": dt.date(2014, 10, 1), "key_since": dt.date(2016, 3, 1), "exited_on": None,
         "households": 30, "population": 101, "arable_land_mu": Decimal("1520.50"), "road_km": Decimal("6.30"),
         "road_hardened": True, "wells": 4, "piped_water": True, "electricity": True, "broadband": True, "clinic": True,
         "culture_room": True}
    v.update(kw)
    return v


def test_a_township_officer_keeps_the_register_of_its_villages_only(world):
    officer = world.users["township_officer"]
    v = services.village_save(actor=officer, code=V1, values=_values())
    assert (v.poor_kind, v.population, v.arable_land_mu, v.collective_account.code) == (
        "key", 101, Decimal("1520.50"), f"village:{V1}")
    assert v.collective_account.region_id == V1 and selectors.village_detail(officer, v.region)["balance"] == 0
    ev = AuditEvent.objects.filter(object_type="village", object_id=V1).get()
    assert (ev.action, ev.summary) == ("create", "建立桃源村村级档案")
    with pytest.raises(NotFound):
        services.village_save(actor=officer, code=V3, values=_values())   # another township's village
    assert not Village.objects.filter(region_id=V3).exists()


def test_a_village_cadre_may_not_edit_the_register_and_the_refusal_is_audited(world):
    with pytest.raises(AccessDenied):
        services.village_save(actor=world.users["village_cadre"], code=V1, values=_values())
    assert not Village.objects.exists()
    assert AuditEvent.objects.filter(action="denied", object_id="village_manage").count() == 1


def test_wrong_values_are_named_in_chinese_and_nothing_is_written(world):
    with pytest.raises(InvalidInput) as exc:
        services.village_save(actor=world.users["county_officer"], code=V1,
                              values=_values(key_since=dt.date(2010, 1, 1), households=-1))
    assert exc.value.errors == {"户数": "应为 0 到 100000 之间的整数"}
    with pytest.raises(InvalidInput) as exc:
        services.village_save(actor=world.users["county_officer"], code=V1, values=_values(key_since=dt.date(2010, 1, 1)))
    assert exc.value.errors == {"列为重点贫困村日期": "不能早于认定为贫困村的日期"}
    assert not Village.objects.exists()


def test_a_rotation_ends_the_predecessor_the_day_before(world):
    officer = world.users["county_officer"]
    unit = services.duty_assign(actor=officer, code=V1, kind="aid_unit", name="甘洛县教育局", programme="千村扶贫",
                                start=dt.date(2016, 1, 1))
    first = services.duty_assign(actor=officer, code=V1, kind="young_staff", name="李明", unit="县教育局 科员",
                                 start=dt.date(2024, 1, 1))
    second = services.duty_assign(actor=officer, code=V1, kind="young_staff", name="王芳", unit="县财政局 科员",
                                  start=dt.date(2025, 3, 1), replaces_id=first.pk)
    first.refresh_from_db()
    assert (first.end, second.replaces_id, second.end) == (dt.date(2025, 2, 28), first.pk, None)
    with pytest.raises(FupinError) as exc:
        services.duty_assign(actor=officer, code=V1, kind="young_staff", name="赵强", start=dt.date(2026, 1, 1),
                             replaces_id=first.pk)
    assert exc.value.message == "李明 已于 2025-02-28 结束，不能再被接替"
    with pytest.raises(InvalidInput):
        services.duty_assign(actor=officer, code=V1, kind="liaison_leader", name="赵强", start=dt.date(2026, 1, 1),
                             replaces_id=unit.pk)
    detail = selectors.village_detail(officer, Region.objects.get(code=V1))
    assert [d.name for d in detail["current"]] == ["甘洛县教育局", "王芳"]
    assert [d.name for d in detail["duties"]] == ["甘洛县教育局", "王芳", "李明"]
    assert AuditEvent.objects.filter(object_type="village_duty").count() == 3


# ---- the exit check: one village, the batch, and the exit itself ------------------------------

def test_exit_check_counts_the_registry_and_the_batch_agrees(world):
    officer = world.users["county_officer"]
    services.village_save(actor=officer, code=V1, values=_values(population=100))
    services.village_save(actor=officer, code=V3, values=_values(population=101, poor_kind="poor", key_since=None))
    services.village_save(actor=officer, code=V2, values=_values(population=50, clinic=False))
    services.finance_save(actor=officer, code=V1, year=2026, income=500000, collective_income=120000, debt=3000000,
                          debt_note="修村道路工程队垫资欠款")
    services.finance_save(actor=officer, code=V3, year=2026, income=0, collective_income=80000, debt=0)
    services.finance_save(actor=officer, code=V2, year=2026, income=0, collective_income=80000, debt=0)
    # V1: household H1, 3 registered persons of 100 → 3 % (not below 3 %); V3: H2, 1 of 101 → 0.99 %
    one = selectors.exit_check(officer, V1, on=ON)
    assert (one["eligible"], one["items"][0]["explain"]) == (
        False, "贫困发生率 3%（未脱贫 3 人 ÷ 户籍人口 100 人），应低于 3%：未达到")
    three = selectors.exit_check(officer, V3, on=ON)
    assert (three["eligible"], three["items"][0]["explain"]) == (
        True, "贫困发生率 0.99%（未脱贫 1 人 ÷ 户籍人口 101 人），应低于 3%：达到")
    two = selectors.exit_check(officer, V2, on=ON)   # H4: 1 of 50 = 2 %, but no clinic
    assert (two["eligible"], two["explanation"]) == (False, "尚不具备整村退出条件：有标准化村卫生室 未达到")
    batch = selectors.exit_checks(officer, Region.objects.get(code=COUNTY), on=ON)
    assert batch == {V1: one, V2: two, V3: three}
    # a township officer's batch is its own township only
    assert sorted(selectors.exit_checks(world.users["township_officer"], Region.objects.get(code=T1), on=ON)) == [V1, V2]


def test_a_village_exits_only_when_every_criterion_is_met(world):
    officer = world.users["county_officer"]
    services.village_save(actor=officer, code=V1, values=_values(population=100))
    services.finance_save(actor=officer, code=V1, year=2026, income=0, collective_income=100, debt=0)
    with pytest.raises(FupinError) as exc:
        services.village_exit(actor=officer, code=V1, on=ON)
    assert exc.value.message == "尚不具备整村退出条件：贫困发生率低于3% 未达到"
    assert Village.objects.get(pk=V1).exited_on is None
    services.village_save(actor=officer, code=V1, values=_values(population=101))
    services.village_exit(actor=officer, code=V1, on=ON)
    assert Village.objects.get(pk=V1).exited_on == ON
    ev = AuditEvent.objects.filter(object_type="village", summary__startswith="桃源村整村退出").get()
    assert ev.detail["check"]["eligible"] is True
    with pytest.raises(FupinError) as exc:
        services.village_exit(actor=officer, code=V1, on=ON)
    assert exc.value.message == "桃源村已于 2026-06-01 整村退出"


# ---- Excel ---------------------------------------------------------------------------------------

def _xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(importer.HEADERS)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _row(code, name, kind="贫困村", **kw):
    base = {"村代码": code, "村名": name, "贫困村类别": kind, "认定为贫困村日期": "2014年10月1日", "户数": 30,
            "户籍人口": 120, "耕地面积（亩）": "800.5", "道路已硬化": "是", "通宽带": "否", "财务年度": 2026,
            "集体经济收入（元）": "1200.50", "负债（元）": 30000, "负债说明": "修路欠款"}
    base.update(kw)
    return [base.get(h) for h in importer.HEADERS]


def test_import_is_all_or_nothing_and_a_second_import_changes_nothing(world):
    officer = world.users["township_officer"]
    bad = _xlsx([_row(V1, "桃源村"), _row(V2, "红星", 通宽带="也许"), _row(V3, "团结村")])
    report = importer.import_register(officer, bad, "bad.xlsx")
    assert [str(p) for p in report.problems] == [
        "第3行B列（村名）：与区划库中的村名“红星村”不一致",
        "第3行O列（通宽带）：“也许”应填“是”或“否”",
        f"第4行A列（村代码）：团结村（{V3}）不在您的管辖范围内"]
    assert report.error_workbook and not Village.objects.exists() and not Finance.objects.exists()
    good = _xlsx([_row(V1, "桃源村"), _row(V2, "红星村", kind="重点贫困村", 列为重点贫困村日期="2016-03-01")])
    report = importer.import_register(officer, good, "good.xlsx")
    assert (report.ok, report.created, report.updated, report.unchanged) == (True, 2, 0, 0)
    v = Village.objects.get(pk=V2)
    assert (v.poor_kind, v.key_since, v.population, v.arable_land_mu, v.road_hardened, v.broadband) == (
        "key", dt.date(2016, 3, 1), 120, Decimal("800.50"), True, False)
    f = Finance.objects.get(village_id=V1, year=2026)
    assert (f.collective_income, f.debt, f.income, f.debt_note) == (120050, 3000000, 0, "修路欠款")
    report = importer.import_register(officer, good, "good.xlsx")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    # the export imports back unchanged
    exported = importer.export_register(world.users["county_officer"], selectors.villages_for(world.users["county_officer"]))
    report = importer.import_register(officer, exported, "export.xlsx")
    assert (report.ok, report.created, report.updated, report.unchanged) == (True, 0, 0, 2)


def test_import_refuses_unknown_villages_and_money_without_a_year(world):
    report = importer.import_register(world.users["county_officer"],
                                      _xlsx([_row(COUNTY, "甘洛县"), _row(V1, "桃源村", 财务年度=None)]), "x.xlsx")
    assert [str(p) for p in report.problems] == [
        f"第2行A列（村代码）：村代码 {COUNTY} 不存在或不是村级区划",
        "第3行R列（财务年度）：填写了收入或负债，须同时填写财务年度"]


# ---- screens -------------------------------------------------------------------------------------

def test_a_bad_upload_on_the_page_writes_nothing_and_offers_the_marked_workbook(login, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = login("township_officer")
    bad = _xlsx([_row(V1, "桃源村", 户籍人口="很多")])
    r = c.post("/villages/import/", {"file": SimpleUploadedFile("v.xlsx", bad)})
    body = r.content.decode()
    assert r.status_code == 400 and "导入未完成：没有任何数据被写入" in body
    assert "第2行H列（户籍人口）：“很多”不是整数" in body and not Village.objects.exists()
    token = r.context["token"]
    r = c.get(f"/villages/errors/{token}/")
    assert r.status_code == 200 and b"".join(r.streaming_content)[:2] == b"PK"
    assert login("county_officer").get(f"/villages/errors/{token}/").status_code == 404   # another user's file
    c = login("township_officer")
    r = c.post("/villages/import/", {"file": SimpleUploadedFile("v.xlsx", _xlsx([_row(V1, "桃源村")]))})
    assert r.status_code == 302 and Village.objects.get(pk=V1).population == 120
    assert login("village_cadre").post("/villages/import/", {"file": SimpleUploadedFile("v.xlsx", bad)}).status_code == 403


def test_the_list_and_the_village_page(login, world):
    services.village_save(actor=world.users["county_officer"], code=V1, values=_values(population=100))
    c = login("inspector")
    r = c.get("/villages/?kind=key")
    body = r.content.decode()
    assert r.status_code == 200 and "桃源村" in body and "团结村" not in body and OTHER_VILLAGE not in body
    r = c.get(f"/villages/{V1}/")
    assert r.status_code == 200 and "贫困发生率 3%（未脱贫 3 人 ÷ 户籍人口 100 人），应低于 3%：未达到" in r.content.decode()
    assert "登记整村退出" not in r.content.decode()     # an inspector only reads
    assert "项目库中还没有本村的项目" in r.content.decode()
    from fupin.projects.models import Project
    Project.objects.create(number="P-1", name="桃源村道路硬化", region_id=V1, year=2026, category="infrastructure",
                           content="硬化2.8公里", implementer="县交通运输局", start=ON, end=ON, lifecycle={}, token="t1")
    assert ('<td data-label="项目">桃源村道路硬化</td><td data-label="类别">基础设施</td>'
            in c.get(f"/villages/{V1}/").content.decode())
    r = c.post(f"/villages/{V1}/", {"action": "register", "poor_kind": "none"})
    assert r.status_code == 403 and Village.objects.get(pk=V1).poor_kind == "key"
    assert c.get(f"/villages/{OTHER_VILLAGE}/").status_code == 404
    r = c.get("/villages/exits/?on=2026-06-01")
    assert "未退出的贫困村 1 个，其中达到全部退出条件的 0 个。" in r.content.decode()


def test_an_officer_saves_the_register_from_the_page(login, world):
    c = login("county_officer")
    r = c.post(f"/villages/{V3}/", {"action": "register", "poor_kind": "poor", "poor_since": "2014-10-01",
                                    "households": "40", "population": "150", "arable_land_mu": "300.25",
                                    "road_km": "2", "wells": "1", "clinic": "1"})
    assert r.status_code == 302
    v = Village.objects.get(pk=V3)
    assert (v.poor_kind, v.population, v.arable_land_mu, v.clinic, v.broadband) == ("poor", 150, Decimal("300.25"), True, False)
    r = c.post(f"/villages/{V3}/", {"action": "finance", "year": "2026", "income": "1000", "collective_income": "abc",
                                    "debt": "0"}, follow=True)
    assert "集体经济收入" in r.content.decode() and not Finance.objects.exists()
    r = c.get("/villages/export.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")


# ---- the demo county ---------------------------------------------------------------------------

def test_the_demo_county_has_its_villages_and_a_plan_half_done(db):
    from django.utils import timezone

    from fupin.core.models import User
    from fupin.demo import generator
    from fupin.demo import villages as demo
    from fupin.plans import selectors as plan_selectors
    from fupin.plans.models import Item, Plan

    county = generator.generate(300, min_villages=4)
    generator.seed_database(county)
    officer = User.objects.create(username="demo-officer", role="county_officer", region_id=generator.COUNTY[0],
                                  password_changed_at=timezone.now())
    demo.seed(county, officer=officer, today=generator.TODAY)
    n = sum(1 for _, _, lv, _ in county.regions if lv == 5)
    assert Village.objects.count() == n and Duty.objects.filter(end__isnull=True).count() == 4 * n
    assert Duty.objects.filter(kind="young_staff", end__isnull=False).count() == n   # one rotation per village
    # every third village has its infrastructure and an incidence of 2.5 %: the poor ones among them exit
    assert Village.objects.filter(exited_on__isnull=False).count() == sum(
        1 for i in range(n) if i % 3 == 0 and i % 4 != 3) > 0
    plan = Plan.objects.get()
    s = plan_selectors.summary(plan, generator.TODAY)
    assert (s["total"], len(s["done"]), len(s["overdue"]), len(s["late"])) == (8, 4, 2, 1)
    assert plan_selectors.overdue_items(officer, today=generator.TODAY).count() == 3   # 2 plan items + 1 decision
    assert Item.objects.filter(meeting__isnull=False).count() == 2
    from fupin.plans.models import Bulletin
    bulletin = Bulletin.objects.get()
    assert bulletin.published_at is not None and bulletin.body.startswith(
        "2026年09月01日至2026年10月31日，甘洛县完成计划任务和议定事项 2 项")   # 改村道路 (10-15) and 扶贫日 (10-17)
    demo.seed(county, officer=officer, today=generator.TODAY)     # a second start adds nothing
    assert Village.objects.count() == n and Plan.objects.count() == 1


def test_village_figures_on_the_board_count_households_by_their_villages_register(world):
    from fupin.oversight import policy as board
    from fupin.oversight import selectors as oversight

    officer = world.users["county_officer"]
    services.village_save(actor=officer, code=V1, values=_values())                       # key poor, not exited
    services.village_save(actor=officer, code=V2, values=_values(poor_kind="poor", key_since=None,
                                                                 exited_on=dt.date(2025, 12, 1)))
    services.village_save(actor=officer, code=V3, values=_values(poor_kind="none", poor_since=None, key_since=None))
    county = Region.objects.get(code=COUNTY)
    inds = board.indicators()
    still, exited = inds["vil_hh_poor_villages"], inds["vil_hh_exited_villages"]
    assert oversight.indicator_value(officer, county, still, year=2026, today=ON) == 1        # H1 in 桃源村
    assert [h.number for h in oversight.indicator_rows(officer, county, exited, year=2026, today=ON)] == ["H4"]
    ctx = oversight._ctx(officer, county, 2026, ON, None)
    assert oversight.grouped(still, ctx, 9) == {T1[:9]: 1}


# ---- on a phone ----------------------------------------------------------------------------------

from .test_browser import browser, phone, sign_in  # noqa: E402,F401  (the browser fixtures)


@pytest.mark.browser
def test_the_village_and_plan_pages_fit_a_phone(live_server, phone, world):
    officer = world.users["county_officer"]
    services.village_save(actor=officer, code=V1, values=_values(population=100))
    services.duty_assign(actor=officer, code=V1, kind="aid_unit", name="甘洛县教育局", programme="千村扶贫",
                         start=dt.date(2016, 1, 1))
    from fupin.plans import services as plans

    today = dt.date.today()
    p = plans.plan_create(actor=officer, region_code=COUNTY, year=today.year, title="本年脱贫攻坚工作计划")
    plans.item_add(actor=officer, plan=p, values={"target": "为乡镇中心校班级配备多媒体", "quantity": 12,
                                                  "measure": "个班", "owner_unit": "县教育局",
                                                  "due": dt.date(today.year, 1, 1)})
    sign_in(phone, live_server.url, "county_officer")
    for path, heading in (("/villages/", "村级档案"), (f"/villages/{V1}/", "桃源村"), ("/villages/exits/", "贫困村退出条件核查"),
                          ("/plans/", "年度计划与领导小组"), (f"/plans/{p.pk}/", "本年脱贫攻坚工作计划"),
                          (f"/plans/{p.pk}/report/midyear/", f"甘洛县{today.year}年半年执行情况报告")):
        phone.goto(f"{live_server.url}{path}")
        assert phone.inner_text("h1") == heading, path
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, path
