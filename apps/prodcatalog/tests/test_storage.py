"""Both product stores behave the same, survive restarts and are shared between app instances."""

from __future__ import annotations

import multiprocessing

import boto3
import pytest
from moto import mock_aws

from prodcatalog import ConfigError, create_app
from prodcatalog.storage import ProductStore, StoreUnavailable
from prodcatalog.storage.dynamodb import DynamoDbProductStore
from prodcatalog.storage.sqlite import SqliteProductStore

TABLE = "prodcatalog-products"
REGION = "us-west-2"
#: The key schema the Pulumi table must declare (reported to the lead).
KEY_SCHEMA = [{"AttributeName": "id", "KeyType": "HASH"}]
ATTRIBUTES = [{"AttributeName": "id", "AttributeType": "N"}]


@pytest.fixture
def aws(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def table(aws):
    aws.create_table(TableName=TABLE, KeySchema=KEY_SCHEMA, AttributeDefinitions=ATTRIBUTES,
                     BillingMode="PAY_PER_REQUEST")
    return TABLE


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request, tmp_path) -> ProductStore:
    if request.param == "sqlite":
        return SqliteProductStore(str(tmp_path / "products.db"))
    request.getfixturevalue("table")
    return DynamoDbProductStore(TABLE, REGION)


def test_store_contract(store):
    assert isinstance(store, ProductStore)
    assert store.list() == {} and store.get(1) is None
    assert store.put(10, "Chair") is True
    assert store.put(2, "Lamp") is True
    store.put(2**53 - 1, "Édition limitée 🚀")
    assert store.get(2) == "Lamp" and store.get(3) is None
    assert store.list() == {2: "Lamp", 10: "Chair", 2**53 - 1: "Édition limitée 🚀"}
    assert list(store.list()) == [2, 10, 2**53 - 1]
    assert store.put(2, "Desk lamp") is False, "an existing id is replaced, not created"
    assert store.get(2) == "Desk lamp" and len(store.list()) == 3
    store.close()


def test_dynamodb_items_use_the_agreed_key_schema(table, aws):
    DynamoDbProductStore(TABLE, REGION).put(42, "Answer")
    item = aws.get_item(TableName=TABLE, Key={"id": {"N": "42"}})["Item"]
    assert item == {"id": {"N": "42"}, "name": {"S": "Answer"}}


def test_dynamodb_missing_table_is_store_unavailable(aws):
    store = DynamoDbProductStore("no-such-table", REGION)
    with pytest.raises(StoreUnavailable, match="ResourceNotFoundException"):
        store.list()
    with pytest.raises(StoreUnavailable):
        store.put(1, "x")


def test_api_on_dynamodb_two_instances_share_products(table, make_app):
    first = make_app(STORAGE_BACKEND="dynamodb", DYNAMODB_TABLE=TABLE, AWS_REGION=REGION).test_client()
    second = make_app(STORAGE_BACKEND="dynamodb", DYNAMODB_TABLE=TABLE, AWS_REGION=REGION).test_client()
    assert first.post("/products/1", json={"name": "Table"}).status_code == 200
    assert second.get("/products/").get_json()["products"] == {"1": "Table"}
    assert second.get("/products/1").get_json()["product"] == {"id": 1, "name": "Table"}


def test_api_answers_503_json_when_dynamodb_fails(aws, make_app):
    client = make_app(STORAGE_BACKEND="dynamodb", DYNAMODB_TABLE="missing", AWS_REGION=REGION).test_client()
    for response in (client.get("/products/"), client.get("/products/1"),
                     client.post("/products/1", json={"name": "x"})):
        assert response.status_code == 503
        assert response.get_json() == {"error": "product store unavailable, try again later"}


def test_sqlite_survives_a_restart_and_is_shared(make_app, tmp_path):
    first = make_app()
    first.test_client().post("/products/1", json={"name": "Table"})
    second = make_app()  # another instance on the same file, e.g. another gunicorn worker
    second.test_client().post("/products/2", json={"name": "Chair"})
    assert first.test_client().get("/products/").get_json()["products"] == {"1": "Table", "2": "Chair"}
    del first, second
    restarted = make_app()
    assert restarted.test_client().get("/products/").get_json()["products"] == {"1": "Table", "2": "Chair"}
    assert (tmp_path / "products.db").exists()


def _write_many(path: str, start: int, count: int) -> None:
    store = SqliteProductStore(path)
    for pid in range(start, start + count):
        store.put(pid, f"product {pid}")


def test_sqlite_concurrent_writers_in_processes_lose_nothing(tmp_path):
    path = str(tmp_path / "products.db")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(path, n * 100, 40)) for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert len(SqliteProductStore(path).list()) == 120


def test_sqlite_file_is_in_wal_mode(tmp_path):
    import sqlite3

    SqliteProductStore(str(tmp_path / "p.db"))
    with sqlite3.connect(tmp_path / "p.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_corrupt_file_answers_503(make_app, tmp_path):
    client = make_app().test_client()
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"products.db{suffix}").unlink(missing_ok=True)
    (tmp_path / "products.db").write_bytes(b"this is not a database" * 100)
    response = client.get("/products/")
    assert response.status_code == 503 and response.is_json


def test_sqlite_path_in_missing_directory_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="SQLITE_PATH"):
        create_app({"SQLITE_PATH": str(tmp_path / "missing" / "p.db"), "OTEL_TRACES_EXPORTER": "none"})
