import copy

import pytest
from google.api_core import exceptions
from google.api_core.iam import Policy
from google.cloud import iam_admin_v1

from components.transfer import access
from components.transfer.__main__ import main

WRITER = ("roles/storage.legacyBucketWriter",
          "serviceAccount:project-787244313480@storage-transfer-service.iam.gserviceaccount.com")
READER = ("roles/storage.legacyBucketReader",
          "serviceAccount:bhram-prd-usc1-datatransfer@unity-ai-bhram-prd.iam.gserviceaccount.com")
OWNER = {"role": "roles/storage.legacyBucketOwner", "members": {"projectOwner:my-proj"}}


class FakeBucket:
    """The two calls grant_access makes on a google-cloud-storage Bucket, over a real Policy."""

    def __init__(self, bindings):
        self.policy = Policy(etag=b"etag-1")
        self.policy.bindings = copy.deepcopy(bindings)
        self.versions, self.saved = [], []

    def get_iam_policy(self, requested_policy_version=None):
        self.versions.append(requested_policy_version)
        return copy.deepcopy(self.policy)

    def set_iam_policy(self, policy):
        self.saved.append(policy)
        self.policy = copy.deepcopy(policy)
        return policy


class FakeStorage:
    def __init__(self, bindings=()):
        self.bucket_ = FakeBucket(list(bindings))
        self.names = []

    def bucket(self, name):
        self.names.append(name)
        return self.bucket_


class FakeIam:
    def __init__(self, role=None):
        self.role, self.created = role, []

    def get_role(self, request):
        if self.role is None:
            raise exceptions.NotFound(f"role {request.name}")
        return self.role

    def create_role(self, request):
        self.created.append(request)
        return request.role


def grants(policy):
    return {(b["role"], m) for b in policy.bindings for m in b["members"]}


def test_dry_run_prints_the_change_and_applies_nothing():
    storage, lines = FakeStorage([OWNER]), []
    change = access.grant_access("gs://acme-data", dry_run=True, storage_client=storage, out=lines.append)
    assert lines == ["gs://acme-data IAM policy (dry run, nothing applied):",
                     f"  + {WRITER[0]}  {WRITER[1]}", f"  + {READER[0]}  {READER[1]}"]
    assert storage.names == ["acme-data"] and storage.bucket_.versions == [3]
    assert storage.bucket_.saved == [] and not change.applied and len(change.added) == 2


def test_apply_adds_both_grants_and_keeps_the_rest():
    conditional = {"role": READER[0], "members": {"user:a@example.com"},
                   "condition": {"title": "t", "expression": "request.time < timestamp('2030-01-01T00:00:00Z')"}}
    storage = FakeStorage([OWNER, conditional, {"role": WRITER[0], "members": {"user:b@example.com"}}])
    change = access.grant_access("acme-data", storage_client=storage, out=lambda line: None)
    saved = storage.bucket_.saved[0]
    assert change.applied and saved.version == 3 and saved.etag == b"etag-1"
    assert grants(saved) == {("roles/storage.legacyBucketOwner", "projectOwner:my-proj"), WRITER, READER,
                             (READER[0], "user:a@example.com"), (WRITER[0], "user:b@example.com")}
    # The conditional binding is left as it was; the reader grant gets its own plain binding.
    assert [b for b in saved.bindings if b.get("condition")] == [conditional]
    lines = []
    again = access.grant_access("acme-data", storage_client=storage, out=lines.append)
    assert again.added == () and len(storage.bucket_.saved) == 1
    assert lines[0] == "gs://acme-data IAM policy (nothing to change):" and "(already granted)" in lines[1]


def test_custom_role_is_created_and_granted():
    storage, iam, lines = FakeStorage(), FakeIam(), []
    change = access.grant_access("acme-data", custom_role="unityBucketGet", gcp_project="my-proj",
                                 storage_client=storage, iam_client=iam, out=lines.append)
    [request] = iam.created
    assert request.parent == "projects/my-proj" and request.role_id == "unityBucketGet"
    assert list(request.role.included_permissions) == ["storage.buckets.get"]
    assert grants(storage.bucket_.saved[0]) == {WRITER, ("projects/my-proj/roles/unityBucketGet", READER[1])}
    assert change.role_created == "projects/my-proj/roles/unityBucketGet"
    assert lines[0] == "custom role projects/my-proj/roles/unityBucketGet: created with storage.buckets.get"


def test_custom_role_dry_run_creates_nothing():
    storage, iam, lines = FakeStorage(), FakeIam(), []
    access.grant_access("acme-data", custom_role="unityBucketGet", gcp_project="my-proj", dry_run=True,
                        storage_client=storage, iam_client=iam, out=lines.append)
    assert iam.created == [] and storage.bucket_.saved == []
    assert lines == ["custom role projects/my-proj/roles/unityBucketGet: would create with storage.buckets.get",
                     "gs://acme-data IAM policy (dry run, nothing applied):",
                     f"  + {WRITER[0]}  {WRITER[1]}", f"  + projects/my-proj/roles/unityBucketGet  {READER[1]}"]


def test_an_existing_custom_role_is_used_if_it_has_the_permission():
    role = iam_admin_v1.Role(name="projects/my-proj/roles/unityBucketGet", included_permissions=["storage.buckets.get"])
    iam, lines = FakeIam(role), []
    access.grant_access("acme-data", custom_role="unityBucketGet", gcp_project="my-proj",
                        storage_client=FakeStorage(), iam_client=iam, out=lines.append)
    assert iam.created == [] and not lines[0].startswith("custom role")
    wrong = iam_admin_v1.Role(included_permissions=["storage.objects.get"])
    with pytest.raises(ValueError, match="exists without storage.buckets.get"):
        access.grant_access("acme-data", custom_role="unityBucketGet", gcp_project="my-proj",
                            storage_client=FakeStorage(), iam_client=FakeIam(wrong), out=lines.append)


def test_custom_role_needs_a_project_and_a_valid_id():
    with pytest.raises(ValueError, match="--gcp-project: None; --custom-role needs"):
        access.planned_grants("unityBucketGet")
    with pytest.raises(ValueError, match="--custom-role: 'no-dashes'"):
        access.planned_grants("no-dashes", "my-proj")


def test_cli_input_errors_exit_2(capsys):
    assert main(["grant-access", "--bucket", "acme-data", "--custom-role", "unityBucketGet"]) == 2
    assert main(["grant-access", "--bucket", "Bad_Bucket", "--dry-run"]) == 2
    with pytest.raises(SystemExit) as err:
        main(["grant-access"])
    assert err.value.code == 2 and "--bucket" in capsys.readouterr().err
