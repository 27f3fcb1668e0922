"""The image registry and the content tags that keep immutable ECR tags correct."""

from __future__ import annotations

import os
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
    assert teller.context == front.context == "apps/colorapp"
    assert teller.dockerfile == front.dockerfile == "Dockerfile"
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


def test_content_tag_is_version_plus_digest(tmp_path):
    _app(tmp_path)
    spec = images.ImageSpec("demo", "demo", "demo", "3.1")
    tag = images.content_tag(spec, root=tmp_path)
    digest = images.context_digest(tmp_path / "apps" / "demo")
    assert tag == f"3.1-{digest[:12]}"


def test_missing_app_is_a_clear_error(tmp_path):
    with pytest.raises(images.ImageError, match=r"image colorfront: no Dockerfile in apps/colorapp/"):
        images.content_tag(images.image_spec("colorfront"), root=tmp_path)


def test_real_apps_have_stable_tags():
    spec = images.image_spec("proddetail-v1")
    assert (images.ROOT / spec.context / spec.dockerfile).exists()
    assert images.content_tag(spec) == images.content_tag(spec)
    assert images.content_tag(spec).startswith("1.0-")
    assert images.content_tag(images.image_spec("proddetail-v2")).split("-", 1)[1] == \
        images.content_tag(spec).split("-", 1)[1]
