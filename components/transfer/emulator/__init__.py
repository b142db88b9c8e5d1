"""A local stand-in for Unity Simulation's data-transfer API, over real HTTP.

    python -m components.transfer.emulator --store DIR --buckets DIR [--port N]
    export USIM_API_URL=http://127.0.0.1:N   # then run the transfer CLI or the pipeline locally

From Python (tests, the local pipeline run)::

    with UnitySimulationEmulator(store, buckets, token="t") as emu:
        ...  # emu.url

The store is laid out as Unity Simulation keeps runs:
``<store>/projects/<p>/run_executions/urn:run_definitions:<d>/urn:run_executions:<e>/...``.
A transfer copies that folder, under the same relative path, into ``<buckets>/<bucket>/`` or,
when ``STORAGE_EMULATOR_HOST`` is set, into ``gs://<bucket>/`` on the GCS emulator. ``Faults``
injects 429/503 answers with ``Retry-After``, slow answers, dropped connections and transfers
that end ``failed``. A PUT for a run execution whose transfer is still running answers with
that transfer (the server dedupes), so a retried start does not copy twice.
"""
from components.transfer.emulator.server import Faults, Request, Transfer, UnitySimulationEmulator

__all__ = ["Faults", "Request", "Transfer", "UnitySimulationEmulator"]
