"""A bad environment variable stops the app at start-up with a message naming it."""

from __future__ import annotations

import pytest

from prodcatalog import ConfigError
from prodcatalog.settings import Settings


def test_defaults():
    settings = Settings.from_env({})
    assert settings == Settings(agg_app_url="http://localhost:3000/catalogDetail", proxy_timeout_seconds=2.0,
                                storage_backend="sqlite", sqlite_path="products.db")


def test_values_are_read_and_trimmed():
    settings = Settings.from_env({"AGG_APP_URL": " http://proddetail:3000/catalogDetail ",
                                  "PROXY_TIMEOUT_SECONDS": "0.75", "STORAGE_BACKEND": "DynamoDB",
                                  "DYNAMODB_TABLE": "products", "AWS_REGION": "eu-west-1",
                                  "SQLITE_PATH": "/data/products.db"})
    assert settings.agg_app_url == "http://proddetail:3000/catalogDetail"
    assert settings.proxy_timeout_seconds == 0.75
    assert (settings.storage_backend, settings.dynamodb_table, settings.aws_region) == (
        "dynamodb", "products", "eu-west-1")


def test_aws_default_region_is_a_fallback():
    settings = Settings.from_env({"STORAGE_BACKEND": "dynamodb", "DYNAMODB_TABLE": "t",
                                  "AWS_DEFAULT_REGION": "us-east-2"})
    assert settings.aws_region == "us-east-2"


@pytest.mark.parametrize("env, variable", [
    ({"PROXY_TIMEOUT_SECONDS": "0"}, "PROXY_TIMEOUT_SECONDS"),
    ({"PROXY_TIMEOUT_SECONDS": "-1"}, "PROXY_TIMEOUT_SECONDS"),
    ({"PROXY_TIMEOUT_SECONDS": "soon"}, "PROXY_TIMEOUT_SECONDS"),
    ({"PROXY_TIMEOUT_SECONDS": "nan"}, "PROXY_TIMEOUT_SECONDS"),
    ({"PROXY_TIMEOUT_SECONDS": "61"}, "PROXY_TIMEOUT_SECONDS"),
    ({"STORAGE_BACKEND": "redis"}, "STORAGE_BACKEND"),
    ({"STORAGE_BACKEND": "dynamodb", "AWS_REGION": "us-west-2"}, "DYNAMODB_TABLE"),
    ({"STORAGE_BACKEND": "dynamodb", "DYNAMODB_TABLE": "t"}, "AWS_REGION"),
    ({"AGG_APP_URL": "proddetail:3000/catalogDetail"}, "AGG_APP_URL"),
])
def test_bad_values_name_the_variable(env, variable):
    with pytest.raises(ConfigError, match=f"invalid environment variable {variable}="):
        Settings.from_env(env)
