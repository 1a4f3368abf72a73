"""Schools and teachers (issue #22 §2): the school register and its import, teachers sent to rural
schools and their minimum terms, enrolment rates by region against the pack's targets (hand-computed),
and the “两后生” list with follow-up."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from fupin.core.errors import AccessDenied, InvalidInput, NotFound
from fupin.core.models import AuditEvent, Region
from fupin.education.models import Enrolment, School
from fupin.registry.models import Person
from fupin.schools import importer, selectors, services
from fupin.schools.models import Followup, GradeCount, Profile

from .conftest import OTHER_VILLAGE, T1, T2, V1, V2, V3, pid


def _xlsx(rows):
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def schools(world):
    return {"S1": School.objects.create(code="S1", name="桃源小学", region_id=V1),
            "S2": School.objects.create(code="S2", name="红星中学", region_id=T1),
            "S3": School.objects.create(code="S3", name="依果小学", region_id=OTHER_VILLAGE)}


def _person(household, name, birth, seq):
    p = Person(household=household, name=name, id_number=pid(birth, seq), birth_date=dt.date.fromisoformat(birth),
               sex="M" if seq % 2 else "F", relation="child", labour="student")
    p.save()
    return p


@pytest.fixture
def roster(world, schools):
    """Ages on 31 August 2026 (the 2026 school year): 张幼 4, 赵幼 5, 张小 13, 赵十 10, 王小一 15, 王小二 16, 张大 18."""
    s1, s2 = schools["S1"], schools["S2"]
    p = {"张幼": _person(world.h1, "张幼", "2022-03-01", 41), "赵幼": _person(world.h4, "赵幼", "2021-06-01", 43),
         "赵十": _person(world.h4, "赵十", "2016-01-01", 45), "王小一": _person(world.h2, "王小一", "2011-05-05", 47),
         "王小二": _person(world.h2, "王小二", "2010-07-07", 49), "张大": _person(world.h1, "张大", "2008-01-01", 53),
         "马七": _person(world.h3, "马七", "2010-03-03", 55)}
    p["张小"] = Person.objects.get(name="张小")
    e = Enrolment.objects.create
    e(person=p["张幼"], school=s1, semester="2026-autumn", stage="preschool", grade=2)
    e(person=p["张小"], school=s2, semester="2026-autumn", stage="junior", grade=1)
    e(person=p["王小一"], school=s2, semester="2026-spring", stage="junior", grade=3)
    e(person=p["王小一"], school=s2, semester="2026-autumn", stage="senior", grade=1)
    e(person=p["王小二"], school=s2, semester="2026-spring", stage="junior", grade=3, status="graduated")
    e(person=p["张大"], school=s2, semester="2026-spring", stage="senior", grade=3, status="graduated")
    e(person=p["马七"], school=schools["S3"], semester="2026-spring", stage="junior", grade=3, status="graduated")
    return p


def _cells(cells):
    return {k: (c["num"], c["den"], c["rate"], c["target"], c["met"]) for k, c in cells.items()}


def test_enrolment_rates_by_township_against_the_national_targets(roster, world):
    county = Region.objects.get(code="513435000000")
    r = selectors.rates(world.users["county_officer"], county, semester="2026年秋季")
    assert r["as_of"] == dt.date(2026, 8, 31)
    rows = {row["region"].code: _cells(row["cells"]) for row in r["rows"]}
    # 新市坝镇: 张幼 in kindergarten of 张幼 and 赵幼 (3–5); 张小 in school of 张小 and 赵十 (6–14)
    assert rows[T1] == {"preschool": (1, 2, 50.0, 70.0, False), "compulsory": (1, 2, 50.0, 95.0, False),
                        "entry": (0, 0, None, 90.0, None)}
    # 田坝镇: of the two in junior grade 3 in spring, 王小一 went on to senior high, 王小二 did not
    assert rows[T2] == {"preschool": (0, 0, None, 70.0, None), "compulsory": (0, 0, None, 95.0, None),
                        "entry": (1, 2, 50.0, 90.0, False)}
    assert _cells(r["total"]["cells"]) == {"preschool": (1, 2, 50.0, 70.0, False),
                                           "compulsory": (1, 2, 50.0, 95.0, False), "entry": (1, 2, 50.0, 90.0, False)}
    # a township officer sees its township only; the other county's 马七 is in no one's count here
    t1 = Region.objects.get(code=T1)
    r = selectors.rates(world.users["township_officer"], t1, semester="2026-autumn")
    assert [row["region"].code for row in r["rows"]] == [T1]
    assert _cells(r["total"]["cells"])["entry"] == (0, 0, None, 90.0, None)
    # the spring semester belongs to the same school year: the entry cohort is the same
    r = selectors.rates(world.users["county_officer"], county, semester="2027-spring")
    assert _cells(r["total"]["cells"])["entry"] == (1, 2, 50.0, 90.0, False)
    assert _cells(r["total"]["cells"])["preschool"] == (0, 2, 0.0, 70.0, False)   # no spring roster yet


def test_a_target_is_met_on_exact_integers_not_on_the_rounded_rate():
    # 19 of 20 = 95 % meets a 95 % target; 949 of 1000 (shown 94.9 %) does not
    assert selectors._cell("513435100200", "schools.target.compulsory_retention", 19, 20, dt.date(2026, 8, 31))["met"] is True
    c = selectors._cell("513435100200", "schools.target.compulsory_retention", 949, 1000, dt.date(2026, 8, 31))
    assert (c["rate"], c["met"]) == (94.9, False)
    # a Gansu county's preschool target is the Gansu plan's (seed 001), with its source
    c = selectors._cell("620000000000", "schools.target.preschool_gross_enrolment", 7, 10, dt.date(2026, 8, 31))
    assert (c["target"], c["met"], c["source"]) == (70.0, True, "《学校精准扶贫工作计划》：使贫困地区农村学前三年入园率达到70%")


def test_the_lianghou_list_and_its_follow_up(roster, world):
    aid = world.users["school_aid"]
    rows = selectors.lianghou(aid, year=2026)
    assert [(r["person"].name, r["left"].get_stage_display(), r["left"].grade, r["followup"]) for r in rows] == [
        ("张大", "普通高中", 3, None), ("王小二", "初中", 3, None)]
    with pytest.raises(InvalidInput) as e:
        services.followup_record(actor=aid, person_id=roster["王小二"].pk, date=dt.date(2026, 9, 20), outcome="vocational")
    assert e.value.errors == {"学校或培训机构、单位": "已有去向的，请填写学校、培训机构或单位"}
    services.followup_record(actor=aid, person_id=roster["王小二"].pk, date=dt.date(2026, 9, 5), outcome="persuading",
                             note="家长同意考虑")
    services.followup_record(actor=aid, person_id=roster["王小二"].pk, date=dt.date(2026, 9, 20), outcome="vocational",
                             place="甘洛县职业技术学校")
    rows = selectors.lianghou(aid, year=2026)
    f = rows[1]["followup"]
    assert (f.get_outcome_display(), f.place, f.date) == ("已进入中职/技工学校", "甘洛县职业技术学校", dt.date(2026, 9, 20))
    assert AuditEvent.objects.filter(object_type="lianghou_followup").count() == 2
    # refused: a township officer (no capability; audited) and a person of another county (not found)
    with pytest.raises(AccessDenied):
        services.followup_record(actor=world.users["township_officer"], person_id=roster["张大"].pk,
                                 date=dt.date(2026, 9, 20), outcome="training", place="x")
    with pytest.raises(NotFound):
        services.followup_record(actor=aid, person_id=roster["马七"].pk, date=dt.date(2026, 9, 20), outcome="declined")
    assert Followup.objects.count() == 2
    assert AuditEvent.objects.filter(result="denied", object_id="school_manage").count() == 1


def test_the_register_imports_all_or_nothing_and_re_imports_unchanged(schools, world):
    aid = world.users["school_aid"]
    header = importer.HEADERS
    good = [header,
            ["S1", "桃源小学", "小学", V1, "是", "否", 2026, "小学", 1, 2, 45, 10],
            ["S1", "桃源小学", "小学", V1, "是", "否", 2026, "小学", 2, 2, 50, 12],
            ["S2", "红星中学", "初级中学", None, "否", "是", 2026, "初中", 1, 3, 120, 0]]
    r = importer.import_register(aid, _xlsx(good), "学校.xlsx")
    assert (r.ok, r.created, r.updated, r.unchanged) == (True, 2, 0, 0)
    p = Profile.objects.get(school__code="S1")
    assert (p.kind, p.village_id, p.boarding, p.weak) == ("primary", V1, True, False)
    assert list(GradeCount.objects.filter(school__code="S1").values_list("grade", "classes", "pupils", "boarders")) == [
        (1, 2, 45, 10), (2, 2, 50, 12)]
    r = importer.import_register(aid, _xlsx(good), "学校.xlsx")
    assert (r.created, r.updated, r.unchanged) == (0, 0, 2)
    # the export imports back unchanged
    officer = world.users["county_officer"]          # exports need the export capability
    data = importer.export_register(officer, selectors.schools_for(officer))
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[1] == ("S1", "桃源小学", "小学", V1, "是", "否", 2026, "小学", 1, 2, 45, 10)
    r = importer.import_register(aid, data, "导出.xlsx")
    assert (r.ok, r.unchanged) == (True, 2)
    before = AuditEvent.objects.count()
    bad = [header,
           ["S3", "依果小学", "小学", None, "否", "否", None, None, None, None, None, None],
           ["S1", "桃园小学", "小学", V1, "是", "否", 2026, "小学", 3, 2, 40, 41],
           ["S2", "红星中学", "初级中学", V3, "否", "是", 2026, "初中", 1, 3, 120, 0],
           ["S2", "红星中学", "初级中学", V3, "否", "是", 2026, "初中", 1, 3, 121, 0]]
    r = importer.import_register(aid, _xlsx(bad), "错.xlsx")
    assert [str(p) for p in r.problems] == [
        "第2行A列（学校代码）：学校代码 S3 不存在或不在您的管辖范围内",
        "第3行B列（学校名称）：与学校库中的名称“桃源小学”不一致",
        "第3行L列（寄宿生数）：寄宿生 41 人多于在校生 40 人",
        "第5行I列（年级）：与第4行是同一学校、学年、学段和年级"]
    assert r.error_workbook is not None
    assert AuditEvent.objects.count() == before and GradeCount.objects.count() == 3
    assert Profile.objects.get(school__code="S2").village_id is None


def test_teachers_sent_to_rural_schools_and_their_minimum_terms(schools, world):
    aid = world.users["school_aid"]
    today = dt.date(2026, 12, 2)
    v = services.teacher_add(actor=aid, code="S1", name="李支教", kind="volunteer", home_unit="成都市实验小学",
                             start=dt.date(2025, 9, 1), end=dt.date(2026, 8, 31), subject="数学")
    p = services.teacher_add(actor=aid, code="S1", name="周校长", kind="principal", home_unit="西昌市第一中学",
                             start=dt.date(2026, 3, 1))
    services.teacher_leave(actor=aid, code="S1", teacher_id=p.pk, end=dt.date(2026, 5, 31))
    i = services.teacher_add(actor=aid, code="S1", name="吴实习", kind="intern", home_unit="四川师范大学",
                             start=dt.date(2026, 9, 1))
    r = services.teacher_add(actor=aid, code="S1", name="本校王老师", kind="resident", start=dt.date(2010, 9, 1),
                             living_allowance=True)
    v.refresh_from_db()
    p.refresh_from_db()
    assert selectors.term_check(v, today)["text"] == "已满 12 个月（12 个月）"
    assert selectors.term_check(p, today) == {"met": False, "months": 3, "need": 6,
                                              "text": "只在岗 3 个月即离岗，不足挂职校长最短 6 个月"}
    assert selectors.term_check(i, today)["text"] == "在岗 3 个月，须满 6 个月"
    assert selectors.term_check(r, today) is None
    with pytest.raises(InvalidInput) as e:
        services.teacher_add(actor=aid, code="S1", name="赵某", kind="volunteer", start=dt.date(2026, 9, 1))
    assert e.value.errors == {"派出单位": "支教、挂职、交流和实习人员须填写派出单位"}
    with pytest.raises(NotFound):
        services.teacher_add(actor=aid, code="S3", name="x", kind="resident", start=dt.date(2026, 9, 1))


def test_the_screens(roster, login, world):
    services.profile_save(actor=world.users["school_aid"], code="S1",
                          values={"kind": "primary", "village": V1, "boarding": True, "weak": True})
    c = login("school_aid")
    html = c.get("/schools/").content.decode()
    assert "桃源小学" in html and "依果小学" not in html
    assert c.get("/schools/?weak=1").content.decode().count('href="/schools/S') == 1
    r = c.post("/schools/S1/", {"action": "grade", "year": "2026", "stage": "primary", "grade": "1", "classes": "2",
                                "pupils": "45", "boarders": "50"})
    assert r.status_code == 302
    assert not GradeCount.objects.exists()
    r = c.post("/schools/S1/", {"action": "grade", "year": "2026", "stage": "primary", "grade": "1", "classes": "2",
                                "pupils": "45", "boarders": "10"}, follow=True)
    assert "分年级在校生已保存" in r.content.decode()
    html = c.get("/schools/rates/?semester=2026-autumn").content.decode()
    assert "50.0%" in html and "目标 70%" in html
    html = c.get("/schools/lianghou/?year=2026").content.decode()
    assert "王小二" in html and pid("2010-07-07", 49) not in html and "2010" in html
    assert c.get("/schools/lianghou/?year=2026&format=xlsx").status_code == 403   # school aid: no export
    r = login("county_officer").get("/schools/lianghou/?year=2026&format=xlsx")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("村", "姓名", "身份证号", "出生年份", "毕业学段", "原学校", "去向", "最近跟踪")
    assert rows[1][:4] == ("桃源村", "张大", "513435**********" + pid("2008-01-01", 53)[-2:], 2008)
    assert c.get("/schools/S3/").status_code == 404
    t = login("township_officer")
    assert t.get("/schools/S1/").status_code == 200
    assert t.post("/schools/S1/", {"action": "profile", "kind": "junior"}).status_code == 403
    assert Profile.objects.get(school__code="S1").kind == "primary"


def test_the_demo_county_has_schools_teachers_lianghou_public_health_and_reminders(db):
    from fupin.demo import generator
    from fupin.notify.models import Notice
    from fupin.pubhealth import catalogue
    from fupin.pubhealth.models import Activity, Figure
    from fupin.schools.models import Teacher

    county = generator.generate(300, min_villages=4)
    generator.seed_database(county)
    generator.seed_demo_users(county)
    generator.seed_demo_extras(county)
    townships = sum(1 for _, _, lv, _ in county.regions if lv == 4)
    assert Profile.objects.count() == School.objects.count() > 0
    assert GradeCount.objects.exists()
    assert Teacher.objects.filter(kind="principal").count() == 2
    short = [t for t in Teacher.objects.filter(kind="principal")
             if (selectors.term_check(t, generator.TODAY) or {}).get("met") is False]
    assert [t.name for t in short] == ["挂职校长甲"]
    aid = __import__("fupin.core.models", fromlist=["User"]).User.objects.filter(role="school_aid").first()
    rows = selectors.lianghou(aid, year=generator.TODAY.year)
    assert len(rows) > 0 and sum(1 for r in rows if r["followup"]) == min(3, len(rows))
    assert Activity.objects.count() == townships * len(catalogue.programmes())
    assert Figure.objects.filter(year=generator.TODAY.year - 1).count() == townships * len(catalogue.indicators())
    assert Notice.objects.filter(channel="app", day=generator.TODAY).exists()
    duties = selectors.duties(aid, semester=f"{generator.TODAY.year}-autumn", on=generator.TODAY)
    assert duties and {(d["talks"], d["talks_due"], d["behind"]) for d in duties} <= {(1, 2, True), (2, 2, False)}


# ---- on a phone ----------------------------------------------------------------------------------

from .test_browser import browser, phone, sign_in  # noqa: E402,F401  (the browser fixtures)


@pytest.mark.browser
def test_the_school_health_and_reminder_pages_fit_a_phone(live_server, phone, roster, world):
    officer = world.users["county_officer"]
    services.profile_save(actor=officer, code="S1", values={"kind": "primary", "village": V1, "boarding": True})
    services.teacher_add(actor=officer, code="S1", name="李支教", kind="volunteer", home_unit="成都市实验小学",
                         start=dt.date(2025, 9, 1))
    from fupin.notify import services as notify
    from fupin.pubhealth import services as pubhealth

    pubhealth.activity_record(actor=officer, region_code=V1, programme="checkup", date=dt.date(2026, 3, 2),
                              place="桃源村卫生室", participants=48)
    notify.notices_send(day=dt.date.today())
    sign_in(phone, live_server.url, "county_officer")
    for path, heading in (("/schools/", "学校名录"), ("/schools/S1/", "桃源小学"), ("/schools/teachers/", "教师与支教、挂职人员"),
                          ("/schools/rates/?semester=2026-autumn", "入学率（2026年秋季）"), ("/schools/lianghou/?year=2026", "2026年两后生"),
                          ("/pubhealth/?year=2026", "公共卫生项目活动"), ("/pubhealth/rates/?year=2025", "2025年公共卫生指标"),
                          ("/notify/", "我的提醒")):
        phone.goto(f"{live_server.url}{path}")
        assert phone.inner_text("h1") == heading, path
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, path


def test_teachers_import_all_or_nothing_and_update_by_school_name_kind_and_arrival(schools, world, login):
    aid = world.users["school_aid"]
    from fupin.schools.models import Teacher

    rows = [importer.TEACHER_HEADERS,
            ["S1", "李支教", "城市支教教师", "成都市实验小学", "数学", "2025-09-01", "2026-08-31", "否"],
            ["S2", "王老师", "本校教师", None, "语文", "2010-09-01", None, "是"]]
    r = importer.import_teachers(aid, _xlsx(rows), "教师.xlsx")
    assert (r.ok, r.created, r.updated, r.unchanged) == (True, 2, 0, 0)
    rows[2][4] = "数学"
    r = importer.import_teachers(aid, _xlsx(rows), "教师.xlsx")
    assert (r.created, r.updated, r.unchanged) == (0, 1, 1)
    assert Teacher.objects.get(name="王老师").subject == "数学" and Teacher.objects.get(name="王老师").living_allowance
    r = importer.import_teachers(aid, _xlsx([importer.TEACHER_HEADERS,
                                             ["S3", "甲", "本校教师", None, None, "2020-09-01", None, None],
                                             ["S1", "乙", "挂职校长", None, None, "2026-03-01", "2026-02-01", None]]), "x.xlsx")
    assert [str(p) for p in r.problems] == [
        "第2行A列（学校代码）：学校代码 S3 不存在或不在您的管辖范围内",
        "第3行D列（派出单位）：支教、挂职、交流和实习人员须填写派出单位",
        "第3行G列（离岗日期）：不能早于到岗日期 2026-03-01"]
    assert Teacher.objects.count() == 2
    c = login("school_aid")
    r = c.post("/schools/teachers/import/", {"file": io.BytesIO(_xlsx([importer.TEACHER_HEADERS,
                                                                       ["S9", "甲", "本校教师", None, None, "2020-09-01"]]))})
    assert r.status_code == 400 and "导入未完成" in r.content.decode()


def test_a_teachers_monthly_talks_and_three_home_visits_a_semester(roster, world, login):
    from fupin.core.errors import FupinError

    aid = world.users["school_aid"]
    t = services.teacher_add(actor=aid, code="S2", name="刘老师", kind="resident", start=dt.date(2015, 9, 1))
    with pytest.raises(InvalidInput) as e:
        services.mentor_assign(actor=aid, teacher_id=t.pk, person_id=roster["张幼"].pk, semester="2026年秋季")
    assert e.value.errors == {"学生": "张幼 不在红星中学2026年秋季的学生名册中"}
    m = services.mentor_assign(actor=aid, teacher_id=t.pk, person_id=roster["张小"].pk, semester="2026年秋季")
    with pytest.raises(FupinError):
        services.mentor_assign(actor=aid, teacher_id=t.pk, person_id=roster["张小"].pk, semester="2026-autumn")
    for kind, day in (("talk", dt.date(2026, 9, 10)), ("visit", dt.date(2026, 10, 1)), ("talk", dt.date(2026, 10, 12))):
        services.contact_record(actor=aid, mentor_id=m.pk, kind=kind, date=day)

    def state(on):
        r = selectors.duties(aid, semester="2026-autumn", on=on)[0]
        return r["talks"], r["talks_due"], r["visits"], r["visits_due"], r["behind"]

    # the semester began on 1 September: two whole months by 15 November, three by 2 December
    assert state(dt.date(2026, 11, 15)) == (2, 2, 1, 3, False)
    assert state(dt.date(2026, 12, 2)) == (2, 3, 1, 3, True)
    # after the semester (the spring one begins 1 March): six months of talks, and the visits are overdue
    assert state(dt.date(2027, 3, 5)) == (2, 6, 1, 3, True)
    c = login("school_aid")
    html = c.get("/schools/duties/?semester=2026-autumn").content.decode()
    assert "刘老师" in html and "张小" in html
    with pytest.raises(AccessDenied):
        services.contact_record(actor=world.users["township_officer"], mentor_id=m.pk, kind="talk", date=dt.date(2026, 11, 1))


def test_the_register_import_adds_schools_new_to_the_register(schools, world):
    """A new county starts with no schools: a code not yet known, with its name, is a new school in
    the row's village (or the importer's region); without a name, or outside the scope, it is refused."""
    officer = world.users["county_officer"]
    header = importer.HEADERS
    bad = [header,
           ["S9", None, "小学", V2, "否", "否", None, None, None, None, None, None],
           ["S8", "依果二小", "小学", OTHER_VILLAGE, "否", "否", None, None, None, None, None, None]]
    before = AuditEvent.objects.count()
    r = importer.import_register(officer, _xlsx(bad), "错.xlsx")
    assert [str(p) for p in r.problems] == [
        "第2行B列（学校名称）：学校代码 S9 不在学校库中；新增学校须填写学校名称",
        f"第3行D列（所在村代码）：村代码 {OTHER_VILLAGE} 不存在或不在您的管辖范围内"]
    assert (School.objects.filter(code__in=["S8", "S9"]).count(), AuditEvent.objects.count()) == (0, before)
    good = [header,
            ["S9", "红星村小", "村小/教学点", V2, "否", "否", 2026, "小学", 1, 1, 12, 0],
            ["S9", "红星村小", "村小/教学点", V2, "否", "否", 2026, "小学", 2, 1, 9, 0],
            ["S7", "县职教中心", "中职学校/职教中心", None, "是", "否", None, None, None, None, None, None]]
    r = importer.import_register(officer, _xlsx(good), "新学校.xlsx")
    assert (r.ok, r.created, r.updated, r.unchanged) == (True, 2, 0, 0)
    assert list(School.objects.filter(code__in=["S7", "S9"]).values_list("code", "name", "region_id")) == [
        ("S7", "县职教中心", officer.region_id), ("S9", "红星村小", V2)]
    assert Profile.objects.get(school__code="S9").kind == "teaching_point"
    assert GradeCount.objects.filter(school__code="S9").count() == 2
    assert sorted(AuditEvent.objects.filter(object_type="school", summary__startswith="新增学校")
                  .values_list("object_id", flat=True)) == ["S7", "S9"]
    r = importer.import_register(officer, _xlsx(good), "新学校.xlsx")
    assert (r.created, r.updated, r.unchanged) == (0, 0, 2)
