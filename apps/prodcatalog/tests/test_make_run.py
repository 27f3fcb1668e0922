"""`make run-prodcatalog`: gunicorn on loopback, and no exporter failures logged when no OTLP
collector is named (each failed batch would log a warning, retried with backoff, all run long)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request

from prodcatalog_stubs import APP_DIR, closed_port

ROOT = APP_DIR.parent.parent
START_TIMEOUT = 30.0


def test_make_run_binds_loopback_and_exports_nothing_without_a_collector(tmp_path):
    port = closed_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OTEL_") and k not in ("HOST", "GUNICORN_CMD_ARGS", "MAKEFLAGS", "MFLAGS")}
    env.update({"PORT": str(port), "WEB_CONCURRENCY": "1", "SQLITE_PATH": str(tmp_path / "products.db"),
                # proddetail nowhere, answered at once; batches every 100 ms, so failures would show
                "AGG_APP_URL": f"http://127.0.0.1:{closed_port()}/catalogDetail", "OTEL_BSP_SCHEDULE_DELAY": "100"})
    process = subprocess.Popen(["make", "--no-print-directory", "-s", "run-prodcatalog"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/products/ping", timeout=2) as response:
                    assert response.status == 200
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "make run-prodcatalog did not start"
                time.sleep(0.2)
        for _ in range(3):  # traced requests: spans to export
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/products/", timeout=5) as response:
                assert response.status == 200
        time.sleep(1.5)  # several batch intervals
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    assert f"Listening at: http://127.0.0.1:{port} " in output, output
    assert "opentelemetry" not in output and "4318" not in output, output
