"""The ``gcp_resources`` output that lets Vertex Pipelines link, resume and cancel remote jobs.

Format (as Google Cloud Pipeline Components write it)::

    {"resources": [{"resourceType": "DataflowJob", "resourceUri": "https://..."}]}
"""
from __future__ import annotations

import json
import os

DATAFLOW_API = "https://dataflow.googleapis.com/v1b3"


def dataflow_job_uri(project: str, region: str, job_id: str) -> str:
    return f"{DATAFLOW_API}/projects/{project}/locations/{region}/jobs/{job_id}"


def dataflow_console_url(project: str, region: str, job_id: str) -> str:
    return f"https://console.cloud.google.com/dataflow/jobs/{region}/{job_id}?project={project}"


def custom_job_uri(region: str, resource_name: str) -> str:
    """``resource_name`` is ``projects/P/locations/R/customJobs/ID``."""
    return f"https://{region}-aiplatform.googleapis.com/v1/{resource_name}"


def write(path: str, resource_type: str, resource_uri: str) -> None:
    """Write (or overwrite) the file with one resource."""
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(path, "w") as f:
        json.dump({"resources": [{"resourceType": resource_type, "resourceUri": resource_uri}]}, f)


def read(path: str, resource_type: str) -> str | None:
    """The URI of the first resource of that type in the file, or None if absent or empty."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    if not text.strip():
        return None
    for res in json.loads(text).get("resources", []):
        if res.get("resourceType") == resource_type:
            return res.get("resourceUri")
    return None
