"""Allowed values of the evaluate options, importable without TensorFlow (so ``--help`` stays quick)."""
SIGNATURES = ("auto", "serving_tf_example", "serving_default")
BOX_COORDINATES = ("auto", "input_pixels", "normalized")
