"""What a rule sees of a resource: its type, name, URN and inputs, the same whether the inputs come
from Pulumi's policy engine or from the offline synth.

Whether a stack is production is read from its resources' tags (celestials.stacks.PRODUCTION_TAG,
which the program puts on every AWS resource from `celestials:production`): the policy engine
hands a policy the resources' inputs and nothing of the program's config, and a stack's name says
nothing about it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from celestials.stacks import PRODUCTION_TAG, PRODUCTION_TAG_VALUES

#: How a secret input is represented where its secretness is known (the offline synth): the value
#: never leaves Pulumi's secret wrapper, so a rule sees this marker instead.
SECRET = "[secret]"


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    props: Mapping[str, Any]

    @property
    def production(self) -> bool | None:
        """What the resource's production tag says: True, False, or None (no such tag, or a value
        other than "true" and "false")."""
        value = get(self.props, "tags", PRODUCTION_TAG)
        return next((flag for flag, text in PRODUCTION_TAG_VALUES.items() if value == text), None)

    @property
    def is_prod(self) -> bool:
        return self.production is True

    @property
    def label(self) -> str:
        """How a message names the resource: its type and name, and the Kubernetes object it is."""
        meta = self.props.get("metadata") if isinstance(self.props.get("metadata"), Mapping) else None
        if meta and meta.get("name"):
            where = f"{meta.get('namespace')}/{meta['name']}" if meta.get("namespace") else meta["name"]
            return f"{self.type} {self.name} ({self.props.get('kind')} {where})"
        return f"{self.type} {self.name}"


@dataclass(frozen=True)
class Violation:
    rule: str
    urn: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


def get(value: Any, *path: str | int, default: Any = None) -> Any:
    """`value[path[0]][path[1]]...`, or `default` where any step is missing."""
    for step in path:
        if isinstance(step, int):
            if not is_list(value) or step >= len(value):
                return default
        elif not isinstance(value, Mapping) or step not in value:
            return default
        value = value[step]
    return value


def is_list(value: Any) -> bool:
    """A list, or the policy engine's read-only proxy of one (never a string)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if is_list(value) else [value]


def json_document(value: Any) -> Mapping[str, Any] | None:
    """An IAM policy document given as a JSON string (how the AWS provider takes it) or a dict;
    None when it is not known yet (preview) or not JSON."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        try:
            doc = json.loads(value)
        except ValueError:
            return None
        return doc if isinstance(doc, Mapping) else None
    return None


def stack_is_production(resources: Sequence[Resource]) -> bool:
    """A stack is production when one of its resources says so (the rule `stack-states-production`
    refuses a stack whose resources disagree, or where none says either way)."""
    return any(r.is_prod for r in resources)


def statements(document: Mapping[str, Any] | None) -> Iterator[Mapping[str, Any]]:
    for statement in as_list(get(document, "Statement")):
        if isinstance(statement, Mapping):
            yield statement
