"""The one interface the API uses for products, so SQLite and DynamoDB are interchangeable."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class StoreUnavailable(RuntimeError):
    """The backing store could not answer; the API turns it into a 503 JSON error, not a crash."""


@runtime_checkable
class ProductStore(Protocol):
    """Products are `id → name`; `put` overwrites like the original in-memory dict did."""

    def list(self) -> dict[int, str]:
        """Every product, ordered by id."""
        ...

    def get(self, product_id: int) -> str | None:
        """The product's name, or None when the id is unknown."""
        ...

    def put(self, product_id: int, name: str) -> bool:
        """Create or replace a product; durable once it returns. True when it created the product,
        False when it replaced the name of an existing one (the API says which)."""
        ...

    def close(self) -> None:
        """Release clients and connections."""
        ...
