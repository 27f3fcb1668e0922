"""Read the stack's `celestials:*` config from the Pulumi runtime into typed settings.

Why not `pulumi.Config().get(...)` per key: unknown keys (typos) must fail too, so the whole key
set is read at once and handed to the pure parser before any resource is registered.
"""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as runtime_config

from celestials.settings import PROJECT, Settings, parse_settings


def load_settings() -> Settings:
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw = {k: runtime_config.get_config(k) for k in sorted(keys) if k.startswith(PROJECT + ":")}
    return parse_settings(raw, pulumi.get_stack(), runtime_config.get_config("aws:region"))
