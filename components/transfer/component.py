"""KFP component ``transfer``: copy a Unity Simulation run execution into a bucket, as a Dataset.

Asks Unity Simulation's data-transfer API to copy run execution ``run_execution_id`` of run
definition ``run_definition_id`` (Unity project ``project_id``) into ``bucket``, then polls until
it succeeds, fails or ``timeout`` seconds pass. The bucket must first let Unity in:
``python -m components.transfer grant-access --bucket B``.

The Unity token is never a parameter (it would be kept in the compiled spec and the run's
metadata): ``token_secret`` names a Secret Manager version (``projects/P/secrets/S/versions/V``,
readable by the pipeline's service account); left empty, the task reads ``USIM_ACCESS_TOKEN`` or
``~/.usim/token.json`` from its environment (local runs).

``api_url`` empty means ``USIM_API_URL`` or Unity's public API; local runs point it at
``python -m components.transfer.emulator``. ``buckets_root`` (local runs only) is a folder holding
one folder per bucket, instead of gs://.

Outputs:
    dataset: the run-execution folder,
        ``gs://<bucket>/projects/<p>/run_executions/urn:run_definitions:<d>/urn:run_executions:<e>``;
        metadata: transfer_id, status, skipped, files, project_id, run ids, bucket.
    dataset_uri (output parameter): the same URI, for components taking a ``source`` string.
    transfer_id (output parameter): Unity's id of the transfer.
"""
from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Output

from components.common.images import image_for
from components.common.kfp_command import exec_python


@exec_python
@dsl.component(base_image=image_for("transfer"), install_kfp_package=False)
def transfer(
    project_id: str,
    run_definition_id: str,
    run_execution_id: str,
    bucket: str,
    dataset: Output[Dataset],
    token_secret: str = "",
    api_url: str = "",
    buckets_root: str = "",
    timeout: float = 21600.0,
    poll_interval: float = 30.0,
    max_poll_interval: float = 300.0,
    skip_if_present: bool = False,
    id_field: str = "id",
    max_retries: int = 8,
) -> NamedTuple("Outputs", [("dataset_uri", str), ("transfer_id", str)]):
    """Transfer one Unity Simulation run execution into ``bucket`` and output it as a Dataset."""
    from components.transfer.task import run_task

    return run_task(**{k: v for k, v in locals().items() if k != "run_task"})
