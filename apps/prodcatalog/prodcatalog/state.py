"""What one app instance holds, stored in `app.extensions` so views and gunicorn hooks reach it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from opentelemetry import trace

from .details import DetailsClient
from .settings import Settings
from .storage import ProductStore

EXTENSION_KEY = "prodcatalog"


@dataclass
class AppState:
    settings: Settings
    store: ProductStore
    details: DetailsClient
    tracer_provider: trace.TracerProvider

    def shutdown(self) -> None:
        """Flush pending spans and release clients; called when a gunicorn worker exits."""
        shutdown = getattr(self.tracer_provider, "shutdown", None)
        if shutdown is not None:
            shutdown()
        self.details.close()
        self.store.close()


def state(app: Flask | None = None) -> AppState:
    return (app or current_app).extensions[EXTENSION_KEY]
