#!/usr/bin/env bash
# Compile the pipeline to compiled/pipeline.yaml (KFP IR) and each component to
# compiled/components/<name>.yaml (load one with kfp.components.load_component_from_file).
#
# Image names come from SYNTHDET_IMAGE_REGISTRY and SYNTHDET_IMAGE_TAG (see containers/build.sh):
#   SYNTHDET_IMAGE_REGISTRY=us-central1-docker.pkg.dev/PROJECT/synthdet SYNTHDET_IMAGE_TAG=0.1.0 ./compile.sh
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-.venv/bin/python}"
"$PYTHON" pipeline.py compile --output-dir "${1:-compiled}"
