"""Product Catalog service: `create_app()` builds the Flask app that gunicorn serves.

Run: `python -m gunicorn -c gunicorn.conf.py "prodcatalog:create_app()"` (cwd apps/prodcatalog).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

from flask import Flask
from opentelemetry.instrumentation.flask import FlaskInstrumentor

from .api import api
from .body import read_body_first
from .details import DetailsClient
from .docs import docs
from .errors import register_error_handlers
from .settings import ConfigError, Settings
from .state import EXTENSION_KEY, AppState, state
from .storage import ProductStore, open_store
from .tracing import build_tracer_provider, excluded_urls, install_propagator

__all__ = ["ConfigError", "create_app", "state"]

#: Keys of `config` that carry objects instead of environment-style strings (test seams).
TRACER_PROVIDER = "TRACER_PROVIDER"
PRODUCT_STORE = "PRODUCT_STORE"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build one app instance from the environment.

    `config` overrides environment variables by name (e.g. {"SQLITE_PATH": "/tmp/x.db"}) and may
    inject a ready `TRACER_PROVIDER` or `PRODUCT_STORE`. Raises ConfigError on a bad variable.
    """
    config = dict(config or {})
    env = {**os.environ, **{k: v for k, v in config.items() if isinstance(v, str)}}
    settings = Settings.from_env(env)

    tracer_provider = config.get(TRACER_PROVIDER) or build_tracer_provider(env)
    install_propagator(env)
    store: ProductStore = config.get(PRODUCT_STORE) or open_store(settings)
    details = DetailsClient(settings.agg_app_url, settings.proxy_timeout_seconds,
                            tracer_provider.get_tracer("prodcatalog"))

    app = Flask(__name__)
    app.json.sort_keys = False  # keep products in id order ("10" after "9")
    app.extensions[EXTENSION_KEY] = AppState(settings, store, details, tracer_provider)
    register_error_handlers(app)
    read_body_first(app)
    app.register_blueprint(api)
    app.register_blueprint(docs)
    FlaskInstrumentor.instrument_app(app, tracer_provider=tracer_provider, excluded_urls=excluded_urls(env))
    logging.getLogger(__name__).info(
        "prodcatalog ready: storage=%s proddetail=%s timeout=%gs", settings.storage_backend,
        settings.agg_app_url, settings.proxy_timeout_seconds)
    return app
