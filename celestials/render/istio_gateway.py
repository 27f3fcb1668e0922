"""The ingress gateway's own pods and load balancer on Istio: a Deployment whose only container is
an Istio-injected gateway proxy, and the internet-facing NLB Service in front of it. The Gateway
API `Gateway` (istio_routes) binds to that Service by its address instead of asking istiod to
generate one ("manual deployment").

Why not the Service istiod would generate from the Gateway: `pulumi destroy` would not wait for
it. istiod's generated Service is owned through ownerReferences without `blockOwnerDeletion`, so
deleting the Gateway returns at once and the load balancer's finalizer runs on its own, racing
the node group, cluster and subnet deletions (an NLB left behind keeps its ENIs in the subnets).
A Service Pulumi owns is deleted, and awaited until its finalizer has removed the NLB, before
anything it depends on (the cluster, and so the subnets). It also runs exactly the model's
gateway: its replicas and resources, which the capacity check counts.

How the pod becomes a gateway: the label `sidecar.istio.io/inject: "true"` and the annotation
`inject.istio.io/templates: gateway` make the injector fill in the `istio-proxy` container
(`image: auto`) as a gateway proxy; fields we set on that container (resources, security
context) win over the template's. The pod label `gateway.networking.k8s.io/gateway-name` ties
the pods to the Gateway so its routes apply to them. The proxy binds the public port itself
(80), allowed by the namespaced sysctl `net.ipv4.ip_unprivileged_port_start=0`, as Istio's own
gateway chart does, so it runs as non-root with no capabilities.
"""

from __future__ import annotations


from ..topology.model import Gateway, Mesh
from .kubernetes_workloads import (PART_OF, PRESTOP_SLEEP_SECONDS, TERMINATION_GRACE_SECONDS, Manifest, ObjectKey,
                                   container_resources, namespace_key, node_placement, render_service_account,
                                   replicas_field, spread_constraints)
from .load_balancer import INGRESS_GATEWAY_LABELS, NLB_ANNOTATIONS, PUBLIC_HTTP_PORT

GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
INJECT_LABEL = "sidecar.istio.io/inject"
INJECT_TEMPLATES_ANNOTATION = "inject.istio.io/templates"
PROXY_CONTAINER = "istio-proxy"
#: The injector replaces this image with the pinned proxy image of the installed Istio.
AUTO_IMAGE = "auto"
#: The user id of Istio's proxy image.
PROXY_UID = 1337


def gateway_selector(gateway: Gateway) -> dict[str, str]:
    return {"app": gateway.name, GATEWAY_NAME_LABEL: gateway.name}


def gateway_service_host(mesh: Mesh, gateway: Gateway) -> str:
    """The address the Gateway API `Gateway` binds to: the gateway Service's DNS name."""
    return mesh.dns(gateway.name)


def gateway_service_key(mesh: Mesh, gateway: Gateway) -> ObjectKey:
    return ObjectKey("Service", mesh.namespace, gateway.name)


def render_gateway_workload(mesh: Mesh, gateway: Gateway) -> tuple[Manifest, Manifest, Manifest]:
    """(ServiceAccount, Deployment, LoadBalancer Service) of the ingress gateway."""
    ns = namespace_key(mesh.namespace)
    selector = gateway_selector(gateway)
    account = render_service_account(mesh.namespace, gateway.name)
    container = {
        "name": PROXY_CONTAINER, "image": AUTO_IMAGE,
        "ports": [{"name": "http", "containerPort": PUBLIC_HTTP_PORT, "protocol": "TCP"}],
        "resources": container_resources(gateway.resources),
        "securityContext": {"runAsNonRoot": True, "runAsUser": PROXY_UID, "runAsGroup": PROXY_UID,
                            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        # Keep accepting while the load balancer and the endpoints stop sending to this pod.
        "lifecycle": {"preStop": {"sleep": {"seconds": PRESTOP_SLEEP_SECONDS}}},
    }
    template = {
        "metadata": {"labels": {**selector, INJECT_LABEL: "true"},
                     "annotations": {INJECT_TEMPLATES_ANNOTATION: "gateway"}},
        "spec": {
            "serviceAccountName": gateway.name,
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"},
                                "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]},
            "containers": [container],
            **node_placement(mesh),
            **({"topologySpreadConstraints": spread_constraints(selector)} if gateway.replicas > 1 else {}),
        },
    }
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": gateway.name, "namespace": mesh.namespace, "labels": {**selector, **PART_OF}},
        "spec": {**replicas_field(gateway.replicas, gateway.autoscaling), "revisionHistoryLimit": 5,
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                 "selector": {"matchLabels": dict(selector)}, "template": template},
    }
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": gateway.name, "namespace": mesh.namespace,
                     "labels": {**PART_OF, **INGRESS_GATEWAY_LABELS}, "annotations": dict(NLB_ANNOTATIONS)},
        "spec": {"type": "LoadBalancer", "selector": dict(selector),
                 "ports": [{"name": "http", "port": PUBLIC_HTTP_PORT, "targetPort": PUBLIC_HTTP_PORT,
                            "protocol": "TCP"}]},
    }
    return (account,
            Manifest(deployment, (ns, account.key)),
            Manifest(service, (ns,)))
