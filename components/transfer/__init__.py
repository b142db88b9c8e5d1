"""Unity Simulation data transfer: copy a run execution into a bucket (component ``transfer``).

Modules: ``client`` (HTTP API with retries), ``transfer`` (start, wait, resume, skip), ``credentials``
(the access token), ``ids`` (input checks), ``access`` (bucket IAM for Unity), ``emulator`` (a local
API for tests and local runs), ``task`` and ``component`` (KFP), ``__main__`` (CLI).
"""
