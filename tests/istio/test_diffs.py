"""What a config change touches, in the style of a preview diff: a canary weight changes only the
split HTTPRoute; the mTLS trust switch changes only front's DestinationRules (no pod, nothing of
the servers')."""

from __future__ import annotations

import pytest

from celestials.topology.canary import canary_plans
from celestials.render.istio import istio_canary_keys
from celestials.render.kubernetes_workloads import ObjectKey
from celestials.topology import build_topology, productcatalog
from tests.istio.rendering import render_all, settings_for


def _changed(before: dict, after: dict) -> list[str]:
    old = {m.key: m for m in render_all(**before)}
    new = {m.key: m for m in render_all(**after)}
    keys = sorted(old.keys() | new.keys())
    return [str(k) for k in keys if k not in old or k not in new or old[k].obj != new[k].obj
            or old[k].depends_on != new[k].depends_on]


@pytest.mark.parametrize("before,after", [(10, 90), (50, 0), (0, 100)])
def test_a_weight_change_changes_only_the_split_route(before, after):
    assert _changed({"canaryWeight": before}, {"canaryWeight": after}) == ["HTTPRoute/prodcatalog-ns/proddetail-router"]


def test_the_trust_switch_changes_only_fronts_destination_rules():
    """No pod changes: front's sidecar has both trust files mounted in either state."""
    assert _changed({"mtlsTrust": "ca1"}, {"mtlsTrust": "ca1+ca2"}) == [
        "DestinationRule/mtls/front-to-color-blue", "DestinationRule/mtls/front-to-color-green",
        "DestinationRule/mtls/front-to-color-red"]


def test_the_canary_owns_its_route_and_its_new_version():
    settings = settings_for()
    mesh = build_topology(settings).mesh_in(productcatalog.NAMESPACE)
    [plan] = canary_plans(mesh)
    keys = istio_canary_keys(mesh, plan)
    ns = productcatalog.NAMESPACE
    assert keys == {ObjectKey("HTTPRoute", ns, "proddetail-router"), ObjectKey("Deployment", ns, "proddetail-v2"),
                    ObjectKey("Service", ns, "proddetail-v2"), ObjectKey("ServiceAccount", ns, "proddetail-v2")}
    rendered = {m.key for m in render_all()}
    assert keys <= rendered  # every key names an object the renderer produces


def test_a_weight_change_stays_inside_the_canary():
    settings = settings_for()
    mesh = build_topology(settings).mesh_in(productcatalog.NAMESPACE)
    owned = {str(k) for k in istio_canary_keys(mesh, canary_plans(mesh)[0])}
    assert set(_changed({"canaryWeight": 10}, {"canaryWeight": 90})) <= owned


def test_in_prod_the_canary_also_owns_its_new_versions_autoscaler():
    """The HPA names its Deployment, so it is applied with it, in the Canary component."""
    settings = settings_for(autoscaleMaxReplicas=4)
    mesh = build_topology(settings).mesh_in(productcatalog.NAMESPACE)
    [plan] = canary_plans(mesh)
    assert ObjectKey("HorizontalPodAutoscaler", productcatalog.NAMESPACE, "proddetail-v2") in istio_canary_keys(mesh, plan)
