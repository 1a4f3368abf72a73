"""Screens through the real view stack: login, lockout, masking, detail page, import upload."""
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fupin.core.models import AuditEvent, User
from fupin.registry.models import Person

from .conftest import PASSWORD, pid, shows_word
from .test_import import row, xlsx


def test_login_success_and_failure_are_audited(client, world):
    r = client.post("/login/", {"username": "county_officer", "password": "wrong"})
    assert r.status_code == 400
    assert "用户名或密码错误；再失败 4 次账户将被锁定" in r.content.decode()
    r = client.post("/login/", {"username": "county_officer", "password": PASSWORD})
    assert (r.status_code, r["Location"]) == (302, "/")
    assert list(AuditEvent.objects.filter(action__in=["login", "login_failed"]).order_by("id")
                .values_list("action", "result", "actor_name")) == [
        ("login_failed", "failed", "county_officer"), ("login", "ok", "county_officer")]
    client.post("/login/", {"username": "nobody", "password": "x"})
    assert AuditEvent.objects.filter(action="login_failed", actor_name="nobody").count() == 1


def test_lockout_after_repeated_failures(client, world, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        client.post("/login/", {"username": "village_cadre", "password": "wrong"})
    user = User.objects.get(username="village_cadre")
    assert user.locked_until is not None and user.locked_until > timezone.now()
    r = client.post("/login/", {"username": "village_cadre", "password": PASSWORD})
    assert r.status_code == 400
    assert "连续登录失败次数过多，账户已锁定至" in r.content.decode()
    assert "_auth_user_id" not in client.session


def test_demo_accounts_are_refused_outside_demo(client, world, settings):
    settings.DEMO = False
    User.objects.filter(username="inspector").update(is_demo=True)
    r = client.post("/login/", {"username": "inspector", "password": PASSWORD})
    assert r.status_code == 400
    assert "演示账户在正式部署中不可用" in r.content.decode()


def test_password_complexity_and_expiry(client, world, settings):
    user = world.users["county_officer"]
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - dt.timedelta(days=91))
    client.force_login(user)
    assert client.get("/households/")["Location"] == "/password/?expired=1"
    r = client.post("/password/", {"old": PASSWORD, "new": "simplepassword", "new2": "simplepassword"})
    assert "密码至少 10 位，且须包含大写字母、小写字母、数字、符号中的至少三类" in r.content.decode()
    r = client.post("/password/", {"old": PASSWORD, "new": "Str0ng#Pass-9", "new2": "Str0ng#Pass-9"})
    assert r.status_code == 302
    assert client.get("/households/").status_code == 200


def test_household_page_masks_ids_and_reveal_is_logged(login, world):
    c = login("township_officer")
    head = world.h1.persons.get(relation="head")
    html = c.get(f"/households/{world.h1.pk}/").content.decode()
    assert head.id_number not in html
    assert f"{head.id_number[:6]}**********{head.id_number[-2:]}" in html
    assert "***************2333" in html
    # an item never checked is named too, not by its code
    assert '<tr><td>不愁吃</td>\n<td colspan="4">未核查</td></tr>' in html and ">food<" not in html
    r = c.post(f"/persons/{head.pk}/reveal/id/")
    assert r.json() == {"value": head.id_number}
    assert AuditEvent.objects.filter(action="reveal", object_id=str(head.pk)).count() == 1


def test_reveal_refused_for_helper_and_out_of_scope(login, world):
    c = login("pairing_helper")
    head = world.h1.persons.get(relation="head")
    assert c.post(f"/persons/{head.pk}/reveal/id/").status_code == 403
    c = login("village_cadre")
    other = world.h2.persons.get()
    assert c.post(f"/persons/{other.pk}/reveal/id/").status_code == 404
    assert AuditEvent.objects.filter(action="reveal").count() == 0


def _add_members(h, n):
    for i in range(n):
        Person(household=h, name=f"成员{i}", id_number=pid("2000-01-01", 200 + i * 2), birth_date=dt.date(2000, 1, 1),
               sex="F", relation="child", labour="ordinary").save()


def test_detail_page_query_count_does_not_grow_with_household_size(login, world):
    c = login("county_officer")
    with CaptureQueriesContext(connection) as small:
        assert c.get(f"/households/{world.h2.pk}/").status_code == 200
    _add_members(world.h2, 30)
    with CaptureQueriesContext(connection) as big:
        r = c.get(f"/households/{world.h2.pk}/")
    assert r.content.decode().count("成员") >= 30
    # +1: monitoring warnings; +3: pairing (helper, visits with photos, measures); +6: labour (members, records,
    # enrolments, posts) and social assistance (enrolments, payments) sections; +1: learning-support pairs
    assert len(big) == len(small) == 23


def test_search_page_and_live_partial(login, world):
    c = login("county_officer")
    html = c.get("/households/?q=张").content.decode()
    assert '<b id="total">1</b>' in html and "H1" in html
    partial = c.get("/households/?q=王五", HTTP_X_PARTIAL="1").content.decode()
    assert "<html" not in partial and "H2" in partial and not shows_word(partial, "H1")
    bad = c.get("/households/?region=12ab").content.decode()
    assert "区划代码“12ab”应为12位数字" in bad


def test_region_page_counts_link_to_households(login, world):
    html = login("county_officer").get("/regions/513435000000/").content.decode()
    assert 'href="/households/?region=513435100000">2</a>' in html
    assert 'href="/households/?region=513435101000">1</a>' in html


def test_create_household_with_bad_input_shows_chinese_errors(login, world):
    c = login("village_cadre")
    r = c.post("/households/new/", {"number": "N1", "village": "513435100200", "standard": "national",
                                    "attribute": "general", "main_cause": "illness", "other_cause_1": "illness",
                                    "status": "applied", "housing_year": "abc"})
    html = r.content.decode()
    assert "输入整数。" in html
    r = c.post("/households/new/", {"number": "N1", "village": "513435100200", "standard": "national",
                                    "attribute": "general", "main_cause": "illness", "other_cause_1": "illness",
                                    "status": "applied"})
    assert "其他致贫原因不能与主要致贫原因相同" in r.content.decode()
    r = c.post("/households/new/", {"number": "N1", "village": "513435100200", "standard": "national",
                                    "attribute": "general", "main_cause": "illness", "status": "applied"})
    assert r.status_code == 302


def test_person_form_rejects_bad_id(login, world):
    c = login("village_cadre")
    r = c.post(f"/households/{world.h1.pk}/persons/new/", {
        "p-name": "某", "p-id_number": "513435198001010112", "p-relation": "child", "p-labour": "ordinary",
        "p-ethnicity": "汉族", "p-schooling": "not_in_school", "p-health": "healthy", "p-migrant_months": "0",
        "p-assistance": "none", "e-kind": "register", "e-date": "2026-01-01"})
    assert "校验码错误：最后一位应为 4，实际为 2" in r.content.decode()
    assert world.h1.persons.count() == 3


def test_import_upload_with_errors_offers_marked_workbook(login, world):
    c = login("county_officer")
    data = xlsx([row(id_number="513435198001010112")])
    r = c.post("/exchange/", {"file": io.BytesIO(data)}, follow=True)   # a background job; its page
    html = r.content.decode()
    assert r.redirect_chain[0][0].startswith("/jobs/") and "发现 1 处错误，未导入任何数据" in html
    token = html.split("/exchange/errors/")[1].split("/")[0]
    wb = c.get(f"/exchange/errors/{token}/")
    assert wb.status_code == 200 and b"".join(wb.streaming_content)[:2] == b"PK"
    assert login("township_officer").get(f"/exchange/errors/{token}/").status_code == 404


def test_import_upload_dry_run_then_commit(login, world):
    c = login("county_officer")
    data = xlsx([row()])
    html = c.post("/exchange/", {"file": io.BytesIO(data), "dry_run": "1"}, follow=True).content.decode()
    assert "试导入（未保存）：共 1 行" in html
    assert Person.objects.count() == 6
    html = c.post("/exchange/", {"file": io.BytesIO(data)}, follow=True).content.decode()
    assert "导入完成：共 1 行；户 新增 1" in html
    assert Person.objects.count() == 7


def test_auditor_reads_the_log_others_do_not(login, world):
    assert login("auditor").get("/audit/").status_code == 200
    assert login("county_officer").get("/audit/").status_code == 403


def test_english_is_available(login, world):
    c = login("county_officer")
    c.post("/i18n/setlang/", {"language": "en", "next": "/households/"})
    html = c.get("/households/").content.decode()
    assert 'lang="en"' in html
    assert "<h1>Households</h1>" in html and "Household no." in html


def test_chinese_by_default_even_for_an_english_browser(login, world):
    c = login("county_officer")
    html = c.get("/households/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in html and "<h1>户查询</h1>" in html


def test_bank_account_reveal_is_for_the_household_and_logged(login, world):
    c = login("civil_affairs")
    assert c.post(f"/households/{world.h1.pk}/reveal/bank/").json() == {"value": "6217000011112222333"}
    ev = AuditEvent.objects.get(action="reveal")
    assert (ev.object_type, ev.object_id, ev.household_id) == ("household", str(world.h1.pk), world.h1.pk)
    assert login("inspector").post(f"/households/{world.h1.pk}/reveal/bank/").status_code == 403


@pytest.mark.parametrize("role, url, message", [
    ("health_officer", "/health/?date=2024-13-01", "日期：“2024-13-01”应为日期，如 2024-09-01"),
    ("county_officer", "/pairing/compliance/?year=今年", "年度：“今年”应为整数"),
    ("county_officer", "/pairing/cards/513435100200.pdf?year=x", "年度：“x”应为整数"),
])
def test_malformed_query_values_get_a_chinese_answer_not_a_server_error(login, world, role, url, message):
    r = login(role).get(url)
    assert r.status_code == 400
    assert message in r.content.decode()
