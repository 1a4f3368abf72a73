"""Learning support (学困生帮扶, seed 000): a teacher paired with a learning-difficulty student of a
poor family, its talks and home visits, term-end results, the school's ranking by places gained
since last term with the progress prizes (pack shares; no progress, no prize), list and export,
and the section on the household page."""
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from fupin.core.errors import AccessDenied, FupinError, InvalidInput
from fupin.core.models import AuditEvent
from fupin.education import learning
from fupin.education.models import LearningPair, School, TermResult
from fupin.registry.models import Household, Person

from .conftest import V1, pid
from .test_browser import browser  # noqa: F401  (the headless Chromium fixture)

START = dt.date(2026, 3, 2)
SCORES = {  # name: (2026 spring, 2026 autumn)
    "甲": (300, 420), "乙": (350, 340), "丙": (400, 380), "丁": (250, 330), "戊": (200, 410), "己": (None, 500)}


@pytest.fixture
def school(world):
    return School.objects.create(code="X1", name="新市坝中心小学", region_id=V1)


def _student(world, name, seq, household=None):
    return Person.objects.create(household=household or world.h1, name=name, id_number=pid("2014-05-05", seq), sex="M",
                                 birth_date=dt.date(2014, 5, 5), relation="child", labour="ordinary")


def test_pairs_records_results_and_the_ranking_with_prizes(world, school):
    aid = world.users["school_aid"]
    pairs = {}
    for k, (name, (spring, autumn)) in enumerate(SCORES.items()):
        p = learning.pair_create(actor=aid, school=school, person=_student(world, name, 101 + 2 * k),
                                 teacher=f"{name}老师", subject="数学", start=START)
        pairs[name] = p
        if spring is not None:
            learning.result_record(actor=aid, pair=p, semester="2026年春季", score=str(spring))
        learning.result_record(actor=aid, pair=p, semester="2026-autumn", score=str(autumn))
    rows = learning.ranking(aid, school, "2026年秋季")
    assert [(r["person"].name, r["rank"], r["previous_rank"], r["gained"], r["prize"]) for r in rows] == [
        ("戊", 3, 5, 3, "二等奖"),              # 5th → 2nd among last term's students: 3 places
        ("甲", 2, 3, 2, "三等奖"),              # 3rd → 1st
        ("丁", 6, 4, -1, "不予评价（没有进步）"),
        ("丙", 4, 1, -2, "不予评价（没有进步）"),
        ("乙", 5, 2, -2, "不予评价（没有进步）"),
        ("己", 1, None, None, "不予评价（上学期无成绩）")]
    # correcting a result rewrites it (audited with the old score), never a second row
    learning.result_record(actor=aid, pair=pairs["甲"], semester="2026-autumn", score="421.5")
    assert TermResult.objects.get(pair=pairs["甲"], semester="2026-autumn").score == Decimal("421.5")
    assert AuditEvent.objects.filter(object_type="term_result").order_by("pk").last().summary == \
        "学困生期末成绩：甲 2026年秋季 421.5 分（原 420.0 分）"
    with pytest.raises(InvalidInput) as exc:
        learning.result_record(actor=aid, pair=pairs["甲"], semester="2026秋", score="九十")
    assert exc.value.errors == {"期末总分": "“九十”不是数字"}
    with pytest.raises(InvalidInput) as exc:
        learning.result_record(actor=aid, pair=pairs["甲"], semester="秋季", score="90")
    assert exc.value.errors == {"学期": "学期“秋季”应写作 2027年春季 或 2026年秋季"}
    # records within the pair's time
    learning.record_add(actor=aid, pair=pairs["甲"], date=dt.date(2026, 9, 20), kind="home_visit", content="家访，与家长沟通作业")
    with pytest.raises(InvalidInput) as exc:
        learning.record_add(actor=aid, pair=pairs["甲"], date=dt.date(2026, 1, 5), kind="talk", content="谈心")
    assert exc.value.errors == {"日期": "应在结对期内（2026-03-02 起）"}
    assert learning.visits_this_term([pairs["甲"].pk, pairs["乙"].pk], dt.date(2026, 11, 1)) == {pairs["甲"].pk: 1}


def test_only_poor_families_one_teacher_at_a_time_and_only_the_school_office(world, school):
    aid = world.users["school_aid"]
    child = _student(world, "张明", 201)
    pair = learning.pair_create(actor=aid, school=school, person=child, teacher="李老师", start=START)
    with pytest.raises(FupinError) as exc:
        learning.pair_create(actor=aid, school=school, person=child, teacher="王老师", start=START)
    assert exc.value.message == "张明 已由 李老师 帮扶；一名学生同时只结对一名帮扶教师，请先结束原结对"
    learning.pair_end(actor=aid, pair=pair, on=dt.date(2026, 7, 1), reason="已脱离学困")
    learning.pair_create(actor=aid, school=school, person=child, teacher="王老师", start=dt.date(2026, 9, 1))
    other = Household.objects.create(number="H9", village_id=V1, attribute="general", main_cause="illness",
                                     status="eliminated")
    with pytest.raises(InvalidInput) as exc:
        learning.pair_create(actor=aid, school=school, person=_student(world, "钱多", 203, other), teacher="赵老师",
                             start=START)
    assert exc.value.errors == {"学生": "钱多 的家庭不是建档立卡贫困家庭，学困生帮扶结对只面向贫困家庭学生"}
    with pytest.raises(AccessDenied):
        learning.pair_create(actor=world.users["village_cadre"], school=school, person=child, teacher="x", start=START)
    assert LearningPair.objects.count() == 2


def test_screens_list_export_and_the_household_page(world, school, client):
    aid = world.users["school_aid"]
    child = _student(world, "张明", 201)
    client.force_login(aid)
    r = client.post("/education/learning/", {"school": school.pk, "id_number": child.id_number, "teacher": "李老师",
                                             "subject": "语文", "start": "2026-03-02"})
    pair = LearningPair.objects.get()
    assert r["Location"] == f"/education/learning/{pair.pk}/"
    client.post(f"/education/learning/{pair.pk}/", {"action": "record", "date": "2026-03-20", "kind": "home_visit",
                                                    "content": "家访"})
    client.post(f"/education/learning/{pair.pk}/", {"action": "result", "semester": "2026-spring", "score": "255"})
    page = client.get(f"/education/learning/{pair.pk}/").content.decode()
    assert "2026年春季：255.0 分" in page and "家访：家访" in page
    listing = client.get("/education/learning/").content.decode()
    assert "李老师" in listing and "张明" in listing and "每名帮扶教师每学期家访不少于 3 次" in listing
    client.force_login(world.users["county_officer"])     # the county office exports
    wb = load_workbook(io.BytesIO(client.get("/education/learning/?format=xlsx").content), read_only=True)
    rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
    assert rows[0] == ["学校", "学生", "村", "户编号", "帮扶教师", "帮扶学科", "结对日期", "本学期家访（次）", "状态"]
    assert rows[1][:7] + rows[1][8:] == ["新市坝中心小学", "张明", "桃源村", "H1", "李老师", "语文", "2026-03-02", "帮扶中"]
    client.force_login(aid)
    ranking = client.get(f"/education/learning/ranking/?school={school.pk}&semester=2026-spring").content.decode()
    assert "新市坝中心小学2026年春季学困生进步排名" in ranking and "不予评价（上学期无成绩）" in ranking
    household = client.get(f"/households/{world.h1.pk}/").content.decode()
    assert 'id="learning"' in household and "帮扶教师 李老师（语文）" in household and "2026年春季 255.0 分" in household
    client.force_login(world.users["village_cadre"])
    assert client.post("/education/learning/", {"school": school.pk, "id_number": child.id_number,
                                                "teacher": "x"}).status_code in (302, 403)
    assert LearningPair.objects.count() == 1


@pytest.mark.browser
def test_the_new_pages_fit_a_phone(live_server, world, school, browser):
    """Learning support, the sponsored class and its sponsor's page, the charity page with a grant
    in its notice, and the published allocation notice's public page, at 390 px."""
    from fupin.charity import services as charity
    from fupin.education.models import Enrolment
    from fupin.projects import services as projects

    from .test_browser import sign_in

    aid, officer = world.users["school_aid"], world.users["county_officer"]
    child = _student(world, "张明", 201)
    pair = learning.pair_create(actor=aid, school=school, person=child, teacher="李老师", subject="数学", start=START)
    learning.result_record(actor=aid, pair=pair, semester="2026-spring", score="255")
    Enrolment.objects.create(person=child, school=school, semester="2026-autumn", stage="senior", grade=1)
    sponsor = charity.donor_get_or_create(actor=officer, name="四川某药业公司", kind="enterprise")
    cls = charity.sunshine_class_create(actor=officer, school=school, year=2026, sponsor=sponsor)
    charity.call_publish(actor=officer, programme="sunshine_class", year=2026, published=dt.date(2026, 7, 1),
                         apply_until=dt.date(2026, 10, 31))
    g = charity.grant_apply(actor=officer, person_id=child.pk, programme="sunshine_class", year=2026, sunshine_class=cls,
                            on=dt.date(2026, 9, 1))
    charity.grant_review(actor=officer, grant=g, approve=True, on=dt.date(2026, 10, 17))
    notice = projects.allocation_notice_publish(actor=officer, year=2026)
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(10000)
    sign_in(page, live_server.url, "school_aid")
    for url in ("/education/learning/", f"/education/learning/{pair.pk}/",
                f"/education/learning/ranking/?school={school.pk}&semester=2026-spring"):
        page.goto(f"{live_server.url}{url}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
    sign_in(page, live_server.url, "county_officer")
    for url in ("/charity/?state=notice", f"/charity/classes/{cls.pk}/", f"/charity/sponsor/{cls.token}/",
                f"/projects/allocations/public/{notice.token}/"):
        page.goto(f"{live_server.url}{url}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
    page.goto(f"{live_server.url}/charity/?state=notice")
    assert "公示期 2026-10-17 至 2026-10-23" in page.inner_text("#grants")
    ctx.close()


def test_school_level_aid_measures_recorded_listed_and_exported(world, school, client):
    from fupin.education import aid
    from fupin.education.models import SchoolMeasure

    client.force_login(world.users["school_aid"])
    r = client.post("/education/aid/measures/", {"school": school.pk, "year": "2026", "kind": "fee_waiver",
                                                 "description": "减免住宿费", "students": "12", "value": "3600.50",
                                                 "date": "2026-09-10"})
    assert r.status_code == 302
    m = SchoolMeasure.objects.get()
    assert (m.kind, m.students, m.value, m.year) == ("fee_waiver", 12, 360_050, 2026)
    with pytest.raises(InvalidInput) as exc:
        aid.measure_record(actor=world.users["school_aid"], school=school, year=2026, kind="x", description=" ",
                           students=0, value=-1, date=dt.date(2026, 9, 1))
    assert exc.value.errors == {"措施": "应为 师生自愿捐款、减免学杂费、赠送衣物书本等实物、爱心午餐、其他 之一",
                                "内容": "必须填写", "受助学生": "须大于0", "金额或价值": "不能为负"}
    with pytest.raises(AccessDenied):
        aid.measure_record(actor=world.users["village_cadre"], school=school, year=2026, kind="meals",
                           description="午餐", students=3, value=0, date=dt.date(2026, 9, 1))
    page = client.get("/education/aid/measures/?kind=fee_waiver").content.decode()
    assert "减免住宿费" in page and "3,600.50" in page
    client.force_login(world.users["county_officer"])
    wb = load_workbook(io.BytesIO(client.get("/education/aid/measures/?format=xlsx").content), read_only=True)
    assert [list(r) for r in wb.active.iter_rows(values_only=True)] == [
        ["学年", "学校", "措施", "内容", "受助学生（人）", "金额或价值（元）", "日期"],
        [2026, "新市坝中心小学", "减免学杂费", "减免住宿费", 12, "3600.50", "2026-09-10"]]
    assert SchoolMeasure.objects.count() == 1
