"""Box drawing for the evaluation report: the preview's Pillow drawing (``components.preview.drawing``)."""
from components.preview.drawing import GROUND_TRUTH, PREDICTION, Box, place_label, render

__all__ = ["GROUND_TRUTH", "PREDICTION", "Box", "place_label", "render"]
