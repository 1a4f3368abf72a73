"""An attacker's and a newcomer's review of what landed on 2 December: each test is one defect
found (IDOR, a refusal without its audit row, a peer administrator acted upon), fixed alongside."""
import pytest

from fupin.core.models import AuditEvent, AuditResult
from fupin.pairing.models import Helper, Pair, Unit

from .conftest import COUNTY, OTHER_COUNTY
from .test_education import SEM, edu  # noqa: F401  (the school-aid world of a posted semester run)


def test_pairing_page_offers_and_accepts_only_helpers_of_ones_own_county(world, login):
    Helper.objects.create(unit=Unit.objects.create(name="甘洛县教育局", region_id=COUNTY), name="周老师", kind="staff")
    theirs = Helper.objects.create(unit=Unit.objects.create(name="美姑县财政局", region_id=OTHER_COUNTY),
                                   name="吉克阿依", kind="staff")
    c = login("township_officer")
    body = c.get("/pairing/pairs/").content.decode()
    assert "甘洛县教育局 周老师（一般干部）" in body      # a county department pairs in its townships
    assert "吉克阿依" not in body and "美姑县财政局" not in body
    r = c.post("/pairing/pairs/", {"helper": str(theirs.pk), "household": str(world.h4.pk)}, follow=True)
    assert Pair.objects.count() == 0
    assert "找不到该帮扶责任人，或其单位不在您的管辖范围内；请从列表中选择" in r.content.decode()


def test_an_administrator_cannot_unlock_or_reset_the_second_factor_of_a_peer_administrator(world, login):
    import datetime as dt

    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from fupin.core.models import User

    peer = User(username="admin2", role="county_admin", region_id=COUNTY, password_changed_at=timezone.now(),
                locked_until=timezone.now() + dt.timedelta(minutes=30), failed_logins=0)
    peer.set_password("Test#Passw0rd-2026")
    peer.save()
    TOTPDevice.objects.create(user=peer, name="手机", confirmed=True)
    c = login("county_admin")
    r = c.post(f"/account/users/{peer.pk}/otp-reset/")
    assert r.status_code == 403 and "同级管理员的账户由上级管理员管理" in r.content.decode()
    r = c.post(f"/account/users/{peer.pk}/unlock/")
    assert r.status_code == 403 and "同级管理员的账户由上级管理员管理" in r.content.decode()
    assert TOTPDevice.objects.filter(user=peer).count() == 1
    peer.refresh_from_db()
    assert peer.locked_until is not None
    assert list(AuditEvent.objects.filter(result=AuditResult.DENIED).order_by("id").values_list("summary", flat=True)) == [
        "重置第二因素：同级管理员 admin2", "解锁账户：同级管理员 admin2"]


def test_a_refused_report_step_leaves_its_audit_row(world):
    from fupin.core.errors import AccessDenied
    from fupin.core.models import Region
    from fupin.oversight import reports, services
    from fupin.oversight.policy import report_forms

    form = report_forms()["poverty_monthly"]
    period = reports.parse_period(form, "2026-11")
    county = Region.objects.get(code=COUNTY)
    with pytest.raises(AccessDenied):
        services.report_generate(actor=world.users["township_officer"], form=form, region=county, period=period)
    filing = services.report_generate(actor=world.users["county_officer"], form=form, region=county, period=period)
    with pytest.raises(AccessDenied):   # the county returns only what its townships submitted, not its own
        services.report_return(actor=world.users["county_officer"], form=form, filing=filing, reason="数字有误")
    rows = AuditEvent.objects.filter(result=AuditResult.DENIED).order_by("id")
    assert [(r.actor.username, r.summary) for r in rows] == [
        ("township_officer", "填报甘洛县《扶贫对象动态管理月报表》：不是本单位"),
        ("county_officer", "退回甘洛县《扶贫对象动态管理月报表》：不是直属下级")]


def test_a_year_before_the_health_indicators_took_effect_is_a_chinese_message_not_a_server_error(world, login):
    r = login("health_officer").get("/health/indicators/?year=1990")
    assert r.status_code == 400
    assert "1990 年还没有施行健康扶贫结算考核指标，请从列表中选择年度" in r.content.decode()


def test_the_pair_import_does_not_pair_a_helper_of_another_county(world):
    import datetime as dt
    import io

    from openpyxl import Workbook

    from fupin.pairing import services

    Helper.objects.create(unit=Unit.objects.create(name="美姑县财政局", region_id=OTHER_COUNTY), name="吉克阿依", kind="staff")
    wb = Workbook()
    wb.active.append(["单位", "帮扶责任人", "户编号"])
    wb.active.append(["美姑县财政局", "吉克阿依", "H4"])
    out = io.BytesIO()
    wb.save(out)
    n, problems, _ = services.import_pairs(world.users["county_officer"], out.getvalue(), "结对.xlsx",
                                           start=dt.date(2026, 1, 5))
    assert n == 0 and [str(p) for p in problems] == ["第2行B列（帮扶责任人）：单位“美姑县财政局”没有此帮扶责任人"]
    assert Pair.objects.count() == 0


def test_refusals_name_roles_and_batches_in_chinese_on_the_audit_log(world, login):
    import datetime as dt

    from fupin.core.errors import AccessDenied
    from fupin.health import programmes

    r = login("county_admin").post("/account/users/new/", {"username": "wang01", "full_name": "王一",
                                                            "role": "county_admin", "region": COUNTY})
    assert r.status_code == 403
    with pytest.raises(AccessDenied):
        programmes.treatment_case_open(actor=world.users["pairing_helper"], condition_id="1", batch="concentrated",
                                       year=2026, hospital_id="1", on=dt.date(2026, 6, 1))
    with pytest.raises(AccessDenied):
        programmes.service_record(actor=world.users["pairing_helper"], person=world.h1.persons.get(relation="head"),
                                  kind="followup", on=dt.date(2026, 6, 1))
    assert list(AuditEvent.objects.filter(result=AuditResult.DENIED).order_by("id").values_list("summary", flat=True)) == [
        "越权授予角色 县级管理员", "纳入大病集中救治一批", "登记面对面随访"]


def test_an_administrator_refused_a_token_for_someone_else_leaves_an_audit_row(world, login):
    from fupin.core.models import ApiToken

    cadre = world.users["village_cadre"]
    r = login("county_admin").post(f"/account/tokens/?user={cadre.pk}", {"name": "乡镇对接程序"})
    assert r.status_code == 403
    assert "接口令牌只能由账户本人创建" in r.content.decode()
    assert ApiToken.objects.count() == 0
    assert list(AuditEvent.objects.filter(result=AuditResult.DENIED).values_list("actor__username", "summary")) == [
        ("county_admin", "为账户 village_cadre 创建接口令牌")]


def test_the_board_list_of_aid_paid_names_semester_and_item_in_chinese(world, login, edu):
    import io

    from openpyxl import load_workbook

    from fupin.education import services as edu_services
    from fupin.education.selectors import LABELS

    from .conftest import T1

    data = edu
    run = edu_services.run_compute(actor=data["township"], semester=SEM, region_code=T1, budget=data["budget"])
    edu_services.run_approve(actor=data["county"], run_id=run.pk)
    edu_services.run_post(actor=data["county"], run_id=run.pk)
    c = login("county_officer")
    page = c.get(f"/oversight/{COUNTY}/list/edu_aid_lines/?year=2024").content.decode()
    meals = LABELS["education.nutrition_meals"]
    assert page.count("2024年秋季学期") == 3 and page.count(meals) == 2
    assert "2024-autumn" not in page and "education.nutrition_meals" not in page
    ws = load_workbook(io.BytesIO(c.get(f"/oversight/{COUNTY}/list/edu_aid_lines.xlsx?year=2024").content)).active
    assert sorted((r[0], r[2], r[4]) for r in list(ws.values)[2:]) == [
        ("2024年秋季学期", "张妹", meals), ("2024年秋季学期", "张小", LABELS["education.compulsory_living"]),
        ("2024年秋季学期", "张小", meals)]


def test_a_township_officer_opens_a_course_of_its_county_as_the_courses_page_offers(world, login):
    from fupin.labour.models import Course

    c = login("township_officer")
    page = c.get("/labour/courses/").content.decode()
    assert f'<option value="{COUNTY}">甘洛县</option>' in page       # the only county offered
    r = c.post("/labour/courses/", {"name": "2026年新市坝镇厨师班", "kind": "short", "county": COUNTY, "provider": "县职校",
                                    "start": "2026-03-01", "end": "2026-03-03", "sessions": "3"})
    course = Course.objects.get()
    assert r["Location"] == f"/labour/courses/{course.pk}/"
    assert (course.name, course.county_id) == ("2026年新市坝镇厨师班", COUNTY)
    r = c.post("/labour/courses/", {"name": "美姑班", "kind": "short", "county": OTHER_COUNTY, "provider": "美姑职校",
                                    "start": "2026-03-01", "end": "2026-03-03", "sessions": "3"}, follow=True)
    assert Course.objects.count() == 1 and "不在您的管辖范围内" in r.content.decode()
