"""celestials: a service-mesh platform on Amazon EKS in one `pulumi up`.

Settings are parsed (and rejected) before any resource exists; the topology model describes the
meshes; components turn it into AWS and Kubernetes resources.
"""

import pulumi

from celestials.topology import build_topology
from components.stack_settings import load_settings

settings = load_settings()
topology = build_topology(settings)

pulumi.export("meshes", [m.name for m in topology.meshes])
