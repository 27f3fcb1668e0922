"""Which availability zones a stack uses, by zone ID, skipping the ones EKS does not support.

Why zone IDs: zone *names* (us-east-1a) are shuffled per AWS account, zone IDs (use1-az1) are not;
the zones where EKS refuses control-plane subnets are published by ID. Source: Amazon EKS User
Guide, "View Amazon EKS networking requirements for VPC and subnets", subnet requirements ("The
subnets can't reside in the following Availability Zones"), awsdocs/amazon-eks-user-guide
latest/ug/networking/network-reqs.adoc at 4d52b4d (2024-12-18): us-east-1 use1-az3, us-west-1
usw1-az2, ca-central-1 cac1-az3. Where the list names nothing (other regions) nothing is refused
here; EKS itself answers with UnsupportedAvailabilityZoneException and the zones it accepts.
Pure: no Pulumi, no I/O.
"""

from __future__ import annotations

import re
from typing import Sequence

#: region → zone IDs where EKS does not accept cluster subnets
EKS_UNSUPPORTED_ZONE_IDS: dict[str, tuple[str, ...]] = {
    "us-east-1": ("use1-az3",),
    "us-west-1": ("usw1-az2",),
    "ca-central-1": ("cac1-az3",),
}
ZONE_ID = re.compile(r"^[a-z]{2,5}[0-9]-az[0-9]{1,2}$")

#: how a region code's direction words shorten in its zone IDs (eu-west-1 → euw1, ap-northeast-1 →
#: apne1, us-gov-west-1 → usgw1: AWS Regions and Availability Zones guide, "AZ IDs" and the zone
#: tables of "AWS Availability Zones")
_DIRECTIONS = {"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
               "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}
_REGION = re.compile(r"^([a-z]{2})-(gov-)?([a-z]+)-([0-9])$")


def zone_id_prefix(region: str) -> str | None:
    """The prefix every zone ID of `region` carries (`usw2` for us-west-2), or None for a region
    whose code does not follow the commercial pattern (the isolated partitions), where no prefix is
    claimed."""
    match = _REGION.match(region)
    if not match or match.group(3) not in _DIRECTIONS:
        return None
    country, gov, direction, number = match.groups()
    return f"{country}{'g' if gov else ''}{_DIRECTIONS[direction]}{number}"


def unsupported(zone_id: str) -> bool:
    """Is this zone ID one EKS is documented to refuse (in whatever region it is)?"""
    return any(zone_id in ids for ids in EKS_UNSUPPORTED_ZONE_IDS.values())


def choose_zones(names: Sequence[str], zone_ids: Sequence[str], count: int,
                 wanted_ids: Sequence[str] | None = None) -> list[str]:
    """Zone names for the subnets, from the region's (name, zone ID) pairs.

    With `wanted_ids`: exactly those zones, in that order (each must exist in the region).
    Without: the first `count` zones by name among those EKS supports."""
    by_id = dict(zip(zone_ids, names, strict=True))
    if wanted_ids:
        missing = [z for z in wanted_ids if z not in by_id]
        if missing:
            raise ValueError(f"celestials:availabilityZoneIds: {', '.join(missing)} not available in this region "
                             f"(available: {', '.join(sorted(by_id))})")
        return [by_id[z] for z in wanted_ids]
    usable = sorted(name for zid, name in by_id.items() if not unsupported(zid))
    if len(usable) < count:
        raise ValueError(f"celestials:availabilityZones = {count}, but the region offers only {len(usable)} zones "
                         f"EKS supports: {', '.join(usable)}")
    return usable[:count]
