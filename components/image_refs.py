"""Image references per image key, from however the images component hands them over.

Why shared: every mesh backend places image references into Deployments; per-key Outputs mean a
rebuilt image leaves the other workloads' references known in a preview.
"""

from __future__ import annotations

from typing import Mapping

import pulumi


def image_refs_by_key(refs: Mapping[str, pulumi.Input[str]] | pulumi.Output[Mapping[str, str]],
                      keys: set[str]) -> dict[str, pulumi.Input[str]]:
    """Image key → reference, from a mapping or from one Output of the whole mapping (as
    `components.images.Images.refs` is)."""
    if isinstance(refs, pulumi.Output):
        return {key: refs.apply(lambda all_refs, k=key: _lookup(all_refs, k)) for key in sorted(keys)}  # type: ignore[misc]  # python/mypy#15459: a lambda with a default argument
    missing = sorted(keys - set(refs))
    if missing:
        raise ValueError(f"no image reference for {', '.join(missing)} (given: {', '.join(sorted(refs))})")
    return dict(refs)


def _lookup(refs: Mapping[str, str], key: str) -> str:
    if key not in refs:
        raise ValueError(f"no image reference for {key} (given: {', '.join(sorted(refs))})")
    return refs[key]
