"""gunicorn settings for prodcatalog, all from the environment (see README).

Run from this directory: `python -m gunicorn -c gunicorn.conf.py "prodcatalog:create_app()"`.
"""

import logging
import os
import sys


def _int_env(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"invalid environment variable {name}={raw!r}: an integer >= {minimum}") from None
    if value < minimum:
        raise SystemExit(f"invalid environment variable {name}={raw!r}: an integer >= {minimum}")
    return value


bind = f"{os.environ.get('HOST', '').strip() or '0.0.0.0'}:{_int_env('PORT', 5000)}"

# gthread: the proddetail call waits on the network for up to PROXY_TIMEOUT_SECONDS; threads keep a
# worker serving other requests meanwhile. Processes give CPU parallelism (and isolation).
# BoundedThreadWorker is gthread reading requests on its event loop, with bounded reads, so slow
# clients cannot take its threads (app_common/gunicorn_worker.py in apps/python-common).
worker_class = "app_common.gunicorn_worker.BoundedThreadWorker"
workers = _int_env("WEB_CONCURRENCY", 2)
threads = _int_env("GUNICORN_THREADS", 4)

# The app (and its OpenTelemetry batch-export thread) is built in each worker after fork.
preload_app = False

# A request's head (and a small body) must arrive within HEADER_TIMEOUT_SECONDS, a larger body within
# BODY_TIMEOUT_SECONDS after that; else 408 and the connection is closed.
_header_timeout = _int_env("HEADER_TIMEOUT_SECONDS", 10)
_body_timeout = _int_env("BODY_TIMEOUT_SECONDS", 30)

timeout = 30                 # a worker silent this long is killed and replaced
graceful_timeout = 20        # SIGTERM: finish in-flight requests, below Kubernetes' 30 s grace period
keepalive = 75               # longer than the sidecar's idle timeout, so the proxy closes idle connections first

accesslog = "-"              # stdout
errorlog = "-"               # stderr
loglevel = os.environ.get("LOG_LEVEL", "").strip().lower() or "info"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(L)ss "%(a)s"'

# The root filesystem is read-only in the pod: heartbeat files go to /dev/shm (a tmpfs) when it
# exists, and the runtime control socket (written under $HOME by default) is not needed.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
control_socket_disable = True


def on_starting(server):
    """Send the app's own logs (and OpenTelemetry's, botocore's) to stderr in gunicorn's format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s",
                                           "[%Y-%m-%d %H:%M:%S %z]"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(loglevel.upper())


def post_fork(server, worker):
    """Give each worker the read bounds (gunicorn has no settings of its own for them)."""
    worker.header_timeout, worker.body_timeout = _header_timeout, _body_timeout


def pre_request(worker, req):
    """Announce `Connection: close` when the declared body is more than the app reads (see
    prodcatalog/body.py): the rest stays unread, so no proxy may reuse this connection."""
    from prodcatalog.body import DRAIN_LIMIT_BYTES

    declared = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), "")
    if declared.isdigit() and int(declared) > DRAIN_LIMIT_BYTES:
        req.force_close()


def worker_exit(server, worker):
    """Flush this worker's pending spans before it goes (SIGTERM, max-requests, timeout)."""
    app = getattr(worker, "wsgi", None)
    extensions = getattr(app, "extensions", None)
    if extensions and "prodcatalog" in extensions:
        extensions["prodcatalog"].shutdown()
