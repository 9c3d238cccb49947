"""Django settings, read from the environment and validated at start-up.

DEBUG is off unless DEBUG=1 is set (`make run` sets it for development); off, SECRET_KEY
and ALLOWED_HOSTS are required. Without DATABASE_URL and REDIS_URL the app runs in
embedded mode: a SQLite file under var/ and Celery tasks executed in-process. Every
variable is listed in .env.example.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no.")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None


def envfloat(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from None


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def envsecret(name: str) -> str:
    """Return NAME, or the contents of the file named by NAME_FILE (Docker secrets)."""
    path = os.environ.get(f"{name}_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {exc}") from None
    return os.environ.get(name, "").strip()


# Off unless set: a deployment that forgets it must not show tracebacks, settings and every
# URL pattern to whoever asks for a missing page.
DEBUG = envbool("DEBUG", False)
DATA_DIR = Path(os.environ.get("WISHLIST_DATA_DIR", "").strip() or BASE_DIR / "var")

SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (or SECRET_KEY_FILE naming a file); "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    # Development only: a random key kept in the data folder, so sessions survive a
    # restart and no key is ever committed to the repository.
    from django.core.management.utils import get_random_secret_key

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key_file = DATA_DIR / "dev_secret_key"
    if not key_file.exists():
        key_file.write_text(get_random_secret_key())
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must be set when DEBUG is off, e.g. ALLOWED_HOSTS=wishlist.example.org"
    )
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "simple_history",
    # Sign-in: throttling and lockout (axes), second factor (django-otp, TOTP apps and
    # static backup codes).
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "cases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Headers: Content-Security-Policy and Permissions-Policy on every response, static
    # files included (settings under "Headers and limits" below).
    "csp.middleware.CSPMiddleware",
    "wishlist.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Right after authentication: the idle timeout ends a session before anything reads
    # it, and request.user learns whether its second factor is verified.
    "cases.accounts.middleware.IdleTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Limits: it asks who is signed in, and runs before any view (or CSRF's check, in
    # process_view) reads a body.
    "wishlist.middleware.AnonymousBodyLimitMiddleware",
    # no-store for signed-in people; after WhiteNoise, so static files stay cacheable.
    "wishlist.middleware.NoStoreWhenSignedInMiddleware",
    "cases.accounts.middleware.OTPRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "cases.audit.middleware.AdminActionAuditMiddleware",
    # The site's own 404 and 403 pages on the research pages, DEBUG on or off: Django's
    # technical 404 lists every URL (wishlist/middleware.py, "error pages").
    "wishlist.middleware.ErrorPageMiddleware",
    # Last, as axes asks: it turns a lockout flagged during sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "wishlist.urls"
WSGI_APPLICATION = "wishlist.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cases.context_processors.roles",
                "cases.context_processors.notifications",
            ],
        },
    },
]

# Database: SQLite file by default, anything dj-database-url understands otherwise.
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with postgres://, postgresql:// or sqlite://; "
            f"got {DATABASE_URL.split(':', 1)[0]!r}."
        )
    try:
        DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be parsed: {exc}") from None
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # No JIT compilation: the planner's cost estimate of a list page's query (the
        # counts of its rows' findings) passes jit_above_cost, and compiling then took
        # 55 ms of a 190 ms query at 100,000 cases for a query that runs once
        # (bench/load_test.py). Options in the URL (?options=...) are kept before it.
        options = DATABASES["default"].setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            # A busy timeout so the dev server and an import can share the file.
            "OPTIONS": {"timeout": 20},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sign-in -------------------------------------------------------------------------------
# Axes first: it refuses a locked-out sign-in before any password is hashed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", "").strip() or DATA_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = DATA_DIR / "media"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:my_work"
LOGOUT_REDIRECT_URL = "login"
# Throttling: WISHLIST_SIGNIN_FAILURES wrong passwords for one account from one address
# lock that account at that address for WISHLIST_SIGNIN_LOCKOUT_MINUTES (each further try
# restarts the wait). The lock is on the pair, not the account alone, so a flood from one
# address cannot lock a colleague out everywhere; an address is also locked, whatever the
# usernames, after WISHLIST_SIGNIN_ADDRESS_FAILURES (higher, so one office behind one NAT
# survives a few typos). See cases.accounts.throttle. Unlock with manage.py axes_reset.
AXES_ENABLED = envbool("WISHLIST_SIGNIN_THROTTLE", True)
AXES_FAILURE_LIMIT = envint("WISHLIST_SIGNIN_FAILURES", 5)
WISHLIST_SIGNIN_ADDRESS_FAILURES = envint("WISHLIST_SIGNIN_ADDRESS_FAILURES", 25)
AXES_COOLOFF_TIME = timedelta(minutes=envint("WISHLIST_SIGNIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "cases.accounts.throttle.SignInAttemptHandler"
AXES_LOCKOUT_TEMPLATE = "cases/locked_out.html"
AXES_RESET_ON_SUCCESS = False
# The address throttled and audited: REMOTE_ADDR, or behind a proxy the one it appends.
AXES_CLIENT_IP_CALLABLE = "cases.accounts.addresses.client_ip"
# Second factor: TOTP apps, with static backup codes. Required for staff and supervisors
# (cases.accounts.policy), optional for analysts.
OTP_TOTP_ISSUER = "Wishlist"
# Sessions end after WISHLIST_IDLE_TIMEOUT seconds without a request and, however busy,
# after WISHLIST_SESSION_MAX_AGE seconds (the cookie's age).
WISHLIST_IDLE_TIMEOUT = envint("WISHLIST_IDLE_TIMEOUT", 30 * 60)
SESSION_COOKIE_AGE = envint("WISHLIST_SESSION_MAX_AGE", 12 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Uploaded import files wait here between the admin's preview and its confirmation.
IMPORT_UPLOAD_DIR = DATA_DIR / "imports"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

# Security: safe defaults whenever DEBUG is off, so `check --deploy` is clean.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if envbool("SECURE_PROXY_SSL_HEADER", False) else None
)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# On by default so `check --deploy` is clean; turn off before your domain is ready for
# the browsers' preload list (it is hard to leave).
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = envlist("SILENCED_SYSTEM_CHECKS", [])
# Headers and limits ---------------------------------------------------------------------
# Content-Security-Policy (django-csp 4): the app's own scripts, styles and images only,
# nothing inline (charts are inline SVG with presentation attributes, not styles), no
# plugins, no framing, forms posting to the app only. The Django admin needs nothing more;
# its change list without actions carries one inline <style> (a column width), which the
# browser ignores.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
# Browser features every page switches off (Permissions-Policy: name=()).
PERMISSIONS_POLICY_DISABLED = [
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
]
# Largest request body accepted from someone not signed in (the sign-in form is tiny).
ANONYMOUS_MAX_BODY_BYTES = envint("WISHLIST_ANONYMOUS_MAX_BODY_BYTES", 64 * 1024)

# Error reports mask every credential, URLs with a password included (wishlist/debug.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "wishlist.debug.CredentialMaskingFilter"

# Celery: a Redis broker when REDIS_URL is set, otherwise tasks run in-process.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"REDIS_URL must start with redis://, rediss:// or unix://; got {REDIS_URL!r}."
    )
CELERY_BROKER_URL = REDIS_URL or "memory://"
# Prefix of the app's own Redis keys (rate limits), for installations sharing one Redis.
# Rate limits count requests over a window this much longer than a second (see
# cases.checks.ratelimit.window_for): the price of never exceeding a limit as the source sees it.
WISHLIST_RATE_MARGIN_MS = envint("WISHLIST_RATE_MARGIN_MS", 100)
WISHLIST_REDIS_PREFIX = os.environ.get("WISHLIST_REDIS_PREFIX", "").strip() or "wishlist"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message taken by a worker that dies is delivered again after this many seconds
# (tasks are acknowledged late); it must exceed the longest task.
# Workers look for such messages every CELERY_RESTORE_INTERVAL seconds (kombu's default
# looks only every 100 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": envint("CELERY_RESTORE_INTERVAL", 10),
    "unacked_restore_throttle": 1,
    # A broker that does not answer fails a send within seconds; the run waits for the relay.
    "socket_connect_timeout": envint("CELERY_BROKER_CONNECT_TIMEOUT", 5),
}
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 360)

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").strip().upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not a logging level.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}

# Fuzzy duplicate report of the referral import: names scoring at or above this
# (rapidfuzz token_sort_ratio, 0-100) against another entity are reported.
WISHLIST_DUPLICATE_THRESHOLD = envint("WISHLIST_DUPLICATE_THRESHOLD", 90)

# What a referral file may hold, so that a hostile one (a zip bomb, a row count no one
# needs) is refused with a message before it takes the server's memory. A workbook part
# (a sheet's XML, the shared strings) is capped unpacked, declared and as read; a cell at
# Excel's own limit of 32,767 characters.
WISHLIST_IMPORT_MAX_PART_BYTES = envint("WISHLIST_IMPORT_MAX_PART_BYTES", 256 * 1024 * 1024)
WISHLIST_IMPORT_MAX_UNZIPPED_BYTES = envint("WISHLIST_IMPORT_MAX_UNZIPPED_BYTES", 512 * 1024 * 1024)
WISHLIST_IMPORT_MAX_CELL_CHARS = envint("WISHLIST_IMPORT_MAX_CELL_CHARS", 32767)
WISHLIST_IMPORT_MAX_ROWS = envint("WISHLIST_IMPORT_MAX_ROWS", 250_000)

# Follow-up checks -----------------------------------------------------------------------
# Named in every request's User-Agent so registries can reach whoever runs the checks.
WISHLIST_CONTACT = os.environ.get("WISHLIST_CONTACT", "").strip() or "wishlist@example.org"
WISHLIST_HTTP_CONNECT_TIMEOUT = float(envint("WISHLIST_HTTP_CONNECT_TIMEOUT", 5))
WISHLIST_HTTP_READ_TIMEOUT = float(envint("WISHLIST_HTTP_READ_TIMEOUT", 30))
WISHLIST_HTTP_MAX_ATTEMPTS = envint("WISHLIST_HTTP_MAX_ATTEMPTS", 4)
WISHLIST_HTTP_BACKOFF = float(envint("WISHLIST_HTTP_BACKOFF_MS", 500)) / 1000
# The largest response body a check reads (bytes); a longer one is refused.
WISHLIST_HTTP_MAX_BYTES = envint("WISHLIST_HTTP_MAX_BYTES", 50 * 1024 * 1024)
# Hits whose subject matches the entity below this score (0-100) are not recorded.
WISHLIST_MATCH_THRESHOLD = envint("WISHLIST_MATCH_THRESHOLD", 85)
# How often each source re-checks a case: news weekly, registries monthly.
WISHLIST_CHECK_INTERVAL_DAYS = {
    "gleif": envint("WISHLIST_GLEIF_INTERVAL_DAYS", 30),
    "sec_edgar": envint("WISHLIST_SEC_EDGAR_INTERVAL_DAYS", 30),
    "gdelt": envint("WISHLIST_GDELT_INTERVAL_DAYS", 7),
    "google_news": envint("WISHLIST_GOOGLE_NEWS_INTERVAL_DAYS", 7),
    "openalex": envint("WISHLIST_OPENALEX_INTERVAL_DAYS", 30),
    "companies_house": envint("WISHLIST_COMPANIES_HOUSE_INTERVAL_DAYS", 30),
    "wikidata": envint("WISHLIST_WIKIDATA_INTERVAL_DAYS", 30),
    "clinicaltrials": envint("WISHLIST_CLINICALTRIALS_INTERVAL_DAYS", 30),
    "uspto": envint("WISHLIST_USPTO_INTERVAL_DAYS", 30),
    "epo_ops": envint("WISHLIST_EPO_OPS_INTERVAL_DAYS", 30),
}
# Per source (the names above): a base URL for a proxy, a mirror or a test server
# (WISHLIST_<SOURCE>_URL), and requests a second across all workers (WISHLIST_<SOURCE>_RATE);
# unset, the source's own. SEC EDGAR's submissions host has a URL of its own.
WISHLIST_SOURCE_URLS = {
    name: os.environ.get(f"WISHLIST_{name.upper()}_URL", "").strip()
    for name in WISHLIST_CHECK_INTERVAL_DAYS
}
WISHLIST_SOURCE_RATES = {
    name: envfloat(f"WISHLIST_{name.upper()}_RATE", None) for name in WISHLIST_CHECK_INTERVAL_DAYS
}
WISHLIST_SEC_EDGAR_DATA_URL = os.environ.get("WISHLIST_SEC_EDGAR_DATA_URL", "").strip()
# Identifier resolvers (cases.identity.resolvers) ask GLEIF, SEC EDGAR, Companies House
# and OpenAlex at the sources' URLs above, and two registries no check searches at these.
WISHLIST_RESOLVER_URLS = {
    name: os.environ.get(f"WISHLIST_{name.upper()}_URL", "").strip() for name in ("ror", "wikidata")
}
WISHLIST_RESOLVER_RATES = {
    name: envfloat(f"WISHLIST_{name.upper()}_RATE", None) for name in ("ror", "wikidata")
}
# Candidates scoring below this are not proposed (a person judges the rest).
WISHLIST_RESOLVE_MIN_SCORE = envint("WISHLIST_RESOLVE_MIN_SCORE", 60)
# Reference lists (DoD 1260H, NATO, MNNA): the editions shipped in cases/reference/, or a
# folder with newer ones. A missing or malformed list fails the start-up check.
WISHLIST_REFERENCE_DIR = Path(
    os.environ.get("WISHLIST_REFERENCE_DIR", "").strip() or BASE_DIR / "cases" / "reference"
)
SEC_USER_AGENT = os.environ.get("SEC_USER_AGENT", "").strip()
OPENALEX_API_KEY = envsecret("OPENALEX_API_KEY")
COMPANIES_HOUSE_API_KEY = envsecret("COMPANIES_HOUSE_API_KEY")
# USPTO Open Data Portal (patent assignments): a key from data.uspto.gov, sent as X-API-KEY.
USPTO_API_KEY = envsecret("USPTO_API_KEY")
# EPO Open Patent Services: OAuth client credentials from developers.epo.org.
EPO_OPS_CLIENT_ID = envsecret("EPO_OPS_CLIENT_ID")
EPO_OPS_CLIENT_SECRET = envsecret("EPO_OPS_CLIENT_SECRET")

# Check outbox: a run is sent once its row is committed; one the broker refused is sent by
# the relay. A run left running, or sent and never taken while no message waits, for
# WISHLIST_CHECK_STALE_AFTER_MINUTES is sent again (its worker or the broker lost it), up to
# WISHLIST_CHECK_MAX_ATTEMPTS times, then recorded as an error. The deadline must exceed
# the hard time limit, by when the first worker has surely stopped.
WISHLIST_CHECK_STALE_AFTER = timedelta(minutes=envint("WISHLIST_CHECK_STALE_AFTER_MINUTES", 120))
WISHLIST_CHECK_MAX_ATTEMPTS = envint("WISHLIST_CHECK_MAX_ATTEMPTS", 3)
if WISHLIST_CHECK_STALE_AFTER.total_seconds() <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "WISHLIST_CHECK_STALE_AFTER_MINUTES must exceed CELERY_TASK_TIME_LIMIT "
        f"({CELERY_TASK_TIME_LIMIT} s), or a check still running would be sent again."
    )
if WISHLIST_CHECK_MAX_ATTEMPTS < 1:
    raise ImproperlyConfigured("WISHLIST_CHECK_MAX_ATTEMPTS must be at least 1.")

# How often the scheduler queues due checks; each pass queues per source only what its
# rate limit can serve before the next one.
WISHLIST_DUE_CHECK_EVERY_MINUTES = envint("WISHLIST_DUE_CHECK_EVERY_MINUTES", 60)
CELERY_BEAT_SCHEDULE = {
    "queue-due-checks": {
        "task": "cases.queue_due_checks",
        "schedule": float(WISHLIST_DUE_CHECK_EVERY_MINUTES * 60),
    },
    # Both cheap (an indexed query when nothing is pending): every minute.
    "relay-checks": {"task": "cases.relay_checks", "schedule": 60.0},
    "reap-checks": {"task": "cases.reap_checks", "schedule": 60.0},
    "expire-uploads": {"task": "cases.expire_uploads", "schedule": 3600.0},
    # Webhook deliveries due for a retry, and any a dead sender left half-sent.
    "deliver-due-webhooks": {"task": "cases.deliver_due_webhooks", "schedule": 60.0},
}

# Outgoing webhooks (cases.webhooks) -------------------------------------------------------
# Links in deliveries start with WISHLIST_BASE_URL (below, with the digest's settings).
# A delivery is one POST; a failed one waits 1, 2, 4 ... minutes (capped at 6 hours)
# before the next, and is given up after this many attempts (about 4 hours in all).
WISHLIST_WEBHOOK_MAX_ATTEMPTS = envint("WISHLIST_WEBHOOK_MAX_ATTEMPTS", 8)
WISHLIST_WEBHOOK_BACKOFF_SECONDS = envint("WISHLIST_WEBHOOK_BACKOFF_SECONDS", 60)
WISHLIST_WEBHOOK_BACKOFF_MAX_SECONDS = envint("WISHLIST_WEBHOOK_BACKOFF_MAX_SECONDS", 6 * 3600)
WISHLIST_WEBHOOK_TIMEOUT = float(envint("WISHLIST_WEBHOOK_TIMEOUT", 10))
# Receivers on private, loopback or reserved addresses are refused unless allowed here.
WISHLIST_WEBHOOK_ALLOW_PRIVATE = envbool("WISHLIST_WEBHOOK_ALLOW_PRIVATE", False)
# Embedded mode (no REDIS_URL): send in a thread of the web process, so a slow receiver
# never holds up the page that confirmed a finding; off, in the request after commit.
WISHLIST_WEBHOOK_IN_THREAD = envbool("WISHLIST_WEBHOOK_IN_THREAD", True)

# Referral imports (cases.intake.jobs) ----------------------------------------------------
# Uploads previewed but never confirmed are deleted after this many seconds.
WISHLIST_UPLOAD_TTL = envint("WISHLIST_UPLOAD_TTL", 86400)
# On SQLite an import still running after this many seconds is taken as abandoned (its
# process died); PostgreSQL knows, from its advisory lock.
WISHLIST_IMPORT_STALE_AFTER = envint("WISHLIST_IMPORT_STALE_AFTER", 7200)
# Embedded mode (no REDIS_URL): run an admin import in a thread of the web process, so
# the upload returns at once; off, it runs in the request once it commits.
WISHLIST_IMPORT_IN_THREAD = envbool("WISHLIST_IMPORT_IN_THREAD", True)

# Identifier resolution jobs (cases.identity.jobs) -----------------------------------------
# Embedded mode (no REDIS_URL): run a "find identifiers" job over a case list in a thread
# of the web process, so the page returns at once; off, it runs in the request.
WISHLIST_RESOLVE_IN_THREAD = envbool("WISHLIST_RESOLVE_IN_THREAD", True)
# Embedded mode (no REDIS_URL): "Check now" runs the case's checks in a thread of the web
# process, so the page returns at once and follows them; off, they run in the request.
WISHLIST_CHECK_IN_THREAD = envbool("WISHLIST_CHECK_IN_THREAD", True)

# Dashboards and the email digest (cases.casework.dashboard, cases.casework.digest) --------
# An open case with no finding recorded or reviewed and no status change for this many days
# is idle (My work takes ?idle_days= to look further or nearer).
WISHLIST_IDLE_DAYS = envint("WISHLIST_IDLE_DAYS", 30)
if not 1 <= WISHLIST_IDLE_DAYS <= 3650:
    raise ImproperlyConfigured("WISHLIST_IDLE_DAYS must be between 1 and 3650.")
# Page views of My work less than this far apart are one visit: leads new when it began stay
# marked new until it ends.
WISHLIST_MY_WORK_VISIT_GAP_MINUTES = envint("WISHLIST_MY_WORK_VISIT_GAP_MINUTES", 30)
# Where links sent out of the app point (digests, webhook deliveries): the address
# people open the app at.
WISHLIST_BASE_URL = (
    os.environ.get("WISHLIST_BASE_URL", "").strip() or "http://127.0.0.1:8000"
).rstrip("/")
if not WISHLIST_BASE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        f"WISHLIST_BASE_URL must start with http:// or https://; got {WISHLIST_BASE_URL!r}."
    )
# Mail: SMTP when EMAIL_HOST is set, otherwise printed to the console (the embedded default).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "").strip()
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "").strip() or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "").strip()
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "").strip() or "wishlist@localhost"
# Digests go out at this hour (TIME_ZONE), the weekly one on Mondays; each run sends a
# person's digest at most once per day or week, so a missed or repeated run is harmless.
WISHLIST_DIGEST_HOUR = envint("WISHLIST_DIGEST_HOUR", 7)
if not 0 <= WISHLIST_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured("WISHLIST_DIGEST_HOUR must be between 0 and 23.")
CELERY_BEAT_SCHEDULE["send-daily-digests"] = {
    "task": "cases.send_digests",
    "schedule": crontab(minute=0, hour=WISHLIST_DIGEST_HOUR),
    "kwargs": {"frequency": "daily"},
}
CELERY_BEAT_SCHEDULE["send-weekly-digests"] = {
    "task": "cases.send_digests",
    "schedule": crontab(minute=0, hour=WISHLIST_DIGEST_HOUR, day_of_week="mon"),
    "kwargs": {"frequency": "weekly"},
}


# Kept evidence (cases.evidence) --------------------------------------------------------
# Captured pages and attached files, kept through Django's storage API: a local folder by
# default; an S3-compatible store (django-storages, requirements-s3.txt) when a bucket is
# named. The backend is imported only when a file is first stored or read.
WISHLIST_EVIDENCE_S3_BUCKET = os.environ.get("WISHLIST_EVIDENCE_S3_BUCKET", "").strip()
if WISHLIST_EVIDENCE_S3_BUCKET:
    STORAGES["evidence"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": WISHLIST_EVIDENCE_S3_BUCKET,
            "endpoint_url": os.environ.get("WISHLIST_EVIDENCE_S3_ENDPOINT_URL", "").strip() or None,
            "region_name": os.environ.get("WISHLIST_EVIDENCE_S3_REGION", "").strip() or None,
            "access_key": envsecret("WISHLIST_EVIDENCE_S3_ACCESS_KEY") or None,
            "secret_key": envsecret("WISHLIST_EVIDENCE_S3_SECRET_KEY") or None,
            "location": os.environ.get("WISHLIST_EVIDENCE_S3_PREFIX", "").strip(),
            # Evidence is written once: a name taken is never overwritten, and the bucket
            # stays private (files are served only through the sandboxed view).
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
        },
    }
else:
    STORAGES["evidence"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "evidence", "base_url": None},
    }
# A page larger than this (bytes) is refused, read no further; an attachment likewise.
WISHLIST_CAPTURE_MAX_BYTES = envint("WISHLIST_CAPTURE_MAX_BYTES", 10 * 1024 * 1024)
WISHLIST_EVIDENCE_MAX_UPLOAD_BYTES = envint("WISHLIST_EVIDENCE_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
WISHLIST_CAPTURE_MAX_REDIRECTS = envint("WISHLIST_CAPTURE_MAX_REDIRECTS", 5)
# Captures refuse hosts that resolve to private, loopback, link-local or reserved
# addresses (the server must not be made to read its own network); on for a lab only.
WISHLIST_CAPTURE_ALLOW_PRIVATE = envbool("WISHLIST_CAPTURE_ALLOW_PRIVATE", False)
# Confirming a lead with a URL captures its page (in the background).
WISHLIST_CAPTURE_ON_CONFIRM = envbool("WISHLIST_CAPTURE_ON_CONFIRM", True)
# Embedded mode (no REDIS_URL): capture in a thread of the web process, so confirming
# returns at once; off, the capture runs in the request once it commits.
WISHLIST_CAPTURE_IN_THREAD = envbool("WISHLIST_CAPTURE_IN_THREAD", True)
# Screenshots: headless Chromium renders the stored copy, scripts and network off.
WISHLIST_CHROMIUM = os.environ.get("WISHLIST_CHROMIUM", "").strip() or "/usr/bin/chromium"
WISHLIST_SCREENSHOT_TIMEOUT = envint("WISHLIST_SCREENSHOT_TIMEOUT", 30)
