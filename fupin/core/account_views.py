"""Account pages: the second factor (enter a code, set up an authenticator, recovery codes),
API tokens (list, create, revoke) and, for administrators, the accounts of their region (unlock)."""
from __future__ import annotations

import functools
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.db.models import F
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from . import otp, services
from .errors import FupinError, InvalidInput
from .roles import Cap, can


def safe_next(request, default: str = "/") -> str:
    """The `next` value if it points inside this site, else `default` (no open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return default


def _page(view):
    """Login required; a FupinError becomes the Chinese error page with its status."""

    @login_required
    @functools.wraps(view)
    def inner(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except FupinError as exc:
            return render(request, "core/error.html", {"message": exc.message}, status=exc.status)
    return inner


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    if not otp.required(request.user) or otp.is_verified(request):
        return redirect(safe_next(request))
    if otp.totp_device(request.user) is None:
        return redirect("/account/otp/setup/" + (f"?next={quote(safe_next(request, ''))}" if safe_next(request, "") else ""))
    error = None
    if request.method == "POST":
        try:
            otp.verify(request, request.POST.get("code", ""))
        except FupinError as exc:
            error = exc.message
        else:
            return redirect(safe_next(request))
    return render(request, "core/otp_verify.html", {"error": error, "next": safe_next(request, "")},
                  status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """First sign-in of a role that needs a second factor: scan, type the first code, get the
    recovery codes. A user who already has an authenticator must enter its code instead."""
    if not otp.required(request.user):   # a second factor nobody would ask for would only mislead
        return redirect("/")
    if otp.totp_device(request.user) is not None:
        return redirect("/account/otp/" if not otp.is_verified(request) else "/")
    device = otp.setup_device(request.user)
    error = None
    if request.method == "POST":
        try:
            codes = otp.confirm_setup(request, request.POST.get("code", ""))
        except FupinError as exc:
            error = exc.message
        else:
            return render(request, "core/otp_codes.html", {"codes": codes, "next": safe_next(request)})
    uri = device.config_url
    return render(request, "core/otp_setup.html", {
        "error": error, "uri": uri, "secret": otp.secret(device), "qr": otp.qr_data_uri(uri),
        "next": safe_next(request, "")}, status=400 if error else 200)


@_page
@require_POST
def otp_recovery(request):
    """New recovery codes (the old ones stop working); only in a session that passed the second factor."""
    if otp.required(request.user) and not otp.is_verified(request):
        raise FupinError("请先完成第二因素验证，再生成新的恢复码")
    if otp.totp_device(request.user) is None:
        raise FupinError("您还没有设置验证器，无需恢复码")
    codes = otp.recovery_codes_new(actor=request.user, user=request.user)
    return render(request, "core/otp_codes.html", {"codes": codes, "next": "/account/tokens/"})


@_page
@require_http_methods(["GET", "POST"])
def tokens(request):
    """API tokens of the signed-in user, or (administrators) of an account in their region."""
    owner = services.access_account(request.user, request.GET.get("user") or request.user.pk)
    created = None
    errors = None
    if request.method == "POST":
        if otp.required(request.user) and not otp.is_verified(request):
            raise FupinError("接口令牌只能在完成第二因素验证后创建，请先验证")
        try:
            created = services.token_create(actor=request.user, user=owner, name=request.POST.get("name", ""))
        except InvalidInput as exc:
            errors = exc.errors
    return render(request, "core/tokens.html", {
        "owner": owner, "own": owner.pk == request.user.pk, "tokens": services.tokens_for(actor=request.user, user=owner), "created": created,
        "errors": errors, "has_totp": otp.totp_device(request.user) is not None,
        "recovery_left": otp.recovery_left(request.user), "is_admin": can(request.user.role, Cap.MANAGE_USERS),
    }, status=400 if errors else 200)


@_page
@require_POST
def token_revoke(request, pk: int):
    token = services.token_revoke(actor=request.user, token_id=pk)
    suffix = f"?user={token.user_id}" if token.user_id != request.user.pk else ""
    return redirect(f"/account/tokens/{suffix}")


def _region_choices(user):
    """The regions an administrator may bind accounts to, named as officials say them (a village
    with its township), picked from a list rather than typed as codes."""
    from . import access

    regions = access.regions_for(user).select_related("parent").order_by("code")
    return [(r.code, f"{r.parent.name} {r.name}" if r.level == 5 and r.parent_id else r.name) for r in regions]


# The orders the users page offers (a whitelist: the value is never passed to the database as typed).
USER_SORTS = {"": ("username",), "role": ("role", "username"), "region": ("region_id", "username"),
              # never-locked accounts last on every database (PostgreSQL puts NULL first when descending)
              "locked": (F("locked_until").desc(nulls_last=True), "username"), "disabled": ("is_active", "username")}


def _users_page(request, *, created=None, password=None, errors=None, status=200):
    from django.core.paginator import Paginator
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .roles import Role

    now = timezone.now()
    qs = services.users_for(request.user)
    todo = {"locked": qs.filter(locked_until__gt=now).count(), "first": qs.filter(password_changed_at=None).count()}
    role = request.GET.get("role", "")
    if role in Role.values:
        qs = qs.filter(role=role)
    if request.GET.get("q"):
        qs = qs.filter(username__icontains=request.GET["q"][:40]) | qs.filter(first_name__icontains=request.GET["q"][:40])
    sort = request.GET.get("sort", "")
    qs = qs.order_by(*USER_SORTS.get(sort, ("username",)))
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    accounts = list(page.object_list)
    with_device = set(TOTPDevice.objects.filter(user__in=accounts, confirmed=True).values_list("user_id", flat=True))
    rows = [(u, u.locked_until is not None and u.locked_until > now, u.account_problem(now), u.pk in with_device)
            for u in accounts]
    return render(request, "core/users.html", {
        "rows": rows, "page": page, "roles": Role.choices, "regions": _region_choices(request.user),
        "role": role, "q": request.GET.get("q", ""), "sort": sort, "todo": todo, "created": created,
        "sorts": [("", "按账号"), ("role", "按角色"), ("region", "按区划"), ("locked", "锁定的在前"), ("disabled", "停用的在前")], "password": password,
        "errors": errors, "me": request.user.pk}, status=status)


@_page
@require_http_methods(["GET"])
def users(request):
    return _users_page(request)


def _region(code):
    from .models import Region

    return Region.objects.filter(code=(code or "").strip()).first()


@_page
@require_POST
def user_new(request):
    """Create an account; its one-time password is shown on this answer only."""
    try:
        user, password = services.user_create(
            actor=request.user, username=request.POST.get("username", ""), full_name=request.POST.get("full_name", ""),
            role=request.POST.get("role", ""), region=_region(request.POST.get("region")))
    except InvalidInput as exc:
        return _users_page(request, errors=exc.errors, status=400)
    return _users_page(request, created=user, password=password)


@_page
@require_POST
def user_active(request, pk: int):
    target = services.access_account(request.user, pk)
    services.user_set_active(actor=request.user, user=target, active=request.POST.get("active") == "1")
    return redirect("/account/users/")


@_page
@require_POST
def user_reset(request, pk: int):
    target = services.access_account(request.user, pk)
    password = services.user_reset_password(actor=request.user, user=target)
    return _users_page(request, created=target, password=password)


@_page
@require_http_methods(["GET", "POST"])
def user_edit(request, pk: int):
    from .roles import Role

    target = services.access_account(request.user, pk)
    errors = None
    if request.method == "POST":
        try:
            services.user_change(actor=request.user, user=target, role=request.POST.get("role", ""),
                                 region=_region(request.POST.get("region")))
        except InvalidInput as exc:
            errors = exc.errors
        else:
            return redirect("/account/users/")
    return render(request, "core/user_edit.html", {"u": target, "roles": Role.choices,
                                                   "regions": _region_choices(request.user), "errors": errors},
                  status=400 if errors else 200)


@_page
@require_POST
def user_otp_reset(request, pk: int):
    target = services.access_account(request.user, pk)
    otp.reset(actor=request.user, user=target)
    return redirect("/account/users/")


@_page
@require_POST
def user_unlock(request, pk: int):
    target = services.access_account(request.user, pk)
    services.user_unlock(actor=request.user, user=target)
    return redirect("/account/users/")

