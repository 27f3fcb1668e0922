"""Where the program's pods may run: on nodes of the stack's CPU architecture.

Why every pod says so: the images are built for one architecture (`celestials:nodeArchitecture`),
and changing it replaces the node group, so for a while nodes of both architectures are in the
cluster. A pod without a selector may land on a node of the other one and fail to start its image;
with the well-known label the kubelet puts on every node, a pod only ever runs where its image
can. The renderers put it on every pod template they write, the components in every chart's
values. Standard library only, like the other names the policy pack may read.
"""

from __future__ import annotations

#: The node label Kubernetes sets to the node's architecture, in Go's names (`amd64`, `arm64`):
#: the same names `celestials:nodeArchitecture` takes.
ARCH_LABEL = "kubernetes.io/arch"


def node_selector(architecture: str) -> dict[str, str]:
    """A pod spec's (or a chart's) `nodeSelector` for nodes of `architecture`."""
    return {ARCH_LABEL: architecture}
