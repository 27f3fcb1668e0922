"""A stack's config as Pulumi hands it to the program, read from Pulumi.<stack>.yaml without the CLI.

Every offline tool (the synth, the cost tool, the local rehearsal) reads the stack file here, so
each sees the config strings the program receives under Pulumi, and the file's mistakes are
refused once, naming the line.

How Pulumi reads the file (pulumi/pulumi, sdk/go/common/workspace/loaders.go
`LoadProjectStackBytes`, sdk/go/common/resource/config/object.go): the YAML is decoded by Go's
gopkg.in/yaml.v3 (YAML 1.2 resolution, not PyYAML's 1.1) into plain values, a key without a
namespace is given the project's (`celestials:`), and each value becomes a string: a string as
is, a number or boolean JSON-encoded, a list or mapping JSON-encoded, `{secure: ...}` a secret.
So `no`, `yes` and `off` stay the strings they are (only `true`/`false` are booleans), `010` is the
octal 8, `0x32` is 50, `1.30` is the float 1.3 and reaches the program as "1.3", and a quoted
value is always the text inside the quotes. PyYAML parses the file (`compose`: nodes with their
source text and style) and this module applies yaml.v3's resolution to each plain scalar.

The file's own structure is checked too, which Pulumi does not do (its decoder drops unknown
fields): a top-level key must be one of `ProjectStack`'s fields (project.go), so a misspelt
`confg:` or a config key written beside `config:` instead of under it is refused, not ignored.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..settings import PROJECT, Settings, SettingsError, closest, did_you_mean
from ..stack_config import SECRET, settings_from_config

#: The fields of Pulumi's `ProjectStack` (sdk/go/common/workspace/project.go): every top-level
#: key a stack file may have. The first three hold strings.
TOP_LEVEL_KEYS = ("secretsprovider", "encryptedkey", "encryptionsalt", "config", "environment")
_STRING_FIELDS = ("secretsprovider", "encryptedkey", "encryptionsalt")
#: the secrets providers Pulumi knows (pulumi/pulumi pkg/secrets: `default` is Pulumi Cloud's,
#: `passphrase`, and the cloud KMS schemes of gocloud.dev/secrets, given as URLs)
SECRETS_PROVIDERS = ("default", "passphrase")
SECRETS_PROVIDER_SCHEMES = ("awskms://", "azurekeyvault://", "gcpkms://", "hashivault://")
#: What an offline tool hands the program for a `secure:` value (there is no passphrase to decrypt it).
SECRET_PLACEHOLDER = "synth-placeholder-secret"

_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN = "!plain"


class StackFileError(ValueError):
    """A stack file that is missing or not shaped like a Pulumi stack file."""


@dataclass(frozen=True)
class StackFile:
    """A stack file as Pulumi reads it: each config key (namespaced) → the string the program gets."""

    name: str
    config: dict[str, str]
    #: keys whose value is (or holds) a `secure:` value
    secret_keys: frozenset[str] = frozenset()
    #: key → (line, the value's source text when it is a plain or quoted scalar)
    written: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    #: the line of a non-empty `environment:` (Pulumi ESC environments it imports), else None
    environment_line: int | None = None


class _Secure:
    """A `{secure: <ciphertext>}` value; its ciphertext is never kept."""


class _Loader(yaml.SafeLoader):
    """PyYAML's parser without its YAML 1.1 resolution: a plain scalar keeps the tag `!plain`, so
    it is resolved below the way yaml.v3 resolves it."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN
        return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]


def stack_file(project_root: str | Path, stack: str) -> Path:
    return Path(project_root) / f"Pulumi.{stack}.yaml"


def check_stack_file(project_root: str | Path, stack: str) -> StackFile | None:
    """For the program under Pulumi, whose own reading of the file drops what it does not know:
    the stack file's structure refused as the offline tools refuse it (`StackFileError`, naming
    the line), or the file as read; None when the stack has no file there, so nothing to check (its
    config lives in the service, or the CLI was pointed at another file with `--config-file`,
    which Pulumi does not tell the program)."""
    path = stack_file(project_root, stack)
    if not path.is_file():
        return None
    return parse_stack_file(path.read_text(encoding="utf-8-sig"), path.name)


def read_stack_config(project_root: str | Path, stack: str) -> dict[str, str]:
    """The stack file's config, keys namespaced and values the strings Pulumi hands the program."""
    return dict(read_stack_file(project_root, stack).config)


def read_stack_file(project_root: str | Path, stack: str) -> StackFile:
    """The stack file as the offline tools read it: what `check_stack_file` reads, refusing a file
    whose config they cannot see whole."""
    stack_doc = check_stack_file(project_root, stack)
    if stack_doc is None:
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in Path(project_root).glob("Pulumi.*.yaml"))
        raise StackFileError(f"no stack file {stack_file(project_root, stack).name} for STACK={stack}; stacks "
                             f"with a file: {', '.join(known) or 'none'}")
    if stack_doc.environment_line is not None:
        # Under Pulumi, an imported ESC environment adds config values this reader cannot see:
        # evaluating without them would show a stack that is not the one `pulumi up` deploys.
        raise StackFileError(f"{stack_doc.name} line {stack_doc.environment_line}: `environment:` imports Pulumi ESC "
                             "environments, whose config values only the Pulumi CLI can read; the offline tools would "
                             "evaluate the stack without them. Write the values under `config:` (or pass them as "
                             "SET=\"key=value ...\") and drop `environment:` to use the offline tools")
    return stack_doc


def parse_stack_file(text: str, name: str) -> StackFile:
    """A stack file's text → its config as Pulumi reads it; a structural mistake is refused
    naming its line."""
    try:
        doc = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise StackFileError(f"{name} is not valid YAML: {err}") from None
    if doc is None or _is_null(doc):
        return StackFile(name, {})
    if not isinstance(doc, yaml.MappingNode):
        raise StackFileError(f"{name}: a stack file is a mapping (secretsprovider:, config:, ...), "
                             f"not a {_kind(doc)} (line {_line(doc)})")
    config_node: yaml.Node | None = None
    environment_line: int | None = None
    for key_node, value_node in _unique_items(doc, name, lambda k: k):
        key, line = _key(key_node, name), _line(key_node)
        if key == "config":
            config_node = value_node
        elif key == "environment":
            environment_line = None if _is_null(value_node) or value_node.value == [] else line
        elif key in _STRING_FIELDS:
            if not isinstance(value_node, yaml.ScalarNode):
                raise StackFileError(f"{name} line {line}: `{key}:` holds a string, not a {_kind(value_node)}")
            provider = str(value_node.value)
            if key == "secretsprovider" and provider not in SECRETS_PROVIDERS \
                    and not provider.startswith(SECRETS_PROVIDER_SCHEMES):
                raise StackFileError(f"{name} line {line}: `secretsprovider: {provider}` is not a secrets provider "
                                     f"Pulumi knows{did_you_mean(closest(provider, SECRETS_PROVIDERS))}; it is one of "
                                     f"{', '.join(SECRETS_PROVIDERS)} or a URL {', '.join(SECRETS_PROVIDER_SCHEMES)}...")
        elif key not in TOP_LEVEL_KEYS:
            if ":" in key:
                why = "a config key, which belongs under `config:` (indented below it)"
            else:
                why = f"not a key of a stack file{did_you_mean(closest(key, TOP_LEVEL_KEYS))}; " \
                      f"its keys are {', '.join(TOP_LEVEL_KEYS)}"
            raise StackFileError(f"{name} line {line}: `{key}` is {why}")
    if config_node is None or _is_null(config_node):
        return StackFile(name, {}, environment_line=environment_line)
    if not isinstance(config_node, yaml.MappingNode):
        raise StackFileError(f"{name} line {_line(config_node)}: `config:` must be a mapping of keys to values, "
                             f"not a {_kind(config_node)}")
    config: dict[str, str] = {}
    secret: set[str] = set()
    written: dict[str, tuple[int, str | None]] = {}
    for key_node, value_node in _unique_items(config_node, name, _namespaced):
        key = _namespaced(_key(key_node, name))
        where = f"{name} line {_line(value_node)}, {key}"
        value = _decode(value_node, where)
        config[key] = SECRET_PLACEHOLDER if isinstance(value, _Secure) else _marshal_string(value, where)
        if _holds_secret(value):
            secret.add(key)
        source = value_node.value if isinstance(value_node, yaml.ScalarNode) else None
        written[key] = (_line(key_node), source)
    return StackFile(name, config, frozenset(secret), written, environment_line)


def _namespaced(key: str) -> str:
    """Pulumi gives a key without a namespace the project's (loaders.go, stackConfigNamespacedWithProject)."""
    return key if ":" in key else f"{PROJECT}:{key}"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    return "list" if isinstance(node, yaml.SequenceNode) else f"value {node.value!r}"


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _PLAIN and _resolve(node.value, "") is None


def _key(node: yaml.Node, name: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise StackFileError(f"{name} line {_line(node)}: a key must be a name, not a {_kind(node)}")
    return str(node.value)


def _unique_items(node: yaml.MappingNode, name: str, same: Any) -> list[tuple[yaml.Node, yaml.Node]]:
    """The mapping's items, refusing a key written twice (yaml.v3 refuses it too; for config keys
    a bare key and its namespaced form are the same key)."""
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        key = same(_key(key_node, name))
        if key in seen:
            raise StackFileError(f"{name}: key {key!r} is written twice (lines {seen[key]} and "
                                 f"{_line(key_node)}); keep one")
        seen[key] = _line(key_node)
    return list(node.value)


def _decode(node: yaml.Node, where: str) -> Any:
    """A node → the value yaml.v3 decodes it to (str, bool, int, float, None, list, dict), with
    a `{secure: <string>}` mapping as `_Secure` (object.go, isSecureValue)."""
    if isinstance(node, yaml.SequenceNode):
        return [_decode(item, where) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        items = {_key(k, where): v for k, v in _unique_items(node, where, lambda k: k)}
        if list(items) == ["secure"] and isinstance(items["secure"], yaml.ScalarNode) \
                and isinstance(_decode(items["secure"], where), str):
            return _Secure()
        return {k: _decode(v, where) for k, v in items.items()}
    if node.tag == _PLAIN:
        return _resolve(node.value, where)
    if node.tag == _STR_TAG:
        return str(node.value)
    raise StackFileError(f"{where}: the YAML tag {node.tag} is not read here; write the value without it "
                         f"(quoted for a string)")


def _holds_secret(value: Any) -> bool:
    if isinstance(value, list):
        return any(_holds_secret(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_secret(v) for v in value.values())
    return isinstance(value, _Secure)


_NULLS = ("", "~", "null", "Null", "NULL")
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_SPECIAL_FLOATS = (".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                   "-.inf", "-.Inf", "-.INF")
#: yaml.v3's yamlStyleFloat
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
#: Go's strconv.ParseInt/ParseUint with base 0: the prefix gives the base, a bare leading 0 is octal
_GO_INT = re.compile(r"([+-]?)(?:0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|0[oO]([0-7]+)|(0[0-7]*)|([1-9][0-9]*))")
_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}")


def _resolve(text: str, where: str) -> Any:
    """A plain scalar's value the way yaml.v3 resolves it (resolve.go, `resolve` with no tag)."""
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if text in _SPECIAL_FLOATS:
        raise StackFileError(f"{where}: {text} is an infinite or NaN float, which Pulumi cannot hand a program")
    hint = text[0]
    if hint == ".":
        if re.fullmatch(r"\.[0-9]+([eE][-+]?[0-9]+)?", text):
            return _finite(float(text), text, where)
        return text
    if hint not in "+-0123456789":
        return text
    date = _DATE.fullmatch(text)
    if date:
        try:
            return datetime.date(*(int(g) for g in date.groups()))
        except ValueError:
            pass
    elif _DATE_TIME.match(text):
        raise StackFileError(f"{where}: {text} is a YAML timestamp, which Pulumi turns into Go's rendering "
                             f"of a time; quote it to keep the text")
    plain = text.replace("_", "")
    number = _GO_INT.fullmatch(plain)
    if number:
        sign, hex_, bin_, oct_, legacy_oct, dec = number.groups()
        digits, base = next((d, b) for d, b in ((hex_, 16), (bin_, 2), (oct_, 8), (legacy_oct, 8), (dec, 10))
                            if d is not None)
        value = int(digits, base) * (-1 if sign == "-" else 1)
        if -2**63 <= value < 2**63 or (not sign and value < 2**64):
            return value
    if _FLOAT.fullmatch(plain):
        return _finite(float(plain), text, where)
    return text


def reads_as_text(text: str) -> bool:
    """Whether `text`, written unquoted as a value, is the string `text` to Pulumi (not a number,
    boolean, null or date): how a document writes a value a user can copy into a stack file."""
    try:
        return bool(_resolve(text, "") == text)
    except StackFileError:
        return False


def _finite(value: float, text: str, where: str) -> float:
    if math.isinf(value):
        raise StackFileError(f"{where}: {text} is too large a number for Pulumi to read")
    return value


def _go_float(value: float) -> str:
    """A float as Go's encoding/json writes it: shortest digits, no exponent from 1e-6 to 1e21."""
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    if 1e-6 <= abs(value) < 1e21:
        text = format(Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    text = repr(value).replace("e-0", "e-")
    return text


def _go_json(value: Any, where: str) -> str:
    """JSON as Go's json.Marshal writes it: compact, map keys sorted, <, > and & escaped."""
    if isinstance(value, _Secure):
        value = SECRET_PLACEHOLDER
    if value is None or isinstance(value, (bool, str)):
        text = json.dumps(value, ensure_ascii=False)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, datetime.date):
        return _go_json(_go_time(value), where)
    if isinstance(value, list):
        return "[" + ",".join(_go_json(v, where) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_go_json(k, where)}:{_go_json(v, where)}" for k, v in sorted(value.items())) + "}"
    raise StackFileError(f"{where}: a value of type {type(value).__name__} is not a config value")


def _go_time(value: datetime.date) -> str:
    """A date-only YAML timestamp as Pulumi stores it: Go's time.Time.String() (object.go)."""
    return f"{value.isoformat()} 00:00:00 +0000 UTC"


def _marshal_string(value: Any, where: str) -> str:
    """The config string the program gets for a decoded value (object.go, MarshalString)."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime.date):
        return _go_time(value)
    return _go_json(value, where)


def config_string(value: object) -> str:
    """A value given on the command line or by a test, as a config string (structured values
    JSON-encoded, as `pulumi config set --path`/`--json` store them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`key=value` strings (a bare key is ours: `celestials:<key>`) → mapping; values stay strings
    so they are checked like CLI config values."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"override {pair!r}: expected key=value, e.g. canaryWeight=100")
        out[_namespaced(key.strip())] = value.strip()
    return out


def qualify(overrides: Mapping[str, object] | None) -> dict[str, str]:
    """Overrides keyed as Pulumi holds them (a bare key becomes `celestials:<key>`), values as
    config strings."""
    return {_namespaced(k): config_string(v) for k, v in (overrides or {}).items()}


def load_settings(project_root: str | Path, stack: str, overrides: Mapping[str, str] | None = None) -> Settings:
    stack_doc = read_stack_file(project_root, stack)
    given = qualify(overrides)
    merged = {**stack_doc.config, **given}
    secret = stack_doc.secret_keys - set(given)
    try:
        return settings_from_config(merged, stack, secret_keys=secret)
    except SettingsError as err:
        raise _as_written(err, stack_doc, set(given)) from None


def _as_written(err: SettingsError, stack_doc: StackFile, overridden: set[str]) -> SettingsError:
    """The error, adding the line of the stack file and the value as written there when Pulumi's
    reading of it differs (`1.30` reaches the program as "1.3")."""
    key = _namespaced(err.key)
    if key in overridden or key not in stack_doc.written or err.value == SECRET:
        return err
    line, source = stack_doc.written[key]
    note = f"{stack_doc.name} line {line}"
    if source is not None and source != stack_doc.config[key] and err.value == stack_doc.config[key]:
        note += f" writes {source}, which Pulumi reads as {stack_doc.config[key]!r} (quote it to keep the text)"
    return SettingsError(err.key, err.value, f"{err.allowed} [{note}]")
