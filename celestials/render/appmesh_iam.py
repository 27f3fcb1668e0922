"""IAM policy documents for the App Mesh backend: the controller and each meshed namespace's
proxies (the shared vocabulary is `celestials.render.iam`).

Why written out here: least privilege is decided once, in code that tests read. The tutorial gave
every proxy `appmesh:*`, `logs:*` and `xray:*`; an Envoy needs only to stream its own node's
configuration, and the X-Ray daemon beside it only to write segments. No document here grants a
wildcard action. The controller's list is the one the App Mesh controller project documents for
v1.13 (facts, compared with the upstream file by a test when `../shared/reference` is present).
"""

from __future__ import annotations

from typing import Any, Sequence

from .iam import document, xray_write_statement


CONTROLLER_APPMESH_ACTIONS = tuple(f"appmesh:{verb}{kind}" for verb, kinds in (
    ("List", ("VirtualRouters", "VirtualServices", "Routes", "GatewayRoutes", "Meshes", "VirtualNodes",
              "VirtualGateways")),
    ("Describe", ("Mesh", "VirtualRouter", "Route", "VirtualNode", "VirtualGateway", "GatewayRoute",
                  "VirtualService")),
    ("Create", ("Mesh", "VirtualRouter", "VirtualGateway", "VirtualService", "GatewayRoute", "Route",
                "VirtualNode")),
    ("Update", ("Mesh", "Route", "VirtualGateway", "VirtualRouter", "GatewayRoute", "VirtualService",
                "VirtualNode")),
    ("Delete", ("Mesh", "Route", "VirtualRouter", "GatewayRoute", "VirtualService", "VirtualNode",
                "VirtualGateway")),
) for kind in kinds)
CONTROLLER_CERTIFICATE_ACTIONS = ("acm:ListCertificates", "acm:DescribeCertificate",
                                  "acm-pca:DescribeCertificateAuthority", "acm-pca:ListCertificateAuthorities")
CONTROLLER_CLOUD_MAP_ACTIONS = (
    "servicediscovery:CreateService", "servicediscovery:DeleteService", "servicediscovery:GetService",
    "servicediscovery:GetInstance", "servicediscovery:RegisterInstance", "servicediscovery:DeregisterInstance",
    "servicediscovery:ListInstances", "servicediscovery:ListNamespaces", "servicediscovery:ListServices",
    "servicediscovery:GetInstancesHealthStatus", "servicediscovery:UpdateInstanceCustomHealthStatus",
    "servicediscovery:GetOperation", "route53:GetHealthCheck", "route53:CreateHealthCheck",
    "route53:UpdateHealthCheck", "route53:ChangeResourceRecordSets", "route53:DeleteHealthCheck")


def controller_policy() -> dict[str, Any]:
    return document(
        {"Sid": "ManageMeshObjects", "Effect": "Allow", "Action": list(CONTROLLER_APPMESH_ACTIONS), "Resource": "*"},
        {"Sid": "CreateAppMeshServiceLinkedRole", "Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole"],
         "Resource": "arn:aws:iam::*:role/aws-service-role/appmesh.amazonaws.com/AWSServiceRoleForAppMesh",
         "Condition": {"StringLike": {"iam:AWSServiceName": ["appmesh.amazonaws.com"]}}},
        {"Sid": "ReadCertificates", "Effect": "Allow", "Action": list(CONTROLLER_CERTIFICATE_ACTIONS), "Resource": "*"},
        {"Sid": "CloudMapServiceDiscovery", "Effect": "Allow", "Action": list(CONTROLLER_CLOUD_MAP_ACTIONS),
         "Resource": "*"},
    )


def arn_account(arn: str) -> tuple[str, str]:
    """(partition, account id) of an ARN such as the cluster's OIDC provider's."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[4].isdigit():
        raise ValueError(f"not an ARN with an account id: {arn!r}")
    return parts[1], parts[4]


def mesh_node_arns(partition: str, region: str, account: str, mesh: str, namespace: str) -> list[str]:
    """The virtual nodes and gateways of one namespace: their App Mesh names end in
    `_<namespace>` (see `appmesh.aws_name`), so a namespace's proxies cannot stream another's."""
    base = f"arn:{partition}:appmesh:{region}:{account}:mesh/{mesh}"
    return [f"{base}/virtualNode/*_{namespace}", f"{base}/virtualGateway/*_{namespace}"]


def envoy_policy(partition: str, region: str, account: str, mesh: str, namespace: str,
                 tracing: bool, extra_statements: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    statements = [{"Sid": "StreamOwnMeshConfiguration", "Effect": "Allow",
                   "Action": ["appmesh:StreamAggregatedResources"],
                   "Resource": mesh_node_arns(partition, region, account, mesh, namespace)}]
    if tracing:
        statements.append(xray_write_statement())
    return document(*statements, *extra_statements)
