import io

from PIL import Image

from components.preview import drawing
from components.evaluate.metrics import check_gate, evaluate_coco
from components.evaluate.report import Sample, render_report
from tests.components.evaluate import builders
from tests.components.evaluate.builders import Shape
from tests.components.evaluate.pagecheck import Page

GT = {"images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 100},
                 {"id": 2, "file_name": "b.png", "width": 100, "height": 100}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "area": 100, "iscrowd": 0}],
      "categories": [{"id": 1, "name": "rectangle"}, {"id": 2, "name": "ellipse <b>"}]}


def a_report(samples, min_map=0.5):
    metrics = evaluate_coco(GT, [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 6.2], "score": 0.9}])
    gate = check_gate(metrics.summary, min_map)
    return render_report(metrics, gate, samples, {"model": "gs://b/export", "eval_data": "gs://b/eval/*"})


def sample(name="a.png"):
    data = builders.image_bytes(100, 100, [Shape(1, 0, 0, 10, 10)])
    return Sample(name, data, (drawing.Box(0, 0, 10, 10, "rectangle"),),
                  (drawing.Box(0, 0, 10, 6.2, "rectangle 0.90"),), hidden=3)


def test_report_holds_the_numbers_the_gate_and_the_images():
    html = a_report([sample("a.png"), sample("b.png")])
    page = Page(html)
    assert page.row("AP") == ["AP", "AP at IoU .50:.05:.95, all areas, up to 100 detections", "0.300"]
    assert page.row("AP50")[2] == "1.000" and page.row("AP75")[2] == "0.000"
    assert page.row("APm")[2] == "\u2013"  # no medium object: undefined, not a made-up number
    assert page.row("rectangle") == ["rectangle", "1", "1", "1", "0.300", "1.000", "0.000"]
    assert page.row("ellipse <b>") == ["ellipse <b>", "2", "0", "0", "\u2013", "\u2013", "\u2013"]
    assert "Quality gate: <span class=\"pass\">passed</span> (AP50 = 1.000, required \u2265 0.500)" in html
    assert len(page.data_images("image/png")) == 2  # AP bars, PR curves
    photos = page.data_images("image/jpeg")
    assert len(photos) == 2 and photos[0].size == (400, 400)  # small images are enlarged to stay sharp
    assert "3 below the score threshold" in html
    assert page.headings == ["COCO metrics", "Average precision per class", "Precision-recall curves",
                             "Hardest eval images (0): most missed objects and false detections at IoU 0.5",
                             "Random eval images (2)", "Run details"]
    assert "No image has a missed object or a false detection." in html
    assert page.row("model") == ["model", "gs://b/export"]
    assert page.links == []  # nothing outside the page


def test_a_failed_gate_and_an_empty_grid_are_shown():
    html = a_report([], min_map=1.0)
    assert '<span class="pass">passed</span>' in html  # AP50 of 1 passes a gate of 1
    html = render_report(evaluate_coco(GT, []), check_gate({"AP50": 0.0}, 0.1), [], {})
    assert '<span class="fail">failed</span>' in html and "No eval images to show" in html
    assert Page(html).row("AP")[2] == "0.000"


def test_the_hardest_images_come_first_with_what_went_wrong():
    metrics = evaluate_coco(GT, [])
    hard = Sample("b.png", builders.image_bytes(100, 100, []), (drawing.Box(0, 0, 10, 10, "rectangle"),), (),
                  note="1 missed, 0 false")
    html = render_report(metrics, None, [sample("a.png")], {}, hardest=[hard])
    page = Page(html)
    assert page.headings[3].startswith("Hardest eval images (1)")
    assert len(page.data_images("image/jpeg")) == 2
    assert html.index("<b>1 missed, 0 false</b><br>b.png") < html.index("a.png<br>")


def test_drawing_puts_boxes_where_they_belong():
    data = builders.image_bytes(200, 100, [])
    jpeg = drawing.render(data, [((drawing.Box(20, 10, 100, 50, ""),), drawing.GROUND_TRUTH, False),
                                 ((drawing.Box(150, 60, 40, 30, "x 0.5"),), drawing.PREDICTION, True)],
                          max_side=400)
    image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    assert image.size == (400, 200)

    def close(pixel, colour):
        return all(abs(a - b) < 60 for a, b in zip(pixel, colour))

    assert close(image.getpixel((41, 60)), drawing.GROUND_TRUTH)  # left edge of the first box, x2
    assert close(image.getpixel((300, 150)), drawing.PREDICTION)  # left edge of the second
    assert close(image.getpixel((100, 60)), (40, 40, 40))  # inside the first box: untouched
    assert close(image.getpixel((305, 112)), drawing.PREDICTION)  # its label sits above it


def test_captions_move_off_each_other():
    placed = [drawing.place_label(10, 50, 40, 12, [], 200, upwards=True)]
    assert placed[0] == (10, 50, 50, 62)
    # One caption height up still overlaps (40..52 against 50..62); one down is free.
    assert drawing.place_label(20, 52, 40, 12, placed, 200, upwards=True) == (20, 64, 60, 76)
    # Level with it, a prediction's caption goes up (its box lies below).
    assert drawing.place_label(20, 50, 40, 12, placed, 200, upwards=True) == (20, 38, 60, 50)
    assert drawing.place_label(20, 50, 40, 12, placed, 200, upwards=False) == (20, 62, 60, 74)
    # At the top edge a caption moves down instead.
    top = [drawing.place_label(0, 0, 40, 12, [], 200, upwards=True)]
    assert drawing.place_label(5, 0, 40, 12, top, 200, upwards=True) == (5, 12, 45, 24)
    # Side by side is fine.
    assert drawing.place_label(60, 50, 40, 12, placed, 200, upwards=True) == (60, 50, 100, 62)
