import xml.etree.ElementTree as ET

import numpy as np

from components.preview import charts

SVG = "{http://www.w3.org/2000/svg}"


def marks(svg: bytes, kind: str) -> list[ET.Element]:
    return [e for e in ET.fromstring(svg).iter() if e.get("class") == kind]


def test_ticks_are_round_and_cover_the_top():
    assert charts.linear_ticks(7, integer=True) == [0, 2, 4, 6, 8]
    assert charts.linear_ticks(0, integer=True) == [0, 1]
    assert charts.linear_ticks(0.42) == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert charts.log_ticks(3, 60) == [5.0, 10.0, 20.0, 50.0]


def test_bin_counts_match_numpy():
    values = [0, 1, 1, 2, 5, 5, 7.5, 10]
    for bins in (4, [-0.5, 0.5, 1.5, 2.5, 10]):
        edges, counts = charts.bin_counts(values, bins)
        expected, expected_edges = np.histogram(values, bins=bins)
        assert counts == expected.tolist() and np.allclose(edges, expected_edges)


def test_bars_are_as_long_as_their_counts():
    svg = charts.grouped_bars(["cube", "ball"], {"train": [4, 2], "eval": [1, 0]}, "Objects", "objects")
    bars = marks(svg, "bar")
    assert [b.find(f"{SVG}title").text for b in bars] == ["cube, train: 4", "cube, eval: 1", "ball, train: 2",
                                                          "ball, eval: 0"]
    widths = [float(b.get("width")) for b in bars]
    assert widths[0] == 2 * widths[2] == 4 * widths[1] and widths[3] == 0


def test_scatter_puts_every_point_inside_the_plot():
    svg = charts.scatter([1.0, 10.0, 300.0], [2.0, 2.0, 90.0], "Box sizes", "w", "h")
    points = [(float(p.get("cx")), float(p.get("cy"))) for p in marks(svg, "point")]
    assert len(points) == 3
    left, top = 56, charts.TOP
    assert all(left <= x <= left + charts.PLOT_WIDTH and top <= y <= top + charts.PLOT_HEIGHT for x, y in points)
    assert points[0][1] == points[1][1] and points[2][1] < points[0][1]  # larger heights sit higher
    assert marks(charts.scatter([], [], "Box sizes", "w", "h"), "point") == []
