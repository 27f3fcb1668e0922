"""Read the stack's config from the Pulumi runtime into typed settings.

Why not `pulumi.Config().get(...)` per key: a typo must fail too, so every key the runtime holds
(the stack file's and those set with `pulumi config set`, of any namespace) is read at once and
handed to the shared check, `settings_from_config`, before any resource is registered.
"""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as runtime_config

from celestials.settings import Settings
from celestials.stack_config import settings_from_config


def load_settings() -> Settings:
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    config = {k: runtime_config.get_config(k) for k in sorted(keys)}
    secret = {k for k in keys if runtime_config.is_config_secret(k)}
    return settings_from_config(config, pulumi.get_stack(), secret_keys=secret)
