"""synthdet-pipelines: Unity Perception / COCO data to a trained RetinaNet detector on Google Cloud."""
