"""ECR repositories and the app images built from `apps/` and pushed to them.

Why these choices:
- One repository per image name of the registry (`celestials.images`): scan on push, immutable
  tags, a lifecycle policy that keeps the newest tagged images. Tags are content tags
  (`<version>-<context digest>`), so an unchanged app is neither rebuilt nor re-pushed and a
  changed one gets a tag that cannot collide with an existing immutable one.
- Pods get `<repository URL>@<digest>` (`refs`), so they roll exactly when the image content does.
- No input here comes from the cluster: images build and push while the VPC and EKS are still
  being created (the engine runs independent resources in parallel).
- `build_on_preview` is off: a preview needs no Docker daemon and shows a changed image as an
  unknown digest; `pulumi up` builds (linux/amd64, the node group's architecture).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

from celestials import images as registry

#: images kept per repository (proddetail v1 and v2 share one, so this is per repository)
KEEP_IMAGES = 20
#: image platform per node architecture (celestials:nodeArchitecture): images run where the nodes are.
PLATFORMS = {"amd64": docker_build.Platform.LINUX_AMD64, "arm64": docker_build.Platform.LINUX_ARM64}


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


@dataclass
class ImagesArgs:
    """`keys`: image keys to build (e.g. `celestials.images.images_for(topology)`);
    `repository_prefix`: namespaces the repositories per stack, e.g. `celestials/dev`."""

    keys: tuple[str, ...]
    repository_prefix: str
    root: Path = registry.ROOT
    force_delete_repositories: bool = False
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
    refs: pulumi.Output[dict]
    repository_urls: pulumi.Output[dict]

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

        self.images: dict[str, docker_build.Image] = {}
        refs, tags = {}, {}
        for key in sorted(args.keys):
            spec = registry.image_spec(key)
            repo = self.repositories[spec.repository]
            # ECR tags are immutable: an arm64 build of the same content needs its own tag
            tag = registry.content_tag(spec, args.root) + ("" if args.architecture == "amd64" else f"-{args.architecture}")
            token = aws.ecr.get_authorization_token_output(registry_id=repo.registry_id,
                                                           opts=pulumi.InvokeOutputOptions(parent=self))
            image = docker_build.Image(
                f"{name}-{key}",
                context=docker_build.BuildContextArgs(location=spec.context),
                dockerfile=docker_build.DockerfileArgs(location=f"{spec.context}/{spec.dockerfile}"),
                build_args=dict(spec.build_args) or None,
                platforms=[PLATFORMS[args.architecture]],
                tags=[repo.repository_url.apply(lambda url, t=tag: f"{url}:{t}")],
                push=True,
                build_on_preview=False,
                registries=[docker_build.RegistryArgs(
                    address=repo.repository_url.apply(lambda url: url.split("/", 1)[0]),
                    username=token.user_name,
                    password=pulumi.Output.secret(token.password))],
                opts=child)
            self.images[key] = image
            refs[key] = pulumi.Output.all(repo.repository_url, image.digest).apply(lambda v: f"{v[0]}@{v[1]}")
            tags[key] = tag
        self.tags = tags
        self.image_refs = refs
        self.refs = pulumi.Output.all(**refs)
        self.repository_urls = pulumi.Output.all(**{k: r.repository_url for k, r in self.repositories.items()})
        self.register_outputs({"refs": self.refs, "repository_urls": self.repository_urls, "tags": tags})
