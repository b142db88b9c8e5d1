"""Command line for Unity Simulation data transfers.

    python -m components.transfer --project-id P --run-definition-id D --run-execution-id E --bucket B
    python -m components.transfer grant-access --bucket B [--custom-role ROLE_ID --gcp-project P] [--dry-run]

The transfer prints the dataset URI as its last line. Exit status: 0 done, 1 the transfer failed
or the API kept failing, 2 a usage or input error (bad ids, no token, token expired, request
refused), 3 the deadline (--timeout) passed while the transfer was still running.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from components.common.logs import configure
from components.common.polling import DeadlineExceeded

logger = logging.getLogger("components.transfer")
PROJECT_FILE = os.path.join("~", ".usim", "project_id.txt")


def transfer_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m components.transfer",
        description="Copy one Unity Simulation run execution into a GCS bucket with Unity's data-transfer "
                    "API, wait for it, and print the dataset URI.",
        epilog="Subcommand: `python -m components.transfer grant-access --help` gives Unity's transfer "
               "accounts access to the bucket (run it once per bucket, before the first transfer). "
               "The token comes from --token-secret, USIM_ACCESS_TOKEN or ~/.usim/token.json.")
    p.add_argument("--project-id", help=f"Unity project id (default: {PROJECT_FILE}, written by usim)")
    p.add_argument("--run-definition-id", required=True, help="e.g. El64GVP or urn:run_definitions:El64GVP")
    p.add_argument("--run-execution-id", required=True, help="e.g. 5M6wq80 or urn:run_executions:5M6wq80")
    p.add_argument("--bucket", required=True, help="destination GCS bucket name (or gs://NAME)")
    p.add_argument("--api-url", default="", help="API base URL (default: USIM_API_URL, else "
                                                 "https://api.simulation.unity3d.com)")
    p.add_argument("--token-secret", default="", help="Secret Manager version holding the token: "
                                                      "projects/P/secrets/S/versions/V")
    p.add_argument("--buckets-root", default="", help="local folder with one folder per bucket, instead of "
                                                      "gs:// (for the local emulator)")
    p.add_argument("--timeout", type=float, default=6 * 3600.0, help="overall deadline, s (default 21600)")
    p.add_argument("--poll-interval", type=float, default=30.0, help="first poll interval, s (default 30)")
    p.add_argument("--max-poll-interval", type=float, default=300.0, help="poll interval cap, s (default 300)")
    p.add_argument("--skip-if-present", action="store_true",
                   help="do nothing if an earlier transfer of this run execution to this bucket succeeded")
    p.add_argument("--id-field", default="id", help="field of the start answer holding the transfer id")
    p.add_argument("--max-retries", type=int, default=8,
                   help="retries per request on connection errors, 429 and 5xx (default 8)")
    return p


def access_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m components.transfer grant-access",
        description="Grant Unity Simulation's transfer accounts access to a bucket: Storage Legacy Bucket "
                    "Writer for Google's Storage Transfer account, and Storage Legacy Bucket Reader (or a "
                    "custom role with only storage.buckets.get) for Unity's account.")
    p.add_argument("--bucket", required=True, help="bucket name (or gs://NAME)")
    p.add_argument("--custom-role", help="custom role id to grant instead of Legacy Bucket Reader; created "
                                         "with storage.buckets.get if missing")
    p.add_argument("--gcp-project", help="Google Cloud project owning the bucket (needed with --custom-role)")
    p.add_argument("--dry-run", action="store_true", help="print the policy change, apply nothing")
    return p


def read_project_file(home: str | None = None) -> str:
    path = os.path.join(home or os.path.expanduser("~"), ".usim", "project_id.txt")
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except FileNotFoundError:
        raise ValueError(f"--project-id: not given and {path} does not exist (run `usim activate project`)") \
            from None


def run_transfer_cli(argv: list[str]) -> int:
    from google.api_core.exceptions import GoogleAPICallError
    from google.auth.exceptions import GoogleAuthError

    from components.transfer.credentials import install_log_redaction, load_token
    from components.transfer.transfer import Settings, run_transfer

    args = transfer_parser().parse_args(argv)
    try:
        settings = Settings(
            project_id=args.project_id or read_project_file(), run_definition_id=args.run_definition_id,
            run_execution_id=args.run_execution_id, bucket=args.bucket, api_url=args.api_url,
            buckets_root=args.buckets_root, timeout=args.timeout, poll_interval=args.poll_interval,
            max_poll_interval=args.max_poll_interval, skip_if_present=args.skip_if_present,
            id_field=args.id_field, max_retries=args.max_retries)
        token = load_token(args.token_secret or None)
    except ValueError as err:
        logger.error("%s", err)
        return 2
    remove_redaction = install_log_redaction(token)
    try:
        result = run_transfer(settings, token)
    except DeadlineExceeded as err:
        logger.error("%s", err)
        return 3
    except ValueError as err:
        logger.error("%s", err)
        return 2
    except GoogleAuthError as err:
        logger.error("No Google credentials to check %s (%s); run `gcloud auth application-default login`",
                     settings.bucket_uri, err)
        return 2
    except GoogleAPICallError as err:
        logger.error("Cloud Storage refused access to %s: %s", settings.bucket_uri, err)
        return 1
    except RuntimeError as err:
        logger.error("%s", err)
        return 1
    finally:
        remove_redaction()
    print(result.dataset_uri, flush=True)
    return 0


def run_access_cli(argv: list[str]) -> int:
    from google.api_core import exceptions
    from google.auth.exceptions import DefaultCredentialsError

    from components.transfer.access import grant_access

    args = access_parser().parse_args(argv)
    try:
        grant_access(args.bucket, custom_role=args.custom_role, gcp_project=args.gcp_project,
                     dry_run=args.dry_run)
    except ValueError as err:
        logger.error("%s", err)
        return 2
    except DefaultCredentialsError as err:
        logger.error("No Google credentials (%s); run `gcloud auth application-default login`", err)
        return 2
    except exceptions.GoogleAPICallError as err:
        logger.error("Changing the IAM policy of bucket %s failed: %s", args.bucket, err)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    configure()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "grant-access":
        return run_access_cli(argv[1:])
    return run_transfer_cli(argv)


if __name__ == "__main__":
    sys.exit(main())
