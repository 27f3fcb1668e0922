"""gunicorn settings for both roles, all from the environment: HOST (0.0.0.0), PORT (8080),
HEALTH_PORT (none: a second listener for the kubelet's probes, `GET /ping` only),
WEB_CONCURRENCY (1), GUNICORN_THREADS (4), LOG_LEVEL (info), HEADER_TIMEOUT_SECONDS (10: a request's
head, and a small body, must arrive within it), BODY_TIMEOUT_SECONDS (30: a larger body, after the
head); past either, 408 and the connection closes (app_common/gunicorn_worker.py in apps/python-common).

Run from this directory: `COLOR_ROLE=teller|front python -m gunicorn -c gunicorn.conf.py "colorapp:create_app()"`.
"""

import os


def _int_env(name: str, default: int, lo: int, hi: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise SystemExit(f"invalid environment variable {name}={raw!r}: an integer from {lo} to {hi}")
    return int(raw)


_host = os.environ.get('HOST', '').strip() or '0.0.0.0'
_port = _int_env('PORT', 8080, 1, 65535)
bind = [f"{_host}:{_port}"]
if os.environ.get("HEALTH_PORT", "").strip():
    _health_port = _int_env('HEALTH_PORT', 0, 1, 65535)
    if _health_port == _port:
        raise SystemExit(f"invalid environment variable HEALTH_PORT={_health_port!r}: a port other than PORT")
    bind.append(f"{_host}:{_health_port}")
workers = _int_env("WEB_CONCURRENCY", 1, 1, 32)
# gthread reading requests on its event loop, with bounded reads: slow clients take no threads.
worker_class = "app_common.gunicorn_worker.BoundedThreadWorker"
_header_timeout = _int_env("HEADER_TIMEOUT_SECONDS", 10, 1, 300)
_body_timeout = _int_env("BODY_TIMEOUT_SECONDS", 30, 1, 300)
threads = _int_env("GUNICORN_THREADS", 4, 1, 64)
preload_app = False          # each worker builds its app (and its span-export thread) after fork
timeout = 30
graceful_timeout = 20        # below Kubernetes' 30 s termination grace period
keepalive = 75               # longer than the sidecar's idle timeout: the proxy closes idle connections first
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "").strip().lower() or "info"
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None   # read-only root filesystem
control_socket_disable = True
# The demo's routing header is `color_header` (the mesh routes on it); gunicorn drops header names
# with underscores unless told otherwise. `dangerous` keeps them (a `color-header` would map to the
# same WSGI key, which is harmless here: the front only forwards it, validated, to the router).
# Shared by the teller, which is safe: it reads no request header of its own (trace context
# headers have no underscores), and answers every request with its colour.
header_map = "dangerous"


def post_fork(server, worker):
    """Give each worker the read bounds (gunicorn has no settings of its own for them)."""
    worker.header_timeout, worker.body_timeout = _header_timeout, _body_timeout


def worker_exit(server, worker):
    """Flush this worker's pending spans before it goes."""
    app = getattr(worker, "wsgi", None)
    provider = getattr(app, "extensions", {}).get("colorapp", {}).get("tracer_provider")
    if hasattr(provider, "shutdown"):
        provider.shutdown()


def pre_request(worker, req):
    """Announce `Connection: close` when the declared body is more than the app reads (see
    colorapp/body.py): the rest stays unread, so no proxy may reuse this connection."""
    from colorapp.body import DRAIN_LIMIT_BYTES

    declared = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), "")
    if declared.isdigit() and int(declared) > DRAIN_LIMIT_BYTES:
        req.force_close()
