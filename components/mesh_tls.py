"""The mTLS material of one mesh, as every backend mounts it: the certificates issued for the
model's TLS policies, one Secret per `colorapp.TlsSecret`, and a pod annotation per workload with
a digest of what it mounts (every Secret of its `colorapp.tls_mount`, so the digest, like the
mount, is the same whichever trust the workload is switched to).

Why shared and why the digest: the Secrets and their contents are the model's (`colorapp`), not a
backend's; a reissue must roll exactly the pods that mount the reissued Secret, so their proxies
load the new files, whichever proxy that is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from celestials.render.kubernetes_workloads import ObjectKey
from celestials.settings import Settings
from celestials.topology.colorapp import tls_mount
from celestials.topology.model import Mesh
from components.kubernetes_apply import Registry
from components.mtls_certificates import MtlsCertificates, MtlsCertificatesArgs

#: Pod annotation carrying a digest of the mounted certificates: a reissue rolls the pods.
TLS_DIGEST_ANNOTATION = "celestials.io/tls-digest"


@dataclass
class MeshTls:
    certificates: MtlsCertificates | None = None
    #: workload → pod annotations (the digest of the Secret it mounts)
    pod_annotations: dict[str, dict[str, Any]] = field(default_factory=dict)


def issue_mesh_tls(name: str, mesh: Mesh, settings: Settings, namespace: k8s.core.v1.Namespace,
                   provider: k8s.Provider, parent: pulumi.Resource, registry: Registry) -> MeshTls:
    """Certificates and Secrets for the mesh's TLS workloads (none without TLS), registered as
    `Secret/<namespace>/<name>` so workloads can be ordered after what they mount."""
    if not any(tls_mount(w) for w in mesh.workloads):
        return MeshTls()
    certificates = MtlsCertificates(
        f"{name}-certificates",
        MtlsCertificatesArgs.for_mesh(mesh, settings, namespace=namespace.metadata["name"], k8s_provider=provider),
        opts=pulumi.ResourceOptions(parent=parent))
    for secret_name, k8s_secret in certificates.secrets.items():
        registry[ObjectKey("Secret", mesh.namespace, secret_name)] = k8s_secret
    annotations: dict[str, dict[str, Any]] = {}
    for w in mesh.workloads:
        mount = tls_mount(w)
        if mount:
            annotations[w.name] = {TLS_DIGEST_ANNOTATION: certificates.mount_digest(mount)}
    return MeshTls(certificates, annotations)
