"""Pulumi ComponentResources: the AWS and Kubernetes pieces of celestials."""
