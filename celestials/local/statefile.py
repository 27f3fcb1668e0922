"""The running rehearsal's state file (`<root>/state.json`) and the lock every writer holds.

The rehearsal's commands and its restarter (another process) both change it: each holds the lock
from reading it to writing it, and writes it whole, atomically.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Any, Iterator


class StateFileError(RuntimeError):
    """A state file that cannot be read; the message says what to do."""


def path(root: Path) -> Path:
    return root / "state.json"


@contextlib.contextmanager
def lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def read(root: Path) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads(path(root).read_text())
        return state
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as err:
        raise StateFileError(f"{path(root)} is corrupt ({err}); stop the processes listed in "
                             f"{root}/logs by hand and delete it") from None


def write(root: Path, state: dict[str, Any]) -> None:
    write_atomic(str(path(root)), json.dumps(state, indent=2, sort_keys=True) + "\n")


def write_atomic(file: str, text: str) -> None:
    os.makedirs(os.path.dirname(file), exist_ok=True)
    tmp = f"{file}.tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, file)
