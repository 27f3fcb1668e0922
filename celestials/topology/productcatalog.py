"""The Product Catalog mesh: frontend-node → prodcatalog → proddetail v1/v2, behind ingress-gw."""

from __future__ import annotations

from ..settings import Settings
from .model import (Autoscaling, BackendEnv, Gateway, GatewayRoute, HealthCheck, Mesh, Resources, RetryPolicy,
                    Route, Router, Service, Storage, WeightedTarget, Workload)

NAMESPACE = "prodcatalog-ns"
MESH_NAME = "prodcatalog-mesh"
GATEWAY_NAME = "ingress-gw"
GATEWAY_PORT = 8088

#: Where prodcatalog keeps its products with `prodcatalogStorage: sqlite` (an emptyDir in a pod).
SQLITE_DIR = "/data"
_NODE_RESOURCES = Resources(cpu_request_m=50, memory_request_mi=96, memory_limit_mi=256)
_PY_RESOURCES = Resources(cpu_request_m=100, memory_request_mi=128, memory_limit_mi=384)


def _autoscaling(settings: Settings) -> Autoscaling | None:
    """Every request-path Deployment scales out under load when the stack has autoscalers."""
    maximum = settings.autoscale_max
    return Autoscaling(max_replicas=maximum) if maximum is not None else None


def _proddetail(version: int, replicas: int, autoscaling: Autoscaling | None) -> Workload:
    return Workload(
        name=f"proddetail-v{version}", app="proddetail", version=f"v{version}",
        image=f"proddetail-v{version}", port=3000, host=f"proddetail-v{version}",
        health=HealthCheck(path="/ping", port=3000), tracing_name=f"Product-Detail-V{version}",
        resources=_NODE_RESOURCES, replicas=replicas, autoscaling=autoscaling,
    )


def _storage(settings: Settings) -> Storage:
    if settings.prodcatalog_storage == "sqlite":
        return Storage("sqlite", directory=SQLITE_DIR)
    return Storage(settings.prodcatalog_storage)


def product_catalog_mesh(settings: Settings) -> Mesh:
    weights = settings.proddetail_weights
    autoscaling = _autoscaling(settings)
    storage = _storage(settings)
    workloads = (
        Workload(
            name="frontend-node", app="frontend-node", image="frontend-node", port=9000,
            host="frontend-node", health=HealthCheck(path="/ping", port=9000),
            tracing_name="Frontend-Node", backends=("prodcatalog",),
            backend_env=(BackendEnv("BASE_URL", "prodcatalog", "/products/"),),
            resources=_NODE_RESOURCES, replicas=settings.request_path_replicas, autoscaling=autoscaling,
        ),
        Workload(
            name="prodcatalog", app="prodcatalog", image="prodcatalog", port=5000,
            host="prodcatalog", health=HealthCheck(path="/products/ping", port=5000),
            tracing_name="Product-Catalog", backends=("proddetail",),
            backend_env=(BackendEnv("AGG_APP_URL", "proddetail", "/catalogDetail"),),
            replicas=settings.prodcatalog_replicas, resources=_PY_RESOURCES, storage=storage,
            # one sqlite file has one writer: that prodcatalog stays at its one replica
            autoscaling=None if storage.single_writer else autoscaling,
        ),
        _proddetail(1, settings.request_path_replicas, autoscaling),
        _proddetail(2, settings.request_path_replicas, autoscaling),
    )
    routers = (
        Router(name="prodcatalog-router", port=5000, routes=(
            Route(name="prodcatalog-route", targets=(WeightedTarget("prodcatalog", 100),),
                  timeout_ms=10000, retries=RetryPolicy()),
        )),
        Router(name="proddetail-router", port=3000, routes=(
            Route(name="proddetail-route", targets=(
                WeightedTarget("proddetail-v1", weights["v1"]),
                WeightedTarget("proddetail-v2", weights["v2"]),
            ), timeout_ms=5000, retries=RetryPolicy()),
        )),
    )
    services = (
        Service(name="frontend-node", port=9000, workload="frontend-node"),
        Service(name="prodcatalog", port=5000, router="prodcatalog-router"),
        Service(name="proddetail", port=3000, router="proddetail-router"),
    )
    gateway = Gateway(name=GATEWAY_NAME, port=GATEWAY_PORT, routes=(
        GatewayRoute(name="gateway-route-frontend", prefix="/", service="frontend-node"),
    ), replicas=settings.request_path_replicas, autoscaling=autoscaling)
    return Mesh(name=MESH_NAME, namespace=NAMESPACE, workloads=workloads, services=services,
                routers=routers, gateway=gateway, node_architecture=settings.node_architecture).validate()
