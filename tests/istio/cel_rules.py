"""The CRDs' CEL rules (`x-kubernetes-validations`), evaluated on rendered objects as the API server
does on create: after the schema's defaults are applied, every rule of the served version's schema
at every level where the object has a value, with `self` bound to that value typed by its schema
(integer → int, number → double, objects → maps with CEL-escaped property names). Transition rules
(those that read `oldSelf`) only run on updates, so they are skipped, as on a create.

The evaluator is cel-python (`celpy`), with the Kubernetes CEL libraries the rules use that CEL
itself lacks: the string extension (`substring`, `split`, `indexOf`, `lastIndexOf`, `lowerAscii`,
`upperAscii`, `replace`, `trim`, `join`), URLs (`isURL`, `url` and its getters, as
k8s.io/apiserver/pkg/cel/library/urls.go: a request URI, absolute or an absolute path) and IPs
(`isIP`, `ip`). A rule that does not evaluate to a bool (an unknown function, a type mismatch)
is a problem, never a pass.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

import yaml

import celpy
from celpy import celtypes as ct

Obj = dict[str, Any]

#: apiserver/pkg/cel/escaping.go: property names CEL cannot spell are escaped.
_RESERVED = {"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if",
             "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"}


def escape(name: str) -> str:
    if name in _RESERVED:
        return f"__{name}__"
    return (name.replace("__", "__underscores__").replace(".", "__dot__").replace("-", "__dash__")
            .replace("/", "__slash__"))


# --- Kubernetes CEL libraries --------------------------------------------------------------------
def _s(value: Any) -> str:
    return str(value)


def _request_uri(value: str) -> Any:
    """Go's url.ParseRequestURI, to the extent the rules need: an absolute URI or an absolute path."""
    if value.startswith("/"):
        return urlsplit(value)
    parts = urlsplit(value)
    if not parts.scheme or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme):
        raise ValueError(f"parse {value!r}: invalid URI for request")
    if any(c in value for c in " \t\n"):
        raise ValueError(f"parse {value!r}: invalid character in URL")
    return parts


def _is_url(value: Any) -> ct.BoolType:
    try:
        _request_uri(_s(value))
    except ValueError:
        return ct.BoolType(False)
    return ct.BoolType(True)


class UrlType(ct.StringType):
    """The value of `url(string)`: its getters are the functions below."""


def _url(value: Any) -> UrlType:
    _request_uri(_s(value))  # a parse error is an evaluation error, as in Kubernetes
    return UrlType(_s(value))


def _get(part: str):
    def getter(u: Any) -> ct.StringType:
        parts = urlsplit(_s(u))
        out = {"scheme": parts.scheme, "host": parts.netloc.rsplit("@", 1)[-1], "hostname": parts.hostname or "",
               "port": str(parts.port or "") if parts.netloc else "", "path": parts.path, "query": parts.query}
        return ct.StringType(out[part])
    return getter


def _is_ip(value: Any) -> ct.BoolType:
    text = _s(value)
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return ct.BoolType(False)
    return ct.BoolType("%" not in text)


def _substring(s: Any, start: Any, end: Any = None) -> ct.StringType:
    text = _s(s)
    a, b = int(start), len(text) if end is None else int(end)
    if not 0 <= a <= b <= len(text):
        raise ValueError(f"substring({a}, {b}) out of range for a string of {len(text)}")
    return ct.StringType(text[a:b])


def _split(s: Any, sep: Any, limit: Any = None) -> ct.ListType:
    text, separator = _s(s), _s(sep)
    n = -1 if limit is None else int(limit)
    if n == 0:
        return ct.ListType([])
    parts = text.split(separator, n - 1) if n > 0 else text.split(separator)
    return ct.ListType([ct.StringType(p) for p in parts])


FUNCTIONS = {
    "isURL": _is_url, "url": _url, "getScheme": _get("scheme"), "getHost": _get("host"),
    "getHostname": _get("hostname"), "getPort": _get("port"), "getEscapedPath": _get("path"),
    "getQuery": _get("query"), "isIP": _is_ip,
    "substring": _substring, "split": _split,
    "indexOf": lambda s, sub: ct.IntType(_s(s).find(_s(sub))),
    "lastIndexOf": lambda s, sub: ct.IntType(_s(s).rfind(_s(sub))),
    "lowerAscii": lambda s: ct.StringType(_s(s).lower()), "upperAscii": lambda s: ct.StringType(_s(s).upper()),
    "replace": lambda s, old, new: ct.StringType(_s(s).replace(_s(old), _s(new))),
    "trim": lambda s: ct.StringType(_s(s).strip()),
    "join": lambda items, sep="": ct.StringType(_s(sep).join(_s(i) for i in items)),
}

_ENV = celpy.Environment()


@lru_cache(maxsize=None)
def _program(rule: str) -> Any:
    return _ENV.program(_ENV.compile(rule), functions=FUNCTIONS)


# --- typing values by their schema ---------------------------------------------------------------
def to_cel(value: Any, schema: Obj) -> Any:
    """The CEL value of `value` where `schema` describes it (Kubernetes' typing of CRD values)."""
    if value is None:
        return None
    if schema.get("x-kubernetes-int-or-string"):
        return ct.IntType(value) if isinstance(value, int) else ct.StringType(value)
    kind = schema.get("type")
    if kind == "object" or (kind is None and isinstance(value, dict)):
        props = schema.get("properties")
        if props is not None:
            return ct.MapType({ct.StringType(escape(k)): to_cel(v, props.get(k, {})) for k, v in value.items()})
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return ct.MapType({ct.StringType(k): to_cel(v, extra) for k, v in value.items()})
        return celpy.json_to_cel(value)
    if kind == "array":
        return ct.ListType([to_cel(v, schema.get("items", {})) for v in value])
    if kind == "integer":
        return ct.IntType(value)
    if kind == "number":
        return ct.DoubleType(value)
    if kind == "boolean":
        return ct.BoolType(value)
    if kind == "string":
        return ct.StringType(value)
    return celpy.json_to_cel(value)


def with_defaults(value: Any, schema: Obj) -> Any:
    """Structural defaulting (apiextensions): a missing property with a `default` gets it, in every
    object that is present; applied before validation, as the API server does."""
    if isinstance(value, dict):
        props = schema.get("properties")
        if props is not None:
            for k, sub in props.items():
                if k not in value and "default" in sub:
                    value[k] = copy.deepcopy(sub["default"])
            for k, v in value.items():
                if k in props:
                    value[k] = with_defaults(v, props[k])
        elif isinstance(schema.get("additionalProperties"), dict):
            for k, v in value.items():
                value[k] = with_defaults(v, schema["additionalProperties"])
    elif isinstance(value, list) and "items" in schema:
        return [with_defaults(v, schema["items"]) for v in value]
    return value


# --- rules ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    rule: str
    message: str
    path: str

    @property
    def transition(self) -> bool:
        return re.search(r"\boldSelf\b", self.rule) is not None


def load_schemas(*paths: Path) -> dict[tuple[str, str], Obj]:
    """(apiVersion, kind) → openAPIV3Schema, for every served version of every CRD."""
    out = {}
    for path in paths:
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            for version in doc["spec"]["versions"]:
                if version.get("served"):
                    out[(f"{doc['spec']['group']}/{version['name']}", doc["spec"]["names"]["kind"])] = \
                        version["schema"]["openAPIV3Schema"]
    return out


def rules_of(schema: Obj, path: str = "") -> list[Rule]:
    """Every rule of a schema, with the path of the node it sits on (`[]` an item, `{}` a map value)."""
    out = [Rule(r["rule"], r.get("message") or f"failed rule: {r['rule']}", path)
           for r in schema.get("x-kubernetes-validations", [])]
    for k, sub in (schema.get("properties") or {}).items():
        out += rules_of(sub, f"{path}.{k}")
    if isinstance(schema.get("items"), dict):
        out += rules_of(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        out += rules_of(schema["additionalProperties"], path + "{}")
    return out


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    where: str
    ok: bool
    detail: str = ""


def evaluate(value: Any, schema: Obj, where: str = "") -> list[Outcome]:
    """Every non-transition rule on every node of `value` (defaults already applied)."""
    out = []
    rules = [Rule(r["rule"], r.get("message") or f"failed rule: {r['rule']}", where)
             for r in schema.get("x-kubernetes-validations", [])]
    active = [r for r in rules if not r.transition]
    activation = {"self": to_cel(value, schema)} if active else {}
    for rule in active:
        try:
            result = _program(rule.rule).evaluate(activation)
        except Exception as e:  # noqa: BLE001 - any failure to evaluate is reported, never passed
            # the API server refuses the object then too, naming the rule
            out.append(Outcome(rule, where, False,
                               f"{rule.message} (does not evaluate: {type(e).__name__}: {str(e)[:300]})"))
            continue
        if not isinstance(result, ct.BoolType):
            out.append(Outcome(rule, where, False, f"{rule.message} (does not evaluate to a bool: {str(result)[:300]})"))
        else:
            out.append(Outcome(rule, where, bool(result)))
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for k, v in value.items():
            if props is not None and k in props:
                out += evaluate(v, props[k], f"{where}.{k}")
            elif isinstance(extra, dict):
                out += evaluate(v, extra, f"{where}[{k!r}]")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            out += evaluate(v, schema["items"], f"{where}[{i}]")
    return out


def _label(obj: Obj) -> str:
    return f"{obj['kind']} {obj['metadata'].get('namespace')}/{obj['metadata']['name']}"


def object_outcomes(obj: Obj, schemas: dict[tuple[str, str], Obj]) -> list[Outcome]:
    schema = schemas[(obj["apiVersion"], obj["kind"])]
    return evaluate(with_defaults(copy.deepcopy(obj), schema), schema)


def cel_problems(objects: Iterable[Obj], schemas: dict[tuple[str, str], Obj], groups: tuple[str, ...]) -> list[str]:
    """Every CEL rule the API server would refuse (or could not evaluate) on the objects of
    `groups`, as `Kind ns/name: <where>: <message>`; an object of those groups without a served
    CRD is a problem too."""
    problems = []
    for obj in objects:
        if obj.get("apiVersion", "").split("/")[0] not in groups:
            continue
        if (obj["apiVersion"], obj["kind"]) not in schemas:
            problems.append(f"{_label(obj)}: no served CRD for {obj['apiVersion']}")
            continue
        for o in object_outcomes(obj, schemas):
            if not o.ok:
                problems.append(f"{_label(obj)}: {o.where or '<root>'}: {o.detail or o.rule.message}")
    return problems
