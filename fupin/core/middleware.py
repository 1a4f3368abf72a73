from csp.constants import HEADER
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as LibraryCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.shortcuts import redirect
from django.utils import timezone


class CSPMiddleware(LibraryCSPMiddleware):
    """django-csp's middleware, with the policy made from the settings alone built once per settings
    object: django-csp built the same header again for every response (2.5% of the CPU of a claim at
    the window, measured). Everything else goes through django-csp unchanged: a response with its own
    policy (a view's decorator), a page that used a nonce, a report-only policy, DEBUG's error pages."""

    OWN = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
           "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro")
    _built: tuple = (None, "")

    def process_response(self, request, response):
        config = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        if (not config or getattr(request, "_csp_nonce", None) is not None or settings.DEBUG
                or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
                or any(hasattr(response, a) for a in self.OWN)):
            return super().process_response(request, response)
        if self._built[0] is not config:   # the same settings object: the same header
            CSPMiddleware._built = (config, build_policy())
        if HEADER not in response and not request.path_info.startswith(tuple(config.get("EXCLUDE_URL_PREFIXES") or ())):
            response[HEADER] = self._built[1]
        # as django-csp: a nonce asked for after the header is written is an error, not a silent gap
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


class PasswordExpiryMiddleware:
    """Send a user whose password is older than PASSWORD_MAX_AGE_DAYS to change it (等保: periodic change)."""

    ALLOWED = ("/password/", "/logout/", "/static/", "/api/", "/i18n/", "/account/otp/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(self.ALLOWED):
            changed = user.password_changed_at
            if changed is None or (timezone.now() - changed).days >= settings.PASSWORD_MAX_AGE_DAYS:
                return redirect("/password/?expired=1")
        return self.get_response(request)


class SecondFactorMiddleware:
    """The one place the second factor is enforced.

    A signed-in user whose role needs it (roles.needs_second_factor) and whose session has not
    passed it is sent to enter a code, or to set up an authenticator first. The API is exempt:
    its bearer tokens are made only by a session that passed the second factor or by the CLI."""

    ALLOWED = ("/account/otp/", "/login/", "/logout/", "/static/", "/api/", "/i18n/", "/public/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from urllib.parse import quote

        from . import otp

        user = getattr(request, "user", None)
        if (user is not None and otp.required(user) and not otp.is_verified(request)
                and not request.path.startswith(self.ALLOWED)):
            target = "/account/otp/" if otp.totp_device(user) else "/account/otp/setup/"
            if request.method == "GET":
                target += "?next=" + quote(request.get_full_path(), safe="/")
            return redirect(target)
        return self.get_response(request)


class ChineseByDefaultMiddleware:
    """Chinese unless the user chose another language (the language cookie set by /i18n/setlang/).
    The browser's Accept-Language is ignored: many officers' machines come set to English."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class RejectNulMiddleware:
    """A NUL character in a query or form value is never meaningful; PostgreSQL refuses it in
    text, which would surface as a server error. Answer 400 in Chinese before any view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        def has_nul(query) -> bool:
            return any("\x00" in k or any("\x00" in v for v in values) for k, values in query.lists())

        if has_nul(request.GET) or (request.method == "POST" and not request.path.startswith("/api/")
                                   and has_nul(request.POST)):
            message = "请求中含有不可见的空字符（NUL），请删除后重新提交"
            if request.path.startswith("/api/"):
                from django.http import JsonResponse
                return JsonResponse({"detail": message}, status=400)
            from django.shortcuts import render
            return render(request, "core/error.html", {"message": message}, status=400)
        return self.get_response(request)
