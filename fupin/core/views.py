from __future__ import annotations

import functools

from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from . import access, audit, services
from .errors import FupinError, InvalidInput
from .models import AuditAction


def fupin_view(view):
    """Login required; a FupinError becomes a Chinese error page with the right status."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except FupinError as exc:
            return render(request, "core/error.html", {"message": exc.message}, status=exc.status)

    return wrapper


@require_http_methods(["GET", "POST"])
def login_view(request):
    error = None
    if request.method == "POST":
        try:
            user = services.user_login(request=request, username=request.POST.get("username", "").strip(),
                                       password=request.POST.get("password", ""))
        except FupinError as exc:
            error = exc.message
        else:
            login(request, user)
            return redirect(request.GET.get("next") or "/")
    return render(request, "core/login.html", {"error": error}, status=400 if error else 200)


def logout_view(request):
    if request.user.is_authenticated:
        audit.record(request.user, AuditAction.LOGOUT, object_type="user", object_id=request.user.pk)
    logout(request)
    return redirect("/login/")


@fupin_view
def home(request):
    if request.user.role == "auditor":
        return redirect("/audit/")
    return redirect(f"/regions/{request.user.region_id}/")


@fupin_view
def password_view(request):
    errors = None
    if request.method == "POST":
        if not request.user.check_password(request.POST.get("old", "")):
            errors = {"原密码": "不正确"}
        elif request.POST.get("new") != request.POST.get("new2"):
            errors = {"新密码": "两次输入不一致"}
        else:
            try:
                services.user_set_password(actor=request.user, user=request.user, password=request.POST["new"])
            except InvalidInput as exc:
                errors = exc.errors
            else:
                from django.contrib.auth import update_session_auth_hash
                update_session_auth_hash(request, request.user)
                return redirect("/")
    return render(request, "core/password.html", {"errors": errors, "expired": request.GET.get("expired")})


@fupin_view
def audit_log(request):
    qs = access.audit_events_for(request.user)
    if request.GET.get("action"):
        qs = qs.filter(action=request.GET["action"])
    if request.GET.get("who"):
        qs = qs.filter(actor_name=request.GET["who"])
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    return render(request, "core/audit.html", {"page": page, "actions": AuditAction.choices})


# ---- parsing form and query values: a wrong value is a Chinese message naming the field ----------

def form_int(data, key: str, label: str, default: int | None = None) -> int:
    raw = (data.get(key) or "").strip()
    if not raw:
        if default is not None:
            return default
        raise InvalidInput({label: "必须填写"})
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput({label: f"“{raw}”应为整数"}) from None


def form_date(data, key: str, label: str, default=None):
    import datetime as dt

    raw = (data.get(key) or "").strip()
    if not raw:
        if default is not None:
            return default
        raise InvalidInput({label: "必须填写"})
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput({label: f"“{raw}”应为日期，如 2024-09-01"}) from None


def form_yuan(data, key: str, label: str) -> int:
    """An amount in yuan as typed (“3000”, “3000.50”) → integer fen."""
    from decimal import Decimal, InvalidOperation

    raw = (data.get(key) or "0").strip().replace(",", "")
    try:
        d = Decimal(raw)
    except InvalidOperation:
        d = None
    if d is None or d < 0 or d != d.quantize(Decimal("0.01")):
        raise InvalidInput({label: f"“{raw}”应为不小于0、最多两位小数的金额"})
    return int(d * 100)
