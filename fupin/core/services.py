"""Login with lockout, password change, API tokens — each writes its audit record."""
from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import audit
from .errors import AccessDenied, FupinError, InvalidInput, NotFound
from .models import ApiToken, AuditAction, AuditEvent, AuditResult, User
from .roles import Cap


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or, when that is a proxy listed in TRUSTED_PROXIES,
    the nearest address in X-Forwarded-For that is not one of them."""
    import ipaddress

    if request is None:
        return None
    ip = request.META.get("REMOTE_ADDR")
    if ip in settings.TRUSTED_PROXIES:
        for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            hop = hop.strip()
            if hop and hop not in settings.TRUSTED_PROXIES:
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    break
    return ip


_client_ip = client_ip


class Throttled(FupinError):
    status = 429


# Audit summaries of refused logins; the ones for names without an account let a wrong name
# be answered exactly like a wrong password (same counts, same lock), so names cannot be probed.
NO_SUCH_USER = "用户名不存在"
NO_SUCH_USER_LOCKED = "用户名不存在，模拟锁定"


def _failed_from_ip(ip: str | None, now) -> int:
    if not ip:
        return 0
    since = now - dt.timedelta(minutes=settings.LOGIN_IP_WINDOW_MINUTES)
    return AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, ip=ip, at__gte=since).count()


def _unknown_name_state(username: str, now) -> tuple[int, dt.datetime | None]:
    """(failures in a row, locked until) of a name that has no account, read from its audit rows
    of the last LOGIN_LOCK_MINUTES (the indexed time column bounds the search)."""
    lock_for = dt.timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    rows = AuditEvent.objects.filter(at__gte=now - lock_for, action=AuditAction.LOGIN_FAILED, actor=None,
                                     object_type="user", object_id=username)
    lock = rows.filter(summary=NO_SUCH_USER_LOCKED).order_by("-at").first()
    if lock is not None:
        return 0, lock.at + lock_for
    return rows.filter(summary=NO_SUCH_USER).count(), None


def user_login(*, request, username: str, password: str) -> User:
    """Check a login.

    Throttled per IP (LOGIN_IP_MAX_FAILURES failures within LOGIN_IP_WINDOW_MINUTES) and per
    account (locked for LOGIN_LOCK_MINUTES after LOGIN_MAX_FAILURES failures in a row). A wrong
    name and a wrong password get the same answer. The second factor is asked for afterwards
    (core.middleware.SecondFactorMiddleware)."""
    ip = _client_ip(request)
    user = User.objects.filter(username=username).first()
    now = timezone.now()

    def fail(reason: str, message: str, target: User | None = None, error=FupinError):
        audit.record(target, AuditAction.LOGIN_FAILED, object_type="user", object_id=username,
                     result=AuditResult.FAILED, summary=reason, ip=ip, actor_name=username or "（空）")
        raise error(message)

    if _failed_from_ip(ip, now) >= settings.LOGIN_IP_MAX_FAILURES:
        fail("同一地址失败过多，已限流",
             f"从您所在的网络地址登录失败次数过多，请 {settings.LOGIN_IP_WINDOW_MINUTES} 分钟后再试；"
             "如需立即登录请联系县级管理员", user, error=Throttled)
    if user is None:
        failures, locked_until = _unknown_name_state(username, now)
    else:
        failures, locked_until = user.failed_logins, user.locked_until
    if locked_until and locked_until > now:
        local = timezone.localtime(locked_until)
        fail("账户已锁定", f"连续登录失败次数过多，账户已锁定至 {local:%H:%M}；如需立即解锁请联系县级管理员", user)
    if user is not None and user.is_demo and not settings.DEMO:
        fail("演示账户在非演示部署中被拒绝", "演示账户在正式部署中不可用", user)
    authed = authenticate(request, username=username, password=password)
    if authed is None:
        failures += 1
        locks = failures >= settings.LOGIN_MAX_FAILURES
        if user is not None:
            User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
            user.refresh_from_db(fields=["failed_logins"])
            failures = user.failed_logins
            locks = failures >= settings.LOGIN_MAX_FAILURES
            if locks:
                User.objects.filter(pk=user.pk).update(
                    locked_until=now + dt.timedelta(minutes=settings.LOGIN_LOCK_MINUTES), failed_logins=0)
            reason = "密码错误，账户已锁定" if locks else "密码错误"
        else:
            reason = NO_SUCH_USER_LOCKED if locks else NO_SUCH_USER
        if locks:
            fail(reason, f"用户名或密码错误；已连续失败 {settings.LOGIN_MAX_FAILURES} 次，账户锁定 "
                         f"{settings.LOGIN_LOCK_MINUTES} 分钟", user)
        left = settings.LOGIN_MAX_FAILURES - failures
        fail(reason, f"用户名或密码错误；再失败 {left} 次账户将被锁定", user)
    if authed.expires_at and authed.expires_at <= now:
        fail("账户已过期", f"账户已于 {timezone.localtime(authed.expires_at):%Y-%m-%d} 到期，"
                          "请联系县级管理员延长有效期", authed)
    User.objects.filter(pk=authed.pk).update(failed_logins=0, locked_until=None)
    audit.record(authed, AuditAction.LOGIN, object_type="user", object_id=authed.pk, ip=ip, summary="登录成功")
    return authed


def access_account(actor: User, pk) -> User:
    """The account `pk` if `actor` may manage it: one's own, or one in the region of an
    administrator (MANAGE_USERS). Others are reported as not found."""
    from . import access

    target = User.objects.select_related("region").filter(pk=pk).first() if str(pk).isdigit() else None
    if target is not None and target.pk == actor.pk:
        return target
    access.require(actor, Cap.MANAGE_USERS, what="管理其他账户")
    if target is None or target.region_id is None or not access.in_scope(actor, target.region_id):
        raise NotFound(f"找不到账户（编号 {pk}），或该账户不在您的管辖范围内")
    return target


def users_for(actor: User):
    """Accounts an administrator manages (its region), for the users page."""
    from . import access

    access.require(actor, Cap.MANAGE_USERS, what="查看账户列表")
    lo, hi = access.scope_range(actor)
    return User.objects.filter(region_id__gte=lo, region_id__lte=hi).select_related("region").order_by("username")


def user_unlock(*, actor: User, user: User) -> None:
    """An administrator lifts a lockout at once (the user asked by phone, say)."""
    _managed(actor, user, "解锁账户")  # before the transaction: the refusal's row stays; no peer administrator
    with transaction.atomic():
        if not User.objects.filter(pk=user.pk, locked_until__gt=timezone.now()).update(
                locked_until=None, failed_logins=0):
            raise FupinError(f"账户 {user.username} 未被锁定，无需解锁")
        user.locked_until, user.failed_logins = None, 0
        audit.record(actor, AuditAction.UPDATE, object_type="user", object_id=user.pk,
                     summary=f"解锁账户 {user.username}")


@transaction.atomic
def user_set_password(*, actor: User, user: User, password: str) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput({"新密码": "；".join(exc.messages)}) from None
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])
    audit.record(actor, AuditAction.UPDATE, object_type="user", object_id=user.pk, summary="修改密码")


def token_create(*, actor: User, user: User, name: str) -> str:
    """Create an API token; the raw value is returned once and never stored.

    A token is the second factor's equivalent for machines, so it is made only by the CLI
    (someone with the server's shell) or by a session that passed the second factor
    (core.middleware.SecondFactorMiddleware sees to that for the web page)."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise InvalidInput({"令牌名称": "请填写 1 到 80 个字的名称，如“乡镇对接程序”"})
    if actor.pk != user.pk:  # an administrator may list and revoke, but never act as someone else
        _refuse(actor, f"为账户 {user.username} 创建接口令牌", "接口令牌只能由账户本人创建（或在服务器上用 fupin token create 创建）")
    raw = "fp_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        ApiToken.objects.create(user=user, name=name, digest=ApiToken.hash(raw))
        audit.record(actor, AuditAction.TOKEN, object_type="user", object_id=user.pk, summary=f"创建接口令牌 {name}")
    return raw


def tokens_for(*, actor: User, user: User):
    user = access_account(actor, user.pk)
    return ApiToken.objects.filter(user=user).select_related("revoked_by")


def token_revoke(*, actor: User, token_id) -> ApiToken:
    """The owner or an administrator of the owner's region revokes a token; it stops at once."""
    token = ApiToken.objects.filter(pk=token_id).first() if str(token_id).isdigit() else None
    if token is None:
        raise NotFound(f"找不到接口令牌（编号 {token_id}），请从令牌列表中选择")
    if token.user_id != actor.pk:
        try:
            access_account(actor, token.user_id)
        except NotFound:
            raise NotFound(f"找不到接口令牌（编号 {token_id}），请从令牌列表中选择") from None
    now = timezone.now()
    with transaction.atomic():
        if not ApiToken.objects.filter(pk=token.pk, revoked=False).update(revoked=True, revoked_at=now,
                                                                           revoked_by=actor):
            token.refresh_from_db()
            at = f"于 {timezone.localtime(token.revoked_at):%Y-%m-%d %H:%M} " if token.revoked_at else ""
            raise FupinError(f"接口令牌“{token.name}”已{at}撤销，无需再次撤销")
        token.revoked, token.revoked_at, token.revoked_by = True, now, actor
        audit.record(actor, AuditAction.TOKEN, object_type="user", object_id=token.user_id,
                     summary=f"撤销接口令牌 {token.name}（编号 {token.pk}）")
    return token


def token_user(raw: str) -> User | None:
    """The user of a live token, or None. Checked on every request: revoking the token, or
    disabling, locking or expiring its account (or its password), stops it at once."""
    from . import sql
    from .models import Region

    # one precompiled read (every API request pays it): the user and its region, by the digest
    row = sql.fetch_one(
        f"SELECT {sql.columns(User, 'u')}, {sql.columns(Region, 'r')} FROM {sql.table(ApiToken)} t "
        f"JOIN {sql.table(User)} u ON u.id = t.user_id LEFT JOIN {sql.table(Region)} r ON r.code = u.region_id "
        "WHERE t.digest = %s AND NOT t.revoked", [ApiToken.hash(raw)])
    if row is None:
        return None
    user = sql.instance(User, row, 0, "u")
    region = sql.instance(Region, row, sql.width(User), "r")
    if region is not None:
        User.region.field.set_cached_value(user, region)
    return None if user.account_problem() is not None else user


# ---- user management by the county administrator (issue 13 §2) -------------------------------
# An administrator (MANAGE_USERS) manages the accounts bound to regions inside its own. It may
# grant an administrator's role only for a region strictly below its own (a county administrator
# makes none of its peers), and never changes its own role, region or state: no account raises
# itself. Every check runs before the transaction opens, so a refusal's audit row survives.

def _refuse(actor: User, what: str, message: str):
    audit.record(actor, AuditAction.DENIED, object_type="user", result=AuditResult.DENIED, summary=what)
    raise AccessDenied(message)


def _grantable(actor: User, role: str, region) -> None:
    """May `actor` bind an account with `role` to `region`? Raises with a Chinese reason if not."""
    from . import access
    from .roles import Role, can

    if role not in Role.values:
        raise InvalidInput({"角色": "请从列表中选择角色"})
    if region is None:
        raise InvalidInput({"所属区划": "请从列表中选择区划"})
    if not access.in_scope(actor, region.code):
        _refuse(actor, f"越权授予区划 {region.code}", f"区划“{region.name}”不在您的管辖范围内，不能把账户绑定到那里")
    if can(role, Cap.MANAGE_USERS) and region.code == actor.region_id:
        _refuse(actor, f"越权授予角色 {Role(role).label}",
                f"不能授予与您同级的“{Role(role).label}”角色；如需新增本级管理员，请联系上级管理员")


def _managed(actor: User, user: User, what: str) -> User:
    """The account `user` if `actor` may manage it (not itself, not a peer administrator)."""
    from . import access
    from .roles import can

    access.require(actor, Cap.MANAGE_USERS, what=what)
    if user.pk == actor.pk:
        _refuse(actor, f"{what}：本人账户", "不能在账户管理中更改自己的账户；请由上级管理员办理")
    if user.region_id is None or not access.in_scope(actor, user.region_id):
        raise NotFound(f"找不到账户 {user.username}，或该账户不在您的管辖范围内")
    if can(user.role, Cap.MANAGE_USERS) and user.region_id == actor.region_id:
        _refuse(actor, f"{what}：同级管理员 {user.username}", "同级管理员的账户由上级管理员管理")
    return user


def _one_time_password() -> str:
    """A password that passes the complexity rule, shown once; the user must change it at first login."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
    body = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{body[:5]}-{body[5:]}{secrets.randbelow(90) + 10}Aa"


def _must_change(user: User, password: str) -> None:
    # No date of change: PasswordExpiryMiddleware sends the user to /password/ at the first page.
    user.set_password(password)
    user.password_changed_at = None


def user_create(*, actor: User, username: str, full_name: str, role: str, region) -> tuple[User, str]:
    """A new account with a one-time password (returned once, never stored in clear)."""
    import re

    from . import access

    access.require(actor, Cap.MANAGE_USERS, what="创建账户")
    username = (username or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_.-]{2,40}", username):
        raise InvalidInput({"账号": "应为 2 到 40 位字母、数字或 _ . -，如 zhangsan01"})
    if User.objects.filter(username=username).exists():
        raise InvalidInput({"账号": f"“{username}”已被使用，请换一个"})
    full_name = (full_name or "").strip()
    if not full_name or len(full_name) > 30:
        raise InvalidInput({"姓名": "请填写 1 到 30 个字的姓名"})
    _grantable(actor, role, region)
    password = _one_time_password()
    with transaction.atomic():
        user = User(username=username, first_name=full_name, role=role, region=region)
        _must_change(user, password)
        user.save()
        audit.record(actor, AuditAction.CREATE, object_type="user", object_id=user.pk,
                     summary=f"创建账户 {username}（{user.get_role_display()}，{region.name}）")
    return user, password


def user_set_active(*, actor: User, user: User, active: bool) -> None:
    """Disable (every session and token stops at once: account_problem) or enable an account."""
    what = "启用账户" if active else "停用账户"
    _managed(actor, user, what)
    with transaction.atomic():
        if not User.objects.filter(pk=user.pk, is_active=not active).update(is_active=active):
            raise FupinError(f"账户 {user.username} 已{'是启用' if active else '停用'}状态")
        user.is_active = active
        audit.record(actor, AuditAction.UPDATE, object_type="user", object_id=user.pk, summary=f"{what} {user.username}")
    # A disabled account's sessions end at its next request (Django's ModelBackend no longer
    # returns an inactive user) and its tokens at once (account_problem).


def user_reset_password(*, actor: User, user: User) -> str:
    """A new one-time password, shown once to the administrator; the user must change it at next login."""
    _managed(actor, user, "重置密码")
    password = _one_time_password()
    with transaction.atomic():
        _must_change(user, password)
        user.failed_logins, user.locked_until = 0, None
        user.save(update_fields=["password", "password_changed_at", "failed_logins", "locked_until"])
        audit.record(actor, AuditAction.UPDATE, object_type="user", object_id=user.pk,
                     summary=f"重置账户 {user.username} 的密码（一次性密码，须在下次登录时修改）")
    return password


def user_change(*, actor: User, user: User, role: str, region) -> None:
    """Change an account's role and region (both picked from lists on the page)."""
    from .roles import Role

    _managed(actor, user, "修改账户角色与区划")
    _grantable(actor, role, region)
    before = (user.get_role_display(), user.region.name if user.region_id else "")
    if (role, region.code) == (user.role, user.region_id):
        raise InvalidInput({"角色": "角色和区划都没有改变"})
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(role=role, region=region)
        user.role, user.region = role, region
        audit.record(actor, AuditAction.UPDATE, object_type="user", object_id=user.pk,
                     summary=f"修改账户 {user.username}：{before[0]}（{before[1]}）→ {Role(role).label}（{region.name}）",
                     detail={"role": [before[0], Role(role).label], "region": [before[1], region.name]})
