"""A county office sets up pairing and training from empty on a phone, through screens only:
a unit, a leader, a work team with a member, a pairing, a course with a trainee; the unpaired
list then counts what is left. Every page fits 390 px."""
import pytest

from .test_browser import browser, phone, sign_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def _fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url


def test_county_office_sets_up_pairing_and_a_course_on_a_phone(live_server, world, phone):
    from fupin.labour.models import Course, Enrolment
    from fupin.pairing.models import Helper, Pair, Team, Unit

    base = live_server.url
    sign_in(phone, base, "county_officer")
    phone.goto(f"{base}/pairing/admin/")
    _fits(phone)
    phone.fill("input[aria-label=单位名称] >> nth=0", "县林业局")
    phone.click("text=新增单位")
    phone.wait_for_selector("#units >> text=在用")
    phone.select_option("select[name=unit] >> nth=0", label="县林业局")
    phone.fill("input[name=name][aria-label=姓名]", "林局长")
    phone.fill("input[name=title]", "局长")
    phone.select_option("select[name=kind] >> nth=0", "leader")
    phone.click("text=新增帮扶责任人")
    phone.wait_for_selector("#helpers >> text=林局长")
    _fits(phone)
    phone.goto(f"{base}/pairing/admin/teams/")
    phone.fill("input[aria-label=工作队名称]", "县林业局驻桃源村工作队")
    phone.click("text=组建工作队")
    phone.fill("input[aria-label=队员姓名]", "队员甲")
    phone.click("text=增加队员")
    phone.wait_for_selector("text=队员甲")
    _fits(phone)
    phone.goto(f"{base}/pairing/pairs/")
    phone.select_option("select[name=helper]", label="县林业局 林局长（领导干部）")
    phone.fill("input[name=household]", str(world.h1.pk))
    phone.fill("input[name=start]", "2026-01-05")
    phone.click("button:has-text('结对')")
    phone.wait_for_selector(f"text={world.h1.number}")
    phone.goto(f"{base}/pairing/unpaired/?region=513435000000")
    assert phone.inner_text("h2 >> nth=0") == "没有帮扶责任人的户（2 户）"
    assert "县林业局 林局长（领导干部）：应结对 2 户，已结对 1 户" in phone.inner_text("#under")
    _fits(phone)
    phone.goto(f"{base}/labour/courses/")
    phone.fill("input[name=name]", "2026年雨露计划育林班")
    phone.fill("input[name=provider]", "县职教中心")
    phone.fill("input[name=start]", "2026-05-04")
    phone.fill("input[name=end]", "2026-05-08")
    phone.fill("input[name=sessions]", "5")
    phone.click("button:has-text('开设')")
    phone.wait_for_selector("h1:has-text('2026年雨露计划育林班')")
    phone.fill("input[name=id_number]", world.h1.persons.get(relation="head").id_number)
    phone.click("button:has-text('报名')")
    phone.wait_for_selector("#enrolments >> text=0 / 5")
    _fits(phone)
    assert (Unit.objects.get().name, Helper.objects.get().title, Team.objects.get().members.count()) == ("县林业局", "局长", 1)
    assert Pair.objects.get().household_id == world.h1.pk
    assert list(Enrolment.objects.values_list("course__name", "person__name")) == [("2026年雨露计划育林班", "张三")]
    assert Course.objects.get().sessions == 5
