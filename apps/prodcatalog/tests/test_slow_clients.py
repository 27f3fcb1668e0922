"""Slow clients cannot freeze prodcatalog: gunicorn with gunicorn.conf.py (2 workers x 4 threads)
holds many stalled connections while normal requests keep being answered, and closes the stalled
ones (408 when they had sent something) once their read bound has passed (app_common/gunicorn_worker.py, shared with colorapp).

Liveness checks, not timings: the bounds are generous for a busy machine."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from app_common.testing import answer_until_closed, stall, still_open

from prodcatalog_stubs import APP_DIR, closed_port

HEADER_TIMEOUT = 10
BODY_TIMEOUT = 4
#: More stalled connections than the two workers have threads together.
STALLED = 24
SLACK = 6.0  # the worker checks its bounds about once a second; a busy machine adds more
START_TIMEOUT = 30.0

PARTIAL = {
    "nothing": b"",
    "part of the request line": b"GET /produ",
    "headers without their end": b"GET /products/ HTTP/1.1\r\nHost: t\r\nX-Slow: ",
    "part of a small body": (b"POST /products/1 HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 100\r\n\r\n{\"name\": "),
    "part of a small chunked body": (b"POST /products/1 HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                                     b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"nam\r\n"),
}


def get(port: int, path: str = "/products/ping", timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()



@pytest.fixture
def served(tmp_path: Path):
    port = closed_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4",
           "HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT), "BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
           "AGG_APP_URL": f"http://127.0.0.1:{closed_port()}/catalogDetail",
           "SQLITE_PATH": str(tmp_path / "products.db"), "OTEL_TRACES_EXPORTER": "none"}
    env.pop("GUNICORN_CMD_ARGS", None)
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "prodcatalog:create_app()"],
                               cwd=APP_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if get(port, timeout=2)[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gunicorn did not start:\n{process.communicate()[1]}")
        time.sleep(0.1)
    try:
        yield port, process
    finally:
        process.kill()
        process.wait(10)


@pytest.mark.parametrize("kind", sorted(PARTIAL))
def test_stalled_requests_take_no_thread_and_are_closed_after_the_header_bound(served, kind):
    port, process = served
    stalled = [stall(port, PARTIAL[kind]) for _ in range(STALLED)]
    opened = time.monotonic()
    try:
        for path in ("/products/ping", "/products/", "/products/ping"):
            status, _ = get(port, path)
            assert status == 200
        answered = time.monotonic() - opened
        assert all(still_open(sock) for sock in stalled), "the stalled connections were held meanwhile"
        for sock in stalled:
            answer = answer_until_closed(sock, HEADER_TIMEOUT + SLACK - (time.monotonic() - opened))
            if PARTIAL[kind]:
                head, _, body = answer.partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 408 "), answer[:300]
                assert json.loads(body)["error"] == "request not received in time"
            else:
                assert answer == b"", "an idle connection is closed without an answer"
        assert answered < HEADER_TIMEOUT, "normal requests were answered while the stalled ones were held"
    finally:
        for sock in stalled:
            sock.close()
    assert process.poll() is None


def test_a_large_body_that_stops_arriving_is_a_408_after_the_body_bound(served):
    """Bodies over the worker's prebuffer are read by a thread: the read is bounded, then freed."""
    port, process = served
    head = (b"POST /products/1 HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000\r\n\r\n")
    stalled = [stall(port, head + b"x" * 70_000) for _ in range(8)]  # every thread of both workers
    started = time.monotonic()
    try:
        for sock in stalled:
            answer = answer_until_closed(sock, BODY_TIMEOUT + SLACK - (time.monotonic() - started))
            head_, _, body = answer.partition(b"\r\n\r\n")
            assert head_.startswith(b"HTTP/1.1 408 "), answer[:300]
            assert json.loads(body) == {"error": "request body not received in time"}
    finally:
        for sock in stalled:
            sock.close()
    assert get(port)[0] == 200, "the threads are free again"
    process.kill()
    assert "Traceback" not in process.communicate()[1]
