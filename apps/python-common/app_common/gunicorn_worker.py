"""A gunicorn `gthread` worker that slow clients cannot pin.

Why: gunicorn's gthread worker hands a connection to a pool thread as soon as its first bytes
arrive, and that thread then blocks in `recv` until the request's headers (and, when the app reads
it, its body) are complete, with no time limit. As many stalled connections as there are threads
(one byte of a request line each) freeze the worker. Here:

- request headers, and bodies of up to PREBUFFER_BYTES, are read on the worker's event loop
  (non-blocking, no thread); a request goes to a thread only once it is complete there, so
  stalled connections cost a file descriptor, not a thread. A request not complete within
  `header_timeout` seconds gets a 408 and its connection is closed;
- a larger body is read by the request's thread, every read bounded by one deadline
  (`body_timeout` seconds after the headers were complete): past it the read raises
  `ReadTimeout`, the app answers 408 and the connection is closed;
- a response write waits at most `body_timeout` seconds for the client to take the bytes;
- a connection that closes after its answer lingers (drained, for its last answer to arrive
  whole) on the event loop, at most LINGER_SECONDS, not in gunicorn's blocking close on it.

Each app's gunicorn.conf.py names this class (`worker_class`) and sets the two timeouts on each
worker (`post_fork`).
"""

from __future__ import annotations

import errno
import re
import selectors
import socket
import time
from collections import deque
from functools import partial

from gunicorn.http.errors import NoMoreData
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, ThreadWorker

#: Bodies up to this size (declared by Content-Length, or chunked) are read on the event loop.
PREBUFFER_BYTES = 64 * 1024
LINGER_SECONDS = 2.0
_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*([0-9]{1,19})[ \t]*$", re.IGNORECASE | re.MULTILINE)
_CHUNKED = re.compile(rb"^transfer-encoding[ \t]*:.*chunked", re.IGNORECASE | re.MULTILINE)
#: The last chunk (size 0, any extensions) and the trailer section that ends a chunked body.
_LAST_CHUNK = re.compile(rb"\r\n0+(?:;[^\r\n]*)?\r\n(?:[^\r\n]+\r\n)*\r\n")
#: The client waits for `100 Continue` before its body: the thread must take the request now.
_EXPECT = re.compile(rb"^expect[ \t]*:", re.IGNORECASE | re.MULTILINE)


def request_complete(buffered: bytes) -> bool:
    """Whether `buffered` holds enough of a request to hand it to a thread: its whole head and
    its whole body, or PREBUFFER_BYTES, or a head declaring a larger body (the thread reads the
    rest under a deadline)."""
    end = buffered.find(_HEAD_END)
    if end < 0:
        return len(buffered) >= PREBUFFER_BYTES
    head, body = buffered[:end], len(buffered) - end - len(_HEAD_END)
    if body >= PREBUFFER_BYTES or _EXPECT.search(head):
        return True
    if _CHUNKED.search(head):
        return _LAST_CHUNK.search(buffered, end + 2) is not None
    declared = _CONTENT_LENGTH.search(head)
    # A body declared larger than the prebuffer goes to the thread at once: the app may refuse it
    # from its declared length alone.
    return declared is None or not PREBUFFER_BYTES >= int(declared.group(1)) > body


class ReadTimeout(NoMoreData, TimeoutError):
    """The client did not send its request within the bound. A NoMoreData for gunicorn (it closes
    the connection quietly), a TimeoutError for the app (it answers 408)."""

    def __str__(self) -> str:
        return "request not received in time"


_TIMEOUT_BODY = b'{"error": "request not received in time", "status": 408}'
_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\nConnection: close\r\n\r\n"
                     + _TIMEOUT_BODY)


class BoundedThreadWorker(ThreadWorker):
    """gthread with request reading on the event loop and bounded reads (module docstring)."""

    header_timeout = 10.0
    body_timeout = 30.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reading_conns: deque = deque()
        self.lingering_conns: deque = deque()

    # Every connection with a request to read comes through here: a new one (accept), a kept-alive
    # one that became readable, one whose previous request left bytes of the next behind.
    def enqueue_req(self, conn):
        if getattr(conn, "dispatching", False):
            conn.dispatching = False
            super().enqueue_req(conn)
            return
        conn.buffered = bytearray(conn.parser.unreader.take_buffered() if conn.parser is not None else b"")
        conn.read_deadline = time.monotonic() + self.header_timeout
        if not self.alive:
            conn.read_deadline = min(conn.read_deadline, time.monotonic() + STOP_KEEPALIVE_LINGER)
        if request_complete(bytes(conn.buffered)):
            self._dispatch(conn)
            return
        conn.sock.setblocking(False)
        self.reading_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn, _sock):
        try:
            data = conn.sock.recv(PREBUFFER_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._stop_reading(conn)
            self._drop(conn)
            return
        conn.buffered += data
        if request_complete(bytes(conn.buffered)):
            self._stop_reading(conn)
            self._dispatch(conn)

    def _stop_reading(self, conn):
        self.reading_conns.remove(conn)
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass

    def _drop(self, conn, answer: bytes = b""):
        if answer:
            try:
                conn.sock.send(answer)  # non-blocking, best effort: it fits any socket buffer
            except OSError:
                pass
        self.nr_conns -= 1
        conn.close()

    def _dispatch(self, conn):
        conn.data_ready = True  # the base worker must not wait for data in the thread
        conn.read_deadline = time.monotonic() + self.body_timeout
        conn.dispatching = True
        self.enqueue_req(conn)

    def finish_request(self, conn, fs):
        try:
            closing = not fs.cancelled() and fs.result() is False
        except Exception:
            closing = False  # the base worker closes it at once
        if not closing:
            super().finish_request(conn, fs)
            return
        try:
            conn.sock.shutdown(socket.SHUT_WR)  # our FIN: the answer is complete
            conn.sock.setblocking(False)
        except OSError:
            self._drop(conn)
            return
        conn.read_deadline = time.monotonic() + LINGER_SECONDS
        self.lingering_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_lingering_readable, conn))

    def _on_lingering_readable(self, conn, _sock):
        try:
            if conn.sock.recv(PREBUFFER_BYTES):
                return  # what the client still sends is dropped, until it closes too
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._stop_lingering(conn)
        self._drop(conn)

    def _stop_lingering(self, conn):
        self.lingering_conns.remove(conn)
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c in self.lingering_conns if c.read_deadline <= now]:
            self._stop_lingering(conn)
            self._drop(conn)
        for conn in [c for c in self.reading_conns if c.read_deadline <= now or not self.alive]:
            if not self.alive and conn.read_deadline > now and conn.buffered:
                continue  # a request on its way while stopping: it has until its deadline
            self._stop_reading(conn)
            self._drop(conn, _TIMEOUT_RESPONSE if conn.buffered else b"")

    def handle(self, conn):
        """In the pool thread: put the bytes read on the event loop in front of the parser and
        bound every later read of this request by its deadline."""
        try:
            conn.sock.setblocking(True)
            conn.init()
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error preparing a connection.")
            return False
        unreader = conn.parser.unreader
        if not getattr(unreader, "bounded", False):
            unreader.chunk = partial(_bounded_chunk, unreader.chunk, conn, self.body_timeout)
            unreader.bounded = True
        if conn.buffered:
            unreader.unread(bytes(conn.buffered))
            conn.buffered = bytearray()
        return super().handle(conn)

    def handle_request(self, req, conn):
        conn.sock.settimeout(self.body_timeout)  # bounds the response's writes
        conn.request = req
        try:
            keepalive = super().handle_request(req, conn)
        finally:
            conn.request = None
        return keepalive and not req.must_close


def _bounded_chunk(read, conn, write_timeout: float, size_hint=None):
    """One `recv` of the connection's socket, waiting no later than its read deadline; the socket
    is left with `write_timeout` for the response."""
    remaining = conn.read_deadline - time.monotonic()
    try:
        if remaining <= 0:
            raise socket.timeout()
        conn.sock.settimeout(remaining)
        return read(size_hint)
    except socket.timeout:
        # The rest of the request is still on its way: the answer says `Connection: close`.
        if getattr(conn, "request", None) is not None:
            conn.request.force_close()
        raise ReadTimeout() from None
    finally:
        conn.sock.settimeout(write_timeout)
