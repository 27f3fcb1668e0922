"""Test helpers for the slow-client tests of both apps: connections that send part of a request
and stall, and what the server does with them. For the tests only (the images leave this file out)."""

from __future__ import annotations

import socket
import time

import pytest


def stall(port: int, partial: bytes) -> socket.socket:
    """A loopback connection that sent `partial` (maybe nothing) and sends no more."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if partial:
        sock.sendall(partial)
    return sock


def still_open(sock: socket.socket) -> bool:
    """The server has neither closed nor reset the connection (nor answered on it)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.settimeout(5)


def answer_until_closed(sock: socket.socket, within: float) -> bytes:
    """Everything the server sends until it closes, failing if it has not closed within `within` s."""
    deadline = time.monotonic() + within
    answer = b""
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            pytest.fail(f"still open {within:g} s later; got {answer[:200]!r}")
        except ConnectionResetError:
            return answer
        if not chunk:
            return answer
        answer += chunk
