"""Topology model: the meshes, built from stack settings, checked for their invariants."""

from ..settings import Settings
from .model import Topology
from .productcatalog import product_catalog_mesh


def build_topology(settings: Settings) -> Topology:
    meshes = [product_catalog_mesh(settings)]
    try:  # the mTLS colorapp mesh is added by its own module (issue: mTLS demo)
        from .colorapp import colorapp_mesh
    except ImportError:
        colorapp_mesh = None
    if colorapp_mesh is not None:
        meshes.append(colorapp_mesh(settings))
    return Topology(meshes=tuple(meshes)).validate()
