"""Settings of the notification demo (see README.md).

The wasmtasks server and token come from the environment (``WASMTASKS_URL``,
``WASMTASKS_TOKEN``), else the server is ``wasmtasks serve``'s default address and
the token the one ``wasmtasks-up.sh`` left in ``.wasmtasks/token``.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = BASE_DIR / ".wasmtasks"


def _token() -> str:
    token = os.environ.get("WASMTASKS_TOKEN", "")
    if not token and (STATE_DIR / "token").exists():
        token = (STATE_DIR / "token").read_text().strip()
    return token


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "wasmtasks_django",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "notifydemo.urls"
WSGI_APPLICATION = "notifydemo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
    }
}

TASKS = {
    "default": {
        "BACKEND": "wasmtasks_django.WasmTasksBackend",
        "QUEUES": ["default", "emails"],
        "OPTIONS": {
            "url": os.environ.get("WASMTASKS_URL", "http://127.0.0.1:8000"),
            "token": _token(),
            "timeout": 5,
        },
    }
}

# The demo's own ntfy-style topic, where the notify component posts (its
# ntfy_url, set by wasmtasks-up.sh).
NTFY_TOPIC = "demo"

USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    # Django's own receivers log every task signal here: `manage.py wasmtasks_events`
    # shows each job starting and finishing.
    "loggers": {
        "django.tasks": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
