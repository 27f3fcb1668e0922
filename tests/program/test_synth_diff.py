"""`python -m synth.diff`: per-resource changes between two evaluations, by URN, secrets redacted."""

from __future__ import annotations

import json

import pytest

from synth.diff import MISSING, InputChange, ResourceChange, diff_resources, diff_values, export_ref, main


def _resource(name, inputs, typ="kubernetes:core/v1:ConfigMap", provider="urn:provider::k8s"):
    return {"urn": f"urn:pulumi:dev::celestials::{typ}::{name}", "type": typ, "name": name,
            "provider": provider, "inputs": inputs}


def test_added_removed_and_changed_resources_by_urn():
    base = [_resource("kept", {"data": {"a": "1"}}), _resource("gone", {}), _resource("same", {"x": [1, 2]})]
    head = [_resource("kept", {"data": {"a": "2", "b": "3"}}), _resource("new", {}), _resource("same", {"x": [1, 2]})]
    changes = diff_resources(base, head)
    assert [(c.name, c.op) for c in changes] == [("gone", "delete"), ("kept", "update"), ("new", "create")]
    assert changes[1].inputs == (InputChange("data.a", "1", "2"), InputChange("data.b", MISSING, "3"))


def test_paths_name_list_items_annotation_keys_and_json_strings():
    old = {"spec": {"routes": [{"weight": 50}, {"weight": 50}]},
           "metadata": {"annotations": {"appmesh.k8s.aws/secretMounts": "a:/certs/"}},
           "policy": json.dumps({"Statement": [{"Action": ["s3:GetObject"]}]})}
    new = {"spec": {"routes": [{"weight": 10}, {"weight": 90}, {"weight": 0}]},
           "metadata": {"annotations": {"appmesh.k8s.aws/secretMounts": "b:/certs/"}},
           "policy": json.dumps({"Statement": [{"Action": ["s3:PutObject"]}]})}
    assert diff_values(old, new) == [
        InputChange('metadata.annotations["appmesh.k8s.aws/secretMounts"]', "a:/certs/", "b:/certs/"),
        InputChange("policy.Statement[0].Action[0]", "s3:GetObject", "s3:PutObject"),
        InputChange("spec.routes[0].weight", 50, 10),
        InputChange("spec.routes[1].weight", 50, 90),
        InputChange("spec.routes[2]", MISSING, {"weight": 0}),
    ]


def test_a_changed_provider_is_a_change():
    changes = diff_resources([_resource("a", {})], [_resource("a", {}, provider="urn:provider::other")])
    assert changes[0].inputs == (InputChange("provider", "urn:provider::k8s", "urn:provider::other"),)


def test_secrets_stay_redacted():
    # the synth redacts before anything is compared: a secret never reaches the diff as a value
    base = [_resource("s", {"kind": "Secret", "data": {"key": "[secret]"}, "stringData": "[secret]"})]
    head = [_resource("s", {"kind": "Secret", "data": {"key": "[secret]", "new": "[secret]"}, "stringData": "[secret]"})]
    change = diff_resources(base, head)[0]
    assert change.as_dict()["inputs"] == [{"path": "data.new", "old": None, "new": "[secret]"}]


def test_the_change_list_is_plain_data():
    change = ResourceChange("urn:x", "t", "n", "update", (InputChange("a", MISSING, 1),))
    assert json.loads(json.dumps(change.as_dict())) == {
        "urn": "urn:x", "type": "t", "name": "n", "op": "update", "inputs": [{"path": "a", "old": None, "new": 1}],
        "reasons": [], "unknown": "", "caveats": []}


def test_an_override_changes_exactly_the_canary_router(capsys):
    assert main(["--set", "canaryWeight=90", "--json"]) == 0
    [dev] = json.loads(capsys.readouterr().out)
    assert dev["stack"] == "dev" and dev["unchanged"] > 100
    [change] = dev["changes"]
    assert change["type"] == "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute" and change["op"] == "update"
    assert change["inputs"] == [
        {"path": "spec.rules[0].backendRefs[0].weight", "old": 50, "new": 10,
         "shown": "spec.rules[proddetail-route].backendRefs[proddetail-v1].weight"},
        {"path": "spec.rules[0].backendRefs[1].weight", "old": 50, "new": 90,
         "shown": "spec.rules[proddetail-route].backendRefs[proddetail-v2].weight"}]


def test_a_canary_weight_change_says_which_version_gets_what(capsys):
    assert main(["--set", "canaryWeight=10"]) == 0
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert [line for line in lines if line.startswith("~ spec.")] == [
        "~ spec.rules[proddetail-route].backendRefs[proddetail-v1].weight: 50 → 90",
        "~ spec.rules[proddetail-route].backendRefs[proddetail-v2].weight: 50 → 10"]


def test_list_elements_are_shown_by_their_own_name_when_it_tells_them_apart():
    containers = [{"name": "app", "image": "a:1"}, {"name": "istio-proxy", "image": "p:1"}]
    changed = [{"name": "app", "image": "a:2"}, {"name": "istio-proxy", "image": "p:1"}]
    assert diff_values({"containers": containers}, {"containers": changed}) == [
        InputChange("containers[0].image", "a:1", "a:2", "containers[app].image")]
    # App Mesh's weighted targets name the node they send to
    targets = [{"virtualNodeRef": {"name": "proddetail-v1"}, "weight": 50},
               {"virtualNodeRef": {"name": "proddetail-v2"}, "weight": 50}]
    moved = [{**targets[0], "weight": 90}, {**targets[1], "weight": 10}]
    assert [c.label for c in diff_values({"t": targets}, {"t": moved})] == [
        "t[proddetail-v1].weight", "t[proddetail-v2].weight"]
    # a name that repeats does not tell them apart: the index does
    twice = [{"name": "x", "port": 1}, {"name": "x", "port": 2}]
    assert [c.label for c in diff_values(twice, [twice[0], {"name": "x", "port": 3}])] == ["[1].port"]
    assert [c.label for c in diff_values([{"name": "80", "p": 1}], [{"name": "80", "p": 2}])] == ['["80"].p']
    # an element added or removed is named by the side that has it
    assert diff_values([], [{"name": "new"}]) == [InputChange("[0]", MISSING, {"name": "new"}, "[new]")]
    assert diff_values([{"name": "a"}], [{"name": "b"}]) == [
        InputChange("[0]", MISSING, {"name": "b"}, "[b]"), InputChange("[0]", {"name": "a"}, MISSING, "[a]")]


def test_a_named_element_added_in_the_middle_is_one_change_not_a_shift():
    """As Kubernetes merges env, containers or ports by name; seen when a workload gains a backend
    (its URL's variable sorts between two others)."""
    env = [{"name": "BASE_URL", "value": "b"}, {"name": "OTEL_SERVICE_NAME", "value": "f"},
           {"name": "PORT", "value": "9000"}]
    added = [env[0], {"name": "RATINGS_URL", "value": "r"}, *env[1:]]
    assert diff_values({"env": env}, {"env": added}) == [
        InputChange("env[1]", MISSING, {"name": "RATINGS_URL", "value": "r"}, "env[RATINGS_URL]")]
    changed = [env[0], {**env[1], "value": "g"}, env[2]]
    assert [(c.label, c.old, c.new) for c in diff_values(env[1:] + [env[0]], changed)] == [
        ("[0].name", "OTEL_SERVICE_NAME", "BASE_URL"), ("[0].value", "f", "b"),
        ("[1].name", "PORT", "OTEL_SERVICE_NAME"), ("[1].value", "9000", "g"),
        ("[2].name", "BASE_URL", "PORT"), ("[2].value", "b", "9000")]  # reordered: the order is the change
    assert [c.label for c in diff_values({"env": env}, {"env": env[:1] + env[2:]})] == ["env[OTEL_SERVICE_NAME]"]


def test_a_base_tree_is_synthesized_in_its_own_process(tmp_path, capsys):
    tree = export_ref("HEAD", tmp_path)
    stack_file = tree / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text().replace("celestials:canaryWeight: 50", "celestials:canaryWeight: 20"))
    assert main(["--base-tree", str(tree)]) == 0
    out = capsys.readouterr().out
    assert f"Stack dev: {tree} → working tree" in out
    assert "~ spec.rules[proddetail-route].backendRefs[proddetail-v2].weight: 20 → 50" in out


@pytest.mark.parametrize("argv,message", [
    ([], 'error: nothing to compare: give overrides (SET="canaryWeight=90") or a base (BASE=main)'),
    (["--base", "no-such-ref-xyz"], "error: no git commit 'no-such-ref-xyz' in"),
    (["--set", "canaryWeight"], "error: override 'canaryWeight': expected key=value"),
])
def test_bad_arguments_are_one_line_errors(argv, message, capsys):
    assert main(argv) == 1
    assert capsys.readouterr().err.startswith(message)


def test_a_verdict_names_the_input_as_the_diff_shows_it():
    typ = "kubernetes:appmesh.k8s.aws/v1beta2:VirtualRouter"
    route = {"name": "r", "httpRoute": {"action": {"weightedTargets": [
        {"virtualNodeRef": {"name": "proddetail-v1"}, "weight": 50}]}}}
    moved = {**route, "httpRoute": {"action": {"weightedTargets": [
        {"virtualNodeRef": {"name": "proddetail-v1"}, "weight": 40}]}}}
    [change] = diff_resources([_resource("router", {"spec": {"routes": [route]}}, typ)],
                              [_resource("router", {"spec": {"routes": [moved]}}, typ)])
    assert change.unknown.startswith(
        "replacement not known for spec.routes[r].httpRoute.action.weightedTargets[proddetail-v1].weight: ")
