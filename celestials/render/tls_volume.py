"""The Kubernetes volume that carries a workload's TLS Secrets into its mesh proxy: the same
volume on every backend, which only chooses the directory and how its injector mounts it.

One volume, one directory, for every Secret of the workload's mount (`colorapp.tls_mount`): for
front, the Secret of each trust it can be switched to. Why all of them: the trust switch then
changes only which trust file front's policies name, never front's pods, so a proxy that gets
the new policy before, during or after a rollout always finds the file it names (a mount of the
one Secret of the current trust would leave the running pod without the new file until it is
replaced). Why one directory: the leaf's paths stay the same whichever trust is named.

The Secrets of one mount share the leaf, so the first gives the key, the chain and its trust file
and each further one only its trust file: no two sources write the same path, and because every
source lists its `items`, the API server refuses the pod if they ever did. A workload with one
Secret mounts it as a plain `secret` volume.
"""

from __future__ import annotations

from typing import Any

from .. import pki
from ..topology import colorapp
from ..topology.model import Mesh, Workload
from .kubernetes_workloads import ObjectKey

#: The pod volume's name, whichever backend mounts it.
VOLUME_NAME = "celestials-tls"


def _items(files: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"key": f, "path": f} for f in files]


def tls_volume_source(w: Workload) -> dict[str, Any] | None:
    """The volume source (`secret`, or `projected` for several Secrets) of the workload's TLS
    mount, or None for a workload without TLS."""
    secrets = colorapp.tls_mount(w)
    if not secrets:
        return None
    if len(secrets) == 1:
        return {"secret": {"secretName": secrets[0].name}}
    first, *more = secrets
    sources = [{"secret": {"name": first.name, "items": _items(first.files)}}]
    sources += [{"secret": {"name": s.name, "items": _items((pki.trust_file(s.trust),))}} for s in more]
    return {"projected": {"sources": sources}}


def tls_secret_keys(mesh: Mesh, w: Workload) -> tuple[ObjectKey, ...]:
    """The Secrets the workload's pods mount (created by the mTLS component): what its Deployment
    waits for."""
    return tuple(ObjectKey("Secret", mesh.namespace, s.name) for s in colorapp.tls_mount(w))
