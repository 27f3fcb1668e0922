"""One running rehearsal shared by every test of a pytest session, in its own loopback block.

Tests anywhere use it from a fixture:

    @pytest.fixture(scope="session")
    def rehearsal(request):
        return shared_rehearsal(request)

and change settings only for a block: `with rehearsal.overridden({"mtlsTrust": "ca1+ca2"}): ...`
(restarts only the Envoys whose config changes, then puts the baseline back). The block
`127.77.0.0/16` and `build/test-local/` keep it apart from a developer's `make local-up`.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.error
import urllib.request
from pathlib import Path

from .rehearsal import PROJECT_ROOT, Rehearsal

TEST_NET = 77
TEST_ROOT = PROJECT_ROOT / "build" / "test-local"
#: The settings tests start from, whatever the dev stack file says today.
BASELINE = {"canaryWeight": "50", "mtlsTrust": "ca1", "tracing": "true"}

_shared: dict[int, Rehearsal] = {}


def shared_rehearsal(request, net: int = TEST_NET) -> Rehearsal:
    """Start the session's rehearsal once (stopping a leftover of a crashed run first); the first
    fixture that asks registers the stop at the end of its scope."""
    if net not in _shared:
        rehearsal = Rehearsal(stack="dev", overrides=BASELINE, root=TEST_ROOT / str(net), net=net)
        rehearsal.down()
        rehearsal.up()
        _shared[net] = rehearsal
        request.addfinalizer(lambda: _stop(net))
    return _shared[net]


def _stop(net: int) -> None:
    rehearsal = _shared.pop(net)
    rehearsal.down()


def endpoints(rehearsal: Rehearsal) -> dict:
    return json.loads(Path(rehearsal.root, "endpoints.json").read_text())


def get(url: str, headers: dict | None = None, timeout: float = 10.0) -> tuple[int, str]:
    """GET returning (status, body) for any status, so tests can assert on error answers too."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post_form(url: str, fields: dict, timeout: float = 10.0) -> tuple[int, str]:
    """POST a form without following the redirect: (status, Location or body)."""
    data = urllib.parse.urlencode(fields).encode()
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, data=data, method="POST"), timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Location") or err.read().decode()
