"""ECR repositories and the app images built from `apps/` and pushed to them.

Why these choices:
- One repository per image name of the registry (`celestials.images`): scan on push, immutable
  tags, a lifecycle policy that keeps the newest tagged images. Tags are content tags
  (`<version>-<build digest>`: context, Dockerfile, build args, platform), so an unchanged app is
  neither rebuilt nor re-pushed and a changed one gets a tag that cannot collide with an existing
  immutable one. Every input of the Image that decides its bytes is one the tag covers (a test
  holds the Image's inputs to that list, so a new one, such as a build target, needs a decision).
- Pods get `<repository URL>@<digest>` (`refs`), so they roll exactly when the image content does.
- No input here comes from the cluster: images build and push while the VPC and EKS are still
  being created (the engine runs independent resources in parallel).
- A rebuild never pushes a tag that already exists (immutable tags would refuse it and fail `up`):
  the tag covers everything docker-build's context hash covers (full file modes included), and a
  tag already in the repository that this stack's previous `up` did not push itself — a revert to
  earlier content, an `up` interrupted after its push — is not pushed again; pods get the digest
  the registry holds (`celestials.images.push_decision`). What the previous `up` pushed comes
  from this stack's own `imageBuilds` output (a StackReference to itself) and what the repository
  holds from ECR (`aws.ecr.get_images`).
- `build_on_preview` is off: a preview needs no Docker daemon and shows a changed image as an
  unknown digest; `pulumi up` builds (for the node group's platform).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

from celestials import images as registry

#: the stack output holding {key: {"tag", "push"}} of the last `up` (read back by the next one)
BUILDS_OUTPUT = "imageBuilds"
#: images kept per repository (proddetail v1 and v2 share one, so this is per repository)
KEEP_IMAGES = 20
#: image platform per node architecture (celestials.images.PLATFORMS, as docker-build's enum)
PLATFORMS = {arch: docker_build.Platform(platform) for arch, platform in registry.PLATFORMS.items()}


def lifecycle_policy(keep: int = KEEP_IMAGES) -> str:
    """Expire tagged images beyond the newest `keep`. Untagged images are left alone: they are
    the per-platform manifests and attestations an index points to, and expiring them would break
    the tagged image that is running."""
    return json.dumps({"rules": [{
        "rulePriority": 1, "description": f"keep the newest {keep} tagged images",
        "selection": {"tagStatus": "tagged", "tagPatternList": ["*"],
                      "countType": "imageCountMoreThan", "countNumber": keep},
        "action": {"type": "expire"},
    }]}, sort_keys=True)


def _tags_in_registry(image_ids: Sequence[aws.ecr.outputs.GetImagesImageIdResult | Mapping[str, Any]] | None,
                      ) -> dict[str, str | None]:
    """tag → digest from `get_images` (typed results, or plain dicts as the invoke can also hand)."""
    out: dict[str, str | None] = {}
    for item in image_ids or []:
        get = item.get if isinstance(item, dict) else lambda k, i=item: getattr(i, k, None)
        tag = get("image_tag") or get("imageTag")
        if tag:
            out[tag] = get("image_digest") or get("imageDigest")
    return out


@dataclass
class ImagesArgs:
    """`keys`: image keys to build (e.g. `celestials.images.images_for(topology)`);
    `repository_prefix`: namespaces the repositories per stack, e.g. `celestials/dev`."""

    keys: tuple[str, ...]
    repository_prefix: str
    root: Path = registry.ROOT
    force_delete_repositories: bool = False
    #: "<org>/<project>/<stack>" of this very stack, to read what its previous `up` pushed
    #: (BUILDS_OUTPUT); None: no history (every tag found in the registry is reused, not pushed)
    stack_name: str | None = None
    architecture: str = "amd64"
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("Images: no image keys given")
        for key in self.keys:
            registry.image_spec(key)


class Images(pulumi.ComponentResource):
    """Outputs: `image_refs` (key → `repo@digest`, one Output per image, so a rebuilt image leaves
    the other references known in a preview), `refs` (the same as one Output, for export),
    `repository_urls`, `tags` (key → content tag, plain strings)."""

    image_refs: dict[str, pulumi.Output[str]]
    refs: pulumi.Output[dict[str, str]]
    repository_urls: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: ImagesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("celestials:images:Images", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.repositories: dict[str, aws.ecr.Repository] = {}
        for repo in registry.repositories(args.keys):
            r = aws.ecr.Repository(
                f"{name}-{repo.replace('_', '-')}", name=f"{args.repository_prefix}/{repo}",
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")],
                force_delete=args.force_delete_repositories, tags=args.tags, opts=child)
            aws.ecr.LifecyclePolicy(f"{name}-{repo.replace('_', '-')}", repository=r.name,
                                    policy=lifecycle_policy(), opts=child)
            self.repositories[repo] = r

        previous = (pulumi.StackReference(f"{name}-previous", stack_name=args.stack_name, opts=child)
                    .get_output(BUILDS_OUTPUT) if args.stack_name else pulumi.Output.from_input(None))
        self.images: dict[str, docker_build.Image] = {}
        refs, tags, builds = {}, {}, {}
        for key in sorted(args.keys):
            spec = registry.image_spec(key)
            repository = self.repositories[spec.repository]
            tag = registry.content_tag(spec, args.root, args.architecture)
            token = aws.ecr.get_authorization_token_output(registry_id=repository.registry_id,
                                                           opts=pulumi.InvokeOutputOptions(parent=self))
            # registry_id is unknown until the repository exists, so a first preview does not ask
            # ECR about a repository it does not have yet
            listed = aws.ecr.get_images_output(repository_name=repository.name, registry_id=repository.registry_id,
                                               opts=pulumi.InvokeOutputOptions(parent=self))
            decision = pulumi.Output.all(listed.image_ids, previous).apply(
                lambda v, t=tag, k=key: registry.push_decision(  # type: ignore[misc]  # python/mypy#15459: a lambda with a default argument
                    t, _tags_in_registry(v[0]), (v[1] or {}).get(k)))
            image = docker_build.Image(
                f"{name}-{key}",
                context=docker_build.BuildContextArgs(location=spec.context),
                dockerfile=docker_build.DockerfileArgs(location=f"{spec.context}/{spec.dockerfile}"),
                build_args=dict(spec.build_args) or None,
                platforms=[PLATFORMS[args.architecture]],
                tags=[repository.repository_url.apply(lambda url, t=tag: f"{url}:{t}")],  # type: ignore[misc]  # python/mypy#15459: a lambda with a default argument
                push=decision.apply(lambda d: d[0]),
                build_on_preview=False,
                registries=[docker_build.RegistryArgs(
                    address=repository.repository_url.apply(lambda url: url.split("/", 1)[0]),
                    username=token.user_name,
                    password=pulumi.Output.secret(token.password))],
                opts=child)
            self.images[key] = image
            refs[key] = pulumi.Output.all(repository.repository_url, image.digest, decision).apply(
                lambda v: f"{v[0]}@{v[1] if v[2][0] else v[2][1]}")
            tags[key] = tag
            builds[key] = decision.apply(lambda d, t=tag: {"tag": t, "push": d[0]})  # type: ignore[misc]  # python/mypy#15459: a lambda with a default argument
        self.tags = tags
        self.image_refs = refs
        self.refs = pulumi.Output.all(**refs)
        self.repository_urls = pulumi.Output.all(**{k: r.repository_url for k, r in self.repositories.items()})
        #: export as BUILDS_OUTPUT: the next `up` reads it back
        self.builds = pulumi.Output.all(**builds)
        self.register_outputs({"refs": self.refs, "repository_urls": self.repository_urls, "tags": tags,
                               "builds": self.builds})
