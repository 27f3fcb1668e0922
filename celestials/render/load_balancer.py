"""How a mesh's ingress is exposed on AWS, whichever backend creates the LoadBalancer Service
(both render that Service themselves).

One place for the annotations so both backends ask AWS for the same load balancer, and for the
label that marks the Service as the ingress gateway's: the guardrails allow a LoadBalancer Service
only with it (celestials/guardrails/kubernetes_rules.py)."""

from __future__ import annotations

#: The port the internet-facing load balancer listens on.
PUBLIC_HTTP_PORT = 80
#: Internet-facing NLB through the in-cluster AWS cloud provider (no extra controller needed).
NLB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "false",
}
#: Labels of the ingress gateway's LoadBalancer Service (Kubernetes' recommended component label).
INGRESS_GATEWAY_LABELS = {"app.kubernetes.io/component": "ingress-gateway"}
