"""Which mesh backends exist: the one registry, selected by `celestials:meshBackend`.

Adding a backend is its package under components/ and one line here; nothing else in the program
changes (the topology model, the workload renderer, the shared components and __main__.py are
backend-neutral).
"""

from __future__ import annotations

from typing import Mapping

from celestials.settings import Settings, SettingsError
from components.appmesh.backend import AppMeshBackendPlugin
from components.istio.backend import IstioBackendPlugin
from components.mesh_backend import MeshBackendPlugin

BACKENDS: Mapping[str, type[MeshBackendPlugin]] = {
    "istio": IstioBackendPlugin,
    "appmesh": AppMeshBackendPlugin,
}


def select(settings: Settings) -> MeshBackendPlugin:
    """The stack's backend, already checked: call before registering any resource, so an unknown
    or refused backend fails `pulumi preview` right away, naming the key."""
    backends = BACKENDS
    try:
        backend_class = backends[settings.mesh_backend]
    except KeyError:
        raise SettingsError("meshBackend", settings.mesh_backend, "one of " + ", ".join(backends)) from None
    backend = backend_class()
    backend.check(settings)
    return backend
