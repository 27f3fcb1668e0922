"""Slow clients cannot freeze the front: gunicorn with gunicorn.conf.py (1 worker x 4 threads, the
image's defaults) holds many stalled connections while normal requests keep being answered, and
closes the stalled ones (408 when they had sent something) once their read bound has passed
(app_common/gunicorn_worker.py, shared with prodcatalog). Liveness checks, not timings: the bounds
are generous for a busy machine."""

import http.client
import json
import time
import urllib.parse

import pytest
from app_common.testing import answer_until_closed, stall, still_open

HEADER_TIMEOUT = 10
BODY_TIMEOUT = 4
STALLED = 16  # four times the worker's threads
SLACK = 6.0   # the worker checks its bounds about once a second; a busy machine adds more

PARTIAL = {
    "nothing": b"",
    "part of the request line": b"GET / HT",
    "headers without their end": b"GET / HTTP/1.1\r\nHost: t\r\ncolor_header: bl",
    "part of a small body": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nxxxx",
}


@pytest.fixture
def front(gunicorn, color_service):
    served = gunicorn.serve(COLOR_ROLE="front", COLOR_HOST=f"127.0.0.1:{color_service.port}",
                            HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT), BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT))
    served.get("/ping")
    return served, urllib.parse.urlsplit(served.url).port


def get(port, path="/", timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"color_header": "blue"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()



@pytest.mark.parametrize("kind", sorted(PARTIAL))
def test_stalled_requests_take_no_thread_and_are_closed_after_the_header_bound(front, kind):
    served, port = front
    stalled = [stall(port, PARTIAL[kind]) for _ in range(STALLED)]
    opened = time.monotonic()
    try:
        for path in ("/", "/ping", "/"):
            assert get(port, path)[0] == 200
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
    assert served.proc.poll() is None


def test_a_large_body_that_stops_arriving_is_a_408_after_the_body_bound(front):
    """Bodies over the worker's prebuffer are read by a thread: the read is bounded, then freed."""
    served, port = front
    head = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n"
    stalled = [stall(port, head + b"x" * 70_000) for _ in range(4)]  # every thread
    started = time.monotonic()
    try:
        for sock in stalled:
            answer = answer_until_closed(sock, BODY_TIMEOUT + SLACK - (time.monotonic() - started))
            head_, _, body = answer.partition(b"\r\n\r\n")
            assert head_.startswith(b"HTTP/1.1 408 "), answer[:300]
            assert json.loads(body)["detail"] == "request body not received in time"
    finally:
        for sock in stalled:
            sock.close()
    assert get(port)[0] == 200, "the threads are free again"
