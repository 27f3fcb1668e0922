"""The product catalog's DynamoDB table and the IAM role prodcatalog's service account assumes.

Why here together: the table's key schema and the role's actions are two halves of one contract
with apps/prodcatalog (storage/dynamodb.py): partition key `id` of type Number, no sort key, and
exactly the calls the app makes (Scan for the list, GetItem, PutItem), on this table only.
The ServiceAccount object is rendered with the workloads (it carries `role_arn` as its
`eks.amazonaws.com/role-arn` annotation); the Envoy sidecar in the same pod uses the same
credentials, so the mesh's Envoy policy is attached too (`extra_policy_arns`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from .irsa import IrsaRole, IrsaRoleArgs

PARTITION_KEY = "id"
PARTITION_KEY_TYPE = "N"
#: The DynamoDB API calls apps/prodcatalog makes (tests check this against its code).
TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan")
SERVICE_ACCOUNT = "prodcatalog"


def table_policy(table_arn: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "ProductCatalogTable", "Effect": "Allow",
        "Action": list(TABLE_ACTIONS), "Resource": table_arn,
    }]}


@dataclass
class CatalogTableArgs:
    """`namespace` is the product catalog's namespace (model: prodcatalog-ns)."""

    oidc_provider_arn: pulumi.Input[str]
    oidc_provider_url: pulumi.Input[str]
    namespace: str
    service_account: str = SERVICE_ACCOUNT
    #: e.g. the App Mesh Envoy policy: the sidecar shares the pod's service account.
    extra_policy_arns: tuple[pulumi.Input[str], ...] = ()
    #: prod: True, so `pulumi destroy` (or a replacement) cannot drop the products.
    deletion_protection: bool = False
    tags: dict[str, str] = field(default_factory=dict)


class CatalogTable(pulumi.ComponentResource):
    table_name: pulumi.Output[str]
    table_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CatalogTableArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:catalog:CatalogTable", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.table = aws.dynamodb.Table(
            f"{name}-products",
            billing_mode="PAY_PER_REQUEST",
            hash_key=PARTITION_KEY,
            attributes=[aws.dynamodb.TableAttributeArgs(name=PARTITION_KEY, type=PARTITION_KEY_TYPE)],
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            # enabled=True without a key ARN: the AWS managed key aws/dynamodb (auditable in
            # CloudTrail), which the role can use without KMS grants of its own.
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            deletion_protection_enabled=args.deletion_protection,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.deletion_protection))
        self.irsa = IrsaRole(f"{name}-irsa", IrsaRoleArgs(
            oidc_provider_arn=args.oidc_provider_arn, oidc_provider_url=args.oidc_provider_url,
            namespace=args.namespace, service_account=args.service_account,
            policy=self.table.arn.apply(table_policy), managed_policy_arns=tuple(args.extra_policy_arns),
            description=f"prodcatalog ({args.namespace}/{args.service_account}): its DynamoDB table only",
            tags=args.tags), opts=child)
        self.table_name = self.table.name
        self.table_arn = self.table.arn
        self.role_arn = self.irsa.role_arn
        self.register_outputs({"table_name": self.table_name, "table_arn": self.table_arn,
                               "role_arn": self.role_arn})
