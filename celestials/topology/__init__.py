"""Topology model: the meshes, built from stack settings, checked for their invariants."""

from ..settings import Settings
from .colorapp import colorapp_mesh
from .model import Topology
from .productcatalog import product_catalog_mesh


def build_topology(settings: Settings) -> Topology:
    meshes = (product_catalog_mesh(settings), colorapp_mesh(settings))
    return Topology(meshes=meshes).validate()
