import pytest

from components.transfer import ids


@pytest.mark.parametrize("value, kind, expected", [
    ("El64GVP", ids.RUN_DEFINITION, "El64GVP"),
    ("urn:run_definitions:El64GVP", ids.RUN_DEFINITION, "El64GVP"),
    (" urn:run_executions:5M6wq80 ", ids.RUN_EXECUTION, "5M6wq80"),
    ("5M6wq80", ids.RUN_EXECUTION, "5M6wq80"),
])
def test_run_ids_accept_bare_ids_and_urns(value, kind, expected):
    assert ids.run_id(value, kind) == expected


@pytest.mark.parametrize("value, kind, fragment", [
    ("", ids.RUN_DEFINITION, "--run-definition-id: empty"),
    ("urn:run_executions:5M6wq80", ids.RUN_DEFINITION, "is not a urn:run_definitions:<id> URN"),
    ("urn:run_executions:a:b", ids.RUN_EXECUTION, "--run-execution-id"),
    ("../etc", ids.RUN_EXECUTION, "is not a Unity Simulation id"),
    ("a/b", ids.RUN_DEFINITION, "is not a Unity Simulation id"),
    ("x" * 65, ids.RUN_DEFINITION, "is not a Unity Simulation id"),
])
def test_bad_run_ids_name_the_flag(value, kind, fragment):
    with pytest.raises(ValueError, match="--run-") as err:
        ids.run_id(value, kind)
    assert fragment in str(err.value)


def test_project_id_takes_a_guid_or_a_slug():
    guid = "1C2D3E4F-0000-4000-8000-00000000abcd"
    assert ids.project_id(f" {guid} ") == guid
    assert ids.project_id("rut-test") == "rut-test"
    for bad in ("", "a/b", "proj id", "-lead"):
        with pytest.raises(ValueError, match="--project-id: .* expected a GUID"):
            ids.project_id(bad)


@pytest.mark.parametrize("value, expected", [
    ("acme-synth-data", "acme-synth-data"), ("gs://acme-synth-data/", "acme-synth-data"),
    ("a.b_c-d", "a.b_c-d"), ("abc", "abc"), ("x" * 63, "x" * 63), (".".join(["x" * 63] * 3), ".".join(["x" * 63] * 3)),
])
def test_valid_bucket_names(value, expected):
    assert ids.bucket_name(value) == expected


@pytest.mark.parametrize("value, fragment", [
    ("", "empty"), ("ab", "3 to 63"), ("Acme", "lowercase"), ("-acme", "starting and ending"),
    ("acme-", "starting and ending"), ("x" * 64, "longer than 63"), ("a..b", "each dot-separated part"),
    ("192.168.5.4", "IP address"), ("goog-data", "goog"), ("my-google-data", "google"), ("my-g00gle", "google"),
    ("gs://acme/data", "has a path"), ("acme data", "lowercase"),
])
def test_invalid_bucket_names_say_why(value, fragment):
    with pytest.raises(ValueError, match="--bucket") as err:
        ids.bucket_name(value)
    assert fragment in str(err.value)


def test_secret_version_names():
    assert ids.secret_version("projects/p/secrets/usim/versions/3") == "projects/p/secrets/usim/versions/3"
    assert ids.secret_version("projects/p/secrets/usim") == "projects/p/secrets/usim/versions/latest"
    for bad in ("usim", "projects/p/secrets/usim/versions/x", "projects//secrets/s/versions/1",
                "projects/p/topics/s/versions/1"):
        with pytest.raises(ValueError, match="--token-secret: .* expected projects/PROJECT/secrets/NAME"):
            ids.secret_version(bad)


def test_custom_role_ids():
    assert ids.custom_role_id("unityBucketGet") == "unityBucketGet"
    for bad in ("ab", "has-dash", "x" * 65):
        with pytest.raises(ValueError, match="--custom-role"):
            ids.custom_role_id(bad)
