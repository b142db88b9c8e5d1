import os

import numpy as np
import pytest
import tensorflow as tf

from components.evaluate.predict import Detector, exported_normalized, saved_model_dir, to_original_pixels
from components.evaluate.records import group_batches, read_examples


def test_to_original_pixels_undoes_scale_and_offset():
    # a 100x200 (h x w) image scaled by 1.6 into the model input, cropped by (8, 4) (y, x)
    info = np.array([[100, 200], [160, 320], [1.6, 1.6], [8, 4]])
    boxes = np.array([[24, 12, 104, 92], [-20, -10, 400, 700]])  # ymin, xmin, ymax, xmax
    out = to_original_pixels(boxes, 100, 200, info)
    np.testing.assert_allclose(out, [[10, 20, 50, 50], [0, 0, 200, 100]])  # x, y, w, h; second one clipped


def test_to_original_pixels_from_normalized_boxes():
    out = to_original_pixels(np.array([[0.2, 0.05, 0.7, 0.3]]), 100, 200, normalized=True)
    np.testing.assert_allclose(out, [[10, 20, 50, 50]])


def test_to_original_pixels_needs_a_usable_image_info():
    with pytest.raises(ValueError, match="image_info"):
        to_original_pixels(np.zeros((1, 4)), 10, 10)
    with pytest.raises(ValueError, match="non-positive scale"):
        to_original_pixels(np.zeros((1, 4)), 10, 10, np.array([[10, 10], [0, 0], [0, 0], [0, 0]]))


def test_saved_model_dir_accepts_the_export_folder_or_saved_model(exported, tmp_path):
    assert saved_model_dir(exported) == os.path.join(exported, "saved_model")
    assert saved_model_dir(os.path.join(exported, "saved_model") + "/") == os.path.join(exported, "saved_model")
    with pytest.raises(ValueError, match="no saved_model.pb"):
        saved_model_dir(str(tmp_path))


def test_exported_normalized_reads_params_yaml(exported, exported_images_only, tmp_path):
    assert exported_normalized(os.path.join(exported, "saved_model")) is False
    assert exported_normalized(os.path.join(exported_images_only, "saved_model")) is True
    assert exported_normalized(str(tmp_path)) is None


def gt_by_file(images):
    return {name: shapes for name, _, _, shapes in images}


def assert_detections_match_ground_truth(detector, eval_set, batch_size):
    root, images = eval_set
    truth = gt_by_file(images)
    examples = read_examples(str(root / "eval"), decode=detector.needs_decoded_images)
    seen = 0
    for batch in group_batches(examples, batch_size):
        for ex, dets in zip(batch, detector.detect(batch)):
            expected = sorted((s.label, s.x0, s.y0, s.x1 - s.x0, s.y1 - s.y0) for s in truth[ex.filename])
            got = sorted((int(c), *b) for c, b in zip(dets.classes, dets.boxes))
            assert len(got) == len(expected), ex.filename
            for g, e in zip(got, expected):
                assert g[0] == e[0]
                np.testing.assert_allclose(g[1:], e[1:], atol=1e-3, err_msg=ex.filename)
            assert set(np.round(dets.scores, 4)) <= {0.9, 0.8, 0.7}
            seen += 1
    assert seen == len(images)


def test_tf_example_signature_is_preferred_and_boxes_map_back(exported, eval_set):
    detector = Detector(exported)
    assert (detector.signature, detector.input_type, detector.box_coordinates) == (
        "serving_tf_example", "tf_example", "input_pixels")
    assert not detector.needs_decoded_images
    assert_detections_match_ground_truth(detector, eval_set, batch_size=2)


def test_image_tensor_signature_gives_the_same_boxes(exported, eval_set):
    detector = Detector(exported, signature="serving_default")
    assert (detector.input_type, detector.needs_decoded_images) == ("image_tensor", True)
    assert_detections_match_ground_truth(detector, eval_set, batch_size=3)


def test_normalized_export_is_recognised_from_params_yaml(exported_images_only, eval_set):
    detector = Detector(exported_images_only)
    assert (detector.signature, detector.box_coordinates) == ("serving_default", "normalized")
    assert_detections_match_ground_truth(detector, eval_set, batch_size=4)


def test_wrong_coordinates_give_wrong_boxes(exported, eval_set):
    detector = Detector(exported, box_coordinates="normalized")
    batch = next(group_batches(read_examples(str(eval_set[0] / "eval")), 8))
    boxes = np.concatenate([d.boxes for d in detector.detect(batch)])
    truth = np.concatenate([ex.pixel_boxes() for ex in batch])
    assert boxes.shape != truth.shape or not np.allclose(np.sort(boxes, 0), np.sort(truth, 0), atol=1)


def test_a_batch_of_mixed_sizes_is_what_the_model_cannot_take(exported, eval_set):
    examples = {ex.filename: ex for ex in read_examples(str(eval_set[0] / "eval"))}
    with pytest.raises(tf.errors.InvalidArgumentError):
        Detector(exported).detect([examples["a/wide_1.png"], examples["b/square_1.png"]])


def test_bad_signature_choices_are_named(exported, exported_images_only):
    with pytest.raises(ValueError, match="signature 'serving'"):
        Detector(exported, signature="serving")
    with pytest.raises(ValueError, match="no signature 'serving_tf_example'.*serving_default"):
        Detector(exported_images_only, signature="serving_tf_example")
    with pytest.raises(ValueError, match="box_coordinates 'pixels'"):
        Detector(exported, box_coordinates="pixels")
