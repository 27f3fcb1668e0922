"""Pick the product store named by STORAGE_BACKEND."""

from __future__ import annotations

from ..settings import Settings
from .base import ProductStore, StoreUnavailable

__all__ = ["ProductStore", "StoreUnavailable", "open_store"]


def open_store(settings: Settings) -> ProductStore:
    """SQLite unless STORAGE_BACKEND=dynamodb; boto3 is only imported when it is used."""
    if settings.storage_backend == "dynamodb":
        from .dynamodb import DynamoDbProductStore

        assert settings.dynamodb_table and settings.aws_region  # checked by Settings.from_env
        return DynamoDbProductStore(settings.dynamodb_table, settings.aws_region)
    from .sqlite import SqliteProductStore

    return SqliteProductStore(settings.sqlite_path)
