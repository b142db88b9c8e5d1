import glob
import io
import os

import numpy as np
import pytest
from PIL import Image

from components.train.export import export, load_params

OUTPUTS = {"detection_boxes", "detection_scores", "detection_classes", "num_detections", "image_info"}


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
    boxes = out["detection_boxes"].numpy()[0] / np.tile(info[0, 2], 2)
    assert boxes.max() <= max(height, width) + 1  # back in original-image pixels

    by_example = loaded.signatures["serving_tf_example"](inputs=tf.constant([record]))
    assert set(by_example) == OUTPUTS
    np.testing.assert_allclose(by_example["detection_scores"].numpy(), out["detection_scores"].numpy(), atol=1e-5)
    classes = out["detection_classes"].numpy()[0, : int(out["num_detections"].numpy()[0])]
    assert set(classes.tolist()) <= {1, 2, 3}


def test_export_refuses_a_model_dir_without_training(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        export(str(tmp_path), str(tmp_path / "export"))


@pytest.mark.slow
def test_params_come_back_from_the_model_dir(trained):
    params = load_params(trained["model_dir"])
    assert list(params.task.model.input_size) == [128, 128, 3] and params.task.model.num_classes == 4
