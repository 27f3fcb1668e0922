"""The control-plane log group survives destroy/up/destroy/up although EKS recreates it after a
destroy (issue 13.7): the provider adopts an existing group and tolerates a missing one."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from components.log_group_provider import LogGroupProvider

NAME = "/aws/eks/celestials-dev/cluster"
PROPS = {"name": NAME, "region": "us-west-2", "retention_days": 30, "tags": {"stack": "dev"}}


class FakeLogs:
    """CloudWatch Logs as far as the provider uses it; errors shaped like botocore's."""

    def __init__(self):
        self.groups: dict[str, dict] = {}

    @staticmethod
    def _error(code: str, op: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": code}}, op)

    def create_log_group(self, logGroupName, tags=None):
        if logGroupName in self.groups:
            raise self._error("ResourceAlreadyExistsException", "CreateLogGroup")
        self.groups[logGroupName] = {"retention": None, "tags": dict(tags or {})}

    def put_retention_policy(self, logGroupName, retentionInDays):
        self.groups[logGroupName]["retention"] = retentionInDays

    def describe_log_groups(self, logGroupNamePrefix):
        return {"logGroups": [{"logGroupName": n, "arn": f"arn:aws:logs:us-west-2:1:log-group:{n}:*"}
                              for n in self.groups if n.startswith(logGroupNamePrefix)]}

    def tag_resource(self, resourceArn, tags):
        name = resourceArn.split(":log-group:", 1)[1]
        self.groups[name]["tags"].update(tags)

    def delete_log_group(self, logGroupName):
        if logGroupName not in self.groups:
            raise self._error("ResourceNotFoundException", "DeleteLogGroup")
        del self.groups[logGroupName]

    def eks_delivers_late_logs(self):
        """What EKS does after the cluster is deleted: recreate the group, never-expiring."""
        self.groups.setdefault(NAME, {"retention": None, "tags": {}})


def test_destroy_up_destroy_up_with_eks_recreating_the_group():
    logs = FakeLogs()
    provider = LogGroupProvider(client=lambda region: logs)
    for cycle in range(2):
        created = provider.create(dict(PROPS))
        assert created.id == NAME and created.outs["arn"].endswith(":log-group:" + NAME)
        assert logs.groups[NAME]["retention"] == 30 and logs.groups[NAME]["tags"] == {"stack": "dev"}
        assert created.outs["adopted"] is (cycle == 1)
        provider.delete(NAME, created.outs)
        assert NAME not in logs.groups
        logs.eks_delivers_late_logs()


def test_adopting_sets_our_retention_on_a_never_expiring_group():
    logs = FakeLogs()
    logs.eks_delivers_late_logs()
    LogGroupProvider(client=lambda region: logs).create(dict(PROPS))
    assert logs.groups[NAME]["retention"] == 30


def test_delete_of_a_group_already_gone_is_done_and_other_errors_are_not_swallowed():
    logs = FakeLogs()
    provider = LogGroupProvider(client=lambda region: logs)
    provider.delete(NAME, dict(PROPS))  # nothing there: no error

    class Denied(FakeLogs):
        def create_log_group(self, logGroupName, tags=None):
            raise self._error("AccessDeniedException", "CreateLogGroup")
    with pytest.raises(ClientError, match="AccessDenied"):
        LogGroupProvider(client=lambda region: Denied()).create(dict(PROPS))


def test_retention_change_updates_in_place_and_a_new_name_replaces():
    provider = LogGroupProvider(client=lambda region: FakeLogs())
    d = provider.diff(NAME, PROPS, {**PROPS, "retention_days": 90})
    assert d.changes and not d.replaces
    d = provider.diff(NAME, PROPS, {**PROPS, "name": "/aws/eks/other/cluster"})
    assert d.replaces == ["name"]
    assert not provider.diff(NAME, PROPS, dict(PROPS)).changes
