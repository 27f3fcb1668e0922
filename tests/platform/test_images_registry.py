"""The image registry and the content tags that keep immutable ECR tags correct."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from celestials import images
from celestials.settings import parse_settings
from celestials.topology import build_topology


def test_every_image_the_model_names_is_registered_and_every_registered_image_is_used():
    used = images.images_for(build_topology(parse_settings({}, "dev")))
    assert set(used) == set(images.IMAGES)


def test_proddetail_versions_share_one_context_and_repository():
    v1, v2 = images.image_spec("proddetail-v1"), images.image_spec("proddetail-v2")
    assert v1.context == v2.context == "apps"                       # to copy apps/node-common
    assert v1.dockerfile == v2.dockerfile == "proddetail/Dockerfile"
    assert v1.repository == v2.repository == "catalog_detail"
    assert (v1.version, dict(v1.build_args)) == ("1.0", {"APP_VERSION": "1"})
    assert (v2.version, dict(v2.build_args)) == ("2.0", {"APP_VERSION": "2"})
    assert images.repositories(["proddetail-v2", "proddetail-v1", "prodcatalog"]) == {
        "catalog_detail": ("proddetail-v1", "proddetail-v2"), "product_catalog": ("prodcatalog",)}


def test_colorapp_roles_share_one_context_and_keep_their_repositories():
    teller, front = images.image_spec("colorteller"), images.image_spec("colorfront")
    assert teller.context == front.context == "apps"                 # to copy apps/python-common
    assert teller.dockerfile == front.dockerfile == "colorapp/Dockerfile"
    assert (teller.repository, dict(teller.build_args)) == ("colorteller", {"COLOR_ROLE": "teller"})
    assert (front.repository, dict(front.build_args)) == ("colorfront", {"COLOR_ROLE": "front"})


def test_unknown_key_names_the_known_ones():
    with pytest.raises(images.ImageError, match="unknown image 'nope'.*proddetail-v1"):
        images.image_spec("nope")


@pytest.mark.parametrize("pattern,path,ignored", [
    ("node_modules", "node_modules/a/b.js", True),
    ("*.log", "npm-debug.log", True),
    ("*.log", "sub/npm-debug.log", False),        # Docker anchors patterns at the context root
    ("**/*.log", "sub/deep/x.log", True),
    ("**/__pycache__", "pkg/__pycache__/m.pyc", True),
    ("test", "tests/x.js", False),
    ("/Dockerfile", "Dockerfile", True),
    ("a?c", "abc", True),
    ("[ab].txt", "b.txt", True),
    ("[^ab].txt", "c.txt", True),
    ("[!ab].txt", "c.txt", False),              # Go negates classes with ^, not !
])
def test_dockerignore_patterns(pattern, path, ignored):
    assert images.is_ignored(path, images.dockerignore_rules(pattern)) is ignored


def test_later_exception_reincludes():
    rules = images.dockerignore_rules("# comment\n*.md\n!README.md\n")
    assert images.is_ignored("CHANGES.md", rules) and not images.is_ignored("README.md", rules)


def _app(tmp_path: Path) -> Path:
    ctx = tmp_path / "apps" / "demo"
    (ctx / "node_modules" / "dep").mkdir(parents=True)
    (ctx / "node_modules" / "dep" / "index.js").write_text("dep")
    (ctx / "Dockerfile").write_text("FROM scratch\n")
    (ctx / ".dockerignore").write_text("node_modules\nDockerfile\n.dockerignore\n")
    (ctx / "server.js").write_text("console.log(1)\n")
    return ctx


def test_digest_follows_what_docker_sends(tmp_path):
    ctx = _app(tmp_path)
    first = images.context_digest(ctx)
    assert images.context_files(ctx) == [".dockerignore", "Dockerfile", "server.js"]
    assert images.context_digest(ctx) == first                      # deterministic
    (ctx / "node_modules" / "dep" / "index.js").write_text("changed")
    assert images.context_digest(ctx) == first                      # ignored content
    (ctx / "server.js").write_text("console.log(2)\n")
    second = images.context_digest(ctx)
    assert second != first                                          # sent content
    (ctx / "Dockerfile").write_text("FROM scratch\nUSER 1000\n")
    assert images.context_digest(ctx) != second                     # Dockerfile, though ignored
    third = images.context_digest(ctx)
    os.chmod(ctx / "server.js", 0o755)
    assert images.context_digest(ctx) != third                      # mode bit
    fourth = images.context_digest(ctx)
    (ctx / "new.js").write_text("")
    assert images.context_digest(ctx) != fourth                     # a new (empty) file


def test_dockerfile_specific_ignore_file_wins_over_the_context_one(tmp_path):
    ctx = tmp_path / "apps"
    for rel in ("web/Dockerfile", "web/app.js", "web/node_modules/dep/i.js", "web/test/t.js",
                "shared/lib.js", "shared/testing.js", "other/main.py"):
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_text(rel)
    (ctx / ".dockerignore").write_text("other\n")
    (ctx / "web" / "Dockerfile.dockerignore").write_text(
        "*\n!web\n!shared\n**/node_modules\nweb/test\nweb/Dockerfile\nshared/testing.js\n")
    assert images.ignore_file(ctx, "web/Dockerfile") == "web/Dockerfile.dockerignore"
    assert images.context_files(ctx, "web/Dockerfile") == [
        "shared/lib.js", "web/Dockerfile", "web/Dockerfile.dockerignore", "web/app.js"]
    first = images.context_digest(ctx, "web/Dockerfile")
    (ctx / "other" / "main.py").write_text("changed")               # not sent
    (ctx / "shared" / "testing.js").write_text("changed")           # not sent
    assert images.context_digest(ctx, "web/Dockerfile") == first
    (ctx / "shared" / "lib.js").write_text("changed")               # sent
    assert images.context_digest(ctx, "web/Dockerfile") != first
    # without the Dockerfile-specific file, the context's .dockerignore applies again
    (ctx / "web" / "Dockerfile.dockerignore").unlink()
    assert images.ignore_file(ctx, "web/Dockerfile") == ".dockerignore"
    assert "other/main.py" not in images.context_files(ctx, "web/Dockerfile")
    assert "web/test/t.js" in images.context_files(ctx, "web/Dockerfile")


def test_context_must_contain_the_app():
    with pytest.raises(images.ImageError, match="context apps/other/ does not contain apps/web/"):
        images.ImageSpec("web", "web", "web", "1.0", context_dir="apps/other")


def test_content_tag_is_version_plus_build_digest(tmp_path):
    _app(tmp_path)
    spec = images.ImageSpec("demo", "demo", "demo", "3.1", (("B", "2"), ("A", "1")))
    digest = images.build_digest(tmp_path / "apps" / "demo", "Dockerfile", (("A", "1"), ("B", "2")), "linux/amd64")
    assert images.content_tag(spec, root=tmp_path) == f"3.1-{digest[:12]}"
    arm = images.build_digest(tmp_path / "apps" / "demo", "Dockerfile", (("A", "1"), ("B", "2")), "linux/arm64")
    assert images.content_tag(spec, root=tmp_path, architecture="arm64") == f"3.1-{arm[:12]}-arm64"
    assert arm != digest                                            # the platform is in the digest


def _tags(root: Path, specs: dict[str, images.ImageSpec], architecture: str = "amd64") -> dict[str, str]:
    return {key: images.content_tag(spec, root, architecture) for key, spec in specs.items()}


def _copy_apps(tmp_path: Path) -> Path:
    """The real apps/, in another directory (the tag must not depend on where the tree lives);
    node_modules (a local install) is left out of every context by its ignore file."""
    root = tmp_path / "elsewhere"
    shutil.copytree(images.ROOT / images.APPS_DIR, root / images.APPS_DIR, symlinks=True,
                    ignore=shutil.ignore_patterns("node_modules"))
    return root


def test_a_build_arg_changes_the_tag_of_its_image_only(tmp_path):
    root = _copy_apps(tmp_path)
    before = _tags(root, images.IMAGES)
    for key in ("proddetail-v2", "colorteller"):
        spec = images.IMAGES[key]
        ((name, value),) = spec.build_args
        changed = {**images.IMAGES, key: dataclasses.replace(spec, build_args=((name, value + "x"),))}
        after = _tags(root, changed)
        assert {k for k in after if after[k] != before[k]} == {key}
        assert after[key].split("-")[0] == before[key].split("-")[0]       # same version, new digest
        # one more argument is a new build too, and the order arguments are given in is not
        more = {**images.IMAGES, key: dataclasses.replace(spec, build_args=(("EXTRA", "1"), (name, value)))}
        reordered = {**images.IMAGES, key: dataclasses.replace(spec, build_args=((name, value), ("EXTRA", "1")))}
        assert _tags(root, more)[key] not in (before[key], after[key])
        assert _tags(root, more) == _tags(root, reordered)


def test_images_from_one_context_with_different_args_get_different_digests(tmp_path):
    root = _copy_apps(tmp_path)
    for a, b in (("proddetail-v1", "proddetail-v2"), ("colorteller", "colorfront")):
        sa, sb = images.IMAGES[a], images.IMAGES[b]
        assert (sa.context, sa.dockerfile) == (sb.context, sb.dockerfile)
        assert sa.build_args != sb.build_args
        # even at one version in one repository, the tags could not collide
        same_version = dataclasses.replace(sb, version=sa.version, repository=sa.repository)
        assert images.content_tag(sa, root) != images.content_tag(same_version, root)


def test_the_same_inputs_give_the_same_tag_anywhere(tmp_path):
    here = _tags(images.ROOT, images.IMAGES, "arm64")
    assert here == _tags(images.ROOT, images.IMAGES, "arm64")           # deterministic
    assert here == _tags(_copy_apps(tmp_path), images.IMAGES, "arm64")  # another checkout, another path
    assert all(tag.endswith("-arm64") for tag in here.values())
    amd = _tags(images.ROOT, images.IMAGES, "amd64")
    assert all(amd[k].split("-")[1] != here[k].split("-")[1] for k in here)  # the platform decides bytes


def test_a_build_arg_given_twice_is_refused():
    with pytest.raises(images.ImageError, match=r"image demo: build argument given twice in \['A', 'A'\]"):
        images.ImageSpec("demo", "demo", "demo", "1.0", (("A", "1"), ("A", "2")))


def test_an_architecture_without_a_platform_is_refused(tmp_path):
    _app(tmp_path)
    with pytest.raises(images.ImageError, match=r"image demo: no platform for architecture 'riscv64'; known: amd64, arm64"):
        images.content_tag(images.ImageSpec("demo", "demo", "demo", "1.0"), tmp_path, "riscv64")


def test_missing_app_is_a_clear_error(tmp_path):
    with pytest.raises(images.ImageError, match=r"image colorfront: no colorapp/Dockerfile in apps/"):
        images.content_tag(images.image_spec("colorfront"), root=tmp_path)
