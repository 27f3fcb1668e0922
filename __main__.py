"""celestials: a service-mesh platform on Amazon EKS in one `pulumi up`.

Read top to bottom: settings are parsed and every refusal (bad config, an unknown backend or one
past its end of support, workloads that do not fit the node group) happens before any resource
exists; then the network and cluster, the images (in parallel with the cluster: they never wait
for it), the trace collector, the product table, and the mesh backend that renders the topology
model onto the cluster.
"""

import pulumi

from celestials.capacity import check_capacity
from celestials.images import images_for
from celestials.stacks import resource_tags
from celestials.topology import build_topology
from components import mesh_backends, trace_collector
from components.catalog_table import CatalogTable, CatalogTableArgs
from components.cluster import Cluster, ClusterArgs
from components.images import BUILDS_OUTPUT, Images, ImagesArgs
from components.mesh_backend import MeshBackendArgs, MeshIdentityArgs
from components.network import Network, NetworkArgs
from components.stack_settings import load_settings
from components.trace_collector import TracingCollector, TracingCollectorArgs

# --- refuse early: nothing below runs for an invalid stack --------------------------------
settings = load_settings()
backend = mesh_backends.select(settings)
topology = build_topology(settings)
capacity = check_capacity(settings, topology, backend.capacity_overhead(settings),
                          extra=trace_collector.pod_demands(settings))

prefix = f"celestials-{settings.stack}"
tags = resource_tags(settings.stack, settings.production)

# --- AWS foundation ------------------------------------------------------------------------
network = Network("network", NetworkArgs(
    vpc_cidr=settings.vpc_cidr, availability_zones=settings.availability_zones,
    nat_gateways=settings.nat_gateways, name_prefix=prefix, cluster_name=prefix, region=settings.region,
    ecr_endpoints=settings.ecr_endpoints, availability_zone_ids=settings.availability_zone_ids, tags=tags))

cluster = Cluster("cluster", ClusterArgs(
    cluster_name=prefix, region=settings.region, version=settings.eks_version,
    vpc_id=network.vpc_id, private_subnet_ids=network.private_subnet_ids,
    public_subnet_ids=network.public_subnet_ids, instance_type=settings.instance_type,
    node_count=settings.node_count, node_max_count=settings.node_max_count,
    support_type=settings.eks_support_type,
    endpoint_public_access=settings.endpoint_public_access,
    public_access_cidrs=settings.endpoint_public_access_cidrs,
    private_access_cidrs=settings.endpoint_private_access_cidrs,
    admin_principal_arns=(*settings.cluster_admins, *settings.ci_deploy_roles),
    viewer_principal_arns=settings.cluster_viewers, ssh_key_name=settings.ssh_key_name,
    deletion_protection=settings.production, log_retention_days=90 if settings.production else 30,
    log_types=settings.log_types, architecture=settings.node_architecture, cpu_credits=settings.cpu_credits,
    metrics_server=settings.autoscale_max is not None, tags=tags))

images = Images("images", ImagesArgs(
    keys=images_for(topology), repository_prefix=f"celestials/{settings.stack}",
    force_delete_repositories=not settings.production, architecture=settings.node_architecture, tags=tags,
    stack_name=f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"))

# --- tracing and the meshes ---------------------------------------------------------------
collector = TracingCollector("tracing", TracingCollectorArgs(
    k8s_provider=cluster.provider, oidc_provider_arn=cluster.oidc_provider_arn,
    oidc_provider_url=cluster.oidc_provider_url, region=settings.region, nodes=cluster.nodes,
    node_architecture=settings.node_architecture)) if settings.tracing else None

identity = backend.create_identity("mesh-identity", MeshIdentityArgs(
    settings=settings, topology=topology,
    oidc_provider_arn=cluster.oidc_provider_arn, oidc_provider_url=cluster.oidc_provider_url))

workload_roles, table_name = {}, None
for table_mesh, table_user in topology.workloads_storing_in("dynamodb"):  # the model's: prodcatalog
    catalog = CatalogTable("catalog", CatalogTableArgs(
        oidc_provider_arn=cluster.oidc_provider_arn, oidc_provider_url=cluster.oidc_provider_url,
        namespace=table_mesh.namespace, service_account=table_user.name,
        extra_policy_arns=identity.sidecar_policy_arns(table_mesh.namespace),
        deletion_protection=settings.production, tags=tags))
    workload_roles = {table_mesh.namespace: {table_user.name: catalog.role_arn}}
    table_name = catalog.table_name

mesh = backend.create("mesh", MeshBackendArgs(
    settings=settings, topology=topology, k8s_provider=cluster.provider,
    oidc_provider_arn=cluster.oidc_provider_arn, oidc_provider_url=cluster.oidc_provider_url,
    image_refs=images.image_refs, identity=identity, workload_roles=workload_roles,
    dynamodb_table=table_name, collector=collector, nodes=cluster.nodes))

# --- outputs -------------------------------------------------------------------------------
pulumi.export("ingressUrl", mesh.ingress_url)
pulumi.export("meshNames", mesh.mesh_names)
pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("images", images.refs)
pulumi.export(BUILDS_OUTPUT, images.builds)  # read back by the next `up` (no re-push of known tags)
pulumi.export("capacity", capacity.summary())
