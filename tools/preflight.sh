#!/usr/bin/env bash
# Stop early, with the fix, when what a real deployment needs is missing.
set -u
missing=0
if ! command -v pulumi >/dev/null 2>&1; then
  echo "missing: the Pulumi CLI. Install it: curl -fsSL https://get.pulumi.com | sh  (or brew install pulumi/tap/pulumi), then re-run." >&2
  missing=1
fi
if ! command -v aws >/dev/null 2>&1; then
  echo "missing: the AWS CLI (the cluster's kubeconfig runs 'aws eks get-token'). Install AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html" >&2
  missing=1
elif ! aws sts get-caller-identity >/dev/null 2>&1; then
  echo "missing: AWS credentials. Run 'aws configure sso' / 'aws sso login', or export AWS_PROFILE (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), then re-run." >&2
  missing=1
fi
if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  echo "missing: a running Docker engine with buildx (images are built from apps/ and pushed to ECR). Start Docker Desktop or dockerd, then re-run." >&2
  missing=1
fi
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  echo "missing: PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): the passphrase that encrypts this stack's secrets. Choose one and keep it safe." >&2
  missing=1
fi
if [ "$missing" -ne 0 ]; then
  echo "Nothing was deployed. 'make synth' and 'make local-up' work without any of the above." >&2
  exit 2
fi
