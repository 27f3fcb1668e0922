"""Every IAM grant the guardrails let through although they cannot check it action by action, each
with its reason: the one place to read (and review in a diff) what is allowed broader than exact.

Wildcard actions: none today. Every policy this program writes names its actions one by one
(celestials/render/iam.py, appmesh_iam.py); an entry here needs the service's documentation showing
that no narrower action list exists.

AWS managed policies: documents AWS maintains and the guardrails cannot read (an attachment carries
only the ARN). Each is attached because EKS requires it or offers nothing narrower that it accepts.
"""

from __future__ import annotations

#: action pattern containing `*` → why AWS offers nothing narrower
WILDCARD_ACTIONS: dict[str, str] = {}

#: AWS managed policy name → why it is attached
AWS_MANAGED_POLICIES: dict[str, str] = {
    "AmazonEKSClusterPolicy":
        "the EKS cluster role's required policy; EKS documents no narrower replacement",
    "AmazonEKSWorkerNodePolicy":
        "the node role's required policy (nodes join the cluster, describe their instance)",
    "AmazonEKS_CNI_Policy":
        "the VPC CNI's ENI/IP management on the node role; AWS's documented minimum for the CNI",
    "AmazonEC2ContainerRegistryPullOnly":
        "nodes pull the app images from ECR; AWS's narrowest managed ECR policy (pull only)",
    "AmazonSSMManagedInstanceCore":
        "Session Manager access to nodes instead of SSH keys; AWS's minimum for the SSM agent",
}
