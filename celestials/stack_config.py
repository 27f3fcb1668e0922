"""Every key of a stack's config accounted for: the one check the program, the synth and the local
rehearsal share.

Why: Pulumi hands a program every key of `Pulumi.<stack>.yaml` (and of `pulumi config set`), but a
typo outside our namespace (`celestial:canaryWeight`, `aws:regoin`) is read by nobody, so the stack
would silently be evaluated with the default. Here each key must be ours (`celestials:*`, whose
names and values `parse_settings` checks), a config key of a provider the program uses, or it is
refused with the nearest known key. A secret key's value is never shown in a refusal.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
from typing import Any, Collection, Mapping

from .settings import CONFIG_KEYS, PROJECT, Settings, SettingsError, closest, did_you_mean, parse_settings
from .stacks import PRODUCTION_KEY

#: Keys of other namespaces a stack may carry. `aws`: the AWS provider's own config keys
#: (pulumi_aws/config/vars.py), all of which the program's default AWS provider reads. Left out:
#: `skipRegionValidation`, because `aws:region` is checked against the provider's region list
#: (a region newer than the pinned provider needs a provider upgrade, not a skipped check).
#: `pulumi`: the engine's one stack-level setting.
PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "aws": (
        "accessKey", "allowedAccountIds", "assumeRoleWithWebIdentity", "assumeRoles",
        "customCaBundle", "defaultTags", "ec2MetadataServiceEndpoint",
        "ec2MetadataServiceEndpointMode", "endpoints", "forbiddenAccountIds", "httpProxy",
        "httpsProxy", "ignoreTags", "insecure", "maxRetries", "noProxy", "profile", "region",
        "retryMode", "s3UsEast1RegionalEndpoint", "s3UsePathStyle", "secretKey",
        "sharedConfigFiles", "sharedCredentialsFiles", "skipCredentialsValidation",
        "skipMetadataApiCheck", "skipRequestingAccountId", "stsRegion", "tagPolicyCompliance",
        "token", "tokenBucketRateLimiterCapacity", "useDualstackEndpoint", "useFipsEndpoint",
        "userAgents",
    ),
    "pulumi": ("disable-default-providers",),
}

SECRET = "[secret]"

#: Keys every stack's config must state, because no default would be safe. `aws:region`: the
#: program (endpoint names, the collector's exporter, prices) and the AWS provider must read one
#: region; without it the provider would take AWS_REGION, AWS_DEFAULT_REGION or the profile's
#: region from wherever `pulumi up` runs. `celestials:production`: production's rules follow from
#: it, and a new stack file that forgot it must not silently get dev's.
REQUIRED_KEYS: dict[str, str] = {
    "aws:region": "every stack states its region, so that the program and the AWS provider read the same one "
                  "(without it the provider takes AWS_REGION, AWS_DEFAULT_REGION or the AWS profile's region "
                  "from wherever pulumi runs): pulumi config set aws:region <region>, e.g. us-west-2",
    f"{PROJECT}:{PRODUCTION_KEY}": f"every stack states whether it is production: pulumi config set "
                                   f"{PROJECT}:{PRODUCTION_KEY} true (held to production's rules: docs/platform.md, "
                                   "\"Production stacks\") or false; the stack's name plays no part",
}


class MissingConfigError(SettingsError):
    """A key every stack must state (`REQUIRED_KEYS`) is not set."""

    def __init__(self, key: str, allowed: str):
        self.key, self.value, self.allowed = key, None, allowed
        ValueError.__init__(self, f"missing stack config {key}: {allowed}")


def known_keys() -> tuple[str, ...]:
    """Every key a stack may carry, fully qualified."""
    ours = tuple(f"{PROJECT}:{name}" for name in CONFIG_KEYS)
    return ours + tuple(f"{ns}:{name}" for ns, names in PROVIDER_KEYS.items() for name in names)


@functools.lru_cache(maxsize=1)
def aws_value_kinds() -> dict[str, str]:
    """The AWS provider's config keys → the kind of value each takes (str, bool, int, list of
    strings, list of objects, object), read from the pinned provider's own `ProviderArgs`, so a
    provider upgrade moves it. Imported lazily: pulumi_aws is slow to import."""
    from pulumi_aws.provider import ProviderArgs

    kinds: dict[str, str] = {}
    for name, param in inspect.signature(ProviderArgs.__init__).parameters.items():
        if name == "__self__":
            continue
        first = str(param.annotation).removeprefix("typing.Union[")
        if first.startswith("typing.Sequence["):
            kind = "objects" if first.startswith("typing.Sequence[typing.Union[ForwardRef(") else "strings"
        elif first.startswith("ForwardRef("):
            kind = "object"
        else:
            kind = first.split(",", 1)[0]
        kinds[re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)] = kind
    return kinds


_KIND_ALLOWED = {
    "str": "a non-empty string (leave the key out for the provider's default)",
    "bool": "true or false",
    "int": "an integer",
    "strings": 'a list of strings, e.g. ["123456789012"]',
    "objects": "a list of mappings, as the AWS provider documents the key",
    "object": "a mapping, as the AWS provider documents the key",
}


def _provider_value_ok(kind: str, value: Any) -> bool:
    """Does a config value hold the kind the provider reads for its key? Values arrive as config
    strings (structured ones JSON-encoded) or, from tests and tools, natively."""
    if kind == "str":
        return isinstance(value, str) and bool(value.strip())
    if kind == "bool":
        return isinstance(value, bool) or value in ("true", "True", "false", "False")
    if kind == "int":
        return (isinstance(value, int) and not isinstance(value, bool)) \
            or (isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value) is not None)
    decoded = value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            return False
    if kind == "object":
        return isinstance(decoded, dict)
    item = str if kind == "strings" else dict
    return isinstance(decoded, list) and all(isinstance(v, item) for v in decoded)


def _suggestion(key: str) -> str:
    """The nearest known key, compared whole and by the part after the namespace, so both
    `celestial:canaryWeight` and a bare `canaryWeight` lead to `celestials:canaryWeight`."""
    known = known_keys()
    by_name = {k.split(":", 1)[1]: k for k in known}
    name_match = closest(key.rsplit(":", 1)[-1], by_name)
    return did_you_mean(closest(key, known) or (by_name[name_match] if name_match else None))


def check_keys(config: Mapping[str, Any], secret_keys: Collection[str] = ()) -> None:
    """Refuse any key that is neither ours nor a known provider key (values shown redacted when
    secret). Our own keys' names and values are `parse_settings`' job."""
    for key, value in sorted(config.items()):
        shown = SECRET if key in secret_keys or (isinstance(value, dict) and "secure" in value) else value
        namespace, sep, name = key.partition(":")
        if not sep:
            raise SettingsError(key, shown, f"a stack config key needs its namespace{_suggestion(key)}",
                                written=key)
        if namespace == PROJECT:
            continue
        if namespace in PROVIDER_KEYS:
            if name not in PROVIDER_KEYS[namespace]:
                raise SettingsError(key, shown, f"not a config key of the {namespace} provider{_suggestion(key)}; "
                                    f"known: {', '.join(PROVIDER_KEYS[namespace])}")
            kind = aws_value_kinds().get(name) if namespace == "aws" else None
            if kind and name != "region" and not _provider_value_ok(kind, value):
                raise SettingsError(key, shown, f"{_KIND_ALLOWED[kind]}: the AWS provider would refuse it at preview")
            continue
        raise SettingsError(key, shown, f"unknown namespace {namespace!r}{_suggestion(key)}; "
                            f"namespaces: {', '.join([PROJECT, *PROVIDER_KEYS])}")


def settings_from_config(config: Mapping[str, Any], stack: str, secret_keys: Collection[str] = ()) -> Settings:
    """A whole stack config (fully qualified keys, as Pulumi holds it) → typed settings."""
    check_keys(config, secret_keys)
    for key, why in REQUIRED_KEYS.items():
        if key not in config:
            raise MissingConfigError(key, why)
    ours = {k: v for k, v in config.items() if k.startswith(PROJECT + ":")}
    try:
        return parse_settings(ours, stack, region=config.get("aws:region"))
    except SettingsError as err:
        key = err.key if ":" in err.key else f"{PROJECT}:{err.key}"
        if key not in secret_keys:
            raise
        raise SettingsError(err.key, SECRET, _redacted(err.allowed, config[key])) from None


def _redacted(text: str, secret: Any) -> str:
    """`text` without the secret value or any item of it (a JSON-encoded list's entries)."""
    parts = {str(secret)}
    if isinstance(secret, str):
        try:
            decoded = json.loads(secret)
        except json.JSONDecodeError:
            decoded = None
        if isinstance(decoded, list):
            parts |= {str(item) for item in decoded}
    for part in sorted((p for p in parts if p), key=len, reverse=True):
        text = text.replace(part, SECRET)
    return text
