"""Let Unity Simulation write into a bucket: the two IAM grants its data transfer needs.

    python -m components.transfer grant-access --bucket B [--dry-run]
    python -m components.transfer grant-access --bucket B --custom-role unityBucketGet --gcp-project P

Google's Storage Transfer service account gets Storage Legacy Bucket Writer; Unity's transfer
account needs only ``storage.buckets.get``: Storage Legacy Bucket Reader, or with ``--custom-role``
a custom role holding just that permission, created in ``--gcp-project`` if missing (the bucket
must belong to that project). Changes go through the bucket's IAM policy (version 3, etag kept),
and only bindings without a condition are extended. ``--dry-run`` prints the change and applies
nothing. Needs Application Default Credentials allowed to change the bucket's policy (and to
create roles).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from components.transfer import ids

STORAGE_TRANSFER_ACCOUNT = "project-787244313480@storage-transfer-service.iam.gserviceaccount.com"
UNITY_TRANSFER_ACCOUNT = "bhram-prd-usc1-datatransfer@unity-ai-bhram-prd.iam.gserviceaccount.com"
WRITER_ROLE = "roles/storage.legacyBucketWriter"
READER_ROLE = "roles/storage.legacyBucketReader"
CUSTOM_ROLE_PERMISSIONS = ("storage.buckets.get",)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Grant:
    role: str
    member: str


@dataclass(frozen=True)
class AccessChange:
    """What grant_access found and did."""

    bucket: str
    added: tuple[Grant, ...]
    present: tuple[Grant, ...]
    role_created: str = ""
    applied: bool = False


def planned_grants(custom_role: str | None = None, gcp_project: str | None = None) -> list[Grant]:
    """The two grants; with ``custom_role`` the Unity account gets ``projects/P/roles/ROLE``."""
    reader = READER_ROLE
    if custom_role:
        reader = custom_role_name(gcp_project, custom_role)
    return [Grant(WRITER_ROLE, f"serviceAccount:{STORAGE_TRANSFER_ACCOUNT}"),
            Grant(reader, f"serviceAccount:{UNITY_TRANSFER_ACCOUNT}")]


def custom_role_name(gcp_project: str | None, role_id: str) -> str:
    if not gcp_project or "/" in gcp_project:
        raise ValueError(f"--gcp-project: {gcp_project!r}; --custom-role needs the Google Cloud project id "
                         "that owns the bucket and the role")
    return f"projects/{gcp_project}/roles/{ids.custom_role_id(role_id)}"


def add_grants(policy: Any, grants: list[Grant]) -> tuple[list[Grant], list[Grant]]:
    """Add the missing grants to an IAM policy object in place; returns (added, already present).

    ``policy`` is a ``google.api_core.iam.Policy`` (its ``bindings`` list of dicts with ``role``,
    ``members`` and maybe ``condition``).
    """
    bindings = list(policy.bindings)
    added, present = [], []
    for grant in grants:
        plain = [b for b in bindings if b["role"] == grant.role and not b.get("condition")]
        if any(grant.member in b["members"] for b in plain):
            present.append(grant)
            continue
        if plain:
            plain[0]["members"] = set(plain[0]["members"]) | {grant.member}
        else:
            bindings.append({"role": grant.role, "members": {grant.member}})
        added.append(grant)
    policy.bindings = bindings
    return added, present


def ensure_custom_role(iam_client: Any, gcp_project: str, role_id: str, dry_run: bool) -> bool:
    """Create the custom role if it does not exist; True if it was (or would be) created.

    Raises ValueError if a role of that id exists without ``storage.buckets.get`` or is deleted.
    """
    from google.api_core import exceptions
    from google.cloud import iam_admin_v1

    name = custom_role_name(gcp_project, role_id)
    try:
        role = iam_client.get_role(request=iam_admin_v1.GetRoleRequest(name=name))
    except exceptions.NotFound:
        role = None
    if role is not None:
        if role.deleted:
            raise ValueError(f"--custom-role: {name} is deleted; undelete it or pick another id")
        missing = set(CUSTOM_ROLE_PERMISSIONS) - set(role.included_permissions)
        if missing:
            raise ValueError(f"--custom-role: {name} exists without {', '.join(sorted(missing))}")
        extra = set(role.included_permissions) - set(CUSTOM_ROLE_PERMISSIONS)
        if extra:
            logger.warning("Custom role %s also grants %s", name, ", ".join(sorted(extra)))
        return False
    if not dry_run:
        iam_client.create_role(request=iam_admin_v1.CreateRoleRequest(
            parent=f"projects/{gcp_project}", role_id=role_id,
            role=iam_admin_v1.Role(title="Unity Simulation bucket get",
                                   description="Lets Unity Simulation's data transfer check a bucket",
                                   included_permissions=list(CUSTOM_ROLE_PERMISSIONS),
                                   stage=iam_admin_v1.Role.RoleLaunchStage.GA)))
        logger.info("Created custom role %s", name)
    return True


def grant_access(bucket: str, *, custom_role: str | None = None, gcp_project: str | None = None,
                 dry_run: bool = False, storage_client: Any = None, iam_client: Any = None,
                 out: Callable[[str], None] = print) -> AccessChange:
    """Grant the transfer accounts access to ``bucket``; ``out`` receives the change, line by line."""
    name = ids.bucket_name(bucket)
    grants = planned_grants(custom_role, gcp_project)
    role_created = ""
    if custom_role:
        if iam_client is None:
            from google.cloud import iam_admin_v1

            iam_client = iam_admin_v1.IAMClient()
        if ensure_custom_role(iam_client, gcp_project or "", custom_role, dry_run):
            role_created = grants[1].role
    if storage_client is None:
        from google.cloud import storage

        storage_client = storage.Client(project=gcp_project or None)
    target = storage_client.bucket(name)
    policy = target.get_iam_policy(requested_policy_version=3)
    policy.version = 3
    added, present = add_grants(policy, grants)
    if added and not dry_run:
        target.set_iam_policy(policy)
    change = AccessChange(name, tuple(added), tuple(present), role_created, bool(added) and not dry_run)
    for line in describe(change, dry_run):
        out(line)
    return change


def describe(change: AccessChange, dry_run: bool) -> list[str]:
    """Human-readable lines: ``+`` added, ``=`` already there."""
    how = "dry run, nothing applied" if dry_run else ("applied" if change.applied else "nothing to change")
    lines = []
    if change.role_created:
        verb = "would create" if dry_run else "created"
        lines.append(f"custom role {change.role_created}: {verb} with {', '.join(CUSTOM_ROLE_PERMISSIONS)}")
    lines.append(f"gs://{change.bucket} IAM policy ({how}):")
    lines += [f"  + {g.role}  {g.member}" for g in change.added]
    lines += [f"  = {g.role}  {g.member}  (already granted)" for g in change.present]
    return lines
