"""The evaluator on a real Model Garden RetinaNet export (small, untrained, exported by Model Garden's own code)."""
import numpy as np
import pytest

from components.evaluate.evaluation import Settings, evaluate
from components.evaluate.predict import Detector
from components.evaluate.records import group_batches, read_examples
from tests.components.evaluate.builders import NAMES
from tests.components.evaluate.test_evaluation import coco_detections, pycocotools_scores

INPUT = 128


@pytest.fixture(scope="module")
def model_garden_export(tmp_path_factory):
    from official.core import exp_factory
    from official.vision.serving import export_saved_model_lib as export_lib

    params = exp_factory.get_exp_config("retinanet_resnetfpn_coco")
    model = params.task.model
    model.num_classes = 4
    model.input_size = [INPUT, INPUT, 3]
    model.min_level, model.max_level = 3, 5
    model.backbone.resnet.model_id = 18
    model.decoder.fpn.num_filters = 64
    model.head.num_filters, model.head.num_convs = 64, 1
    # untrained scores are tiny: keep every box so that there is something to map back
    model.detection_generator.pre_nms_score_threshold = 0.0
    model.detection_generator.max_num_detections = 20
    params.task.init_checkpoint = None
    # untrained weights are random: fix them so the exported model is the same on every run
    import tensorflow as tf
    tf.keras.utils.set_random_seed(0)
    params.runtime.mixed_precision_dtype = "float32"
    export_dir = str(tmp_path_factory.mktemp("model_garden"))
    export_lib.export_inference_graph(
        input_type="image_tensor", batch_size=None, input_image_size=[INPUT, INPUT], params=params,
        checkpoint_path=None, export_dir=export_dir, export_saved_model_subdir="saved_model",
        function_keys={"image_tensor": "serving_default", "tf_example": "serving_tf_example"})
    return export_dir


@pytest.mark.slow
def test_model_garden_export_is_read_and_mapped_back(model_garden_export, eval_set):
    root, images = eval_set
    detectors = [Detector(model_garden_export), Detector(model_garden_export, signature="serving_default")]
    assert [(d.signature, d.input_type, d.box_coordinates) for d in detectors] == [
        ("serving_tf_example", "tf_example", "input_pixels"), ("serving_default", "image_tensor", "input_pixels")]
    results = []
    for detector in detectors:
        found = {}
        for batch in group_batches(read_examples(str(root / "eval"), decode=detector.needs_decoded_images), 3):
            raw = detector._fn(**{detector._input_name: detector._inputs(batch)})
            info = raw["image_info"].numpy()
            for i, (ex, dets) in enumerate(zip(batch, detector.detect(batch))):
                scale = min(INPUT / ex.height, INPUT / ex.width)
                np.testing.assert_allclose(info[i][0], [ex.height, ex.width])
                np.testing.assert_allclose(info[i][2], [scale, scale], rtol=1e-6)
                # boxes that lie wholly in the padding clip to nothing in the image and are dropped
                raw_boxes = raw["detection_boxes"].numpy()[i][:int(raw["num_detections"].numpy()[i])] / scale
                ys = np.clip(raw_boxes[:, [0, 2]], 0, ex.height)
                xs = np.clip(raw_boxes[:, [1, 3]], 0, ex.width)
                kept = (ys[:, 1] > ys[:, 0]) & (xs[:, 1] > xs[:, 0])
                assert 0 < len(dets) == kept.sum() <= 20
                assert np.all(dets.boxes[:, 0] + dets.boxes[:, 2] <= ex.width + 1e-6)
                assert np.all(dets.boxes[:, 1] + dets.boxes[:, 3] <= ex.height + 1e-6)
                # boxes inside the resized image map back by the scale alone
                b = raw["detection_boxes"].numpy()[i]
                inside = np.all(b >= 0, axis=1) & (b[:, 2] <= ex.height * scale) & (b[:, 3] <= ex.width * scale)
                assert inside.any()
                np.testing.assert_allclose(dets.boxes[inside][:, :2], b[inside][:, [1, 0]] / scale,
                                           rtol=1e-5, atol=1e-3)
                found[ex.filename] = dets
        results.append(found)
    assert set(results[0]) == {name for name, *_ in images}
    for name, dets in results[0].items():
        np.testing.assert_allclose(dets.boxes, results[1][name].boxes, atol=1e-3)
    evaluation = evaluate(Settings(model_garden_export, (str(root / "eval"),), str(root / "label_map.pbtxt")))
    assert evaluation.metrics.num_images == len(images)
    assert evaluation.metrics.num_detections == sum(len(d) for d in results[0].values())
    # pycocotools on the same detections against the ground truth the records were written from
    truth = {"images": [{"id": n, "file_name": name, "width": w, "height": h}
                        for n, (name, w, h, _) in enumerate(images, 1)],
             "annotations": [{"id": 10 * n + k, "image_id": n, "category_id": s.label, "iscrowd": 0,
                              "bbox": [s.x0, s.y0, s.x1 - s.x0, s.y1 - s.y0], "area": (s.x1 - s.x0) * (s.y1 - s.y0)}
                             for n, (*_, shapes) in enumerate(images, 1) for k, s in enumerate(shapes)],
             "categories": [{"id": i, "name": name} for i, name in sorted(NAMES.items())]}
    expected = pycocotools_scores(truth, coco_detections(results[0], {name: n for n, (name, *_) in
                                                                      enumerate(images, 1)}))
    for name in ("AP", "AP50", "AP75", "AR1", "AR10", "AR100"):
        assert evaluation.metrics.summary[name] == pytest.approx(expected[name], abs=1e-6), name
