"""The rehearsal refuses to start a Node app whose own or linked local packages are not installed."""

import json

from celestials.local.rehearsal import _node_package_dirs


def test_local_file_dependencies_are_checked_too(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"dependencies": {
        "express": "^5.1.0", "@celestials/node-common": "file:../node-common"}}))
    assert _node_package_dirs(str(app)) == [str(app), str(tmp_path / "node-common")]


def test_an_app_without_a_manifest_is_only_itself(tmp_path):
    assert _node_package_dirs(str(tmp_path)) == [str(tmp_path)]
