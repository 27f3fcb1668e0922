"""Whether the Helm values the program sets are keys a chart has (Helm silently ignores a
misspelled one, so the setting would quietly do nothing)."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

#: Values that are Kubernetes label maps a chart copies whole into its pod specs (`nodeSelector`):
#: their keys are node labels, not chart keys, so only the value's own key must exist in the chart.
LABEL_MAPS = ("nodeSelector",)


def key_paths(values: Mapping[str, Any], prefix: tuple = (), free_form: tuple[str, ...] = ()) -> Iterator[tuple]:
    """Every key path of `values`; below a key named in `free_form` (a map the chart passes on
    whole, e.g. istiod's `env`) nothing more is listed."""
    for key, value in values.items():
        yield prefix + (key,)
        if isinstance(value, dict) and value and key not in free_form:
            yield from key_paths(value, prefix + (key,), free_form)


def unknown_keys(values: Mapping[str, Any], defaults: Mapping[str, Any], free_form: tuple[str, ...] = ()) -> list[tuple]:
    """The key paths of `values` that the chart's `defaults` do not have."""
    def has(path: tuple) -> bool:
        node: Any = defaults
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return False
            node = node[key]
        return True

    return [p for p in key_paths(values, free_form=free_form) if not has(p)]
