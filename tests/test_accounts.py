"""Accounts and sessions (issue 11 §3): second factor, API tokens of locked/expired/disabled
accounts, token list and revoke, unlock, login throttling, password history, safe `next`,
POST-only logout. Each test fails on the code before the change."""
import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from fupin.cli.main import main
from fupin.core import services
from fupin.core.models import ApiToken, AuditEvent, PasswordHistory, User
from fupin.core.roles import Role, needs_second_factor

from .conftest import OTHER_COUNTY, PASSWORD, totp_code, totp_device


def password_login(username, password=PASSWORD, ip="10.0.0.1", **query):
    c = Client(REMOTE_ADDR=ip)
    path = "/login/" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    r = c.post(path, {"username": username, "password": password})
    return c, r


def code_for(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"


# ---- second factor ---------------------------------------------------------------------------

def test_which_roles_need_a_second_factor():
    assert sorted(r.value for r in Role if needs_second_factor(r)) == [
        "civil_affairs", "county_admin", "county_officer", "health_officer", "hospital_window",
        "medical_affairs", "township_officer", "village_cadre"]


def test_first_login_sets_up_an_authenticator_then_gets_ten_recovery_codes(world):
    c, r = password_login("county_admin")
    assert (r.status_code, r["Location"]) == (302, "/")
    # every page, not just some, sends the user to set up the second factor
    for path in ["/", "/households/", "/audit/", "/account/tokens/", f"/households/{world.h1.pk}/"]:
        r = c.get(path)
        assert (r.status_code, r["Location"]) == (302, "/account/otp/setup/?next=" + path)
    assert c.post(f"/persons/{world.h1.persons.first().pk}/reveal/id/")["Location"] == "/account/otp/setup/"
    html = c.get("/account/otp/setup/").content.decode()
    device = TOTPDevice.objects.get(user=world.users["county_admin"])
    assert device.confirmed is False
    assert otp_secret(device) in html
    assert "otpauth://totp/%E6%89%B6%E8%B4%AB%E4%BF%A1%E6%81%AF%E7%B3%BB%E7%BB%9F%3Acounty_admin?secret=" in html
    assert 'src="data:image/svg+xml;base64,' in html
    r = c.post("/account/otp/setup/?next=/households/", {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert r.status_code == 400
    assert "验证码不正确：请确认手机时间准确" in r.content.decode()
    assert c.get("/households/")["Location"] == "/account/otp/setup/?next=/households/"
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=5))
    r = c.post("/account/otp/setup/", {"code": code_for(device), "next": "/households/"})
    assert r.status_code == 200
    html = r.content.decode()
    codes = list(StaticToken.objects.filter(device__user=world.users["county_admin"]).values_list("token", flat=True))
    assert len(codes) == 10 and all(code in html for code in codes)
    assert 'href="/households/"' in html
    device.refresh_from_db()
    assert device.confirmed is True
    assert c.get("/households/").status_code == 200
    assert list(AuditEvent.objects.filter(actor=world.users["county_admin"], action="update")
                .order_by("id").values_list("summary", flat=True)) == [
        "设置第二因素（TOTP 验证器）", "生成 10 个第二因素恢复码（旧恢复码作废）"]


def otp_secret(device):
    from fupin.core import otp
    return otp.secret(device)


def test_each_session_must_enter_a_code_and_wrong_codes_are_refused_and_throttled(world):
    user = world.users["hospital_window"]
    device = totp_device(user)
    c, r = password_login("hospital_window", next="/health/window/")
    assert r["Location"] == "/health/window/"
    r = c.get("/health/window/")
    assert (r.status_code, r["Location"]) == (302, "/account/otp/?next=/health/window/")
    assert c.get("/account/otp/setup/")["Location"] == "/account/otp/"   # no second device behind its back
    wrong = "123456" if code_for(device) != "123456" else "654321"
    r = c.post("/account/otp/", {"code": wrong, "next": "/health/window/"})
    assert r.status_code == 400
    assert "验证码不正确或已过期：请输入验证器应用中当前显示的6位数字（每个数字只能用一次）" in r.content.decode()
    assert c.get("/health/window/").status_code == 302
    # django-otp throttles: right after a wrong code even the right one waits
    r = c.post("/account/otp/", {"code": code_for(device)})
    assert r.status_code == 400 and "验证码错误次数过多，请于 " in r.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - dt.timedelta(seconds=5))
    code = code_for(device)   # kept: the same code below even when the 30 s window turns in between
    r = c.post("/account/otp/", {"code": code, "next": "/health/window/"})
    assert (r.status_code, r["Location"]) == (302, "/health/window/")
    assert c.get("/health/window/").status_code == 200
    # the same code cannot be used twice (another session)
    c2, _ = password_login("hospital_window", ip="10.0.0.2")
    r = c2.post("/account/otp/", {"code": code})
    assert r.status_code == 400
    assert list(AuditEvent.objects.filter(actor=user, action__in=["login", "login_failed"]).order_by("id")
                .values_list("action", "summary")) == [
        ("login", "登录成功"), ("login_failed", "第二因素验证码错误"), ("login", "第二因素验证通过（验证码）"),
        ("login", "登录成功"), ("login_failed", "第二因素验证码错误")]


def test_a_recovery_code_works_once(world):
    from fupin.core import otp

    user = world.users["civil_affairs"]
    totp_device(user)
    codes = otp.recovery_codes_new(actor=user, user=user)
    assert len(codes) == 10 and len(set(codes)) == 10
    c, _ = password_login("civil_affairs")
    r = c.post("/account/otp/", {"code": codes[3].upper()[:4] + "-" + codes[3][4:]})
    assert (r.status_code, r["Location"]) == (302, "/")
    assert c.get("/households/").status_code == 200
    assert StaticToken.objects.filter(device__user=user).count() == 9
    c2, _ = password_login("civil_affairs", ip="10.0.0.2")
    r = c2.post("/account/otp/", {"code": codes[3]})
    assert r.status_code == 400
    assert "恢复码不正确或已用过：每个恢复码只能用一次，请换一个未用过的恢复码" in r.content.decode()


def test_roles_without_the_need_are_not_asked(world):
    c, _ = password_login("inspector")
    assert c.get("/households/").status_code == 200
    assert c.get("/account/otp/")["Location"] == "/"
    assert c.get("/account/otp/setup/")["Location"] == "/"
    assert TOTPDevice.objects.count() == 0


def test_verify_page_next_stays_inside_the_site(world):
    device = totp_device(world.users["county_officer"])
    c, _ = password_login("county_officer")
    r = c.post("/account/otp/?next=https://evil.example/", {"code": code_for(device)})
    assert (r.status_code, r["Location"]) == (302, "/")


def test_tokens_are_created_only_by_a_verified_session(world):
    user = world.users["county_officer"]
    totp_device(user)
    c, _ = password_login("county_officer")
    r = c.post("/account/tokens/", {"name": "乡镇对接"})
    assert r["Location"] == "/account/otp/"
    assert ApiToken.objects.count() == 0
    c.post("/account/otp/", {"code": totp_code(user)})
    r = c.post("/account/tokens/", {"name": "乡镇对接"})
    assert r.status_code == 200
    raw = r.content.decode().split('id="new-token">')[1].split("<")[0]
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.digest) == (user, "乡镇对接", ApiToken.hash(raw))
    assert Client().get("/api/v1/regions", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_demo_accounts_get_a_device_and_the_printed_secret_passes_the_second_factor(db, settings):
    from fupin.demo import generator

    settings.DEMO = True
    county = generator.generate(60, min_villages=2)
    generator.seed_database(county)
    generator.seed_demo_users(county)
    secrets = generator.demo_totp_secrets(county)
    assert sorted(secrets) == sorted(u for u, *_ in generator.demo_users(county))
    assert TOTPDevice.objects.filter(confirmed=True).count() == len(secrets)
    import base64
    key = base64.b32decode(secrets["admin"] + "=" * (-len(secrets["admin"]) % 8))
    c, r = password_login("admin", generator.DEMO_PASSWORD)
    assert c.get("/")["Location"] == "/account/otp/?next=/"
    r = c.post("/account/otp/", {"code": f"{totp(key):06d}"})
    assert (r.status_code, r["Location"]) == (302, "/")
    settings.DEMO = False
    assert generator.demo_totp_secrets(county) == {}


# ---- API tokens --------------------------------------------------------------------------------

def _api(raw):
    return Client().get("/api/v1/regions", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code


@pytest.mark.parametrize("change", [
    {"locked_until": "future"}, {"is_active": False}, {"expires_at": "past"},
    {"password_changed_at": "old"}])
def test_tokens_of_locked_disabled_or_expired_accounts_stop_at_once(world, change):
    user = world.users["inspector"]
    raw = services.token_create(actor=user, user=user, name="t")
    assert _api(raw) == 200
    now = timezone.now()
    value = {"future": now + dt.timedelta(minutes=5), "past": now - dt.timedelta(minutes=1),
             "old": now - dt.timedelta(days=91)}.get(next(iter(change.values())), next(iter(change.values())))
    User.objects.filter(pk=user.pk).update(**{next(iter(change)): value})
    assert _api(raw) == 401


def test_lockout_by_failed_logins_stops_the_token(world, settings):
    settings.LOGIN_MAX_FAILURES = 2
    user = world.users["inspector"]
    raw = services.token_create(actor=user, user=user, name="t")
    for _ in range(2):
        password_login("inspector", "wrong")
    assert _api(raw) == 401


def test_owner_lists_and_revokes_tokens_on_the_page(world):
    user = world.users["inspector"]
    raw = services.token_create(actor=user, user=user, name="报表程序")
    services.token_create(actor=user, user=user, name="另一个")
    other = services.token_create(actor=world.users["auditor"], user=world.users["auditor"], name="审计")
    c, _ = password_login("inspector")
    html = c.get("/account/tokens/").content.decode()
    assert "报表程序" in html and "另一个" in html and "审计" not in html
    assert 'href="/account/tokens/"' in c.get("/households/").content.decode()   # under the account menu
    token = ApiToken.objects.get(name="报表程序")
    r = c.post(f"/account/tokens/{token.pk}/revoke/")
    assert (r.status_code, r["Location"]) == (302, "/account/tokens/")
    assert _api(raw) == 401
    token.refresh_from_db()
    assert (token.revoked, token.revoked_by) == (True, user)
    assert "已撤销" in c.get("/account/tokens/").content.decode()
    assert AuditEvent.objects.filter(action="token", summary=f"撤销接口令牌 报表程序（编号 {token.pk}）").count() == 1
    r = c.post(f"/account/tokens/{token.pk}/revoke/")
    assert r.status_code == 400 and "已于 " in r.content.decode()
    # someone else's token: not found, still valid
    theirs = ApiToken.objects.get(name="审计")
    assert c.post(f"/account/tokens/{theirs.pk}/revoke/").status_code == 403
    assert c.get(f"/account/tokens/?user={world.users['auditor'].pk}").status_code == 403
    assert services.token_user(other) == world.users["auditor"]


def test_an_administrator_lists_and_revokes_tokens_of_accounts_in_the_region_only(world, login):
    officer = world.users["township_officer"]
    raw = services.token_create(actor=officer, user=officer, name="乡镇")
    stranger = User.objects.create(username="stranger_far", role="inspector", region_id=OTHER_COUNTY,
                                   password_changed_at=timezone.now())
    far = services.token_create(actor=stranger, user=stranger, name="外县")
    c = login("county_admin")
    html = c.get("/account/users/").content.decode()
    assert "township_officer" in html and "stranger_far" not in html
    assert "乡镇" in c.get(f"/account/tokens/?user={officer.pk}").content.decode()
    token = ApiToken.objects.get(name="乡镇")
    assert c.post(f"/account/tokens/{token.pk}/revoke/")["Location"] == f"/account/tokens/?user={officer.pk}"
    assert _api(raw) == 401
    assert ApiToken.objects.get(pk=token.pk).revoked_by == world.users["county_admin"]
    far_token = ApiToken.objects.get(name="外县")
    assert c.post(f"/account/tokens/{far_token.pk}/revoke/").status_code == 404
    assert c.get(f"/account/tokens/?user={stranger.pk}").status_code == 404
    assert _api(far) == 200


def test_cli_lists_and_revokes_tokens(world, capsys):
    user = world.users["inspector"]
    raw = services.token_create(actor=user, user=user, name="脚本")
    token = ApiToken.objects.get()
    assert main(["token", "list", "inspector"]) == 0
    assert capsys.readouterr().out.split("\t")[:3] == [str(token.pk), "脚本", f"{timezone.localtime(token.created_at):%Y-%m-%d %H:%M}"]
    assert main(["token", "revoke", str(token.pk), "--user", "auditor"]) == 2
    assert "您的角色没有“管理用户”权限，如需办理请联系县级管理员" in capsys.readouterr().err
    assert _api(raw) == 200
    assert main(["token", "revoke", str(token.pk), "--user", "county_admin"]) == 0
    assert capsys.readouterr().out == f"已撤销接口令牌 {token.pk}（脚本，账户 inspector）\n"
    assert _api(raw) == 401


# ---- unlock ------------------------------------------------------------------------------------

def _lock(user):
    User.objects.filter(pk=user.pk).update(locked_until=timezone.now() + dt.timedelta(minutes=30))


def test_an_administrator_unlocks_an_account_on_the_page(world, login):
    cadre = world.users["village_cadre"]
    _lock(cadre)
    _, r = password_login("village_cadre")
    assert r.status_code == 400
    c = login("county_admin")
    html = c.get("/account/users/").content.decode()
    assert f'action="/account/users/{cadre.pk}/unlock/"' in html
    assert c.post(f"/account/users/{cadre.pk}/unlock/")["Location"] == "/account/users/"
    cadre.refresh_from_db()
    assert (cadre.locked_until, cadre.failed_logins) == (None, 0)
    _, r = password_login("village_cadre", ip="10.0.0.9")
    assert r.status_code == 302
    assert AuditEvent.objects.filter(actor=world.users["county_admin"], summary="解锁账户 village_cadre").count() == 1
    r = c.post(f"/account/users/{cadre.pk}/unlock/")
    assert r.status_code == 400 and "账户 village_cadre 未被锁定，无需解锁" in r.content.decode()


def test_unlock_is_refused_to_other_roles_and_changes_nothing(world, login):
    cadre = world.users["village_cadre"]
    _lock(cadre)
    before = User.objects.get(pk=cadre.pk).locked_until
    c = login("county_officer")
    assert c.post(f"/account/users/{cadre.pk}/unlock/").status_code == 403
    assert c.get("/account/users/").status_code == 403
    assert User.objects.get(pk=cadre.pk).locked_until == before
    assert AuditEvent.objects.filter(action="denied", actor=world.users["county_officer"]).count() == 2


def test_cli_unlocks(world, capsys):
    _lock(world.users["village_cadre"])
    assert main(["user", "unlock", "village_cadre", "--user", "county_officer"]) == 2
    assert "您的角色没有“管理用户”权限" in capsys.readouterr().err
    assert User.objects.get(username="village_cadre").locked_until is not None
    assert main(["user", "unlock", "village_cadre", "--user", "county_admin"]) == 0
    assert capsys.readouterr().out == "已解锁账户 village_cadre\n"
    assert User.objects.get(username="village_cadre").locked_until is None


# ---- login throttling and messages -------------------------------------------------------------

def test_a_wrong_name_and_a_wrong_password_get_the_same_answers(world, settings):
    settings.LOGIN_MAX_FAILURES = 3
    answers = {}
    for name in ["inspector", "no_such_user"]:
        seen = []
        for i in range(4):
            _, r = password_login(name, "wrong", ip=f"10.1.{len(answers)}.{i}")
            seen.append((r.status_code, r.content.decode().split('role="alert">')[1].split("<")[0]))
        answers[name] = seen
    assert answers["inspector"] == answers["no_such_user"]
    assert [m for _, m in answers["inspector"]][:3] == [
        "用户名或密码错误；再失败 2 次账户将被锁定", "用户名或密码错误；再失败 1 次账户将被锁定",
        "用户名或密码错误；已连续失败 3 次，账户锁定 30 分钟"]
    assert answers["inspector"][3][1].startswith("连续登录失败次数过多，账户已锁定至 ")


def test_login_is_throttled_per_ip(world, settings):
    settings.LOGIN_IP_MAX_FAILURES = 3
    settings.LOGIN_IP_WINDOW_MINUTES = 15
    for name in ["a", "b", "inspector"]:
        password_login(name, "wrong", ip="10.9.9.9")
    _, r = password_login("auditor", ip="10.9.9.9")   # right password, same address
    assert r.status_code == 429
    assert "从您所在的网络地址登录失败次数过多，请 15 分钟后再试" in r.content.decode()
    assert User.objects.get(username="auditor").failed_logins == 0
    _, r = password_login("auditor", ip="10.9.9.10")
    assert r.status_code == 302
    settings.LOGIN_IP_WINDOW_MINUTES = 0   # the window has passed
    _, r = password_login("auditor", ip="10.9.9.9")
    assert r.status_code == 302


def test_expired_account_cannot_log_in(world):
    User.objects.filter(username="inspector").update(expires_at=timezone.now() - dt.timedelta(days=1))
    c, r = password_login("inspector")
    assert r.status_code == 400
    assert "请联系县级管理员延长有效期" in r.content.decode()
    assert "_auth_user_id" not in c.session


# ---- password history --------------------------------------------------------------------------

def test_the_last_five_passwords_cannot_be_reused(world, login, settings):
    c = login("inspector")
    user = world.users["inspector"]
    passwords = [PASSWORD] + [f"Neu#Passwort-{i}x" for i in range(1, 6)]
    for old, new in zip(passwords, passwords[1:]):
        r = c.post("/password/", {"old": old, "new": new, "new2": new})
        assert r.status_code == 302, r.content.decode()
    assert PasswordHistory.objects.filter(user=user).count() == 5
    current = passwords[-1]
    for reused in passwords[1:]:     # the current one and the four before it
        r = c.post("/password/", {"old": current, "new": reused, "new2": reused})
        assert r.status_code == 200
        assert "新密码不能与最近 5 次使用过的密码相同，请换一个从未用过的密码" in r.content.decode()
    assert User.objects.get(pk=user.pk).check_password(current)
    r = c.post("/password/", {"old": current, "new": PASSWORD, "new2": PASSWORD})   # six ago: allowed
    assert r.status_code == 302


# ---- next and logout ---------------------------------------------------------------------------

@pytest.mark.parametrize("target,expected", [
    ("https://evil.example/", "/"), ("//evil.example/x", "/"), ("http:evil.example", "/"),
    ("/households/", "/households/")])
def test_login_next_only_redirects_inside_the_site(world, target, expected):
    c = Client()
    r = c.post("/login/?next=" + target, {"username": "inspector", "password": PASSWORD})
    assert (r.status_code, r["Location"]) == (302, expected)


def test_logout_is_post_only(world, login):
    c = login("inspector")
    assert c.get("/logout/").status_code == 405
    assert c.get("/households/").status_code == 200
    html = c.get("/households/").content.decode()
    assert '<form class="inline" method="post" action="/logout/">' in html
    assert 'href="/logout/"' not in html
    assert c.post("/logout/")["Location"] == "/login/"
    assert c.get("/households/")["Location"] == "/login/?next=/households/"


def test_logging_out_ends_the_second_factor_too(world, login):
    c = login("county_officer")
    assert c.get("/households/").status_code == 200
    c.post("/logout/")
    c.post("/login/", {"username": "county_officer", "password": PASSWORD})
    assert c.get("/households/")["Location"] == "/account/otp/?next=/households/"


def test_force_login_fixture_passes_the_real_page_even_thrice_in_one_step(world):
    from .conftest import SecondFactorClient

    user = world.users["county_officer"]
    for _ in range(3):
        c = SecondFactorClient()
        c.force_login(user)
        assert c.get("/households/").status_code == 200
    assert AuditEvent.objects.filter(actor=user, summary="第二因素验证通过（验证码）").count() == 3


def test_demo_command_prints_each_accounts_totp_secret(db, settings, capsys, monkeypatch):
    from fupin.core import otp
    from fupin.demo import generator

    monkeypatch.setenv("FUPIN_DEMO", "1")
    settings.DEMO = True
    assert main(["demo", "--no-serve", "--persons", "60", "--households", "20"]) == 0
    out = capsys.readouterr().out
    for username, _, role, _ in generator.demo_users(generator.generate(60, households=20)):
        secret = otp.secret(TOTPDevice.objects.get(user__username=username))
        line = next(line for line in out.splitlines() if line.startswith(f"  {username} "))
        assert line.endswith(f"TOTP {secret}")
        assert (f"{role:<18}*" in line) == needs_second_factor(role)


def test_an_administrator_resets_a_lost_authenticator_and_earlier_sessions_stop_counting(world, login):
    from .conftest import SecondFactorClient

    cadre = world.users["village_cadre"]
    theirs = SecondFactorClient()
    theirs.force_login(cadre)
    assert theirs.get("/households/").status_code == 200
    refused = login("county_officer")
    assert refused.post(f"/account/users/{cadre.pk}/otp-reset/").status_code == 403
    assert TOTPDevice.objects.filter(user=cadre).count() == 1
    admin = SecondFactorClient()
    admin.force_login(world.users["county_admin"])
    assert f'action="/account/users/{cadre.pk}/otp-reset/"' in admin.get("/account/users/").content.decode()
    assert admin.post(f"/account/users/{cadre.pk}/otp-reset/")["Location"] == "/account/users/"
    assert TOTPDevice.objects.filter(user=cadre).count() == 0
    assert theirs.get("/households/")["Location"] == "/account/otp/setup/?next=/households/"
    assert AuditEvent.objects.filter(summary="重置账户 village_cadre 的第二因素（验证器与恢复码）").count() == 1
    r = admin.post(f"/account/users/{cadre.pk}/otp-reset/")
    assert r.status_code == 400 and "账户 village_cadre 还没有设置验证器，无需重置" in r.content.decode()


def test_cli_resets_the_second_factor(world, capsys):
    totp_device(world.users["hospital_window"])
    assert main(["user", "otp-reset", "hospital_window", "--user", "inspector"]) == 2
    assert "您的角色没有“管理用户”权限" in capsys.readouterr().err
    assert main(["user", "otp-reset", "hospital_window", "--user", "county_admin"]) == 0
    assert capsys.readouterr().out == "已重置账户 hospital_window 的第二因素，下次登录时重新设置验证器\n"
    assert TOTPDevice.objects.filter(user=world.users["hospital_window"]).count() == 0


def test_an_administrator_cannot_create_a_token_for_someone_else(world, login):
    c = login("county_admin")
    officer = world.users["township_officer"]
    assert "创建令牌" not in c.get(f"/account/tokens/?user={officer.pk}").content.decode()
    r = c.post(f"/account/tokens/?user={officer.pk}", {"name": "冒用"})
    assert r.status_code == 403
    assert "接口令牌只能由账户本人创建" in r.content.decode()
    assert ApiToken.objects.count() == 0


def test_behind_a_trusted_proxy_the_limit_is_per_client_address(world, settings):
    settings.LOGIN_IP_MAX_FAILURES = 2
    settings.TRUSTED_PROXIES = ["10.0.0.254"]

    def via_proxy(username, password, forwarded):
        return Client(REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR=forwarded).post(
            "/login/", {"username": username, "password": password})

    for _ in range(2):
        via_proxy("x", "wrong", "1.2.3.4, 10.0.0.254")
    assert via_proxy("auditor", PASSWORD, "1.2.3.4").status_code == 429
    assert via_proxy("auditor", PASSWORD, "5.6.7.8").status_code == 302
    assert list(AuditEvent.objects.filter(action="login_failed").values_list("ip", flat=True)) == ["1.2.3.4"] * 3
    # without the setting, X-Forwarded-For is ignored (a client cannot forge its address)
    settings.TRUSTED_PROXIES = []
    assert via_proxy("auditor", PASSWORD, "5.6.7.8").status_code == 302
    assert AuditEvent.objects.filter(action="login", actor_name="auditor").first().ip == "10.0.0.254"
