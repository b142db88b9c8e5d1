import glob
import io
import os
import shutil

import numpy as np
import pytest
import yaml
from PIL import Image

from components.evaluate.predict import Detector, exported_normalized, to_original_pixels
from components.evaluate.records import group_batches, read_examples
from components.train.export import export, load_params

OUTPUTS = {"detection_boxes", "detection_scores", "detection_classes", "num_detections", "image_info"}


@pytest.fixture(scope="module")
def keep_all(trained, tmp_path_factory):
    """Both exports of the trained checkpoint, from a model dir whose config keeps every box.

    Four training steps leave every score under the default 0.05 threshold; with none, there
    would be nothing to compare. Returns (normalized export dir, input-pixel export dir).
    """
    root = tmp_path_factory.mktemp("keep_all")
    model_dir = str(root / "model")
    shutil.copytree(trained["model_dir"], model_dir, ignore=shutil.ignore_patterns("export", "train", "validation"))
    with open(os.path.join(model_dir, "params.yaml")) as f:
        params = yaml.safe_load(f)
    params["task"]["model"]["detection_generator"].update(pre_nms_score_threshold=0.0, max_num_detections=20)
    with open(os.path.join(model_dir, "params.yaml"), "w") as f:
        yaml.safe_dump(params, f)
    export(model_dir, str(root / "normalized"))
    export(model_dir, str(root / "pixels"), normalized=False)
    return str(root / "normalized"), str(root / "pixels")


def export_config(export_dir):
    with open(os.path.join(export_dir, "params.yaml")) as f:
        return yaml.safe_load(f)["task"]["export_config"]


def first_eval_example(data):
    import tensorflow as tf

    path = sorted(glob.glob(os.path.join(data, "eval", "*.tfrecord")))[0]
    return next(iter(tf.data.TFRecordDataset(path))).numpy()


@pytest.mark.slow
def test_saved_model_serves_images_and_tf_examples(trained):
    import tensorflow as tf

    loaded = tf.saved_model.load(trained["saved_model"])
    assert set(loaded.signatures) == {"serving_default", "serving_tf_example"}
    assert os.path.exists(os.path.join(os.path.dirname(trained["saved_model"]), "label_map.pbtxt"))

    record = first_eval_example(trained["data"])
    example = tf.train.Example.FromString(record)
    features = example.features.feature
    height, width = features["image/height"].int64_list.value[0], features["image/width"].int64_list.value[0]
    pixels = np.asarray(Image.open(io.BytesIO(features["image/encoded"].bytes_list.value[0])).convert("RGB"))

    out = loaded.signatures["serving_default"](inputs=tf.constant(pixels[None]))
    assert set(out) == OUTPUTS
    assert out["detection_boxes"].shape == (1, 100, 4) and out["detection_scores"].shape == (1, 100)
    assert out["detection_classes"].shape == (1, 100) and out["num_detections"].shape == (1,)
    info = out["image_info"].numpy()
    # Rows: original size, model input size, y/x scale (aspect kept), offset.
    assert info.shape == (1, 4, 2) and tuple(info[0, 0]) == (height, width) and tuple(info[0, 1]) == (128, 128)
    scale = min(128 / height, 128 / width)
    np.testing.assert_allclose(info[0, 2], [scale, scale], rtol=1e-4)
    boxes = out["detection_boxes"].numpy()[0]
    assert boxes.min() >= 0.0 and boxes.max() <= 1.0  # fractions of the original image

    by_example = loaded.signatures["serving_tf_example"](inputs=tf.constant([record]))
    assert set(by_example) == OUTPUTS
    np.testing.assert_allclose(by_example["detection_scores"].numpy(), out["detection_scores"].numpy(), atol=1e-5)
    classes = out["detection_classes"].numpy()[0, : int(out["num_detections"].numpy()[0])]
    assert set(classes.tolist()) <= {1, 2, 3}


@pytest.mark.slow
def test_export_records_normalized_boxes_for_evaluate(trained):
    export_dir = os.path.dirname(trained["saved_model"])
    assert export_config(export_dir)["output_normalized_coordinates"] is True
    assert exported_normalized(trained["saved_model"]) is True
    assert Detector(trained["saved_model"]).box_coordinates == "normalized"


@pytest.mark.slow
def test_served_boxes_times_the_image_size_are_evaluates_input_pixel_boxes(trained, keep_all):
    normalized_dir, pixels_dir = keep_all
    assert export_config(pixels_dir)["output_normalized_coordinates"] is False
    normalized = Detector(normalized_dir, signature="serving_default")
    pixels = Detector(pixels_dir, signature="serving_default")
    assert (normalized.box_coordinates, pixels.box_coordinates) == ("normalized", "input_pixels")

    examples = list(read_examples(os.path.join(trained["data"], "eval", "*.tfrecord"), decode=True, limit=4))
    compared = 0
    for batch in group_batches(examples, 2):
        images = normalized._inputs(batch)
        served = {k: v.numpy() for k, v in normalized._fn(inputs=images).items()}
        raw = {k: v.numpy() for k, v in pixels._fn(inputs=images).items()}
        np.testing.assert_allclose(served["detection_scores"], raw["detection_scores"], atol=1e-5)
        assert served["detection_boxes"].min() >= 0.0 and served["detection_boxes"].max() <= 1.0
        for i, ex in enumerate(batch):
            # served boxes times the original size, as a client of the endpoint would do
            ymin, xmin, ymax, xmax = (served["detection_boxes"][i] * [ex.height, ex.width, ex.height, ex.width]).T
            client = np.stack([xmin, ymin, xmax - xmin, ymax - ymin], axis=1)
            # evaluate's input-pixel path: (box + offset) / scale from image_info, clipped to the image
            mapped = to_original_pixels(raw["detection_boxes"][i], ex.height, ex.width, raw["image_info"][i])
            np.testing.assert_allclose(client, mapped, atol=1e-2)
            compared += int(raw["num_detections"][i])
        for a, b in zip(normalized.detect(batch), pixels.detect(batch)):
            assert len(a) == len(b)
            np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-2)
            np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
    assert compared > 0


@pytest.mark.slow
def test_the_export_suppresses_with_cpu_kernels_and_keeps_the_training_configs_detections(trained, keep_all,
                                                                                         tmp_path):
    normalized_dir, _ = keep_all
    with open(os.path.join(normalized_dir, "params.yaml")) as f:
        assert yaml.safe_load(f)["task"]["model"]["detection_generator"]["nms_version"] == "batched"
    # The same checkpoint exported with the training config's TPU-shaped NMS gives the same detections.
    model_dir = os.path.join(os.path.dirname(normalized_dir), "model")
    tpu_shaped = Detector(export(model_dir, str(tmp_path / "v2"), nms="v2"), signature="serving_default")
    served = Detector(normalized_dir, signature="serving_default")
    examples = list(read_examples(os.path.join(trained["data"], "eval", "*.tfrecord"), decode=True, limit=4))
    compared = 0
    for batch in group_batches(examples, 2):
        for a, b in zip(served.detect(batch), tpu_shaped.detect(batch)):
            order_a, order_b = np.lexsort((a.classes, -a.scores)), np.lexsort((b.classes, -b.scores))
            np.testing.assert_array_equal(a.classes[order_a], b.classes[order_b])
            np.testing.assert_allclose(a.scores[order_a], b.scores[order_b], atol=1e-5)
            np.testing.assert_allclose(a.boxes[order_a], b.boxes[order_b], atol=1e-3)
            compared += len(a)
    assert compared > 0


def test_export_refuses_a_model_dir_without_training(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        export(str(tmp_path), str(tmp_path / "export"))


@pytest.mark.slow
def test_params_come_back_from_the_model_dir(trained):
    params = load_params(trained["model_dir"])
    assert list(params.task.model.input_size) == [128, 128, 3] and params.task.model.num_classes == 4
