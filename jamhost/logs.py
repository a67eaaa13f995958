"""Logging for production: one line per event, plain or JSON.

- A refused request (4xx: not found, forbidden, bad host, CSRF) is one line: Django
  logs those with the exception attached, which printed a 37-line traceback for every
  forbidden page. Server errors (5xx) keep their traceback.
- LOG_FORMAT=json writes every line as one JSON object (time, level, logger, message,
  and a request's status code and path when there is one), uvicorn's lines included.

Used by settings.LOGGING and by jamhost.serve for uvicorn's own loggers; it imports
nothing of Django's so that it can.
"""

from __future__ import annotations

import logging
from typing import Any


class RefusalsOnOneLine(logging.Filter):
    """Drops the traceback from records of requests answered with a 4xx status."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class RequestFields(logging.Filter):
    """Puts the request's path and method on the record as plain fields (Django attaches
    the request object itself, which a JSON formatter cannot write)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str):
            method, path = getattr(request, "method", ""), getattr(request, "path", "")
            record.__dict__.update(method=method, path=path, request=f"{method} {path}")
        return True


def logging_config(*, fmt: str = "plain", level: str = "INFO") -> dict[str, Any]:
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        }
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    propagate = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "one_line_refusals": {"()": "jamhost.logs.RefusalsOnOneLine"},
            "request_fields": {"()": "jamhost.logs.RequestFields"},
        },
        "formatters": {"main": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["one_line_refusals", "request_fields"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # uvicorn's loggers (under `python -m jamhost.serve`) write through the same
            # handler, so its lines are JSON too when asked.
            "uvicorn": {**propagate, "level": "INFO"},
            "uvicorn.error": propagate,
            "uvicorn.access": propagate,
        },
    }
