"""Schema-driven fuzzing: schemathesis generates valid and invalid requests from /openapi.json and
checks that no answer is a 5xx and every answer matches the documented status codes and schemas."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from opentelemetry import propagate
from schemathesis import GenerationMode

from prodcatalog import create_app
from prodcatalog_stubs import closed_port

_DATA_DIR = Path(tempfile.mkdtemp(prefix="prodcatalog-fuzz-"))
atexit.register(shutil.rmtree, _DATA_DIR, True)
_SAVED_PROPAGATOR = propagate.get_global_textmap()  # built at collection: leave the process as found
APP = create_app({
    "SQLITE_PATH": str(_DATA_DIR / "products.db"),
    "AGG_APP_URL": f"http://127.0.0.1:{closed_port()}/catalogDetail",  # refused at once: degraded details
    "OTEL_TRACES_EXPORTER": "none",
})
propagate.set_global_textmap(_SAVED_PROPAGATOR)

schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                deterministic=True)


@schema.parametrize()
@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_schema(case):
    case.call_and_validate()
