"""What the KFP ``transfer`` component does, as plain Python (the component only calls this)."""
from __future__ import annotations

import logging
from typing import Any

from components.common.logs import configure
from components.transfer.credentials import install_log_redaction, load_token
from components.transfer.transfer import Settings, run_transfer

logger = logging.getLogger(__name__)


def run_task(project_id: str, run_definition_id: str, run_execution_id: str, bucket: str, dataset: Any,
             token_secret: str, api_url: str, buckets_root: str, timeout: float, poll_interval: float,
             max_poll_interval: float, skip_if_present: bool, id_field: str,
             max_retries: int) -> tuple[str, str]:
    """Transfer, then point ``dataset`` at the run-execution folder.

    The token comes from ``token_secret`` (Secret Manager) or the task's environment, never from a
    parameter. Returns (dataset_uri, transfer_id).
    """
    configure()
    settings = Settings(project_id=project_id, run_definition_id=run_definition_id,
                        run_execution_id=run_execution_id, bucket=bucket, api_url=api_url,
                        buckets_root=buckets_root, timeout=timeout, poll_interval=poll_interval,
                        max_poll_interval=max_poll_interval, skip_if_present=skip_if_present,
                        id_field=id_field, max_retries=max_retries)
    token = load_token(token_secret or None)
    remove_redaction = install_log_redaction(token)
    try:
        result = run_transfer(settings, token)
    finally:
        remove_redaction()
    dataset.uri = result.dataset_uri
    dataset.metadata.update({
        "transfer_id": result.transfer_id, "status": result.status, "skipped": result.skipped,
        "files": result.files, "project_id": settings.project_id,
        "run_definition_id": settings.run_definition_id, "run_execution_id": settings.run_execution_id,
        "bucket": settings.bucket})
    return result.dataset_uri, result.transfer_id
