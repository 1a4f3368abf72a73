"""Second factor: TOTP devices and recovery codes (django-otp), each step audited.

Who needs it is `roles.needs_second_factor(role)` (administrators and every role that moves
money or reveals full numbers). Where it is enforced is one place:
`core.middleware.SecondFactorMiddleware` sends such a user, until this session has passed the
second factor, to /account/otp/ (enter a code) or /account/otp/setup/ (first time).

The REST API does not ask for codes: a bearer token is the machine's second factor. It can be
created only by a session that passed the second factor or by the `fupin` command on the
server, and it stops working at once when its account is disabled, locked or expired.
"""
from __future__ import annotations

import base64
import io
from base64 import b32encode

from django.conf import settings
from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit
from .errors import FupinError
from .models import AuditAction, AuditResult, User
from .roles import Cap, needs_second_factor

TOTP_NAME = "验证器"
RECOVERY_NAME = "恢复码"


def required(user) -> bool:
    return bool(user.is_authenticated and needs_second_factor(user.role))


VERIFIED_USER_KEY = "fupin_otp_user"  # beside django-otp's DEVICE_ID_SESSION_KEY


def is_verified(request) -> bool:
    """Has this session passed the second factor? Read from the session alone (no query):
    the marks are set only by `_passed` after a correct code, and login/logout reset the session.
    (django-otp's OTPMiddleware would load the device on every request; it is not installed.)"""
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    return bool(session is not None and user is not None and user.is_authenticated
                and session.get(DEVICE_ID_SESSION_KEY)
                and session.get(VERIFIED_USER_KEY) == [user.pk, user.otp_epoch])


def _passed(request, device) -> None:
    otp_login(request, device)
    request.session[VERIFIED_USER_KEY] = [request.user.pk, request.user.otp_epoch]


def totp_device(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("id").first()


def secret(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed in (base32, no padding)."""
    return b32encode(device.bin_key).decode().rstrip("=")


def recovery_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def setup_device(user: User) -> TOTPDevice:
    """The device being set up (unconfirmed), made on first visit and kept until confirmed."""
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def _ip(request):
    from .services import client_ip

    return client_ip(request)


@transaction.atomic
def recovery_codes_new(*, actor: User, user: User) -> list[str]:
    """OTP_RECOVERY_CODES fresh one-time codes; the old ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = []
    while len(codes) < settings.OTP_RECOVERY_CODES:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    audit.record(actor, AuditAction.UPDATE, object_type="user", object_id=user.pk,
                 summary=f"生成 {len(codes)} 个第二因素恢复码（旧恢复码作废）")
    return codes


def confirm_setup(request, code: str) -> list[str]:
    """The first code from the new authenticator confirms the device, passes this session's
    second factor and returns the recovery codes (shown once)."""
    user = request.user
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("id").first()
        if device is None:
            raise FupinError("没有正在设置的验证器，请刷新页面重新开始")
        if not _clean(code).isdigit() or not device.verify_token(_clean(code)):
            audit.record(user, AuditAction.LOGIN_FAILED, object_type="user", object_id=user.pk,
                         result=AuditResult.FAILED, summary="设置第二因素：验证码错误", ip=_ip(request))
            raise FupinError("验证码不正确：请确认手机时间准确，扫描二维码（或输入密钥）后，填写验证器应用中当前显示的6位数字")
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        audit.record(user, AuditAction.UPDATE, object_type="user", object_id=user.pk, ip=_ip(request),
                     summary="设置第二因素（TOTP 验证器）")
        codes = recovery_codes_new(actor=user, user=user)
    _passed(request, device)
    return codes


def _clean(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def verify(request, code: str):
    """Check a 6-digit code or a recovery code; on success this session has passed the
    second factor. Wrong codes are throttled by django-otp (the wait doubles each time)."""
    user = request.user
    code = _clean(code)
    with transaction.atomic():
        if code.isdigit() and len(code) == 6:   # authenticator codes: 6 digits; recovery codes: 8 characters
            device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id").first()
            kind = "验证码"
        else:
            device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            kind = "恢复码"
        if device is None:
            raise FupinError("您还没有恢复码，请输入验证器应用中的6位数字" if kind == "恢复码"
                             else "您还没有设置验证器，请先设置")
        allowed, info = device.verify_is_allowed()
        if not allowed:
            from django.utils import timezone

            until = info.get("locked_until") if info else None
            when = f"请于 {timezone.localtime(until):%H:%M:%S} 后" if until else "请稍后"
            raise FupinError(f"{kind}错误次数过多，{when}再输入")
        ok = device.verify_token(code)
    if not ok:
        audit.record(user, AuditAction.LOGIN_FAILED, object_type="user", object_id=user.pk,
                     result=AuditResult.FAILED, summary=f"第二因素{kind}错误", ip=_ip(request))
        if kind == "恢复码":
            raise FupinError("恢复码不正确或已用过：每个恢复码只能用一次，请换一个未用过的恢复码")
        raise FupinError("验证码不正确或已过期：请输入验证器应用中当前显示的6位数字（每个数字只能用一次）")
    _passed(request, device)
    left = recovery_left(user)
    audit.record(user, AuditAction.LOGIN, object_type="user", object_id=user.pk, ip=_ip(request),
                 summary=f"第二因素验证通过（{kind}）" + (f"，剩余恢复码 {left} 个" if kind == "恢复码" else ""))
    return device


def reset(*, actor: User, user: User) -> None:
    """An administrator removes a user's authenticator and recovery codes (a lost phone); the
    user sets up a new one at the next sign-in, and sessions verified before stop counting."""
    from django.db.models import F

    from .services import _managed

    # Before the transaction, so the refusal's row stays; never one's own or a peer administrator's.
    _managed(actor, user, "重置第二因素")
    with transaction.atomic():
        if not (TOTPDevice.objects.filter(user=user).exists() or StaticDevice.objects.filter(user=user).exists()):
            raise FupinError(f"账户 {user.username} 还没有设置验证器，无需重置")
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        User.objects.filter(pk=user.pk).update(otp_epoch=F("otp_epoch") + 1)
        audit.record(actor, AuditAction.UPDATE, object_type="user", object_id=user.pk,
                     summary=f"重置账户 {user.username} 的第二因素（验证器与恢复码）")


def demo_secret(user: User) -> str:
    """Demo only: a confirmed TOTP device for a demo account, kept across runs; its secret."""
    if not (user.is_demo and settings.DEMO):
        raise FupinError("只有演示部署中的演示账户才能自动设置验证器")
    device = totp_device(user)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=True)
    return secret(device)


def qr_data_uri(text: str) -> str:
    """A QR code of `text` as an SVG data: URI (reportlab's QR widget; no inline script or style)."""
    from reportlab.graphics import renderSVG
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing

    widget = QrCodeWidget(text, barBorder=2)
    x0, y0, x1, y1 = widget.getBounds()
    size = 200
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    out = io.StringIO()
    renderSVG.drawToFile(drawing, out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue().encode()).decode()
