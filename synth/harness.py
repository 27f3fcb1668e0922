"""Evaluate the real program (or any function) under Pulumi's mock runtime and record every
resource registration: urn, type, name, parent, provider, dependencies and inputs, with secret
values redacted.

Why our own monitor: Pulumi's MockMonitor hands mocks the decoded inputs only, without parents,
dependencies or which values are secret; the synth output and the dependency and secret tests
need exactly those.
"""

from __future__ import annotations

import contextlib
import io
import os
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from google.protobuf import json_format

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from celestials.artifacts import GATEWAY_API
from celestials.local.stack import qualify, read_stack_config
from celestials.upstream_files import SOURCE_DIR_ENV
from tools.reference import REFERENCE

from .mocks import CelestialsMocks

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "celestials"
SECRET = "[secret]"
UNKNOWN = "[unknown]"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
#: The reference copy of the pinned Gateway API files (byte for byte the tag's), where present: the
#: offline synth reads them there, verified like any other source (celestials/upstream_files.py);
#: without it the program reads its cache or fetches them once.
REFERENCE_UPSTREAM_DIR = REFERENCE / f"gateway-api-{GATEWAY_API.tag}" / "standard"
if REFERENCE_UPSTREAM_DIR.is_dir():
    os.environ.setdefault(SOURCE_DIR_ENV, str(REFERENCE_UPSTREAM_DIR))


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    parent: str | None
    provider: str | None
    dependencies: list[str]
    custom: bool
    inputs: dict[str, Any]
    secret_outputs: list[str] = field(default_factory=list)
    #: the alias specs the program gave (what an earlier URN of this resource was), if any
    aliases: list[dict[str, Any]] = field(default_factory=list)
    #: a multi-language component (pulumi-eks's): its plugin registers its children when deployed,
    #: so none is seen offline (not written to resources.json, which holds what the program gave)
    remote: bool = False

    def as_dict(self) -> dict[str, Any]:
        out = {"urn": self.urn, "type": self.type, "name": self.name, "parent": self.parent,
               "provider": self.provider, "dependencies": self.dependencies,
               "custom": self.custom, "inputs": self.inputs,
               "additionalSecretOutputs": self.secret_outputs}
        return {**out, "aliases": self.aliases} if self.aliases else out


@dataclass
class SynthResult:
    stack: str
    resources: list[dict[str, Any]]
    outputs: dict[str, Any]
    #: URNs of the multi-language components, whose children only their plugin knows
    remote: frozenset[str] = frozenset()

    def by_type(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == typ]

    def get(self, typ: str, name: str) -> dict[str, Any]:
        for r in self.resources:
            if r["type"] == typ and r["name"] == name:
                return r
        raise KeyError(f"no {typ} named {name}")

    @property
    def urns(self) -> dict[str, dict[str, Any]]:
        return {r["urn"]: r for r in self.resources}

    @property
    def manifests(self) -> list[dict[str, Any]]:
        """Every Kubernetes object the program creates (not Helm releases or providers)."""
        return [kubernetes_object(r) for r in self.resources if is_kubernetes_object(r)]

    def ancestors(self, urn: str) -> list[str]:
        chain, urns = [], self.urns
        parent = urns[urn]["parent"] if urn in urns else None
        while parent:
            chain.append(parent)
            parent = urns[parent]["parent"] if parent in urns else None
        return chain

    def depends_on(self, urn: str, target: str) -> bool:
        """Does `urn` wait for `target`, directly or through anything it waits for?"""
        urns, seen, todo = self.urns, set(), [urn]
        while todo:
            cur = todo.pop()
            if cur in seen or cur not in urns:
                continue
            seen.add(cur)
            if target in urns[cur]["dependencies"]:
                return True
            todo.extend(urns[cur]["dependencies"])
        return False


def is_kubernetes_object(r: Mapping[str, Any]) -> bool:
    t = r["type"]
    return (r["custom"] and t.startswith("kubernetes:") and not t.startswith("kubernetes:helm.sh/")
            and "kind" in r["inputs"])


def kubernetes_object(r: Mapping[str, Any]) -> dict[str, Any]:
    obj = {k: v for k, v in r["inputs"].items() if not k.startswith("__")}
    if obj.get("kind") == "Secret":
        for key in ("data", "stringData"):
            if isinstance(obj.get(key), dict):
                obj[key] = {k: SECRET for k in obj[key]}
            elif key in obj:
                obj[key] = SECRET
    return obj


def _decode(value: Any) -> Any:
    """protobuf-JSON property value → plain data with secrets and unknowns made visible."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SECRET_SIG:
            return SECRET
        if sig == _RESOURCE_SIG:
            return {"$resource": value.get("urn")}
        if sig == _OUTPUT_SIG:
            if value.get("secret"):
                return SECRET
            return _decode(value["value"]) if "value" in value else UNKNOWN
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if value == _UNKNOWN_VALUE:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _plain(value: Any) -> Any:
    """protobuf-JSON property value → what a mock sees: secrets unwrapped, references as URNs."""
    if isinstance(value, dict):
        sig = value.get(_SIG_KEY)
        if sig == _SECRET_SIG:
            return _plain(value.get("value"))
        if sig == _RESOURCE_SIG:
            return value.get("urn")
        if sig == _OUTPUT_SIG:
            return _plain(value.get("value"))
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value == _UNKNOWN_VALUE:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _program_aliases(aliases: Iterable[Any]) -> list[dict[str, Any]]:
    """The alias specs the program wrote; a spec naming only another type is the SDK's own (every
    typed Kubernetes resource aliases the kind's older API versions) and is left out."""
    specs = [json_format.MessageToDict(a).get("spec", {}) for a in aliases]
    return [s for s in specs if set(s) - {"type"} != {"parentUrn"} or s.get("parentUrn")]


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # Like the engine: children of the root stack do not carry the stack's type in their URN.
        if parent and parent.split("::")[2] == "pulumi:pulumi:Stack":
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request):
        # Decoded here rather than by MockMonitor: its decoder rebuilds resource references as
        # live Resource objects on a worker thread's event loop, which breaks the next evaluation
        # in the same process. Mocks only need plain values; references become URNs.
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        raw = json_format.MessageToDict(request.object)
        args = pulumi_mocks.MockResourceArgs(
            typ=request.type, name=request.name, inputs=_plain(raw), provider=request.provider,
            resource_id=request.importId, custom=request.custom or False)
        id_, state = self.mocks.new_resource(args)
        obj_proto = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, state)
        provider = request.provider.rsplit("::", 1)[0] if request.provider else None
        self.registrations.append(Registration(
            urn=urn, type=request.type, name=request.name,
            parent=request.parent or None, provider=provider,
            dependencies=sorted(set(request.dependencies)), custom=bool(request.custom),
            inputs=_decode(raw), secret_outputs=sorted(request.additionalSecretOutputs),
            aliases=_program_aliases(request.aliases), remote=bool(request.remote)))
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj_proto)


def stack_config(stack: str, overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Pulumi.<stack>.yaml's config as the CLI hands it to the program: every value the string
    Pulumi reads (celestials.local.stack), keys fully qualified, a `secure:` value a placeholder;
    overrides as config strings. The rehearsal and the cost tool read the file the same way."""
    return {**read_stack_config(ROOT, stack), **qualify(overrides)}


def evaluate(fn: Callable[[], Any], stack: str = "dev", config: Mapping[str, str] | None = None,
             mocks: pulumi.runtime.Mocks | None = None, secret_keys: Iterable[str] = ()) -> SynthResult:
    """Run `fn` (which registers resources) under the mocks and return what it registered."""
    monitor = RecordingMonitor(mocks or CelestialsMocks())
    pulumi_settings.ROOT.set(None)
    pulumi.runtime.set_all_config(dict(config or {}), list(secret_keys))
    pulumi_mocks.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=True,
                           monitor=monitor)
    root = pulumi_settings.get_root_resource()
    pulumi_settings.SETTINGS.rpc_manager.clear()
    pulumi_settings.SETTINGS.outputs.clear()
    exported: dict[str, Any] = {}
    real_export = pulumi.export

    def recording_export(name: str, value: Any) -> None:
        exported[name] = value
        real_export(name, value)

    pulumi.export = recording_export
    try:
        _sync_await(run_pulumi_func(fn))
        outputs = {k: _sync_await(_resolve(v)) for k, v in exported.items()}
    except BaseException as err:
        # Tests assert that a bad config fails before anything is registered.
        err.synth_registrations = [r.as_dict() for r in monitor.registrations]
        raise
    finally:
        pulumi.export = real_export
    del root
    # Registration order depends on asyncio scheduling; URN order is stable across runs.
    resources = sorted((r.as_dict() for r in monitor.registrations), key=lambda r: r["urn"])
    return SynthResult(stack=stack, resources=resources, outputs=outputs,
                       remote=frozenset(r.urn for r in monitor.registrations if r.remote))


async def _resolve(value: Any) -> Any:
    out = pulumi.Output.from_input(value)
    if await out.is_secret():
        return SECRET
    if not await out.is_known():
        return UNKNOWN
    return await out.future()


def synth_stack(stack: str = "dev", overrides: Mapping[str, Any] | None = None, *,
                as_stack: str | None = None) -> SynthResult:
    """Evaluate the real __main__.py with Pulumi.<stack>.yaml (plus overrides); `as_stack`: as a
    stack of that name instead (its config still Pulumi.<stack>.yaml's)."""
    config = stack_config(stack, overrides)
    stack = as_stack or stack
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return evaluate(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
                        stack=stack, config=config)
    finally:
        os.chdir(cwd)


#: Every stack of the project (a Pulumi.<stack>.yaml beside __main__.py).
STACKS = tuple(sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml")))
#: What selects each mesh backend on top of a stack file (App Mesh needs its acknowledgement).
BACKEND_SELECTION: dict[str, dict[str, str]] = {
    "istio": {"meshBackend": "istio"},
    "appmesh": {"meshBackend": "appmesh", "appMeshEndOfSupportAcknowledged": "true"},
}


@contextlib.contextmanager
def quiet():
    """Silence Pulumi's own logging of mock registrations."""
    with contextlib.redirect_stderr(io.StringIO()):
        yield
