"""The dataset preview: what the trainer will see in a set of TFRecords, as one HTML page.

Written by the convert step (its ``preview`` output) and by the evaluate image's ``preview``
component; plain Python and Pillow only, so it runs in the convert image, which has no
TensorFlow and no matplotlib.
"""
