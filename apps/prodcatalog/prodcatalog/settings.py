"""Runtime settings read once from the environment, so a bad value stops the worker at boot.

Every variable, its default and its bounds are listed in the README; a wrong value raises
`ConfigError` naming the variable, the value and what is allowed, instead of failing on the first
request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

STORAGE_BACKENDS = ("sqlite", "dynamodb")
DEFAULT_AGG_APP_URL = "http://localhost:3000/catalogDetail"
DEFAULT_SQLITE_PATH = "products.db"
DEFAULT_PROXY_TIMEOUT_SECONDS = 2.0
MAX_PROXY_TIMEOUT_SECONDS = 60.0


class ConfigError(ValueError):
    """An environment variable whose value is not allowed."""

    def __init__(self, name: str, value: object, allowed: str):
        super().__init__(f"invalid environment variable {name}={value!r}: {allowed}")
        self.name = name


@dataclass(frozen=True)
class Settings:
    """What the app needs; gunicorn's own variables (HOST, PORT, WEB_CONCURRENCY...) live in gunicorn.conf.py."""

    agg_app_url: str = DEFAULT_AGG_APP_URL
    proxy_timeout_seconds: float = DEFAULT_PROXY_TIMEOUT_SECONDS
    storage_backend: str = "sqlite"
    sqlite_path: str = DEFAULT_SQLITE_PATH
    dynamodb_table: str | None = None
    aws_region: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        """Parse and check the variables; empty strings count as unset."""

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if isinstance(value, str) and value.strip() else None

        url = get("AGG_APP_URL") or DEFAULT_AGG_APP_URL
        if not url.startswith(("http://", "https://")):
            raise ConfigError("AGG_APP_URL", url, "an http:// or https:// URL of proddetail's /catalogDetail")

        timeout = DEFAULT_PROXY_TIMEOUT_SECONDS
        raw_timeout = get("PROXY_TIMEOUT_SECONDS")
        if raw_timeout is not None:
            try:
                timeout = float(raw_timeout)
            except ValueError:
                timeout = math.nan
            if not (0 < timeout <= MAX_PROXY_TIMEOUT_SECONDS):
                raise ConfigError("PROXY_TIMEOUT_SECONDS", raw_timeout,
                                  f"a number of seconds > 0 and <= {MAX_PROXY_TIMEOUT_SECONDS:g}")

        backend = (get("STORAGE_BACKEND") or "sqlite").lower()
        if backend not in STORAGE_BACKENDS:
            raise ConfigError("STORAGE_BACKEND", backend, f"one of {', '.join(STORAGE_BACKENDS)}")

        table = get("DYNAMODB_TABLE")
        region = get("AWS_REGION") or get("AWS_DEFAULT_REGION")
        if backend == "dynamodb":
            if table is None:
                raise ConfigError("DYNAMODB_TABLE", env.get("DYNAMODB_TABLE"),
                                  "the DynamoDB table name (required when STORAGE_BACKEND=dynamodb)")
            if region is None:
                raise ConfigError("AWS_REGION", env.get("AWS_REGION"),
                                  "the table's AWS region (required when STORAGE_BACKEND=dynamodb)")

        return cls(
            agg_app_url=url,
            proxy_timeout_seconds=timeout,
            storage_backend=backend,
            sqlite_path=get("SQLITE_PATH") or DEFAULT_SQLITE_PATH,
            dynamodb_table=table,
            aws_region=region,
        )
