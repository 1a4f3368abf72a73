"""Django settings. Every deployment value comes from an environment variable (FUPIN_*).

No secret lives in the repository: FUPIN_SECRET_KEY must be set in production; the demo
generates a random key into var/ (which git ignores).
"""
import os
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FUPIN_VAR_DIR", BASE_DIR / "var"))
DEMO_CLOCK_FILE = VAR_DIR / "demo-clock"  # days the demo clock runs ahead; read only when FUPIN_DEMO=1 (core.democlock)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


DEMO = env_bool("FUPIN_DEMO")
DEBUG = env_bool("FUPIN_DEBUG")


def private_file(path: Path) -> Path:
    """Create the file if missing, and make it readable by the service account only (0600).

    For the generated secret key and the SQLite database (SQLite gives its -wal and -shm files
    the database file's mode), whatever the umask; an existing 0644 file is tightened."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(path, 0o600)
    return path


def _secret_key() -> str:
    key = os.environ.get("FUPIN_SECRET_KEY")
    if key:
        return key
    if not (DEMO or DEBUG or os.environ.get("FUPIN_TESTING") or "pytest" in sys.modules):
        raise RuntimeError("FUPIN_SECRET_KEY 未设置：生产部署必须通过环境变量提供密钥")
    path = VAR_DIR / "secret_key"
    if not path.exists():  # written whole, then linked into place: two workers starting agree on one key
        tmp = private_file(VAR_DIR / f".secret_key.{os.getpid()}")
        tmp.write_text(secrets.token_urlsafe(50))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return private_file(path).read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = os.environ.get("FUPIN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "fupin.core",
    "fupin.registry",
    "fupin.exchange",
    "fupin.funds",
    "fupin.education",
    "fupin.health",
    "fupin.support",
    "fupin.workflows",
    "fupin.pairing",
    "fupin.monitoring",
    "fupin.oversight",
    "fupin.welfare",
    "fupin.labour",
    "fupin.projects",
    "fupin.charity",
    "fupin.schools", "fupin.pubhealth", "fupin.notify",  # issue #22: schools, public-health programmes, reminders
    "fupin.whatif",  # policy what-if (issue 20)
    "fupin.villages", "fupin.plans",  # villages room (issue #22): village register; work plans and leading groups
    "fupin.jobs", "django_tasks", "django_tasks_db",  # background jobs (ADR 0012)
    "ninja",  # so the API docs page uses ninja's own copies of Swagger UI, not a CDN
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "fupin.core.middleware.CSPMiddleware",   # django-csp's, its header built once
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fupin.core.middleware.ChineseByDefaultMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fupin.core.middleware.SecondFactorMiddleware",  # reads django-otp's session mark, no extra query
    "fupin.core.middleware.RejectNulMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "fupin.core.middleware.PasswordExpiryMiddleware",
]

ROOT_URLCONF = "fupin.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "fupin" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fupin.core.context.fupin_context",
            ],
        },
    }
]
WSGI_APPLICATION = "fupin.wsgi.application"


def _database() -> dict:
    url = os.environ.get("FUPIN_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        from urllib.parse import parse_qs, unquote, urlparse

        u = urlparse(url)
        # libpq's own form for a local socket: postgresql://user@/name?host=/run/postgresql
        socket_dir = parse_qs(u.query).get("host", [""])[0]
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": u.path.lstrip("/"),
            "USER": unquote(u.username or ""),
            "PASSWORD": unquote(u.password or ""),
            "HOST": socket_dir or u.hostname or "",
            "PORT": str(u.port or ""),
            "CONN_MAX_AGE": 60,
            # the statements of core.sql (the window's hot path) are prepared once per connection;
            # the ORM's client-bound cursors never prepare (ADR 0022)
            "OPTIONS": {"prepare_threshold": 1},
        }
    path = url.removeprefix("sqlite:///") if url else str(VAR_DIR / "fupin.sqlite3")
    if path != ":memory:" and not path.startswith("file:"):
        try:
            private_file(Path(path))  # personal data of the whole county: 0600
        except OSError:
            pass  # a read-only location; Django reports the database problem itself
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "fupin.core.passwords.ComplexityValidator"},
    {"NAME": "fupin.core.passwords.HistoryValidator"},
]
# Security settings (等保2.0 三级 application part), overridable per deployment.
# Password hashing (issue 13): Argon2id at OWASP's parameters; PBKDF2 hashes stored before verify
# and are upgraded at the next login. See fupin.core.passwords.Argon2idHasher.
PASSWORD_HASHERS = ["fupin.core.passwords.Argon2idHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
PASSWORD_ARGON2_MEMORY_KIB = int(os.environ.get("FUPIN_ARGON2_MEMORY_KIB", "19456"))
PASSWORD_ARGON2_TIME_COST = int(os.environ.get("FUPIN_ARGON2_TIME_COST", "2"))
PASSWORD_ARGON2_PARALLELISM = int(os.environ.get("FUPIN_ARGON2_PARALLELISM", "1"))
PASSWORD_MIN_LENGTH = int(os.environ.get("FUPIN_PASSWORD_MIN_LENGTH", "10"))
PASSWORD_MAX_AGE_DAYS = int(os.environ.get("FUPIN_PASSWORD_MAX_AGE_DAYS", "90"))
OBJECTION_IP_MAX_PER_HOUR = int(os.environ.get("FUPIN_OBJECTION_IP_MAX_PER_HOUR", "5"))
# searches by ID digits that found nobody, per user and window, before searching by ID pauses (core.access)
ID_SEARCH_MAX_MISSES = int(os.environ.get("FUPIN_ID_SEARCH_MAX_MISSES", "30"))
ID_SEARCH_WINDOW_MINUTES = int(os.environ.get("FUPIN_ID_SEARCH_WINDOW_MINUTES", "60"))
LOGIN_MAX_FAILURES = int(os.environ.get("FUPIN_LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCK_MINUTES = int(os.environ.get("FUPIN_LOGIN_LOCK_MINUTES", "30"))
# Failed logins from one IP address (any account) within the window before that address is refused.
LOGIN_IP_MAX_FAILURES = int(os.environ.get("FUPIN_LOGIN_IP_MAX_FAILURES", "20"))
LOGIN_IP_WINDOW_MINUTES = int(os.environ.get("FUPIN_LOGIN_IP_WINDOW_MINUTES", "15"))
# Addresses of reverse proxies in front of the app (nginx): behind one, the client's address is
# taken from X-Forwarded-For, so the per-IP limit does not lump every user together.
TRUSTED_PROXIES = [a.strip() for a in os.environ.get("FUPIN_TRUSTED_PROXIES", "").split(",") if a.strip()]
PASSWORD_HISTORY_COUNT = int(os.environ.get("FUPIN_PASSWORD_HISTORY", "5"))  # no reuse of the last N passwords
# Second factor (TOTP, django-otp) for the roles in core.roles.SECOND_FACTOR_CAPS.
OTP_TOTP_ISSUER = os.environ.get("FUPIN_OTP_ISSUER", "扶贫信息系统")
OTP_RECOVERY_CODES = int(os.environ.get("FUPIN_OTP_RECOVERY_CODES", "10"))
IMPORT_MAX_BYTES = int(os.environ.get("FUPIN_IMPORT_MAX_MB", "40")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024
# Uploads stay in memory up to IMPORT_MAX_BYTES per request and are never spooled to disk by
# Django itself (fupin.exchange.uploads); a larger file arrives empty, marked too large. So no
# byte of an upload reaches the disk before the view has checked the user's permission.
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES
FILE_UPLOAD_HANDLERS = ["fupin.exchange.uploads.MemoryOnlyUploadHandler"]
FILE_UPLOAD_PERMISSIONS = 0o600            # evidence, photos: readable by the service account only
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# What one workbook may hold or expand to (issue 11 §4); together they keep any file under
# IMPORT_MAX_BYTES within 500 MB of memory while it is imported. Memory grows with the rows, not
# with the file: a 100000-row household file peaked at 440 MB (first import) and 500 MB
# (re-import, every person compared) in a fresh process, so the default is 80000 rows; a larger
# county imports by township. Raising it costs about 4 KB of memory a row.
IMPORT_MAX_ROWS = int(os.environ.get("FUPIN_IMPORT_MAX_ROWS", "80000"))        # rows per sheet
IMPORT_MAX_COLS = int(os.environ.get("FUPIN_IMPORT_MAX_COLS", "60"))           # columns per sheet
IMPORT_MAX_CELLS = int(os.environ.get("FUPIN_IMPORT_MAX_CELLS", "4800000"))    # rows × columns of the used area
IMPORT_MAX_UNZIPPED_BYTES = int(os.environ.get("FUPIN_IMPORT_MAX_UNZIPPED_MB", "400")) * 1024 * 1024
IMPORT_MAX_ZIP_RATIO = int(os.environ.get("FUPIN_IMPORT_MAX_ZIP_RATIO", "100"))  # per part larger than 1 MB
IMPORT_MAX_SHARED_STRINGS_BYTES = int(os.environ.get("FUPIN_IMPORT_MAX_SHARED_STRINGS_MB", "100")) * 1024 * 1024
IMPORT_MAX_SHARED_STRINGS = int(os.environ.get("FUPIN_IMPORT_MAX_SHARED_STRINGS", "2000000"))
IMPORT_MAX_STYLES_BYTES = int(os.environ.get("FUPIN_IMPORT_MAX_STYLES_MB", "5")) * 1024 * 1024
IMPORT_MAX_STYLES = int(os.environ.get("FUPIN_IMPORT_MAX_STYLES", "64000"))    # Excel's own limit
# Error workbooks and other generated files under VAR_DIR are deleted after this many hours.
FILE_RETENTION_HOURS = int(os.environ.get("FUPIN_FILE_RETENTION_HOURS", "24"))
SESSION_COOKIE_AGE = int(os.environ.get("FUPIN_SESSION_MINUTES", "120")) * 60
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("FUPIN_HTTPS")

# Response headers. Every script and style is a file under /static/ (no inline code, no CDN),
# so the policy can be strict; the API docs page uses ninja's bundled Swagger UI.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "fupin.core.views.csrf_failure"   # Chinese, not Django's English page
if env_bool("FUPIN_HTTPS"):
    # HSTS only when the site is served over HTTPS.
    SECURE_HSTS_SECONDS = int(os.environ.get("FUPIN_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("FUPIN_HSTS_SUBDOMAINS")
    SECURE_SSL_REDIRECT = env_bool("FUPIN_SSL_REDIRECT", True)
    if TRUSTED_PROXIES:   # TLS ends at the proxy, which says so in X-Forwarded-Proto (trusted only then)
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "fupin" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "fupin" / "static"]
STATIC_ROOT = VAR_DIR / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FUPIN_LOG_LEVEL", "WARNING")},
}
MEDIA_ROOT = VAR_DIR / "media"

# Background jobs (fupin/jobs, ADR 0012): queued in the database, run by `fupin worker` (started
# beside the web server by `fupin serve` and `fupin demo`). Tests run each job as it is queued.
TASKS = {"default": {
    "BACKEND": ("django_tasks.backends.immediate.ImmediateBackend" if os.environ.get("FUPIN_TESTING") or "pytest" in sys.modules
                else "django_tasks_db.DatabaseBackend"),
    "QUEUES": ["default"],
}}

# Record linkage of department lists (fupin/monitoring, docs/linkage.md): a pair at or above AUTO
# is linked without review; from REVIEW up to AUTO it waits in the clerical-review queue; below,
# rejected. Measured with benchmarks/linkage.py (20000 × 4000, seed 2026): see docs/linkage.md.
MONITORING_LINK_AUTO = float(os.environ.get("FUPIN_LINK_AUTO", "0.99"))
MONITORING_LINK_REVIEW = float(os.environ.get("FUPIN_LINK_REVIEW", "0.3"))

# Reminders of due and overdue work (fupin/notify, issue #22 §4). E-mail goes through Django's e-mail
# backend (SMTP: EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER/PASSWORD, EMAIL_USE_TLS); SMS through
# FUPIN_SMS_BACKEND: FileSms (one JSON line per message, the default), ConsoleSms, or HttpSms (POST to
# FUPIN_SMS_URL with FUPIN_SMS_TOKEN). See fupin/notify/senders.py.
EMAIL_BACKEND = os.environ.get("FUPIN_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("FUPIN_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("FUPIN_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("FUPIN_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("FUPIN_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("FUPIN_EMAIL_TLS", "") == "1"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("FUPIN_EMAIL_FROM", "fupin@localhost")
FUPIN_SMS_BACKEND = os.environ.get("FUPIN_SMS_BACKEND", "fupin.notify.senders.FileSms")
FUPIN_SMS_FILE = os.environ.get("FUPIN_SMS_FILE", str(VAR_DIR / "sms.jsonl"))
FUPIN_SMS_URL = os.environ.get("FUPIN_SMS_URL", "")
FUPIN_SMS_TOKEN = os.environ.get("FUPIN_SMS_TOKEN", "")
FUPIN_SMS_SIGN = os.environ.get("FUPIN_SMS_SIGN", "扶贫")
