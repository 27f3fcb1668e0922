"""Will everything the stack schedules fit on the node group? Answer before any resource exists.

Why: a pod that does not fit stays Pending, and Pulumi only notices when its Deployment await
times out, minutes into `pulumi up`. Here the same numbers the cluster will use are added up in
plain Python so that `pulumi preview` (and the offline synth) fail at once with the shortfall.

What is counted (all figures are Kubernetes *requests*, the only thing the scheduler reads):
- EKS system pods: aws-node and kube-proxy (DaemonSets, one per node), CoreDNS (2 replicas),
  metrics-server (2 replicas, on stacks that autoscale: `system_pods`);
  the mesh backend's own pods (its controller: `MeshOverhead.system`); plus any extra pods the
  caller passes (e.g. the OpenTelemetry collector, from its chart values).
- every workload of every mesh × replicas, each with the containers the backend's injector adds
  (`MeshOverhead.sidecars`: the proxy, and e.g. an X-Ray daemon, plus init containers); a
  Deployment under a HorizontalPodAutoscaler at its *max* (`PodDemand.max_replicas`) on the full
  node group, since the HPA may scale it there at any time, and at its min for the N-1 check;
- every mesh gateway at the model's gateway resources, plus what the injector adds to it;
- optionally one rolling-update surge pod per Deployment (25 % maxSurge, rounded up), because
  Pulumi updates Deployments concurrently and a surge pod that does not fit blocks the rollout.

Node side: allocatable = capacity − kube-reserved − eviction threshold, with the formulas the EKS
AMI's `nodeadm` uses (no system-reserved amount is set there), and max pods from the ENI limits.
Pods are placed with first-fit-decreasing across the node count, after the DaemonSets on each node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

from .settings import Settings
from .topology.model import Resources, Topology


class CapacityError(ValueError):
    """The workloads cannot be scheduled on the configured node group; the message says why."""


# --- instance types ------------------------------------------------------------------------
@dataclass(frozen=True)
class InstanceType:
    """An EC2 instance type as the scheduler sees it.

    `enis` and `ipv4_per_eni` are EC2's "maximum network interfaces" and "IPv4 addresses per
    interface" (EC2 User Guide, "IP addresses per network interface per instance type"); the
    VPC CNI (secondary-IP mode, no prefix delegation) gives each non-host-network pod one of those
    addresses, the first address of each ENI being the ENI's own. Hence the EKS formula
        max pods = ENIs × (IPv4 addresses per ENI − 1) + 2
    (the +2 are aws-node and kube-proxy, which use the host network). The results agree with
    `eni-max-pods.txt` of awslabs/amazon-eks-ami for every type listed here.
    """

    name: str
    vcpus: int
    memory_gib: int
    enis: int
    ipv4_per_eni: int
    #: CPU architecture as Kubernetes and Docker name it: "amd64" (x86-64) or "arm64" (Graviton).
    architecture: str = "amd64"

    @property
    def max_pods(self) -> int:
        return self.enis * (self.ipv4_per_eni - 1) + 2

    @property
    def memory_capacity_mi(self) -> int:
        """What the node reports as memory capacity: the nominal size minus what the hypervisor
        and kernel keep. Estimated as Karpenter does (VM_MEMORY_OVERHEAD_PERCENT, 7.5 %)."""
        return math.floor(self.memory_gib * 1024 * (1 - VM_MEMORY_OVERHEAD))


VM_MEMORY_OVERHEAD = 0.075


def _family(family: str, sizes: Mapping[str, tuple[int, int, int, int]],
            architecture: str = "amd64") -> dict[str, InstanceType]:
    return {f"{family}.{size}": InstanceType(f"{family}.{size}", *spec, architecture=architecture)
            for size, spec in sizes.items()}


#: size → (vCPUs, memory GiB, ENIs, IPv4 per ENI). A few current families per architecture:
#: enough to choose from, small enough to check by hand; an unknown type is refused, never guessed.
#: The Graviton (arm64) sizes have the same ENI limits as their x86 counterparts of equal size.
_GENERAL = {"large": (2, 8, 3, 10), "xlarge": (4, 16, 4, 15), "2xlarge": (8, 32, 4, 15)}
_COMPUTE = {"large": (2, 4, 3, 10), "xlarge": (4, 8, 4, 15), "2xlarge": (8, 16, 4, 15)}
_MEMORY = {"large": (2, 16, 3, 10), "xlarge": (4, 32, 4, 15), "2xlarge": (8, 64, 4, 15)}
_BURSTABLE = {"medium": (2, 4, 3, 6), "large": (2, 8, 3, 12), "xlarge": (4, 16, 4, 15), "2xlarge": (8, 32, 4, 15)}
INSTANCE_TYPES: dict[str, InstanceType] = {
    **_family("t3", _BURSTABLE),
    **_family("m5", _GENERAL),
    **_family("m6i", _GENERAL),
    **_family("m7i", _GENERAL),
    **_family("c6i", _COMPUTE),
    **_family("r6i", _MEMORY),
    **_family("t4g", _BURSTABLE, "arm64"),
    **_family("m7g", _GENERAL, "arm64"),
    **_family("m8g", _GENERAL, "arm64"),
    **_family("c7g", _COMPUTE, "arm64"),
    **_family("r7g", _MEMORY, "arm64"),
}


def instance_type(name: str, architecture: str | None = None) -> InstanceType:
    """The table's entry for `name`; with `architecture`, refuse a type built for the other one
    (an arm64 node cannot run amd64 images, and the AMI type follows the architecture)."""
    try:
        it = INSTANCE_TYPES[name]
    except KeyError:
        raise CapacityError(
            f"celestials:instanceType = {name!r} is not in the capacity table, so the capacity check "
            f"cannot tell whether the workloads fit; use one of {', '.join(sorted(INSTANCE_TYPES))} "
            f"(or add the type with its vCPUs, memory and ENI limits to celestials/capacity.py)") from None
    if architecture is not None and it.architecture != architecture:
        same = sorted(n for n, t in INSTANCE_TYPES.items() if t.architecture == architecture)
        raise CapacityError(
            f"celestials:instanceType = {name!r} is an {it.architecture} type but "
            f"celestials:nodeArchitecture = {architecture!r}; use an {architecture} type "
            f"({', '.join(same)}) or set celestials:nodeArchitecture: {it.architecture}")
    return it


# --- node allocatable (EKS AMI / nodeadm formulas) ------------------------------------------
#: kubelet evictionHard memory.available set by nodeadm; allocatable excludes it.
EVICTION_HARD_MEMORY_MI = 100
#: (upper bound of the range in millicores, share reserved in 1/10000) — nodeadm's
#: getCPUMillicoresToReserve: 6 % of the first core, 1 % of the second, 0.5 % of cores 3-4,
#: 0.25 % of every core above 4.
_CPU_RESERVE_RANGES = ((1000, 600), (2000, 100), (4000, 50), (None, 25))


def kube_reserved_cpu_m(vcpus: int) -> int:
    total, reserved, start = vcpus * 1000, 0, 0
    for end, share in _CPU_RESERVE_RANGES:
        stop = total if end is None else min(total, end)
        if stop > start:
            reserved += (stop - start) * share // 10000
        if end is None or total <= end:
            break
        start = end
    return reserved


def kube_reserved_memory_mi(max_pods: int) -> int:
    """nodeadm's getMemoryMebibytesToReserve: 11 MiB per pod the node may run, plus 255 MiB."""
    return 11 * max_pods + 255


@dataclass(frozen=True)
class NodeAllocatable:
    instance: InstanceType
    cpu_m: int
    memory_mi: int
    pods: int

    @classmethod
    def of(cls, it: InstanceType) -> "NodeAllocatable":
        return cls(instance=it,
                   cpu_m=it.vcpus * 1000 - kube_reserved_cpu_m(it.vcpus),
                   memory_mi=it.memory_capacity_mi - kube_reserved_memory_mi(it.max_pods)
                   - EVICTION_HARD_MEMORY_MI,
                   pods=it.max_pods)


# --- demand ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Requests:
    cpu_m: int
    memory_mi: int

    def __add__(self, other: "Requests") -> "Requests":
        return Requests(self.cpu_m + other.cpu_m, self.memory_mi + other.memory_mi)

    @staticmethod
    def of(resources: Resources) -> "Requests":
        return Requests(resources.cpu_request_m, resources.memory_request_mi)


ZERO = Requests(0, 0)


def pod_requests(containers: Iterable[Requests], init_containers: Iterable[Requests] = ()) -> Requests:
    """The scheduler's view of a pod: max(sum of containers, largest init container), per resource."""
    total = sum(containers, ZERO)
    inits = list(init_containers)
    return Requests(max([total.cpu_m, *(i.cpu_m for i in inits)]),
                    max([total.memory_mi, *(i.memory_mi for i in inits)]))


@dataclass(frozen=True)
class PodDemand:
    """`replicas` identical pods (or, with `per_node`, one pod on every node: a DaemonSet)."""

    name: str
    requests: Requests
    replicas: int = 1
    per_node: bool = False
    surge: int = 0
    #: an HPA's maxReplicas (0: no autoscaler, `replicas` is all there ever is)
    max_replicas: int = 0

    def scaled_out(self, cap: int | None = None) -> "PodDemand":
        """This demand at its autoscaler's max (at most `cap`, at least `replicas`), with the
        rollout surge of that many pods."""
        if not self.max_replicas:
            return self
        replicas = max(self.replicas, min(self.max_replicas, cap) if cap is not None else self.max_replicas)
        return replace(self, replicas=replicas, surge=rolling_surge(replicas) if self.surge else 0)

    @classmethod
    def of(cls, name: str, requests: Mapping[str, Any], replicas: int = 1, surge: bool = True,
           max_replicas: int = 0) -> "PodDemand":
        """From a Kubernetes `resources.requests` mapping (e.g. a Helm chart's values) of a
        one-container Deployment (`max_replicas`: its HPA's max, if it has one)."""
        return cls(name, Requests(parse_cpu(requests.get("cpu", 0)), parse_memory(requests.get("memory", 0))),
                   replicas=replicas, surge=rolling_surge(replicas) if surge else 0, max_replicas=max_replicas)


@dataclass(frozen=True)
class Sidecars:
    """What a mesh's injector adds: `containers` beside the app in every meshed pod, `init`
    containers there, and `gateway` containers beside the ingress gateway's own (which runs at the
    model gateway's resources). Each backend says what its injector adds (`MeshOverhead`)."""

    containers: tuple[Requests, ...] = ()
    init: tuple[Requests, ...] = ()
    gateway: tuple[Requests, ...] = ()


@dataclass(frozen=True)
class MeshOverhead:
    """A mesh backend's share of the node group: its sidecars and its own pods (controllers)."""

    sidecars: Sidecars = Sidecars()
    system: tuple["PodDemand", ...] = ()


def requests_of(mapping: Mapping[str, Any]) -> Requests:
    """A Kubernetes `resources.requests` mapping (e.g. from chart values) as `Requests`."""
    return Requests(parse_cpu(mapping.get("cpu", 0)), parse_memory(mapping.get("memory", 0)))


#: EKS add-on pods, at their default requests: aws-node (VPC CNI: aws-node and
#: aws-eks-nodeagent containers, 25m CPU each, no memory request), kube-proxy (100m CPU),
#: CoreDNS (2 replicas of 100m CPU / 70Mi).
EKS_SYSTEM_PODS: tuple[PodDemand, ...] = (
    PodDemand("kube-system/aws-node", Requests(50, 0), per_node=True),
    PodDemand("kube-system/kube-proxy", Requests(100, 0), per_node=True),
    PodDemand("kube-system/coredns", Requests(100, 70), replicas=2),
)


#: The metrics-server EKS add-on (installed when the stack autoscales): 2 replicas (the community
#: add-on's default, for an API the HPAs cannot do without) at the upstream chart's default
#: requests, 100m CPU / 200Mi.
METRICS_SERVER_PODS: tuple[PodDemand, ...] = (PodDemand("kube-system/metrics-server", Requests(100, 200), replicas=2),)


def system_pods(settings: Settings) -> tuple[PodDemand, ...]:
    """EKS's own pods on this stack's nodes: the default add-ons, and metrics-server with autoscalers."""
    return (*EKS_SYSTEM_PODS, *(METRICS_SERVER_PODS if settings.autoscale_max is not None else ()))


def rolling_surge(replicas: int, max_surge_percent: int = 25) -> int:
    """Extra pods a RollingUpdate may start (Kubernetes rounds maxSurge percentages up)."""
    return math.ceil(replicas * max_surge_percent / 100)


def mesh_demands(topology: Topology, sidecars: Sidecars, surge: bool = True) -> list[PodDemand]:
    """Every meshed pod of the topology with its injected containers."""
    demands = []
    for mesh in topology.meshes:
        for w in mesh.workloads:
            containers = [Requests.of(w.resources), *sidecars.containers]
            demands.append(PodDemand(f"{mesh.namespace}/{w.name}", pod_requests(containers, sidecars.init),
                                     replicas=w.replicas, surge=rolling_surge(w.replicas) if surge else 0,
                                     max_replicas=w.autoscaling.max_replicas if w.autoscaling else 0))
        if mesh.gateway:
            g = mesh.gateway
            containers = [Requests.of(g.resources), *sidecars.gateway]
            demands.append(PodDemand(f"{mesh.namespace}/{g.name}", pod_requests(containers),
                                     replicas=g.replicas, surge=rolling_surge(g.replicas) if surge else 0,
                                     max_replicas=g.autoscaling.max_replicas if g.autoscaling else 0))
    return demands


_CPU_UNITS = {"m": 1}
_MEMORY_UNITS = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 ** 2, "K": 1e3 / 2 ** 20,
                 "M": 1e6 / 2 ** 20, "G": 1e9 / 2 ** 20, "T": 1e12 / 2 ** 20}


def parse_cpu(value: Any) -> int:
    """A Kubernetes CPU quantity in millicores (rounded up)."""
    text = str(value).strip()
    try:
        if text.endswith("m"):
            return math.ceil(float(text[:-1]))
        return math.ceil(float(text) * 1000)
    except ValueError:
        raise CapacityError(f"cannot read CPU quantity {value!r}") from None


def parse_memory(value: Any) -> int:
    """A Kubernetes memory quantity in MiB (rounded up)."""
    text = str(value).strip()
    for suffix in sorted(_MEMORY_UNITS, key=len, reverse=True):
        if text.endswith(suffix):
            number, factor = text[: -len(suffix)], _MEMORY_UNITS[suffix]
            break
    else:
        number, factor = text, 1 / 2 ** 20
    try:
        return math.ceil(float(number) * factor)
    except ValueError:
        raise CapacityError(f"cannot read memory quantity {value!r}") from None


def _container_requests(containers: Sequence[Mapping[str, Any]] | None) -> list[Requests]:
    out = []
    for c in containers or ():
        req = ((c.get("resources") or {}).get("requests") or {})
        out.append(Requests(parse_cpu(req["cpu"]) if "cpu" in req else 0,
                            parse_memory(req["memory"]) if "memory" in req else 0))
    return out


def demands_from_manifests(objects: Iterable[Mapping[str, Any]], surge: bool = True) -> list[PodDemand]:
    """Pods of rendered Deployments, StatefulSets and DaemonSets (for pods outside the meshes,
    e.g. the OpenTelemetry collector). Meshed pods are counted by `mesh_demands` instead."""
    demands = []
    for obj in objects:
        kind = obj.get("kind")
        if kind not in ("Deployment", "StatefulSet", "DaemonSet"):
            continue
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        pod = (spec.get("template") or {}).get("spec") or {}
        requests = pod_requests(_container_requests(pod.get("containers")),
                                _container_requests(pod.get("initContainers")))
        name = f"{meta.get('namespace', 'default')}/{meta.get('name', '?')}"
        if kind == "DaemonSet":
            demands.append(PodDemand(name, requests, per_node=True))
        else:
            replicas = int(spec.get("replicas", 1))
            demands.append(PodDemand(name, requests, replicas=replicas,
                                     surge=rolling_surge(replicas) if surge and kind == "Deployment" else 0))
    return demands


# --- the check ------------------------------------------------------------------------------
@dataclass
class _Node:
    cpu_m: int
    memory_mi: int
    pods: int
    placed: list[str] = field(default_factory=list)

    def fits(self, r: Requests) -> bool:
        return r.cpu_m <= self.cpu_m and r.memory_mi <= self.memory_mi and self.pods >= 1

    def place(self, name: str, r: Requests) -> None:
        self.cpu_m -= r.cpu_m
        self.memory_mi -= r.memory_mi
        self.pods -= 1
        self.placed.append(name)


@dataclass(frozen=True)
class CapacityReport:
    instance: InstanceType
    nodes: int
    allocatable: NodeAllocatable
    requested: Requests
    pods: int
    unplaced: tuple[str, ...]
    free_per_node: tuple[Requests, ...]
    free_pods_per_node: tuple[int, ...]

    @property
    def fits(self) -> bool:
        return not self.unplaced

    @property
    def total_allocatable(self) -> Requests:
        return Requests(self.allocatable.cpu_m * self.nodes, self.allocatable.memory_mi * self.nodes)

    def summary(self) -> str:
        a, r = self.total_allocatable, self.requested
        pods_cap = self.allocatable.pods * self.nodes
        return (f"{self.nodes} × {self.instance.name}: requests {r.cpu_m}m CPU of {a.cpu_m}m allocatable "
                f"({100 * r.cpu_m / a.cpu_m:.0f} %), {r.memory_mi}Mi memory of {a.memory_mi}Mi "
                f"({100 * r.memory_mi / a.memory_mi:.0f} %), {self.pods} pods of {pods_cap} max pods")


def plan_capacity(instance: str, nodes: int, demands: Sequence[PodDemand],
                  architecture: str | None = None) -> CapacityReport:
    """Place every pod (first-fit-decreasing) on `nodes` nodes of type `instance`."""
    if nodes < 1:
        raise CapacityError(f"celestials:nodeCount = {nodes}: at least one node is needed to schedule pods")
    it = instance_type(instance, architecture)
    alloc = NodeAllocatable.of(it)
    node_list = [_Node(alloc.cpu_m, alloc.memory_mi, alloc.pods) for _ in range(nodes)]
    unplaced: list[str] = []
    requested, pods = ZERO, 0
    for d in demands:
        if d.per_node:
            for i, node in enumerate(node_list):
                requested, pods = requested + d.requests, pods + 1
                if node.fits(d.requests):
                    node.place(d.name, d.requests)
                else:
                    unplaced.append(f"{d.name} (DaemonSet pod on node {i + 1})")
    singles = []
    for d in demands:
        if d.per_node:
            continue
        singles += [(f"{d.name} [{i + 1}/{d.replicas}]", d.requests, False) for i in range(d.replicas)]
        singles += [(f"{d.name} [rollout surge {i + 1}]", d.requests, True) for i in range(d.surge)]
    # largest first (first-fit-decreasing); at equal size running pods before surge pods
    singles.sort(key=lambda item: (-item[1].cpu_m, -item[1].memory_mi, item[2], item[0]))
    for name, req, _ in singles:
        requested, pods = requested + req, pods + 1
        for node in node_list:
            if node.fits(req):
                node.place(name, req)
                break
        else:
            unplaced.append(name)
    return CapacityReport(instance=it, nodes=nodes, allocatable=alloc, requested=requested, pods=pods,
                          unplaced=tuple(unplaced),
                          free_per_node=tuple(Requests(n.cpu_m, n.memory_mi) for n in node_list),
                          free_pods_per_node=tuple(n.pods for n in node_list))


def stack_demands(topology: Topology, overhead: MeshOverhead, extra: Sequence[PodDemand] = (),
                  surge: bool = True, scaled_out: bool = False, cap: int | None = None,
                  system: Sequence[PodDemand] = EKS_SYSTEM_PODS) -> list[PodDemand]:
    """Everything the stack schedules: EKS's own pods (`system`: `system_pods(settings)`), the
    mesh backend's, `extra` (pods outside the meshes, e.g. the trace collector) and every meshed
    pod with its sidecars. `scaled_out`: every autoscaled Deployment at its HPA's max (at most `cap`)."""
    demands = [*system, *overhead.system, *extra, *mesh_demands(topology, overhead.sidecars, surge=surge)]
    return [d.scaled_out(cap) for d in demands] if scaled_out else demands


def check_node_loss(settings: Settings, topology: Topology, overhead: MeshOverhead,
                    extra: Sequence[PodDemand] = ()) -> CapacityReport | None:
    """For a production stack, which must keep running with one node gone (a drain, an upgrade, a
    failed instance): every running pod (no rollout in progress, every autoscaled Deployment at its
    HPA's min: the floor the PodDisruptionBudgets protect) still fits on one node fewer, or
    `CapacityError` names what would stay Pending."""
    if not settings.production:
        return None
    if settings.node_count < 2:
        raise CapacityError(f"stack {settings.stack} is production (celestials:production true) and must survive "
                            f"losing a node, which needs celestials:nodeCount >= 2, not {settings.node_count}")
    report = plan_capacity(settings.instance_type, settings.node_count - 1,
                           stack_demands(topology, overhead, extra, surge=False, system=system_pods(settings)),
                           settings.node_architecture)
    if not report.fits:
        raise CapacityError(
            f"stack {settings.stack} would not survive losing one of its {settings.node_count} nodes — with "
            f"{report.summary()}, these pods would stay Pending: {', '.join(report.unplaced)}. Raise "
            "celestials:nodeCount or choose a larger celestials:instanceType.")
    return report


def _largest_fitting_max(settings: Settings, demands: Sequence[PodDemand]) -> int | None:
    """The largest autoscaler max (below the configured one) with which `demands` still fit."""
    for cap in range((settings.autoscale_max or 1) - 1, 0, -1):
        if plan_capacity(settings.instance_type, settings.node_count, [d.scaled_out(cap) for d in demands],
                         settings.node_architecture).fits:
            return cap
    return None


def check_autoscaling_room(settings: Settings, topology: Topology, overhead: MeshOverhead,
                           extra: Sequence[PodDemand] = (), surge: bool = True) -> CapacityReport | None:
    """Every HorizontalPodAutoscaler at its max still fits on the full node group, or
    `CapacityError` names celestials:autoscaleMaxReplicas, its value and the largest that fits.
    None when nothing autoscales."""
    demands = stack_demands(topology, overhead, extra, surge, system=system_pods(settings))
    if not any(d.max_replicas for d in demands):
        return None
    report = plan_capacity(settings.instance_type, settings.node_count,
                           [d.scaled_out() for d in demands], settings.node_architecture)
    if report.fits:
        return report
    fitting = _largest_fitting_max(settings, demands)
    given = (f"celestials:autoscaleMaxReplicas = {settings.autoscale_max_replicas}"
             if settings.autoscale_max_replicas is not None else
             f"celestials:autoscaleMaxReplicas (unset: a production stack's default, {settings.autoscale_max})")
    floor = max(d.replicas for d in demands if d.max_replicas)
    hint = (f"set celestials:autoscaleMaxReplicas to at most {fitting}" if fitting is not None and fitting >= floor
            else "no autoscaler max above the minimum replicas fits")
    raise CapacityError(
        f"{given}: with every autoscaler at that max, the pods do not fit on stack {settings.stack}'s node group — "
        f"{report.summary()}; these would stay Pending: {', '.join(report.unplaced)}. {hint[0].upper() + hint[1:]}, "
        "or raise celestials:nodeCount or choose a larger celestials:instanceType.")


def check_capacity(settings: Settings, topology: Topology, overhead: MeshOverhead,
                   extra: Sequence[PodDemand] = (), surge: bool = True) -> CapacityReport:
    """Raise `CapacityError` naming the shortfall when the stack's pods cannot all be scheduled:
    at their fixed or minimum replicas, then (production) with one node gone, then (naming
    autoscaleMaxReplicas) with every autoscaler at its max. The report returned is the largest
    of these plans: every autoscaler at its max when there are any."""
    report = plan_capacity(settings.instance_type, settings.node_count,
                           stack_demands(topology, overhead, extra, surge, system=system_pods(settings)),
                           settings.node_architecture)
    if report.fits:
        check_node_loss(settings, topology, overhead, extra)
        return check_autoscaling_room(settings, topology, overhead, extra, surge) or report
    a, r = report.total_allocatable, report.requested
    pods_cap = report.allocatable.pods * report.nodes
    short = []
    if r.cpu_m > a.cpu_m:
        short.append(f"CPU short by {r.cpu_m - a.cpu_m}m")
    if r.memory_mi > a.memory_mi:
        short.append(f"memory short by {r.memory_mi - a.memory_mi}Mi")
    if report.pods > pods_cap:
        short.append(f"{report.pods - pods_cap} pods over the max-pods limit")
    if not short:
        short.append("enough in total, but not on any single node for the pods below")
    raise CapacityError(
        f"the workloads do not fit on stack {settings.stack}'s node group — {report.summary()}; "
        f"{'; '.join(short)}. Pods that cannot be scheduled: {', '.join(report.unplaced)}. "
        f"Raise celestials:nodeCount or choose a larger celestials:instanceType "
        f"(or lower celestials:prodcatalogReplicas).")

