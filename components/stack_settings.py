"""Read the stack's config from the Pulumi runtime into typed settings.

Why not `pulumi.Config().get(...)` per key: a typo must fail too, so every key the runtime holds
(the stack file's and those set with `pulumi config set`, of any namespace) is read at once and
handed to the shared check, `settings_from_config`, before any resource is registered.

Why the stack file is read here too: Pulumi's decoder drops what it does not know, so a misspelt
`confg:` (every default silently), a key written beside `config:` instead of under it, or an
unknown top-level key never reaches the program as config. The file, `Pulumi.<stack>.yaml` in the
project's root, is checked first with the offline tools' own check (`check_stack_file`), naming the
line; a stack without a file there (config held by the service, or `--config-file`) has nothing
to check.

Why the day is read here: this is where `pulumi preview`/`up` enters the program, so the day is
taken once (`celestials.today`: `CELESTIALS_TODAY`, else the system date) and handed to the one
date-dependent check, the EKS version's (`check_eks_version`): a version EKS no longer offers is
refused before any resource, and the warnings about its support (ahead of the end of standard
support, in extended support) are logged, so the preview shows them.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pulumi
from pulumi.runtime import config as runtime_config

from celestials.cost import CostError, control_plane_rates
from celestials.eks_versions import ControlPlaneRates
from celestials.local.stack import check_stack_file
from celestials.settings import FEWER_NAT_GATEWAYS_KEY, PROJECT, Settings, check_eks_version
from celestials.stack_config import settings_from_config
from celestials.today import today


def project_root() -> Path:
    """Where Pulumi.yaml is: the directory Pulumi names, else the working directory (the project's
    when Pulumi runs the program; the mock runtime names none)."""
    named = pulumi.get_root_directory()
    return Path(named) if named and (Path(named) / "Pulumi.yaml").is_file() else Path(os.getcwd())


def load_settings() -> Settings:
    check_stack_file(project_root(), pulumi.get_stack())
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    config = {k: runtime_config.get_config(k) for k in sorted(keys)}
    secret = {k for k in keys if runtime_config.is_config_secret(k)}
    settings = settings_from_config(config, pulumi.get_stack(), secret_keys=secret)
    for message in (*override_notes(settings), *eks_warnings(settings, today())):
        pulumi.log.warn(message)
    return settings


def override_notes(settings: Settings) -> tuple[str, ...]:
    """What a preview says about a production rule the stack overrides, with the stack's reason."""
    if settings.fewer_nat_gateways_reason is None:
        return ()
    return (f"stack {settings.stack} is production with {settings.nat_gateways} NAT gateway(s) for "
            f"{settings.availability_zones} zones: losing a zone whose NAT gateway others route through cuts "
            f"their egress. {PROJECT}:{FEWER_NAT_GATEWAYS_KEY}: {settings.fewer_nat_gateways_reason}",)


def eks_warnings(settings: Settings, day: date) -> tuple[str, ...]:
    """`check_eks_version` with the region's control-plane prices, when the price data has them
    (a region without price data still gets the warnings, without the figures)."""
    rates: ControlPlaneRates | None
    try:
        rates = control_plane_rates(settings.region)
    except CostError:
        rates = None
    return check_eks_version(settings, day, rates)
