"""The mTLS colorapp mesh (namespace `mtls`): front → `color` router → blue / green / red tellers.

Also the TLS vocabulary every backend shares, decided once here: which leaf each workload holds,
which CAs it trusts and which Kubernetes Secret carries those files (where a proxy finds them is
each backend's own convention).
The model's `certificate` names a leaf of the PKI plan and `trust`/`client_trust` name CAs; the
file names come from `celestials.pki`, so the App Mesh objects, the Secrets, the local Envoy
configs and the issued files cannot disagree.

Certificates: CA1 signs front and blue, CA2 signs green, red has none. blue and green accept only
clients holding a CA1 leaf with SAN `front.mtls.svc.cluster.local`; front trusts CA1, or the CA1+CA2
bundle when `mtlsTrust` is `ca1+ca2` (the tutorial's `mesh.sh addGreen`, here a config change).
front's proxy holds the files of both trusts whatever the setting (`tls_mount`), so the switch
changes only which trust file its client policy names.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import pki
from ..settings import Settings
from .model import (BackendEnv, ClientTls, HeaderMatch, HealthCheck, Mesh, Resources, Route, Router,
                    ServerTls, Service, TopologyError, WeightedTarget, Workload)

NAMESPACE = "mtls"
MESH_NAME = "mtls-mesh"
PORT = 8080
#: Where a teller with TLS answers the kubelet's probes (plain HTTP, /ping only): its port 8080
#: requires front's client certificate, which the kubelet cannot present.
HEALTH_PORT = 8081
COLOR_HEADER = "color_header"
COLOR_SERVICE = "color"
FRONT = "front"
COLORS = ("blue", "green", "red")
CA1, CA2 = "ca1", "ca2"
#: mtlsTrust setting → the CAs front's client policy trusts
TRUSTS: dict[str, tuple[str, ...]] = {"ca1": (CA1,), "ca1+ca2": (CA1, CA2)}
#: leaf name (file stem) → signing CA; red deliberately has no certificate
LEAF_CAS: dict[str, str] = {"front": CA1, "colorapp-blue": CA1, "colorapp-green": CA2}
_TELLER_LEAVES = {"blue": "colorapp-blue", "green": "colorapp-green"}

_RESOURCES = Resources(cpu_request_m=50, memory_request_mi=96, memory_limit_mi=192)


def teller_host(color: str) -> str:
    return f"color-{color}"


#: The demo runs one replica of each pod on purpose: it shows certificate trust, and nothing a user
#: of the product calls depends on it.
SINGLE_REPLICA_REASON = "mTLS demo, not on the product request path"


def _teller(color: str, front_san: str) -> Workload:
    leaf = _TELLER_LEAVES.get(color)
    server_tls = None
    if leaf is not None:
        server_tls = ServerTls(certificate=leaf, client_trust=(CA1,), client_sans=(front_san,), mode="STRICT")
    probe_port = HEALTH_PORT if server_tls is not None else None
    return Workload(
        name=color, app="color", version=color, image="colorteller", port=PORT, host=teller_host(color),
        health=HealthCheck(path="/ping", port=PORT, probe_port=probe_port),
        tracing_name=f"Color-Teller-{color.capitalize()}",
        env=(("COLOR", color),), resources=_RESOURCES, server_tls=server_tls,
        single_replica_reason=SINGLE_REPLICA_REASON,
    )


def colorapp_mesh(settings: Settings) -> Mesh:
    dns = f"{{}}.{NAMESPACE}.svc.cluster.local".format
    front_san = dns(FRONT)
    teller_sans = tuple(dns(teller_host(c)) for c in _TELLER_LEAVES)
    front = Workload(
        name=FRONT, app=FRONT, image="colorfront", port=PORT, host=FRONT,
        health=HealthCheck(path="/ping", port=PORT), tracing_name="Color-Front",
        backends=(COLOR_SERVICE,), backend_env=(BackendEnv("COLOR_HOST", COLOR_SERVICE, "/"),),
        resources=_RESOURCES, internal=True, single_replica_reason=SINGLE_REPLICA_REASON,
        client_tls=ClientTls(certificate="front", trust=TRUSTS[settings.mtls_trust], sans=teller_sans,
                             enforce=True),
    )
    router = Router(name="color-router", port=PORT, routes=tuple(
        Route(name=f"color-route-{c}", targets=(WeightedTarget(c, 100),),
              headers=(HeaderMatch(COLOR_HEADER, c),), timeout_ms=5000)
        for c in COLORS))
    services = (Service(name=FRONT, port=PORT, workload=FRONT),
                Service(name=COLOR_SERVICE, port=PORT, router=router.name))
    return Mesh(name=MESH_NAME, namespace=NAMESPACE,
                workloads=(front, *(_teller(c, front_san) for c in COLORS)),
                services=services, routers=(router,), node_architecture=settings.node_architecture).validate()


def pki_plan(mesh: Mesh) -> pki.PkiPlan:
    """The certificates the mesh needs, SANs derived from its service DNS names."""
    by_leaf: dict[str, str] = {}
    for w in mesh.workloads:
        for cert in (w.server_tls and w.server_tls.certificate, w.client_tls and w.client_tls.certificate):
            if cert:
                by_leaf.setdefault(cert, mesh.dns(w.host))
    unknown = sorted(set(by_leaf) - set(LEAF_CAS))
    if unknown:
        raise TopologyError(f"mesh {mesh.name}: certificates {unknown} have no CA in colorapp.LEAF_CAS")
    leaves = tuple(pki.LeafSpec(name=leaf, ca=ca, sans=(by_leaf[leaf],)) for leaf, ca in LEAF_CAS.items()
                   if leaf in by_leaf)
    return pki.PkiPlan(cas=(CA1, CA2), leaves=leaves, bundles=((CA1, CA2),))


@dataclass(frozen=True)
class TlsSecret:
    """A Kubernetes Secret the proxy of a workload mounts: one leaf (key + chain) and one trust."""

    name: str
    leaf: str
    trust: tuple[str, ...]

    @property
    def files(self) -> tuple[str, str, str]:
        return pki.key_file(self.leaf), pki.chain_file(self.leaf), pki.trust_file(self.trust)


#: The contract's Secrets. front has one per trust it can be switched to, and its proxy mounts
#: both (`tls_mount`): the switch then names the other trust file, with no remount and no edit.
TLS_SECRETS: tuple[TlsSecret, ...] = (
    TlsSecret("front-ca1-tls", "front", (CA1,)),
    TlsSecret("front-ca1-ca2-tls", "front", (CA1, CA2)),
    TlsSecret("colorapp-blue-tls", "colorapp-blue", (CA1,)),
    TlsSecret("colorapp-green-tls", "colorapp-green", (CA1,)),
)


def tls_secret_for(workload: Workload) -> TlsSecret | None:
    """The Secret holding what the workload's TLS policies reference, or None without TLS."""
    leaves = {p.certificate for p in (workload.server_tls, workload.client_tls) if p}
    if not leaves:
        return None
    if len(leaves) > 1:
        raise ValueError(f"workload {workload.name}: server and client TLS use different leaves {sorted(leaves)}")
    trusts = {tuple(p.client_trust) for p in (workload.server_tls,) if p} | \
             {tuple(p.trust) for p in (workload.client_tls,) if p}
    if len(trusts) > 1:
        raise ValueError(f"workload {workload.name}: server and client TLS trust different CAs {sorted(trusts)}")
    leaf, trust = leaves.pop(), trusts.pop()
    for secret in TLS_SECRETS:
        if secret.leaf == leaf and secret.trust == trust:
            return secret
    raise ValueError(f"workload {workload.name}: no TLS Secret holds leaf {leaf} with trust {'+'.join(trust)}")


def tls_mount(workload: Workload) -> tuple[TlsSecret, ...]:
    """The Secrets the workload's proxy mounts, in one directory: every Secret of its leaf, in
    TLS_SECRETS order. Not only the one its policies name (`tls_secret_for`): what a proxy has
    mounted must not depend on the trust it is switched to, or a switch would have to replace the
    pods before their policies could name the new trust file. Empty for a workload without TLS."""
    secret = tls_secret_for(workload)
    if secret is None:
        return ()
    return tuple(s for s in TLS_SECRETS if s.leaf == secret.leaf)


def mounted_files(workload: Workload) -> tuple[str, ...]:
    """The file names in the directory of the workload's TLS mount: its leaf's key and chain, then
    the trust file of each Secret."""
    mount = tls_mount(workload)
    if not mount:
        return ()
    key, chain, _ = mount[0].files
    return (key, chain, *dict.fromkeys(pki.trust_file(s.trust) for s in mount))


def tls_files(workload: Workload, directory: str) -> dict[str, str]:
    """Paths a proxy that sees the workload's TLS Secret under `directory` uses: `certificate_chain`, `private_key`, and the trust
    files `server_trust` (clients it accepts) and/or `client_trust` (servers it accepts)."""
    out: dict[str, str] = {}
    for policy in (workload.server_tls, workload.client_tls):
        if policy:
            out["certificate_chain"], out["private_key"] = pki.leaf_paths(policy.certificate, directory)
    if workload.server_tls:
        out["server_trust"] = pki.trust_path(workload.server_tls.client_trust, directory)
    if workload.client_tls:
        out["client_trust"] = pki.trust_path(workload.client_tls.trust, directory)
    return out
