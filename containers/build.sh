#!/usr/bin/env bash
# Build, tag and push every image to Artifact Registry with Cloud Build (no local Docker needed).
#
#   SYNTHDET_IMAGE_REGISTRY=us-central1-docker.pkg.dev/PROJECT/synthdet SYNTHDET_IMAGE_TAG=0.1.0 \
#     containers/build.sh [transfer convert train evaluate]
#
# The same two variables are read by compile.sh, so the compiled pipeline names exactly these images.
set -euo pipefail
cd "$(dirname "$0")/.."
registry="${SYNTHDET_IMAGE_REGISTRY:?set SYNTHDET_IMAGE_REGISTRY, e.g. us-central1-docker.pkg.dev/PROJECT/synthdet}"
tag="${SYNTHDET_IMAGE_TAG:-0.1.0}"
images=("$@")
[ ${#images[@]} -gt 0 ] || images=(transfer convert train evaluate)
# TPU training uses synthdet-train-tpu, built from containers/train/Dockerfile.tpu: pass "train-tpu".

for name in "${images[@]}"; do
  dockerfile="containers/${name}/Dockerfile"
  [ "$name" = train-tpu ] && dockerfile="containers/train/Dockerfile.tpu"
  [ -f "$dockerfile" ] || { echo "no $dockerfile" >&2; exit 2; }
  image="${registry}/synthdet-${name}:${tag}"
  echo "building ${image}"
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    docker build -f "$dockerfile" -t "$image" . && docker push "$image"
  else
    config=$(mktemp --suffix=.yaml)
    cat >"$config" <<YAML
steps:
- name: gcr.io/cloud-builders/docker
  args: [build, -f, ${dockerfile}, -t, ${image}, .]
images: [${image}]
timeout: 3600s
YAML
    gcloud builds submit --config "$config" .
    rm -f "$config"
  fi
done
