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
from .errors import FupinError, InvalidInput
from .models import ApiToken, AuditAction, AuditResult, User


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def user_login(*, request, username: str, password: str) -> User:
    """Check a login. Locks the account after LOGIN_MAX_FAILURES failures in a row."""
    ip = _client_ip(request)
    user = User.objects.filter(username=username).first()
    now = timezone.now()

    def fail(reason: str, message: str, target: User | None = None):
        audit.record(target, AuditAction.LOGIN_FAILED, object_type="user", object_id=username,
                     result=AuditResult.FAILED, summary=reason, ip=ip, actor_name=username or "（空）")
        raise FupinError(message)

    if user is not None and user.locked_until and user.locked_until > now:
        local = timezone.localtime(user.locked_until)
        fail("账户已锁定", f"连续登录失败次数过多，账户已锁定至 {local:%H:%M}；如需立即解锁请联系县级管理员", user)
    if user is not None and user.is_demo and not settings.DEMO:
        fail("演示账户在非演示部署中被拒绝", "演示账户在正式部署中不可用", user)
    authed = authenticate(request, username=username, password=password)
    if authed is None:
        if user is not None:
            User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
            user.refresh_from_db(fields=["failed_logins"])
            if user.failed_logins >= settings.LOGIN_MAX_FAILURES:
                User.objects.filter(pk=user.pk).update(
                    locked_until=now + dt.timedelta(minutes=settings.LOGIN_LOCK_MINUTES), failed_logins=0)
                fail("密码错误，账户已锁定",
                     f"用户名或密码错误；已连续失败 {settings.LOGIN_MAX_FAILURES} 次，账户锁定 "
                     f"{settings.LOGIN_LOCK_MINUTES} 分钟", user)
            left = settings.LOGIN_MAX_FAILURES - user.failed_logins
            fail("密码错误", f"用户名或密码错误；再失败 {left} 次账户将被锁定", user)
        fail("用户名不存在", "用户名或密码错误")
    User.objects.filter(pk=authed.pk).update(failed_logins=0, locked_until=None)
    audit.record(authed, AuditAction.LOGIN, object_type="user", object_id=authed.pk, ip=ip, summary="登录成功")
    return authed


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


@transaction.atomic
def token_create(*, actor: User, user: User, name: str) -> str:
    """Create an API token; the raw value is returned once and never stored."""
    raw = "fp_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, digest=ApiToken.hash(raw))
    audit.record(actor, AuditAction.TOKEN, object_type="user", object_id=user.pk, summary=f"创建接口令牌 {name}")
    return raw


def token_user(raw: str) -> User | None:
    token = ApiToken.objects.select_related("user__region").filter(digest=ApiToken.hash(raw), revoked=False).first()
    if token is None or not token.user.is_active:
        return None
    if token.user.is_demo and not settings.DEMO:
        return None
    return token.user
