"""DynamoDB product store: for several pods (or nodes) sharing one catalog.

Table layout (the Pulumi table must match): partition key `id`, attribute type N (Number), no sort
key; each item also holds `name` (S). Reads are strongly consistent so a product is visible to
every replica as soon as its POST returned.
"""

from __future__ import annotations

import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .base import StoreUnavailable

log = logging.getLogger(__name__)

#: Bounded so a DynamoDB outage answers 503 within seconds instead of holding a worker.
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})


class DynamoDbProductStore:
    """Products in a DynamoDB table (DYNAMODB_TABLE in AWS_REGION); credentials come from boto3's chain (IRSA in EKS)."""

    def __init__(self, table: str, region: str, client: Any | None = None):
        self.table = table
        # AWS_ENDPOINT_URL_DYNAMODB (botocore) points this at DynamoDB Local when set.
        self._client = client or boto3.client("dynamodb", region_name=region, config=CLIENT_CONFIG)

    def _fail(self, action: str, exc: Exception) -> StoreUnavailable:
        if isinstance(exc, ClientError):
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            return StoreUnavailable(f"dynamodb {action} on table {self.table!r} failed: {code}")
        return StoreUnavailable(f"dynamodb {action} on table {self.table!r} failed: {type(exc).__name__}")

    def list(self) -> dict[int, str]:
        products: dict[int, str] = {}
        try:
            pages = self._client.get_paginator("scan").paginate(
                TableName=self.table, ConsistentRead=True,
                ProjectionExpression="#id, #name",  # `name` is a DynamoDB reserved word
                ExpressionAttributeNames={"#id": "id", "#name": "name"},
            )
            for page in pages:
                for item in page.get("Items", []):
                    try:
                        products[int(item["id"]["N"])] = item["name"]["S"]
                    except (KeyError, ValueError):
                        log.warning("skipping malformed item in %s: %r", self.table, item)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("scan", exc) from exc
        return dict(sorted(products.items()))

    def get(self, product_id: int) -> str | None:
        try:
            item = self._client.get_item(
                TableName=self.table, Key={"id": {"N": str(product_id)}}, ConsistentRead=True,
            ).get("Item")
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("get_item", exc) from exc
        if item is None or "S" not in item.get("name", {}):
            return None
        return item["name"]["S"]

    def put(self, product_id: int, name: str) -> bool:
        try:
            answer = self._client.put_item(
                TableName=self.table, Item={"id": {"N": str(product_id)}, "name": {"S": name}},
                ReturnValues="ALL_OLD",  # the replaced item, if there was one
            )
            return "Attributes" not in answer
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("put_item", exc) from exc

    def close(self) -> None:
        self._client.close()
