#!/usr/bin/env bash
# Stop early, with the fix, when what a Pulumi command needs is missing.
#   tools/preflight.sh up|preview|destroy [STACK]   (STACK: dev unless given)
# up: the Pulumi CLI, the AWS CLI with credentials, a Docker engine (images are built and pushed)
#     whose builder can build the stack's platform (its nodes' architecture), a non-empty
#     passphrase for the stack's secrets, an API endpoint that a deployer outside the cluster's
#     nodes can reach, and (asked of AWS when the CLI works) room in the region's Elastic IP quota
#     for the stack's NAT gateways. The stack's platform, endpoint and NAT gateways are read by the
#     program's own settings parser (python -m tools.stack_runner, the venv's $PYTHON), the
#     reading CI uses too.
# preview: the same without Docker (images are not built on preview, components/images.py).
# destroy: the same without Docker (nothing is built; the state's secrets must still be decrypted).
# up and preview first refuse a STACK without its stack file (Pulumi.<stack>.yaml): Pulumi would
# create the stack with an empty config. destroy does not ask for it: it runs no program, and a
# stack whose file is gone must still be destroyable (`pulumi stack select` without --create
# refuses a stack that does not exist).
set -u
mode="${1:-up}"
stack="${2:-dev}"
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
case "$mode" in
  up) verb="deployed" ;;
  preview) verb="previewed" ;;
  destroy) verb="destroyed" ;;
  *) echo "usage: tools/preflight.sh up|preview|destroy (got '$mode')" >&2; exit 64 ;;
esac
if [ "$mode" != destroy ] && [ ! -f "$root/Pulumi.$stack.yaml" ]; then
  known=$(cd "$root" && for f in Pulumi.*.yaml; do [ -f "$f" ] && f="${f#Pulumi.}" && printf '%s\n' "${f%.yaml}"; done | paste -sd, - | sed 's/,/, /g')
  echo "refused: no stack file Pulumi.$stack.yaml for STACK=$stack; stacks with a file: ${known:-none}. A new stack starts as a file: copy Pulumi.dev.yaml (or Pulumi.prod.yaml) to Pulumi.$stack.yaml, set its celestials:production and review it (docs/platform.md, \"Production stacks\"), then re-run." >&2
  echo "Nothing was $verb." >&2
  exit 2
fi
missing=0
aws_ok=0
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
else
  aws_ok=1
fi
if [ "$mode" = up ]; then
  if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
    echo "missing: a running Docker engine with buildx (images are built from apps/ and pushed to ECR). Start Docker Desktop or dockerd, then re-run." >&2
    missing=1
    docker_ok=0
  else
    docker_ok=1
  fi
  if [ ! -x "$python" ]; then
    echo "missing: the program's venv ($python), which reads the stack's platform and endpoint: run 'make install-python', then re-run." >&2
    missing=1
  elif ! platform=$(cd "$root" && "$python" -m tools.stack_runner platform "$stack" 2>"$errors"); then
    echo "refused: $(sed 's/^error: //' "$errors")" >&2
    missing=1
  else
    if [ "$docker_ok" -eq 1 ]; then
      # The current buildx builder's platforms: native ones, plus those the kernel emulates (binfmt).
      if ! inspect=$(docker buildx inspect --bootstrap 2>&1); then
        echo "missing: docker buildx (the images are built with BuildKit): 'docker buildx inspect' says: $inspect. Install the buildx plugin (Docker Desktop has it), then re-run." >&2
        missing=1
      else
        offered=$(printf '%s\n' "$inspect" | sed -n 's/^[[:space:]]*Platforms:[[:space:]]*//p' | tr ',' '\n' \
          | sed 's/^[[:space:]]*//; s/[*[:space:]]*$//' | grep -v '^$' | sort -u)
        if ! printf '%s\n' "$offered" | grep -qxF "$platform"; then
          arch="${platform#linux/}"
          listed=$(printf '%s\n' "$offered" | paste -sd, - | sed 's/,/, /g')
          echo "missing: a Docker builder for $platform: the $stack stack's nodes are $arch (celestials:nodeArchitecture), so its images are built for $platform, and this Docker's builder offers only: ${listed:-no platform at all}. Build on a $arch machine, or add emulation (slower): docker run --privileged --rm tonistiigi/binfmt --install $arch (Docker Desktop has it built in), then re-run." >&2
          missing=1
        fi
      fi
    fi
    if ! (cd "$root" && "$python" -m tools.stack_runner way-in "$stack" 2>"$errors"); then
      echo "refused: $(cat "$errors")" >&2
      missing=1
    fi
    if [ "$aws_ok" -eq 1 ]; then
      if ! (cd "$root" && "$python" -m tools.stack_runner elastic-ips "$stack" 2>"$errors"); then
        echo "refused: $(cat "$errors")" >&2
        missing=1
      elif [ -s "$errors" ]; then
        cat "$errors" >&2  # the check could not be made: say so, do not refuse
      fi
    fi
  fi
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
