"""The App Mesh end-of-support guard.

Why a hard stop: AWS discontinued App Mesh on 2026-09-30; after that date AWS no longer gives
access to the App Mesh console or App Mesh resources, so a deployment of this backend may fail or
stop working at any time. Deploying it must be a decision the stack records
(`celestials:appMeshEndOfSupportAcknowledged: true`), not a default. The check reads settings only
and runs before any resource is registered, so `pulumi preview` fails on it with this message.
"""

from __future__ import annotations

from dataclasses import fields

from celestials.settings import PROJECT, Settings

END_OF_SUPPORT = "2026-09-30"
#: what a stack runs when it names no backend
DEFAULT_BACKEND = str(next(f.default for f in fields(Settings) if f.name == "mesh_backend"))
ACK_KEY = f"{PROJECT}:appMeshEndOfSupportAcknowledged"


class AppMeshEndOfSupportError(ValueError):
    """The stack selects the App Mesh backend without acknowledging its end of support."""


def end_of_support_message(stack: str) -> str:
    return (
        f"stack {stack!r} uses the App Mesh mesh backend (celestials:meshBackend = appmesh), but AWS App Mesh "
        f"reached end of support on {END_OF_SUPPORT}: AWS discontinued the service and no longer gives access "
        "to the App Mesh console or App Mesh resources, so this deployment may fail or stop working at any time.\n"
        "To deploy it anyway (e.g. to study the original design), acknowledge this for the stack:\n"
        f"    pulumi config set {ACK_KEY} true --stack {stack}\n"
        "Ways forward: AWS points EKS users to Amazon VPC Lattice; this project's default mesh backend, "
        f"{DEFAULT_BACKEND}, renders the same topology model:\n"
        f"    pulumi config set {PROJECT}:meshBackend {DEFAULT_BACKEND} --stack {stack}\n"
        "(a deployed App Mesh stack moves in two steps: docs/istio.md, \"Moving an existing App Mesh stack to Istio\")."
    )


def check_end_of_support(settings: Settings) -> None:
    if settings.mesh_backend == "appmesh" and not settings.appmesh_end_of_support_acknowledged:
        raise AppMeshEndOfSupportError(end_of_support_message(settings.stack))
