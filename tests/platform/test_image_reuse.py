"""Immutable tags versus rebuilds (issue 13.4): a rebuild of known content never pushes a tag that
already exists — neither after a revert or an interrupted `up`, nor because file modes differ
between machines."""

from __future__ import annotations

import os
from pathlib import Path

import pulumi
import pytest

from celestials import images as registry
from components.images import BUILDS_OUTPUT, Images, ImagesArgs
from synth.harness import evaluate, quiet
from synth.mocks import CelestialsMocks

KEY = "prodcatalog"
DIGEST_IN_ECR = "sha256:" + "e" * 64


# --- the tag covers what makes docker-build rebuild ---------------------------------------------
def _ctx(tmp_path: Path) -> Path:
    ctx = tmp_path / "app"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM scratch\n")
    (ctx / "app.py").write_text("print(1)\n")
    os.chmod(ctx / "app.py", 0o644)
    return ctx


def test_a_mode_docker_build_sees_changes_the_tag(tmp_path):
    """docker-build hashes Go's FileMode.String(); a checkout with group-write (umask 002) or
    without the exec bit (core.fileMode false) makes it rebuild, so the tag must differ too."""
    ctx = _ctx(tmp_path)
    first = registry.context_digest(ctx)
    os.chmod(ctx / "app.py", 0o664)
    assert registry.context_digest(ctx) != first
    os.chmod(ctx / "app.py", 0o644)
    assert registry.context_digest(ctx) == first


def test_a_symlinks_target_content_counts(tmp_path):
    ctx = _ctx(tmp_path)
    (tmp_path / "outside.txt").write_text("a")
    (ctx / "link.txt").symlink_to(tmp_path / "outside.txt")
    first = registry.context_digest(ctx)
    (tmp_path / "outside.txt").write_text("b")  # docker-build reads through the link
    assert registry.context_digest(ctx) != first


def test_go_file_mode_strings():
    assert registry.go_file_mode(0o100644) == "-rw-r--r--"
    assert registry.go_file_mode(0o100775) == "-rwxrwxr-x"
    assert registry.go_file_mode(0o120777) == "Lrwxrwxrwx"


# --- the push decision ---------------------------------------------------------------------------
@pytest.mark.parametrize("in_registry,previous,expected", [
    ({}, None, (True, None)),                                                   # first build
    ({"1.0-aaa": "sha256:a"}, {"tag": "1.0-aaa", "push": True}, (True, "sha256:a")),   # steady, we pushed it
    ({"1.0-aaa": "sha256:a"}, {"tag": "1.0-bbb", "push": True}, (False, "sha256:a")),  # revert to known content
    ({"1.0-aaa": "sha256:a"}, None, (False, "sha256:a")),                        # interrupted up, no state
    ({"1.0-aaa": "sha256:a"}, {"tag": "1.0-aaa", "push": False}, (False, "sha256:a")),  # steady after a reuse
    ({}, {"tag": "1.0-aaa", "push": False}, (True, None)),                      # reused tag expired since
])
def test_push_decision(in_registry, previous, expected):
    assert registry.push_decision("1.0-aaa", in_registry, previous) == expected


# --- the component under mocks: what `up` would do ---------------------------------------------
class History(CelestialsMocks):
    """ECR already holds `ecr_tags`; the stack's previous `up` exported `previous`."""

    def __init__(self, ecr_tags: dict[str, str], previous: dict | None):
        self.ecr_tags, self.previous = ecr_tags, previous

    def call(self, args):
        if args.token == "aws:ecr/getImages:getImages":
            return {"imageIds": [{"imageTag": t, "imageDigest": d} for t, d in self.ecr_tags.items()], "id": "x"}
        return super().call(args)

    def new_resource(self, args):
        if args.typ == "pulumi:pulumi:StackReference":
            return f"{args.name}-id", {"name": args.inputs.get("name"), "secretOutputNames": [],
                                       "outputs": {BUILDS_OUTPUT: self.previous} if self.previous else {}}
        return super().new_resource(args)


@pytest.fixture(scope="module")
def apps_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("root")
    for spec in registry.IMAGES.values():
        (root / spec.context).mkdir(parents=True, exist_ok=True)
        (root / spec.context / spec.dockerfile).parent.mkdir(parents=True, exist_ok=True)
        (root / spec.context / spec.dockerfile).write_text(f"FROM scratch\nLABEL app={spec.app_dir}\n")
    return root


def _up(apps_root: Path, ecr_tags: dict[str, str], previous: dict | None):
    def program():
        imgs = Images("images", ImagesArgs(keys=(KEY,), repository_prefix="celestials/dev", root=apps_root,
                                           stack_name="organization/celestials/dev"))
        pulumi.export("ref", imgs.image_refs[KEY])
        pulumi.export(BUILDS_OUTPUT, imgs.builds)
    with quiet():
        r = evaluate(program, stack="dev", config={"aws:region": "us-west-2"}, mocks=History(ecr_tags, previous))
    (image,) = r.by_type("docker-build:index:Image")
    return image["inputs"]["push"], r.outputs["ref"], r.outputs[BUILDS_OUTPUT][KEY]


def test_revert_to_content_already_in_ecr_does_not_push(apps_root):
    tag = registry.content_tag(registry.image_spec(KEY), apps_root)
    push, ref, build = _up(apps_root, {tag: DIGEST_IN_ECR, "1.0-0123456789ab": "sha256:" + "b" * 64},
                           {KEY: {"tag": "1.0-0123456789ab", "push": True}})
    assert push is False
    assert ref.endswith(f"/celestials/dev/product_catalog@{DIGEST_IN_ECR}")  # the registry's image
    assert build == {"tag": tag, "push": False}


def test_interrupted_up_does_not_push_again(apps_root):
    tag = registry.content_tag(registry.image_spec(KEY), apps_root)
    push, ref, _ = _up(apps_root, {tag: DIGEST_IN_ECR}, None)
    assert push is False and ref.endswith("@" + DIGEST_IN_ECR)


def test_new_content_is_pushed_and_stays_converged(apps_root):
    tag = registry.content_tag(registry.image_spec(KEY), apps_root)
    push, ref, build = _up(apps_root, {}, None)
    assert push is True and build == {"tag": tag, "push": True}
    assert DIGEST_IN_ECR not in ref  # the digest docker-build reports
    # the next preview: the tag is now in ECR, but this stack pushed it: nothing changes
    again, _, _ = _up(apps_root, {tag: DIGEST_IN_ECR}, {KEY: build})
    assert again is True
