#!/usr/bin/env bash
# Stop early, with the fix, when what a Pulumi command needs is missing.
#   tools/preflight.sh up|preview|destroy
# up: the Pulumi CLI, the AWS CLI with credentials, a Docker engine (images are built and pushed),
#     and a non-empty passphrase for the stack's secrets.
# preview: the same without Docker (images are not built on preview, components/images.py).
# destroy: the same without Docker (nothing is built; the state's secrets must still be decrypted).
set -u
mode="${1:-up}"
case "$mode" in
  up) verb="deployed" ;;
  preview) verb="previewed" ;;
  destroy) verb="destroyed" ;;
  *) echo "usage: tools/preflight.sh up|preview|destroy (got '$mode')" >&2; exit 64 ;;
esac
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
if [ "$mode" = up ] && { ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; }; then
  echo "missing: a running Docker engine with buildx (images are built from apps/ and pushed to ECR). Start Docker Desktop or dockerd, then re-run." >&2
  missing=1
fi
# Pulumi prefers PULUMI_CONFIG_PASSPHRASE, even an empty one, over PULUMI_CONFIG_PASSPHRASE_FILE:
# an empty one set anywhere would encrypt every secret of the stack with the empty passphrase.
if [ -n "${PULUMI_CONFIG_PASSPHRASE+set}" ]; then
  if [ -z "$PULUMI_CONFIG_PASSPHRASE" ]; then
    echo "refused: PULUMI_CONFIG_PASSPHRASE is set but empty; Pulumi would use it (before PULUMI_CONFIG_PASSPHRASE_FILE) to encrypt this stack's secrets. Unset it ('unset PULUMI_CONFIG_PASSPHRASE') and use the stack's passphrase file, or set a real passphrase." >&2
    missing=1
  fi
elif [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  echo "missing: PULUMI_CONFIG_PASSPHRASE_FILE (or PULUMI_CONFIG_PASSPHRASE): the passphrase that encrypts this stack's secrets." >&2
  missing=1
elif [ ! -s "$PULUMI_CONFIG_PASSPHRASE_FILE" ]; then
  echo "missing: the stack's passphrase file $PULUMI_CONFIG_PASSPHRASE_FILE (absent or empty). Create it once and keep it safe (losing it loses the stack's secrets): mkdir -p \"$(dirname "$PULUMI_CONFIG_PASSPHRASE_FILE")\" && (umask 077; head -c 32 /dev/urandom | base64 > \"$PULUMI_CONFIG_PASSPHRASE_FILE\")" >&2
  missing=1
fi
if [ "$missing" -ne 0 ]; then
  if [ "$mode" = destroy ]; then
    echo "Nothing was $verb." >&2
  else
    echo "Nothing was $verb. 'make synth' and 'make local-up' work without any of the above." >&2
  fi
  exit 2
fi
