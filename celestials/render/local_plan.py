"""Where every piece of the local rehearsal lives on one machine: loopback addresses and files.

Each workload gets its own loopback addresses so apps keep their real ports (three apps on 8080
can coexist), and the whole rehearsal sits in one `127.<net>.0.0/16` block so a test rehearsal
and a developer's rehearsal never collide. Pure data: nothing here opens a socket or a file.

Layout inside `127.<net>.x.y` for the workload numbered N (1-based, model order):

    127.<net>.1.N   the app, on its own port
    127.<net>.2.N   its sidecar's inbound listener, same port (what other sidecars call)
    127.<net>.3.N   its sidecar's outbound listeners, one per backend on that service's port
    127.<net>.4.N   its sidecar's admin port
    127.<net>.0.G   gateway G (1-based): listener on the gateway's port, admin on ADMIN_PORT
    127.<net>.0.200 the trace sink (OTLP/HTTP)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from .. import pki
from ..topology.model import Gateway, Mesh, Topology, TopologyError, Workload

ADMIN_PORT = 9901
SINK_PORT = 4318
_SINK_HOST = 200
_MAX_INDEX = 199


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class LocalPlan:
    """Addresses and file locations of one rehearsal; `root` is an absolute directory."""

    net: int
    root: str
    workload_index: Mapping[tuple[str, str], int]
    gateway_index: Mapping[tuple[str, str], int]

    # --- addresses -----------------------------------------------------------------------
    def _ip(self, third: int, fourth: int) -> str:
        return f"127.{self.net}.{third}.{fourth}"

    def _n(self, mesh: Mesh, w: Workload) -> int:
        return self.workload_index[(mesh.name, w.name)]

    def app(self, mesh: Mesh, w: Workload) -> Endpoint:
        return Endpoint(self._ip(1, self._n(mesh, w)), w.port)

    def inbound(self, mesh: Mesh, w: Workload) -> Endpoint:
        return Endpoint(self._ip(2, self._n(mesh, w)), w.port)

    def outbound(self, mesh: Mesh, w: Workload, service: str) -> Endpoint:
        return Endpoint(self._ip(3, self._n(mesh, w)), mesh.service(service).port)

    def sidecar_admin(self, mesh: Mesh, w: Workload) -> Endpoint:
        return Endpoint(self._ip(4, self._n(mesh, w)), ADMIN_PORT)

    def gateway(self, mesh: Mesh, gw: Gateway) -> Endpoint:
        return Endpoint(self._ip(0, self.gateway_index[(mesh.name, gw.name)]), gw.port)

    def gateway_admin(self, mesh: Mesh, gw: Gateway) -> Endpoint:
        return Endpoint(self.gateway(mesh, gw).host, ADMIN_PORT)

    @property
    def sink(self) -> Endpoint:
        return Endpoint(self._ip(0, _SINK_HOST), SINK_PORT)

    # --- files ---------------------------------------------------------------------------
    def path(self, *parts: str) -> str:
        return os.path.join(self.root, *parts)

    def envoy_config(self, process: str) -> str:
        return self.path("envoy", f"{process}.json")

    def xds_file(self, process: str, resource: str) -> str:
        """A file of dynamic resources (`lds`, `cds`, `rds-<route config>`) one Envoy watches."""
        return self.path("envoy", process, f"{resource}.json")

    def log(self, process: str) -> str:
        return self.path("logs", f"{process}.log")

    def access_log(self, process: str) -> str:
        return self.path("logs", f"{process}.access.log")

    @property
    def spans_file(self) -> str:
        return self.path("traces", "spans.jsonl")

    def data(self, name: str) -> str:
        return self.path("data", name)

    @property
    def pki_dir(self) -> str:
        """Where `celestials.pki.ensure_material` writes the rehearsal's certificates."""
        return self.path("pki")

    def leaf_files(self, certificate: str) -> tuple[str, str]:
        """(certificate chain, private key) of a leaf named in the model, as pki names them."""
        return pki.leaf_paths(certificate, self.pki_dir)

    def trust_file(self, cas: tuple[str, ...]) -> str:
        return pki.trust_path(cas, self.pki_dir)


def sidecar_name(w: Workload) -> str:
    return f"{w.name}-envoy"


def plan_local(topology: Topology, root: str, net: int = 0) -> LocalPlan:
    """Number workloads and gateways in model order; refuse what cannot fit or would collide."""
    if not 0 <= net <= 255:
        raise ValueError(f"loopback net {net!r}: must be 0-255 (addresses 127.<net>.x.y)")
    if not os.path.isabs(root):
        raise ValueError(f"rehearsal root {root!r} must be an absolute path")
    workloads: dict[tuple[str, str], int] = {}
    gateways: dict[tuple[str, str], int] = {}
    names: dict[str, str] = {}
    for mesh in topology.meshes:
        for w in mesh.workloads:
            workloads[(mesh.name, w.name)] = len(workloads) + 1
            for process in (w.name, sidecar_name(w)):
                _claim(names, process, mesh.name)
        if mesh.gateway:
            gateways[(mesh.name, mesh.gateway.name)] = len(gateways) + 1
            _claim(names, mesh.gateway.name, mesh.name)
    if len(workloads) > _MAX_INDEX or len(gateways) > _MAX_INDEX:
        raise TopologyError(f"the local plan fits at most {_MAX_INDEX} workloads and gateways")
    return LocalPlan(net=net, root=root, workload_index=workloads, gateway_index=gateways)


def _claim(names: dict[str, str], process: str, mesh: str) -> None:
    if process in names:
        raise TopologyError(
            f"local process name {process!r} is used in mesh {names[process]} and mesh {mesh}: "
            "workload and gateway names must be unique across meshes to run them side by side")
    names[process] = mesh
