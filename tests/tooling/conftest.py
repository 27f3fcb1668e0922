"""Make-level tests: run the real Makefile with fake `pulumi`, `aws` and `docker` on PATH.

Each fake appends its argv (and what Pulumi would see of the passphrase variables) to a log, so a
test asserts exactly which commands `make` ran. The environment is built from scratch (no CI,
no passphrase, HOME in a temp dir) so the caller's shell cannot change the outcome, and the venv
is never reinstalled (`-o .venv/.installed`, `-o policy/venv/.installed`).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.stack_runner import EIP_QUOTA_CODE

ROOT = Path(__file__).resolve().parents[2]

_FAKE = """#!/bin/sh
printf '%s %s | PASSPHRASE=%s FILE=%s\\n' "$(basename "$0")" "$*" \\
  "${PULUMI_CONFIG_PASSPHRASE-<unset>}" "${PULUMI_CONFIG_PASSPHRASE_FILE-<unset>}" >> "$FAKE_LOG"
env > "$FAKE_LOG.$(basename "$0").env"
# docker: the current buildx builder offers the platforms in $FAKE_LOG.platforms
if [ "$(basename "$0") $1 $2" = "docker buildx inspect" ]; then
  printf 'Name: default\\nNodes:\\nName: default\\nPlatforms: %s\\n' "$(cat "$FAKE_LOG.platforms")"
fi
# aws: the canned answer to `aws <service> <operation>` in $FAKE_LOG.aws.<service>.<operation>, its
# exit status in the same file name plus .rc (not 0: the answer goes to stderr, as the CLI's errors
# do); without one, no output and status 0
if [ "$(basename "$0")" = aws ] && [ -f "$FAKE_LOG.aws.$1.$2" ]; then
  rc=$(cat "$FAKE_LOG.aws.$1.$2.rc" 2>/dev/null || echo 0)
  if [ "$rc" -eq 0 ]; then cat "$FAKE_LOG.aws.$1.$2"; else cat "$FAKE_LOG.aws.$1.$2" >&2; fi
  exit "$rc"
fi
"""
#: what the fake Docker's builder offers unless a test says otherwise (Docker Desktop's, with emulation)
DEFAULT_PLATFORMS = "linux/amd64, linux/amd64/v2, linux/arm64, linux/arm/v7"
#: the fake AWS account unless a test says otherwise: EC2's default Elastic IP quota, none allocated
DEFAULT_EIP_QUOTA = 5.0


@dataclass
class Tools:
    home: Path
    bin: Path
    log: Path

    def remove(self, name: str) -> None:
        (self.bin / name).unlink()

    def passphrase_file(self, stack: str = "dev", text: str = "correct horse\n") -> Path:
        path = self.home / ".pulumi-celestials" / "passphrases" / stack
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def platforms(self, text: str) -> None:
        """What the fake Docker's buildx builder lists as its platforms."""
        Path(f"{self.log}.platforms").write_text(text)

    def aws_answer(self, command: str, text: str, status: int = 0) -> None:
        """What the fake AWS CLI prints for `aws <command>` ("ec2 describe-addresses"), and its status."""
        base = Path(f"{self.log}.aws.{command.replace(' ', '.')}")
        base.write_text(text)
        Path(f"{base}.rc").write_text(str(status))

    def aws_account(self, eip_quota: float = DEFAULT_EIP_QUOTA, addresses: list[dict] | tuple = ()) -> None:
        """The fake account's Elastic IP quota and allocated addresses, as the AWS CLI answers."""
        self.aws_answer("service-quotas get-service-quota", json.dumps(
            {"Quota": {"ServiceCode": "ec2", "QuotaCode": EIP_QUOTA_CODE, "Value": eip_quota}}))
        self.aws_answer("ec2 describe-addresses", json.dumps({"Addresses": list(addresses)}))

    def env_of(self, tool: str) -> dict[str, str]:
        """The environment the fake `tool` last ran with."""
        lines = Path(f"{self.log}.{tool}.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def calls(self, tool: str | None = None) -> list[str]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [line for line in lines if tool is None or line.split(" ", 1)[0] == tool]

    def make(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        environment = {"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": str(self.home),
                       "FAKE_LOG": str(self.log), "LANG": "C.UTF-8", **env}
        return subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT),
                               "-o", ".venv/.installed", "-o", "policy/venv/.installed", *args],
                              env=environment, capture_output=True, text=True, timeout=120)


@pytest.fixture
def tools(tmp_path) -> Tools:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("pulumi", "aws", "docker"):
        (fake_bin / name).write_text(_FAKE)
        (fake_bin / name).chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    tools = Tools(home=home, bin=fake_bin, log=tmp_path / "calls.log")
    tools.platforms(DEFAULT_PLATFORMS)
    tools.aws_account()
    return tools
