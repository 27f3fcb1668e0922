"""One running rehearsal shared by every test of a pytest session, in its own loopback block.

Tests anywhere use it from a fixture:

    @pytest.fixture(scope="session")
    def rehearsal(request):
        return shared_rehearsal(request)

and change settings only for a block: `with rehearsal.overridden({"mtlsTrust": "ca1+ca2"}): ...`
(restarts only the Envoys whose config changes, then puts the baseline back). Its own loopback
block (127.80+.x.y) and `build/test-local/<net>/` keep it apart from a developer's `make local-up`
and from other test sessions on the same machine.
"""

from __future__ import annotations

import fcntl
import json
import socket
import tempfile
import urllib.parse
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..render.local_plan import SINK_PORT
from .rehearsal import PROJECT_ROOT, Rehearsal

if TYPE_CHECKING:
    import pytest

#: Loopback blocks 127.<net>.0.0/16 for test rehearsals; each pytest process claims free ones with a
#: lock, so test sessions running side by side (several developers on one machine) never collide.
#: The locks live in one machine-wide folder: loopback addresses are the machine's, so two clones
#: of the project (each with its own build/) must see each other's claims.
TEST_NETS = range(80, 120)
TEST_ROOT = PROJECT_ROOT / "build" / "test-local"
LOCK_DIR = Path(tempfile.gettempdir()) / "celestials-test-nets"
#: The settings tests start from, whatever the dev stack file says today.
BASELINE = {"canaryWeight": "50", "mtlsTrust": "ca1", "tracing": "true"}

_shared: list[Rehearsal] = []
_claims: dict[int, IO[str]] = {}


def claim_block() -> tuple[int, Path]:
    """A loopback block and directory no other live process uses, held until `release_block`.
    Whatever a crashed session left running in it is stopped first."""
    TEST_ROOT.mkdir(parents=True, exist_ok=True)
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    for net in TEST_NETS:
        if net in _claims:
            continue
        handle = open(LOCK_DIR / f"{net}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        root = TEST_ROOT / str(net)
        Rehearsal(root=root, net=net).down()
        if _block_in_use(net):  # a rehearsal whose lock is not here (an older checkout kept it in its build/)
            handle.close()
            continue
        _claims[net] = handle
        return net, root
    raise RuntimeError(f"every test loopback block {TEST_NETS.start}-{TEST_NETS.stop - 1} is in use")


def _block_in_use(net: int) -> bool:
    """Whether anything listens on the block's trace-sink address, which every rehearsal binds."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((f"127.{net}.0.200", SINK_PORT))
        except OSError:
            return True
    return False


def release_block(net: int) -> None:
    handle = _claims.pop(net, None)
    if handle is not None:
        handle.close()


def shared_rehearsal(request: pytest.FixtureRequest) -> Rehearsal:
    """Start this process's test rehearsal once; the first fixture that asks stops it at the end of
    its scope (a later fixture then starts a fresh one)."""
    if not _shared:
        net, root = claim_block()
        rehearsal = Rehearsal(stack="dev", overrides=BASELINE, root=root, net=net)
        try:
            rehearsal.up()
        except BaseException:
            release_block(net)
            raise
        _shared.append(rehearsal)
        request.addfinalizer(_stop)
    return _shared[0]


def _stop() -> None:
    rehearsal = _shared.pop()
    try:
        rehearsal.down()
    finally:
        release_block(rehearsal.net)


def endpoints(rehearsal: Rehearsal) -> dict[str, Any]:
    written: dict[str, Any] = json.loads(Path(rehearsal.root, "endpoints.json").read_text())
    return written


def get(url: str, headers: dict[str, str] | None = None, timeout: float = 10.0) -> tuple[int, str]:
    """GET returning (status, body) for any status, so tests can assert on error answers too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post_form(url: str, fields: dict[str, str], timeout: float = 10.0) -> tuple[int, str]:
    """POST a form without following the redirect: (status, Location or body)."""
    data = urllib.parse.urlencode(fields).encode()
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, data=data, method="POST"), timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Location") or err.read().decode()
