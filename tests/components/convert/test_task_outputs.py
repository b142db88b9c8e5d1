"""run_task points the artifacts at the generation OUT/manifest.json names."""
import os
from types import SimpleNamespace

from components.common import manifest
from components.convert.task import run_task
from tests.components.convert.builders import legacy_dataset


def artifact(uri: str = "") -> SimpleNamespace:
    return SimpleNamespace(uri=uri, metadata={}, path=uri)


def test_run_task_points_the_artifacts_at_the_published_generation(tmp_path):
    legacy_dataset(str(tmp_path / "ds"), 12)
    out = str(tmp_path / "examples")
    logged = {}
    examples, train, evaluation, labels = artifact(out), artifact(), artifact(), artifact()
    metrics = SimpleNamespace(log_metric=lambda k, v: logged.__setitem__(k, v))
    (num_classes,) = run_task(str(tmp_path / "ds"), 25.0, "auto", 0.05, "DirectRunner", "", "", "", "", 0, 0, "", "",
                              [], examples, train, evaluation, labels, metrics, str(tmp_path / "gcp_resources"))
    published = manifest.generation_uri(out)
    assert num_classes == 3 and examples.metadata["generation"] == os.path.basename(published)
    assert train.uri == os.path.join(published, "train") and evaluation.uri == os.path.join(published, "eval")
    assert labels.uri == os.path.join(published, "label_map.pbtxt") and os.path.isfile(labels.uri)
    assert manifest.check_data(train.metadata["file_pattern"]) == manifest.verify(out, "train")
    assert len(manifest.check_data(evaluation.metadata["file_pattern"])) >= 1
    assert logged["train_examples"] + logged["eval_examples"] == 12
