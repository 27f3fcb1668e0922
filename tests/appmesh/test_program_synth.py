"""The same checks on the whole program (`make synth STACK=<stack> SET=meshBackend=appmesh`) for
every stack file switched to App Mesh: what `pulumi up` would create with the real __main__.py."""

from __future__ import annotations

import pytest

from synth.harness import quiet, synth_stack
from tests.appmesh.mesh_checks import (all_semantic_problems, appmesh_objects, crd_problems, dependency_problems,
                                       policy_documents, wildcard_action_problems)


APP_MESH = {"meshBackend": "appmesh", "appMeshEndOfSupportAcknowledged": "true"}


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request):
    with quiet():
        result = synth_stack(request.param, APP_MESH)
    assert appmesh_objects(result.manifests), f"no App Mesh objects in the {request.param} synth with {APP_MESH}"
    return result


def test_stack_objects_validate_against_the_crds(stack, crd_validators):
    assert crd_problems(stack.manifests, crd_validators) == []


def test_stack_mesh_semantics(stack):
    assert all_semantic_problems(stack.manifests) == []


def test_stack_dependency_edges(stack):
    assert dependency_problems(stack) == []


def test_stack_iam_has_no_wildcard_actions(stack):
    docs = policy_documents(stack)
    assert docs and wildcard_action_problems(docs) == []
