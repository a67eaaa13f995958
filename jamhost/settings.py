"""The one settings module. Everything that differs between machines comes from the
environment; the README lists every variable.

With nothing set, jamhost runs the embedded default: a SQLite file, the in-memory channel
layer, Celery tasks run in-process and the schedule sweep on the server's event loop.
With DATABASE_URL and REDIS_URL it runs on PostgreSQL, Redis pub/sub and Celery workers.
"""

import sys
import warnings
from pathlib import Path

import dj_database_url

from jamhost.core.env import env_bool, env_float, env_int, env_list, env_str
from jamhost.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


TESTING = "pytest" in sys.modules
DEBUG = env_bool("DEBUG")
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise SystemExit(
            "jamhost: SECRET_KEY is not set. Set SECRET_KEY to a long random string "
            "(or DEBUG=true for local development)."
        )
    SECRET_KEY = "jamhost-development-only-key-not-for-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
if DEBUG:
    ALLOWED_HOSTS += ["testserver"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The public address for links (jamhost/links.py). Unset, links follow the address each
# request came to; work outside a request (tasks, commands) uses the fallback.
SITE_URL = env_str("SITE_URL").rstrip("/")
SITE_URL_FALLBACK = "http://127.0.0.1:8000"

REDIS_URL = env_str("REDIS_URL")
DATABASE_URL = env_str("DATABASE_URL")
EMBEDDED = not REDIS_URL

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.syndication",
    "django_htmx",
    "channels",
    "jamhost.core",
    "jamhost.accounts",
    "jamhost.jams",
    "jamhost.posts",
    "jamhost.live",
    "jamhost.networks",
    "jamhost.transcripts",
    "jamhost.audience",
    "jamhost.polls",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "jamhost.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "jamhost.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the session's user read by a prepared query (jamhost/sessions.py).
    "jamhost.sessions.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "jamhost.accounts.middleware.HtmxLoginRedirectMiddleware",
]

ROOT_URLCONF = "jamhost.urls"
ASGI_APPLICATION = "jamhost.asgi.application"

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
            ],
            "builtins": ["django_htmx.templatetags.django_htmx"],
        },
    }
]

# HTTP requests run on WEB_THREADS threads per process; at most WEB_BACKLOG more wait
# for one, each at most WEB_BACKLOG_WAIT seconds; beyond that the answer is an immediate
# 503 with Retry-After (jamhost.admission). Health checks have a thread of their own.
WEB_THREADS = env_int("WEB_THREADS", 8)
WEB_BACKLOG = env_int("WEB_BACKLOG", 64)
WEB_BACKLOG_WAIT = env_float("WEB_BACKLOG_WAIT", 5.0)
WEB_RETRY_AFTER = env_int("WEB_RETRY_AFTER", 2)
ADMISSION_EXEMPT_PATHS = ("/healthz", "/metrics")
# Transcript pages and exports (streamed for as long as their reader takes) and link
# preview images (drawn when first asked for, by crawlers in bursts when a link is
# shared): lanes of their own.
ADMISSION_SLOW_PATHS = r"^/jams/[^/]+/(transcript[/.]|card\.png$)"
WEB_SLOW_THREADS = env_int("WEB_SLOW_THREADS", 2)

if DATABASE_URL:
    # PostgreSQL through psycopg's pool, shared by every thread of the process: a
    # request takes a connection when it first queries and gives it back when it ends,
    # so connections stay bounded by DATABASE_POOL_SIZE whatever the number of threads.
    # DATABASE_POOL_SIZE=0: no pool, a new connection per request (closed at its end).
    DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", WEB_THREADS + 4)
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
    if DATABASE_POOL_SIZE > 0:
        # A connection is checked as it leaves the pool (one empty round trip): one that
        # PostgreSQL ended while it sat idle (a restart, an idle timeout, an operator) is
        # replaced instead of failing the request that drew it.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": min(2, DATABASE_POOL_SIZE),
            "max_size": DATABASE_POOL_SIZE,
            # A thread waits this long for a connection, then the request gets the
            # "database unavailable" 503 (jamhost.middleware). The pool is larger than
            # WEB_THREADS, so requests wait only while PostgreSQL cannot be reached.
            "timeout": env_float("DATABASE_POOL_TIMEOUT", 2.0),
            # Connections are replaced after an hour: memory on the server side stays flat.
            "max_lifetime": 3600.0,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "jamhost.sqlite3")),
            # Each request thread keeps its connection (renewed every 10 minutes): opening
            # one (Django registers its SQL functions, then the PRAGMAs) cost ~0.45 ms of
            # CPU, a tenth of a compose POST, when every request opened and closed its own.
            "CONN_MAX_AGE": 600,
            "OPTIONS": {
                # Writers take the lock up front, so concurrent posting waits instead
                # of failing with "database is locked" half-way through.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "jams:list"
LOGOUT_REDIRECT_URL = "jams:list"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Realtime: the Channels layer carries what consumers must hear besides live frames;
# live frames go through jamhost.live.fanout (one subscription per process).
CHANNEL_PREFIX = env_str("CHANNEL_PREFIX", "jamhost")
CHANNEL_LAYER = env_str("CHANNEL_LAYER", "pubsub")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": (
                "channels_redis.core.RedisChannelLayer"
                if CHANNEL_LAYER == "default"
                else "channels_redis.pubsub.RedisPubSubChannelLayer"
            ),
            "CONFIG": {"hosts": [REDIS_URL], "prefix": CHANNEL_PREFIX},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# "hub": one subscription per process writes rendered frames to local sockets (default).
# "layer": every consumer receives frames through the channel layer's group_send; kept
# only so the benchmark can compare the two designs.
LIVE_FANOUT = env_str("LIVE_FANOUT", "hub")
LIVE_SOCKET_BACKLOG = env_int("LIVE_SOCKET_BACKLOG", 500)
LIVE_GAP_WAIT = env_float("LIVE_GAP_WAIT", 0.5)
LIVE_RESYNC_INTERVAL = env_float("LIVE_RESYNC_INTERVAL", 5.0)
# Open websockets one client address may hold in one web process (jamhost.edge).
LIVE_SOCKETS_PER_ADDRESS = env_int("LIVE_SOCKETS_PER_ADDRESS", 200)

# The edge (jamhost.edge): request bodies over REQUEST_MAX_BYTES (the import form:
# IMPORT_MAX_BYTES) are refused before they are read; X-Forwarded-For/-Proto are believed
# only from TRUSTED_PROXIES (addresses or networks, comma-separated; none by default).
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 1_000_000)
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
# /metrics asks for "Authorization: Bearer <METRICS_TOKEN>" when it is set.
METRICS_TOKEN = env_str("METRICS_TOKEN")

# Scheduled work: the sweep opens and closes jams and releases questions.
SWEEP_INTERVAL = env_float("SWEEP_INTERVAL", 2.0)
# First run: the server replays a recorded jam into the demo jam (`make run` turns it on).
DEMO_REPLAY = env_bool("DEMO_REPLAY")
HASHTAG_MARGIN_MINUTES = env_int("HASHTAG_MARGIN_MINUTES", 30)
INVITE_DAYS = env_int("INVITE_DAYS", 14)

# Transcripts: the archive sweep re-enqueues ended jams not archived after the grace
# period (the task enqueued at the end normally archives them first); imports are capped.
ARCHIVE_SWEEP_INTERVAL = env_float("ARCHIVE_SWEEP_INTERVAL", 60.0)
ARCHIVE_SWEEP_GRACE = env_int("ARCHIVE_SWEEP_GRACE", 120)
TRANSCRIPT_REFRESH_MINUTES = env_int("TRANSCRIPT_REFRESH_MINUTES", 10)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20_000_000)
IMPORT_MAX_ACTIVE = env_int("IMPORT_MAX_ACTIVE", 2)  # unfinished imports per person
IMPORT_STALL_SECONDS = env_int("IMPORT_STALL_SECONDS", 900)  # no progress: failed
RATE_IMPORT_USER = env_str("RATE_IMPORT_USER", "10/3600")
RATE_IMPORT_ADDRESS = env_str("RATE_IMPORT_ADDRESS", "30/3600")

# Audience participation: how many upvotes (or take-backs) and flags one person may send
# per minute, so a flood is refused with "try again in N s" instead of reaching screens.
AUDIENCE_VOTES_PER_MINUTE = env_int("AUDIENCE_VOTES_PER_MINUTE", 30)
AUDIENCE_FLAGS_PER_MINUTE = env_int("AUDIENCE_FLAGS_PER_MINUTE", 5)

# Celery: on Redis in production; in the embedded default tasks run in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = EMBEDDED or TESTING or env_bool("CELERY_EAGER")
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"

# X (Twitter). With no client id, jamhost works on local posts only.
X_CLIENT_ID = env_str("X_CLIENT_ID")
X_CLIENT_SECRET = env_str("X_CLIENT_SECRET")
X_BEARER_TOKEN = env_str("X_BEARER_TOKEN")
X_API_BASE_URL = env_str("X_API_BASE_URL", "https://api.x.com").rstrip("/")
# Registered with X, so it cannot follow each request: SITE_URL (or the fallback) decides.
X_REDIRECT_URI = env_str("X_REDIRECT_URI", f"{SITE_URL or SITE_URL_FALLBACK}/accounts/x/callback/")
X_TOKEN_KEY = env_str("X_TOKEN_KEY")
X_TIMEOUT = env_float("X_TIMEOUT", 10.0)
X_INGEST = env_str("X_INGEST", "search")
X_INGEST_MARGIN_MINUTES = env_int("X_INGEST_MARGIN_MINUTES", 15)
X_INGEST_LEASE_SECONDS = env_int("X_INGEST_LEASE_SECONDS", 60)
# A claimed read of an X poll's results not stored within this is read again (polls.x_polls).
X_POLL_READ_LEASE_SECONDS = env_int("X_POLL_READ_LEASE_SECONDS", 300)
X_PRICE_READ = env_float("X_PRICE_READ", 0.005)
X_PRICE_CREATE = env_float("X_PRICE_CREATE", 0.015)
X_PRICE_CREATE_URL = env_float("X_PRICE_CREATE_URL", 0.20)

# Bluesky and Mastodon (jamhost.networks.gateway). Each is offered to hosts only when on.
# Bluesky: people link with their handle and an app password on BLUESKY_SERVICE (their
# PDS, or the entryway that finds it); BLUESKY_JETSTREAM_URL, when set, delivers the
# jam's posts live (wss://jetstream2.us-east.bsky.network/subscribe) beside the search.
BLUESKY_ENABLED = env_bool("BLUESKY_ENABLED", False)
BLUESKY_SERVICE = env_str("BLUESKY_SERVICE", "https://bsky.social").rstrip("/")
BLUESKY_JETSTREAM_URL = env_str("BLUESKY_JETSTREAM_URL")
# Mastodon: any instance; jamhost registers itself there on first use. The callback:
MASTODON_ENABLED = env_bool("MASTODON_ENABLED", False)
MASTODON_REDIRECT_URI = env_str(
    "MASTODON_REDIRECT_URI", f"{SITE_URL or SITE_URL_FALLBACK}/accounts/mastodon/callback/"
)
MASTODON_STREAMING = env_bool("MASTODON_STREAMING", False)
# Instances people may sign in on ("" = any); a comma-separated list of base URLs.
MASTODON_INSTANCES = env_list("MASTODON_INSTANCES")
NETWORK_TIMEOUT = env_float("NETWORK_TIMEOUT", 10.0)
NETWORK_INGEST_LEASE_SECONDS = env_int("NETWORK_INGEST_LEASE_SECONDS", 60)
NETWORK_REREAD_MINUTES = env_int("NETWORK_REREAD_MINUTES", 60)

# Profile pictures load only from the networks' avatar hosts (posts.weblinks, and the
# CSP's img-src below).
AVATAR_HOSTS = env_list("AVATAR_HOSTS", "pbs.twimg.com,abs.twimg.com,cdn.bsky.app")

# Scripts only from our own files: no inline scripts or handlers anywhere (see csp.py).
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    f"img-src 'self' data: {' '.join('https://' + h for h in AVATAR_HOSTS)}; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)

# The cache holds rate-limit counters: shared by every web process through Redis in
# production (on the process's one Redis client, jamhost.shared_redis), per process in
# the embedded default.
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 16)
CACHES = {
    "default": (
        {
            "BACKEND": "jamhost.shared_redis.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHANNEL_PREFIX,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# "<requests>/<seconds>" per signed-in user and per client address.
# Email (reminders): printed to the console unless EMAIL_HOST names an SMTP server.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not env_bool("EMAIL_USE_SSL"))
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "jamhost <jamhost@localhost>")
RATE_RSVP_ADDRESS = env_str("RATE_RSVP_ADDRESS", "20/3600")
RATE_GUEST_POST_ADDRESS = env_str("RATE_GUEST_POST_ADDRESS", "10/60")
RATE_GUEST_POST_JAM = env_str("RATE_GUEST_POST_JAM", "120/60")

RATE_COMPOSE_USER = env_str("RATE_COMPOSE_USER", "20/60")
RATE_COMPOSE_ADDRESS = env_str("RATE_COMPOSE_ADDRESS", "300/60")
RATE_LOGIN_USER = env_str("RATE_LOGIN_USER", "5/300")
RATE_LOGIN_ADDRESS = env_str("RATE_LOGIN_ADDRESS", "30/300")
# Poll votes (and changes of vote) per signed-in person: each one reaches every screen.
RATE_POLL_VOTE_USER = env_str("RATE_POLL_VOTE_USER", "10/60")

# Django's database sessions, read by a prepared query (jamhost/sessions.py).
SESSION_ENGINE = "jamhost.sessions"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from anyone. The
    # scheme is the connection's own, or a TRUSTED_PROXIES proxy's (jamhost.edge).
    # Health checks and scrapers talk to the process directly, often over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# LOG_FORMAT=json: one JSON object per line (jamhost.logs), for a log collector.
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = logging_config(fmt=LOG_FORMAT, level=LOG_LEVEL)
# Celery keeps Django's logging (above) instead of its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# WhiteNoise serves files with a synchronous iterator; under ASGI Django warns on every
# static file. The files are small and cached by browsers; the warning is noise.
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators"
)

if TESTING:
    # Hashing is deliberately slow; the suite creates hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
