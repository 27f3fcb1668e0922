"""The EKS control-plane log group, adopted when it already exists (a Pulumi dynamic resource).

Why not `aws.cloudwatch.LogGroup`: EKS writes to `/aws/eks/<cluster>/cluster` and creates that
group itself (never-expiring) whenever it has logs to deliver and the group is missing. On
`pulumi destroy` the group is deleted after the cluster, but the control plane still delivers its
last log lines and EKS recreates the group; the next `pulumi up` then fails with
`ResourceAlreadyExistsException` when `aws.cloudwatch.LogGroup` tries to create it (the Terraform
provider underneath has no adopt mode). This resource *ensures* the group instead: `create`
creates it or, when it is already there, adopts it; either way it sets our retention and tags.
`delete` deletes it and treats "already gone" as done. So destroy/up/destroy/up works whatever EKS
did in between. (Behaviour of the API: CreateLogGroup raises ResourceAlreadyExistsException for an
existing name, DeleteLogGroup raises ResourceNotFoundException for a missing one — CloudWatch Logs
API reference.)

The provider calls CloudWatch Logs with boto3 and the credentials of the machine running Pulumi
(the same ones the AWS provider uses). Pickling: as in `components.mtls_provider`, the provider
keeps no state and its client factory is a module-level function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

if TYPE_CHECKING:
    from types_boto3_logs import CloudWatchLogsClient

#: The type token under the Pulumi engine and its mocks.
RESOURCE_TYPE = "pulumi-python:dynamic/celestials:ControlPlaneLogGroup"


def _logs_client(region: str) -> CloudWatchLogsClient:
    import boto3  # imported in the provider process only

    return boto3.client("logs", region_name=region)


def _error_code(err: Exception) -> str | None:
    response = getattr(err, "response", None) or {}
    return (response.get("Error") or {}).get("Code")


class LogGroupProvider(ResourceProvider):
    """Create-or-adopt, set retention and tags; delete tolerates a group that is already gone."""

    def __init__(self, client: Callable[[str], CloudWatchLogsClient] = _logs_client):
        self._client = client

    def _ensure(self, props: Mapping[str, Any]) -> dict[str, Any]:
        logs = self._client(props["region"])
        name, tags = props["name"], dict(props.get("tags") or {})
        adopted = False
        try:
            logs.create_log_group(logGroupName=name, **({"tags": tags} if tags else {}))  # type: ignore[arg-type]  # types-boto3 types each keyword; an optional **{"tags": ...} cannot match them
        except Exception as err:  # botocore's modeled exceptions all carry response["Error"]["Code"]
            if _error_code(err) != "ResourceAlreadyExistsException":
                raise
            adopted = True
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["retention_days"]))
        arn = self._arn(logs, name)
        if adopted and tags:
            logs.tag_resource(resourceArn=arn, tags=tags)
        return {**props, "arn": arn, "adopted": adopted}

    @staticmethod
    def _arn(logs: CloudWatchLogsClient, name: str) -> str:
        for group in logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", []):
            if group["logGroupName"] == name:
                return group["arn"].removesuffix(":*")
        raise RuntimeError(f"log group {name} not found right after creating it")

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["name"], outs=self._ensure(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in ("name", "region") if olds.get(k) != news.get(k)]
        changed = replaces + [k for k in ("retention_days", "tags") if olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._ensure(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        logs = self._client(props["region"])
        try:
            logs.delete_log_group(logGroupName=props["name"])
        except Exception as err:
            if _error_code(err) != "ResourceNotFoundException":
                raise


class ControlPlaneLogGroup(pulumi.dynamic.Resource, module="celestials", name="ControlPlaneLogGroup"):
    """Outputs: `arn` (without the trailing `:*`), `adopted` (whether it already existed)."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, log_group_name: str, region: str, retention_days: int,
                 tags: Mapping[str, str] | None = None, opts: pulumi.ResourceOptions | None = None):
        super().__init__(LogGroupProvider(), name, {
            "name": log_group_name, "region": region, "retention_days": retention_days,
            "tags": dict(tags or {}), "arn": None, "adopted": None}, opts)
