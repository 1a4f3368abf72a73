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
            error, status = exc.message, exc.status
        else:
            login(request, user)
            from .account_views import safe_next

            return redirect(safe_next(request))
    return render(request, "core/login.html", {"error": error}, status=status if error else 200)


@require_http_methods(["POST"])
def logout_view(request):
    if request.user.is_authenticated:
        audit.record(request.user, AuditAction.LOGOUT, object_type="user", object_id=request.user.pk)
    logout(request)
    return redirect("/login/")


@fupin_view
def home(request):
    """Each role lands on its own work (roles.HOME), never on a page it may not open."""
    from .roles import home_for

    return redirect(home_for(request.user.role, request.user.region_id))


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

# The largest integer a database column holds (64-bit); a bigger number is a typing error, and
# passing it on would overflow the database driver.
INT_MAX = 2**63 - 1


def parse_int(raw: str, label: str, *, lo: int = -INT_MAX, hi: int = INT_MAX) -> int:
    import re

    raw = (raw or "").strip()
    if not re.fullmatch(r"-?[0-9]+", raw):
        raise InvalidInput({label: f"“{raw[:40]}”应为整数"})
    value = int(raw) if len(raw) <= 30 else INT_MAX + 1   # (int() refuses over 4300 digits)
    if not lo <= value <= hi:
        limits = "数值过大" if (lo, hi) == (-INT_MAX, INT_MAX) else f"应在 {lo} 到 {hi} 之间"
        raise InvalidInput({label: f"“{raw[:40]}”超出范围（{limits}）"})
    return value


def form_int(data, key: str, label: str, default: int | None = None, *, lo: int = -INT_MAX,
             hi: int = INT_MAX) -> int:
    raw = (data.get(key) or "").strip()
    if not raw:
        if default is not None:
            return default
        raise InvalidInput({label: "必须填写"})
    return parse_int(raw, label, lo=lo, hi=hi)


def form_year(data, key: str, label: str, default: int | None = None) -> int:
    """A calendar year: any year a date can hold (1–9999), so building a date from it never fails."""
    import datetime as dt

    return form_int(data, key, label, default, lo=dt.MINYEAR, hi=dt.MAXYEAR)


def form_ints(data, key: str, label: str) -> list[int]:
    """Every value of a repeated field (checkboxes `instances=1&instances=2`) as integer ids."""
    return [parse_int(raw, label, lo=1) for raw in data.getlist(key)]


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
    """An amount in yuan as typed (“3000”, “3000.50”) → integer fen, through the one money parser
    (no NaN, Infinity, exponent, third decimal or sign; at most the limit in policies/limits.yaml)."""
    from fupin.policy.money import MoneyError, parse_yuan

    try:
        return parse_yuan((data.get(key) or "0").strip(), label)
    except MoneyError as exc:
        raise InvalidInput({label: exc.problem}) from None


# ---- static files and error pages -----------------------------------------------------------------

def static_file(request, path: str):
    """The app serves its own static files: fupin's and those installed apps ship (ninja's Swagger
    UI), found the way `collectstatic` finds them, so the API docs need no CDN."""
    import os

    from django.contrib.staticfiles import finders
    from django.http import Http404
    from django.views.static import serve

    found = finders.find(path) if path and not path.endswith("/") else None
    if not found or not os.path.isfile(found):
        raise Http404("找不到该文件")
    return serve(request, os.path.basename(found), document_root=os.path.dirname(found))


_ERROR_MESSAGES = {
    400: "请求中有格式不正确的内容（如编号、日期或数字）。请检查网址或重新填写后再试。",
    403: "您没有权限进行此操作。如需办理，请联系上级管理员。",
    404: "找不到该页面或记录：请检查网址中的编号是否正确，或从首页重新进入。",
    500: "系统内部出错，操作未完成。请稍后重试；如仍出错，请把出错时间告诉系统管理员。",
}


def _size(n: int) -> str:
    return f"{n / 1048576:g} MB" if n >= 1048576 else f"{n / 1024:g} KB"


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _error_response(request, status: int, exception=None):
    """A Chinese error page (or JSON under /api/). A message from our own code (Chinese) is shown
    as is; Django's English internals ("No Household matches…") never reach the user."""
    from django.http import HttpResponse, JsonResponse

    message = _ERROR_MESSAGES[status]
    if exception is not None and status != 500:
        text = exception.message if isinstance(exception, FupinError) else (
            str(exception.args[0]) if getattr(exception, "args", None) else "")
        if _has_chinese(text):
            message = text
        elif type(exception).__name__ == "RequestDataTooBig":
            from django.conf import settings

            message = (f"提交的内容超过 {_size(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)} 的上限"
                       f"（导入的文件每个不能超过 {_size(settings.IMPORT_MAX_BYTES)}），请拆分后分批提交。")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status, json_dumps_params={"ensure_ascii": False})
    try:
        return render(request, "core/error.html", {"message": message}, status=status)
    except Exception:  # the error page itself must not fail (a broken database, a template error)
        return HttpResponse(f"<!doctype html><meta charset=utf-8><title>出错了</title><p>{message}</p>",
                            status=status)


def bad_request(request, exception=None):
    return _error_response(request, 400, exception)


def permission_denied(request, exception=None):
    return _error_response(request, 403, exception)


def page_not_found(request, exception=None):
    return _error_response(request, 404, exception)


def server_error(request):
    return _error_response(request, 500)


def csrf_failure(request, reason=""):
    """Django's CSRF refusal page is English and technical: say in Chinese what happened and what to do."""
    from django.core.exceptions import PermissionDenied

    return _error_response(request, 403, PermissionDenied(
        "页面已过期或来源不明，操作未执行。请刷新页面（或重新登录）后再提交一次。"))
