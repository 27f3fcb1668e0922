"""SQLite product store: the default, one file shared by every gunicorn worker and pod restart.

Why a connection per operation: connections are never shared across threads (gthread workers) or
inherited across fork, and opening one costs microseconds next to an HTTP request. WAL lets
readers run while one worker writes; the busy timeout makes concurrent writers wait, not fail.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from typing import Iterator

from ..settings import ConfigError
from .base import StoreUnavailable

BUSY_TIMEOUT_SECONDS = 5.0

_SCHEMA = "CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"


class SqliteProductStore:
    """Products in one SQLite file (SQLITE_PATH); its directory must be writable (WAL side files)."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            raise ConfigError("SQLITE_PATH", path, f"a file in an existing directory ({directory} does not exist)")
        try:
            with self._connect() as conn:
                # journal_mode is stored in the file: set once, every later connection uses WAL.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigError("SQLITE_PATH", path, f"a writable SQLite database file ({exc})") from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: autocommit, each statement below is its own atomic transaction.
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            # Sorting temp files would otherwise go to /tmp, read-only in the pod.
            conn.execute("PRAGMA temp_store=MEMORY")
            yield conn
        finally:
            conn.close()

    def list(self) -> dict[int, str]:
        try:
            with self._connect() as conn:
                rows = conn.execute("SELECT id, name FROM products ORDER BY id").fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite read failed: {exc}") from exc
        return {int(pid): name for pid, name in rows}

    def get(self, product_id: int) -> str | None:
        try:
            with self._connect() as conn:
                row = conn.execute("SELECT name FROM products WHERE id = ?", (product_id,)).fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite read failed: {exc}") from exc
        return None if row is None else row[0]

    def put(self, product_id: int, name: str) -> bool:
        try:
            with self._connect() as conn:  # one transaction: the insert-or-update is atomic
                inserted = conn.execute("INSERT OR IGNORE INTO products (id, name) VALUES (?, ?)",
                                        (product_id, name)).rowcount == 1
                if not inserted:
                    conn.execute("UPDATE products SET name = ? WHERE id = ?", (name, product_id))
                return inserted
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite write failed: {exc}") from exc

    def close(self) -> None:
        """Nothing is held open between operations."""
